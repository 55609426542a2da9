import { decodeCursor, DEFAULT_PAGE_SIZE, page } from "../pagination.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import {
  listQuerySchema,
  subscriptionListSchema,
  subscriptionResource,
} from "../subscription-schema.ts";

/** GET /api-webhook-subscriptions: the workspace's subscriptions, newest first. */
export const listSubscriptions = defineRoute({
  method: "get",
  path: "/",
  operationId: "listWebhookSubscriptions",
  summary: "List webhook subscriptions",
  description:
    "Newest first, a page at a time: pass next_cursor as cursor for the next page while has_more is true.",
  scopes: [],
  request: { query: listQuerySchema },
  success: {
    status: 200,
    description: "A page of subscriptions (without secrets).",
    schema: subscriptionListSchema,
  },
  errors: [400, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { query }) => {
  const { records, hasMore } = await deps.subscriptions.listSubscriptions(
    c.get("principal").workspaceId,
    {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      enabled: query.enabled,
      eventType: query.event_type,
    },
  );
  return c.json(page(records, hasMore, subscriptionResource));
});
