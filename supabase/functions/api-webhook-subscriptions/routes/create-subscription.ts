import type { Context } from "hono";
import { requireScope } from "../auth.ts";
import { readJsonBody } from "../body.ts";
import { generateSigningSecret } from "../random.ts";
import {
  createSubscriptionBodySchema,
  parseBody,
  subscriptionResource,
} from "../subscription-schema.ts";
import type { AppDependencies, AppEnv } from "../app.ts";

export const FUNCTION_PATH = "/functions/v1/api-webhook-subscriptions";

/** POST /api-webhook-subscriptions: the contract's "Create webhook subscription". */
export function createSubscription(deps: AppDependencies) {
  return async (c: Context<AppEnv>) => {
    const principal = c.get("principal");
    requireScope(principal, "webhooks:write");

    const body = parseBody(createSubscriptionBodySchema, await readJsonBody(c.req.raw));
    const secret = generateSigningSecret(deps.random);
    const record = await deps.store.insertSubscription({
      workspaceId: principal.workspaceId,
      targetUrl: body.target_url,
      eventTypes: body.event_types,
      description: body.description ?? null,
      secret,
    });

    return c.json({ data: subscriptionResource(record, secret) }, 201, {
      // Relative, because the function cannot know the public host it is reached through.
      "Location": `${FUNCTION_PATH}/${record.id}`,
      "Cache-Control": "no-store",
    });
  };
}
