import { ApiError, deliveryNotFound, subscriptionDisabled } from "../../_shared/errors.ts";
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
    "Whatever its state (failed, succeeded, cancelled or waiting for a retry), the delivery's next attempt goes out now, with the same webhook-id. If attempts remain after it on the retry schedule, they follow as usual; a delivery that had used them all gets this one attempt. While an attempt is under way (at most 15 s) the answer is 409 delivery_in_flight and nothing changes, so one webhook-id never goes out twice at once. A disabled subscription's deliveries are not retried (409 subscription_disabled), except its test deliveries. Watch it with GET …/deliveries/{delivery_id}.",
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
  if (retried.outcome === "in_flight") {
    throw new ApiError(
      409,
      "delivery_in_flight",
      "An attempt of this delivery is under way. Retry once it has ended: GET the delivery to see its result.",
    );
  }
  return c.json({ data: deliveryResource(retried.delivery) }, 202);
});
