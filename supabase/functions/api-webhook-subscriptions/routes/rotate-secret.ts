import { subscriptionNotFound } from "../errors.ts";
import { generateSigningSecret } from "../random.ts";
import { AUTHENTICATED_ERRORS, type Route, subscriptionIdOf } from "../route.ts";
import {
  envelope,
  formatTimestamp,
  rotatedSubscriptionSchema,
  subscriptionWithSecret,
} from "../subscription-schema.ts";

/** POST /api-webhook-subscriptions/{id}/rotate-secret */
export const rotateSecret: Route = {
  spec: {
    method: "post",
    path: "/{id}/rotate-secret",
    operationId: "rotateWebhookSubscriptionSecret",
    summary: "Rotate a webhook subscription's secret",
    description:
      "Issues a new secret, returned only here. For 24 hours deliveries are signed with both the new and the previous secret, so receivers can switch without losing any. Only one previous secret is kept: rotating again within those 24 hours ends the older one at once.",
    scopes: ["webhooks:write"],
    pathId: true,
    success: {
      status: 200,
      description: "The subscription with its new secret.",
      schema: envelope(rotatedSubscriptionSchema),
      headers: { "Cache-Control": "no-store" },
    },
    errors: [404, ...AUTHENTICATED_ERRORS],
  },
  handler: (deps) => async (c) => {
    const id = subscriptionIdOf(c);
    const secret = generateSigningSecret(deps.random);
    const rotated = await deps.store.rotateSecret(c.get("principal").workspaceId, id, secret);
    if (!rotated) throw subscriptionNotFound();
    return c.json(
      {
        data: {
          ...subscriptionWithSecret(rotated.record, secret),
          previous_secret_expires_at: formatTimestamp(rotated.previousSecretExpiresAt),
        },
      },
      200,
      { "Cache-Control": "no-store" },
    );
  },
};
