import { subscriptionNotFound } from "../../_shared/errors.ts";
import { generateSigningSecret } from "../../_shared/random.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import {
  envelope,
  formatOptionalTimestamp,
  formatTimestamp,
  rotatedSubscriptionSchema,
  subscriptionIdParams,
  subscriptionWithSecret,
} from "../subscription-schema.ts";

/** POST /api-webhook-subscriptions/{id}/rotate-secret */
export const rotateSecret = defineRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  operationId: "rotateWebhookSubscriptionSecret",
  summary: "Rotate a webhook subscription's secret",
  description:
    "Issues a new secret, returned only here. For 24 hours deliveries are signed with both the new and the previous secret, so receivers can switch without losing any. Only one previous secret is kept: rotating again within those 24 hours ends the older one at once.",
  scopes: ["webhooks:write"],
  request: { params: subscriptionIdParams },
  success: {
    status: 200,
    description: "The subscription with its new secret.",
    schema: envelope(rotatedSubscriptionSchema),
    headers: { "Cache-Control": "no-store" },
  },
  errors: [404, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params }) => {
  const secret = generateSigningSecret(deps.random);
  const rotated = await deps.subscriptions.rotateSecret(
    c.get("principal").workspaceId,
    params.id,
    secret,
  );
  if (!rotated) throw subscriptionNotFound();
  return c.json(
    {
      data: {
        ...subscriptionWithSecret(rotated.record, secret),
        disabled_reason: rotated.record.disabledReason,
        disabled_at: formatOptionalTimestamp(rotated.record.disabledAt),
        previous_secret_expires_at: formatTimestamp(rotated.previousSecretExpiresAt),
      },
    },
    200,
    { "Cache-Control": "no-store" },
  );
});
