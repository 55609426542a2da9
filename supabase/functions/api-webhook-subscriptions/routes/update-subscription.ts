import { readJsonBody } from "../body.ts";
import { assertDeliverable } from "../target-policy.ts";
import { subscriptionNotFound } from "../errors.ts";
import { AUTHENTICATED_ERRORS, type Route, subscriptionIdOf } from "../route.ts";
import {
  envelope,
  subscriptionResource,
  subscriptionSchema,
  updateSubscriptionBodySchema,
} from "../subscription-schema.ts";
import { parseBody } from "../validation.ts";

/** PATCH /api-webhook-subscriptions/{id}: change any of the editable fields. */
export const updateSubscription: Route = {
  spec: {
    method: "patch",
    path: "/{id}",
    operationId: "updateWebhookSubscription",
    summary: "Update a webhook subscription",
    description:
      "Changes any of target_url, event_types, description (null clears it) and enabled, with the same rules as create.",
    scopes: ["webhooks:write"],
    pathId: true,
    body: updateSubscriptionBodySchema,
    success: {
      status: 200,
      description: "The updated subscription.",
      schema: envelope(subscriptionSchema),
    },
    errors: [400, 404, 413, 415, ...AUTHENTICATED_ERRORS],
  },
  handler: (deps) => async (c) => {
    const id = subscriptionIdOf(c);
    const body = parseBody(updateSubscriptionBodySchema, await readJsonBody(c.req.raw));
    await assertDeliverable(body.target_url, deps.targetPolicy);
    const record = await deps.store.updateSubscription(c.get("principal").workspaceId, id, {
      targetUrl: body.target_url,
      eventTypes: body.event_types,
      description: body.description,
      enabled: body.enabled,
    });
    if (!record) throw subscriptionNotFound();
    return c.json({ data: subscriptionResource(record) });
  },
};
