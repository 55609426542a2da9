import { subscriptionNotFound } from "../../_shared/errors.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import {
  envelope,
  subscriptionIdParams,
  subscriptionResource,
  subscriptionSchema,
} from "../subscription-schema.ts";

/** GET /api-webhook-subscriptions/{id} */
export const getSubscription = defineRoute({
  method: "get",
  path: "/{id}",
  operationId: "getWebhookSubscription",
  summary: "Get a webhook subscription",
  scopes: [],
  request: { params: subscriptionIdParams },
  success: {
    status: 200,
    description: "The subscription (without its secret).",
    schema: envelope(subscriptionSchema),
  },
  errors: [404, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params }) => {
  const record = await deps.subscriptions.getSubscription(
    c.get("principal").workspaceId,
    params.id,
  );
  if (!record) throw subscriptionNotFound();
  return c.json({ data: subscriptionResource(record) });
});
