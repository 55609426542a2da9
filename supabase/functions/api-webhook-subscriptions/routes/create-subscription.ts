import type { Context } from "hono";
import type { AppDependencies, AppEnv } from "../app.ts";
import type { Principal } from "../auth.ts";
import { type DeferredAuthentication, takeDeferredAuthentication } from "../auth-middleware.ts";
import { readJsonBody } from "../body.ts";
import { assertDeliverable } from "../target-policy.ts";
import { ApiError, invalidRequest, StoreUnavailableError } from "../errors.ts";
import { generateSigningSecret, toHex } from "../random.ts";
import { sha256 } from "../sha256.ts";
import type { SubscriptionFields, SubscriptionStore, TokenCreateOutcome } from "../store.ts";
import { AUTHENTICATED_ERRORS, FUNCTION_PATH, type Route } from "../route.ts";
import {
  createdSubscriptionSchema,
  createSubscriptionBodySchema,
  envelope,
  subscriptionWithSecret,
} from "../subscription-schema.ts";
import { parseBody } from "../validation.ts";

/** POST /api-webhook-subscriptions: the contract's "Create webhook subscription". */
export const createSubscription: Route = {
  spec: {
    method: "post",
    path: "/",
    operationId: "createWebhookSubscription",
    summary: "Create webhook subscription",
    description:
      "Subscribe a target URL to one or more event types. Implements the Zapier REST Hooks subscribe call. The secret is returned only here.",
    scopes: ["webhooks:write"],
    body: createSubscriptionBodySchema,
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
  },
  handler: (deps) => async (c) => {
    const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
    const body = parseBody(
      createSubscriptionBodySchema,
      await readJsonBody(c.req.raw),
    );
    await assertDeliverable(body.target_url, deps.targetPolicy);
    const subscription: SubscriptionFields = {
      targetUrl: body.target_url,
      eventTypes: body.event_types,
      description: body.description ?? null,
      secret: generateSigningSecret(deps.random),
    };
    const options = {
      maxSubscriptions: deps.maxSubscriptionsPerWorkspace,
      idempotency: idempotencyKey === undefined ? undefined : {
        key: idempotencyKey,
        requestHash: requestHash(subscription, c.get("principal")),
      },
    };
    const deferred = c.get("deferredAuthentication");
    const created = deferred
      ? deferred.settle(await createWithToken(c, deps, deferred, subscription, options))
      : await deps.store.createSubscription(
        { ...subscription, workspaceId: c.get("principal").workspaceId },
        options,
      );
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
        throw new ApiError(
          403,
          "forbidden",
          "This credential's workspace does not exist.",
        );
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
  },
};

/**
 * The create that authenticates itself. Its verdict settles the request's authentication. If it
 * fails for any reason but an unreachable database, the middleware authenticates the separate way,
 * so a dead token still gets its 401 and the request is still counted.
 */
async function createWithToken(
  c: Context<AppEnv>,
  deps: AppDependencies,
  deferred: DeferredAuthentication,
  subscription: SubscriptionFields,
  options: Parameters<SubscriptionStore["createSubscriptionWithToken"]>[3],
): Promise<TokenCreateOutcome> {
  try {
    const result = await deps.store.createSubscriptionWithToken(
      deferred.tokenHash,
      deferred.rule,
      subscription,
      options,
    );
    takeDeferredAuthentication(c);
    return result;
  } catch (error) {
    // Nothing can be confirmed while the database is down; the 503 tells nothing anyway.
    if (error instanceof StoreUnavailableError) takeDeferredAuthentication(c);
    throw error;
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (IDEMPOTENCY_KEY.test(header)) return header;
  throw invalidRequest("Invalid Idempotency-Key header.", [{
    field: "Idempotency-Key",
    message: "Idempotency-Key must be 1 to 255 visible ASCII characters.",
  }]);
}

/**
 * What "the same request" means for a replay: the same validated fields (not the secret) from the
 * same credential. Another token of the workspace that learns a key and body gets a 422, not the
 * subscription's current secret.
 */
function requestHash(subscription: SubscriptionFields, principal: Principal): string {
  const canonical = JSON.stringify([
    principal.kind,
    principal.id,
    subscription.targetUrl,
    subscription.eventTypes,
    subscription.description,
  ]);
  return toHex(sha256(canonical));
}
