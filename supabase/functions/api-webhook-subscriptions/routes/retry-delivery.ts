import { deliveryNotFound, subscriptionDisabled } from "../../_shared/errors.ts";
import { deliveryParams, deliveryResource, deliverySchema } from "../delivery-schema.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import { envelope } from "../subscription-schema.ts";

/** POST /api-webhook-subscriptions/{id}/deliveries/{delivery_id}/retry */
export const retryDelivery = defineRoute({
  method: "post",
  path: "/{id}/deliveries/{delivery_id}/retry",
  operationId: "retryWebhookDelivery",
  summary: "Send a delivery again now",
  description:
    "Whatever its state (failed, succeeded, cancelled or waiting for a retry), the delivery's next attempt goes out now, with the same webhook-id. If attempts remain after it on the retry schedule, they follow as usual; a delivery that had used them all gets this one attempt. While an attempt is under way the delivery is left as it is, and the answer says so with status pending. Watch it with GET …/deliveries/{delivery_id}.",
  scopes: ["webhooks:write"],
  request: { params: deliveryParams },
  success: {
    status: 202,
    description: "The delivery, due now.",
    schema: envelope(deliverySchema),
  },
  errors: [404, 409, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params }) => {
  const retried = await deps.deliveries.retryDelivery(
    c.get("principal").workspaceId,
    params.id,
    params.delivery_id,
  );
  if (retried.outcome === "not_found") throw deliveryNotFound();
  if (retried.outcome === "subscription_disabled") {
    throw subscriptionDisabled("its deliveries are not sent");
  }
  return c.json({ data: deliveryResource(retried.delivery) }, 202);
});
