import { subscriptionNotFound } from "../../_shared/errors.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import { subscriptionIdParams } from "../subscription-schema.ts";

/** DELETE /api-webhook-subscriptions/{id}: Zapier's REST Hooks unsubscribe call. */
export const deleteSubscription = defineRoute({
  method: "delete",
  path: "/{id}",
  operationId: "deleteWebhookSubscription",
  summary: "Delete a webhook subscription",
  description: "Implements the Zapier REST Hooks unsubscribe call. Deliveries stop at once.",
  scopes: ["webhooks:write"],
  request: { params: subscriptionIdParams },
  success: { status: 204, description: "Deleted." },
  errors: [404, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params }) => {
  const deleted = await deps.subscriptions.deleteSubscription(
    c.get("principal").workspaceId,
    params.id,
  );
  if (!deleted) throw subscriptionNotFound();
  return c.body(null, 204);
});
