import { subscriptionNotFound } from "../../_shared/errors.ts";
import {
  deliveryListQuerySchema,
  deliveryListSchema,
  deliveryResource,
} from "../delivery-schema.ts";
import { decodeCursor, DEFAULT_PAGE_SIZE, page } from "../pagination.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import { subscriptionIdParams } from "../subscription-schema.ts";

/** GET /api-webhook-subscriptions/{id}/deliveries: a subscription's deliveries, newest first. */
export const listDeliveries = defineRoute({
  method: "get",
  path: "/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  summary: "List a subscription's deliveries",
  description:
    "One delivery per event sent to this subscription, newest first, a page at a time: pass next_cursor as cursor for the next page while has_more is true. Deliveries arriving meanwhile come before the first page and never shift the later ones. Kept 30 days.",
  scopes: [],
  request: { params: subscriptionIdParams, query: deliveryListQuerySchema },
  success: {
    status: 200,
    description: "A page of deliveries (without payloads or attempts).",
    schema: deliveryListSchema,
  },
  errors: [400, 404, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params, query }) => {
  const listed = await deps.deliveries.listDeliveries(c.get("principal").workspaceId, params.id, {
    limit: query.limit ?? DEFAULT_PAGE_SIZE,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    status: query.status,
    eventType: query.event_type,
  });
  if (!listed) throw subscriptionNotFound();
  return c.json(page(listed.records, listed.hasMore, deliveryResource));
});
