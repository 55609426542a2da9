import { deliveryNotFound } from "../../_shared/errors.ts";
import {
  deliveryDetailResource,
  deliveryDetailSchema,
  deliveryParams,
} from "../delivery-schema.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import { envelope } from "../subscription-schema.ts";

/** GET /api-webhook-subscriptions/{id}/deliveries/{delivery_id} */
export const getDelivery = defineRoute({
  method: "get",
  path: "/{id}/deliveries/{delivery_id}",
  operationId: "getWebhookDelivery",
  summary: "Get a delivery with its payload and attempts",
  scopes: [],
  request: { params: deliveryParams },
  success: {
    status: 200,
    description:
      "The delivery, the body every attempt sends, and every attempt with what the receiver answered.",
    schema: envelope(deliveryDetailSchema),
  },
  errors: [404, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params }) => {
  const detail = await deps.deliveries.getDelivery(
    c.get("principal").workspaceId,
    params.id,
    params.delivery_id,
  );
  if (!detail) throw deliveryNotFound();
  return c.json({ data: deliveryDetailResource(detail) });
});
