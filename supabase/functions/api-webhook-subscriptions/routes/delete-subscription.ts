import { subscriptionNotFound } from "../errors.ts";
import { AUTHENTICATED_ERRORS, type Route, subscriptionIdOf } from "../route.ts";

/** DELETE /api-webhook-subscriptions/{id}: Zapier's REST Hooks unsubscribe call. */
export const deleteSubscription: Route = {
  spec: {
    method: "delete",
    path: "/{id}",
    operationId: "deleteWebhookSubscription",
    summary: "Delete a webhook subscription",
    description: "Implements the Zapier REST Hooks unsubscribe call. Deliveries stop at once.",
    scopes: ["webhooks:write"],
    pathId: true,
    success: { status: 204, description: "Deleted." },
    errors: [404, ...AUTHENTICATED_ERRORS],
  },
  handler: (deps) => async (c) => {
    const deleted = await deps.store.deleteSubscription(
      c.get("principal").workspaceId,
      subscriptionIdOf(c),
    );
    if (!deleted) throw subscriptionNotFound();
    return c.body(null, 204);
  },
};
