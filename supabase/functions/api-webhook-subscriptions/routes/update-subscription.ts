import { subscriptionNotFound } from "../../_shared/errors.ts";
import { assertDeliverable } from "../../_shared/target-policy.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import {
  envelope,
  subscriptionIdParams,
  subscriptionResource,
  subscriptionSchema,
  updateSubscriptionBodySchema,
} from "../subscription-schema.ts";

/** PATCH /api-webhook-subscriptions/{id}: change any of the editable fields. */
export const updateSubscription = defineRoute({
  method: "patch",
  path: "/{id}",
  operationId: "updateWebhookSubscription",
  summary: "Update a webhook subscription",
  description:
    "Changes any of target_url, event_types, description (null clears it) and enabled, with the same rules as create.",
  scopes: ["webhooks:write"],
  request: { params: subscriptionIdParams, body: updateSubscriptionBodySchema },
  success: {
    status: 200,
    description: "The updated subscription.",
    schema: envelope(subscriptionSchema),
  },
  errors: [400, 404, 413, 415, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params, body }) => {
  await assertDeliverable(body.target_url, deps.targetPolicy);
  const record = await deps.subscriptions.updateSubscription(
    c.get("principal").workspaceId,
    params.id,
    {
      targetUrl: body.target_url,
      eventTypes: body.event_types,
      description: body.description,
      enabled: body.enabled,
    },
  );
  if (!record) throw subscriptionNotFound();
  return c.json({ data: subscriptionResource(record) });
});
