import { readJsonBody } from "../body.ts";
import { assertDeliverable } from "../target-policy.ts";
import { generateSigningSecret } from "../random.ts";
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
      headers: { Location: "The new subscription's path.", "Cache-Control": "no-store" },
    },
    errors: [400, 413, 415, ...AUTHENTICATED_ERRORS],
  },
  handler: (deps) => async (c) => {
    const body = parseBody(createSubscriptionBodySchema, await readJsonBody(c.req.raw));
    await assertDeliverable(body.target_url, deps.targetPolicy);
    const secret = generateSigningSecret(deps.random);
    const record = await deps.store.insertSubscription({
      workspaceId: c.get("principal").workspaceId,
      targetUrl: body.target_url,
      eventTypes: body.event_types,
      description: body.description ?? null,
      secret,
    });
    return c.json({ data: subscriptionWithSecret(record, secret) }, 201, {
      // Relative, because the function cannot know the public host it is reached through.
      "Location": `${FUNCTION_PATH}/${record.id}`,
      "Cache-Control": "no-store",
    });
  },
};
