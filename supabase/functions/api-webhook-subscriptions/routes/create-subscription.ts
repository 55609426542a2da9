import { sha256Hex } from "../../_shared/digest.ts";
import { ApiError } from "../../_shared/errors.ts";
import { generateSigningSecret } from "../../_shared/random.ts";
import { assertDeliverable } from "../../_shared/target-policy.ts";
import { FUNCTION_PATH, type Principal } from "../app-env.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import {
  createdSubscriptionSchema,
  createSubscriptionBodySchema,
  envelope,
  idempotencyHeaders,
  subscriptionWithSecret,
} from "../subscription-schema.ts";

/** POST /api-webhook-subscriptions: the contract's "Create webhook subscription". */
export const createSubscription = defineRoute({
  method: "post",
  path: "/",
  operationId: "createWebhookSubscription",
  summary: "Create webhook subscription",
  description:
    "Subscribe a target URL to one or more event types. Implements the Zapier REST Hooks subscribe call. The secret is returned only here.",
  scopes: ["webhooks:write"],
  request: { headers: idempotencyHeaders, body: createSubscriptionBodySchema },
  success: {
    status: 201,
    description: "The subscription, with the secret that signs its deliveries.",
    schema: envelope(createdSubscriptionSchema),
    headers: {
      Location: "The new subscription's path.",
      "Cache-Control": "no-store",
      "Idempotent-Replayed":
        "true when this answer replays an earlier request's (Idempotency-Key).",
    },
  },
  errors: [400, 409, 413, 415, 422, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { headers, body }) => {
  await assertDeliverable(body.target_url, deps.targetPolicy);
  const principal = c.get("principal");
  const subscription = {
    workspaceId: principal.workspaceId,
    targetUrl: body.target_url,
    eventTypes: body.event_types,
    description: body.description ?? null,
    secret: generateSigningSecret(deps.random),
  };
  const key = headers["Idempotency-Key"];
  const created = await deps.subscriptions.createSubscription(subscription, {
    maxSubscriptions: deps.maxSubscriptionsPerWorkspace,
    idempotency: key === undefined
      ? undefined
      : { key, requestHash: await requestHash(subscription, principal) },
  });
  switch (created.outcome) {
    case "in_flight":
      throw new ApiError(
        409,
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        {},
        { "Retry-After": "1" },
      );
    case "key_reused":
      throw new ApiError(
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was used in the last 24 hours with a different request or by another credential.",
      );
    case "limit_reached":
      throw new ApiError(
        422,
        "subscription_limit_reached",
        `A workspace can have at most ${deps.maxSubscriptionsPerWorkspace} webhook subscriptions.`,
        { limit: deps.maxSubscriptionsPerWorkspace },
      );
    case "workspace_not_found":
      throw new ApiError(403, "forbidden", "This credential's workspace does not exist.");
  }
  return c.json(
    { data: subscriptionWithSecret(created.record, created.secret) },
    201,
    {
      // Relative, because the function cannot know the public host it is reached through.
      "Location": `${FUNCTION_PATH}/${created.record.id}`,
      "Cache-Control": "no-store",
      ...(created.outcome === "replayed" ? { "Idempotent-Replayed": "true" } : {}),
    },
  );
});

/**
 * What "the same request" means for a replay: the same validated fields (not the secret) from the
 * same credential. Another token of the workspace that learns a key and body gets a 422, not the
 * subscription's current secret.
 */
function requestHash(
  subscription: { targetUrl: string; eventTypes: string[]; description: string | null },
  principal: Principal,
): Promise<string> {
  return sha256Hex(JSON.stringify([
    principal.kind,
    principal.id,
    subscription.targetUrl,
    subscription.eventTypes,
    subscription.description,
  ]));
}
