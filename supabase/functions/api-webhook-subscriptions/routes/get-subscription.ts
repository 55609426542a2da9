import { subscriptionNotFound } from "../errors.ts";
import { AUTHENTICATED_ERRORS, type Route, subscriptionIdOf } from "../route.ts";
import { envelope, subscriptionResource, subscriptionSchema } from "../subscription-schema.ts";

/** GET /api-webhook-subscriptions/{id} */
export const getSubscription: Route = {
  spec: {
    method: "get",
    path: "/{id}",
    operationId: "getWebhookSubscription",
    summary: "Get a webhook subscription",
    scopes: [],
    pathId: true,
    success: {
      status: 200,
      description: "The subscription (without its secret).",
      schema: envelope(subscriptionSchema),
    },
    errors: [404, ...AUTHENTICATED_ERRORS],
  },
  handler: (deps) => async (c) => {
    const record = await deps.store.getSubscription(
      c.get("principal").workspaceId,
      subscriptionIdOf(c),
    );
    if (!record) throw subscriptionNotFound();
    return c.json({ data: subscriptionResource(record) });
  },
};
