import { subscriptionNotFound } from "../../_shared/errors.ts";
import { deliveryResource, deliverySchema, TEST_EVENT_DATA } from "../delivery-schema.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import { envelope, subscriptionIdParams } from "../subscription-schema.ts";

/** POST /api-webhook-subscriptions/{id}/test */
export const sendTestEvent = defineRoute({
  method: "post",
  path: "/{id}/test",
  operationId: "sendWebhookTestEvent",
  summary: "Send a test event to this subscription",
  description: `Sends a webhook.test event, with the data ${
    JSON.stringify(TEST_EVENT_DATA)
  }, to this subscription only, even while it is disabled, signed and retried like any delivery. Watch it with GET …/deliveries/{delivery_id}.`,
  scopes: ["webhooks:write"],
  request: { params: subscriptionIdParams },
  success: {
    status: 202,
    description: "The test delivery, due now.",
    schema: envelope(deliverySchema),
  },
  errors: [404, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params }) => {
  const delivery = await deps.deliveries.sendTestEvent(
    c.get("principal").workspaceId,
    params.id,
    TEST_EVENT_DATA,
  );
  if (!delivery) throw subscriptionNotFound();
  return c.json({ data: deliveryResource(delivery) }, 202);
});
