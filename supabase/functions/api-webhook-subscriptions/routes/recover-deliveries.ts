import {
  invalidRequest,
  subscriptionDisabled,
  subscriptionNotFound,
} from "../../_shared/errors.ts";
import { RECOVER_MAX_DAYS, recoverBodySchema, recoverResultSchema } from "../delivery-schema.ts";
import { AUTHENTICATED_ERRORS, defineRoute } from "../route.ts";
import { envelope, subscriptionIdParams } from "../subscription-schema.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
// A caller's clock may run ahead of ours; the same tolerance receivers give webhook-timestamp.
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** POST /api-webhook-subscriptions/{id}/recover */
export const recoverDeliveries = defineRoute({
  method: "post",
  path: "/{id}/recover",
  operationId: "recoverWebhookDeliveries",
  summary: "Send every failed delivery since a time again",
  description:
    `After an outage of your endpoint: every delivery of this subscription that failed and was created at or after since goes out again now, each for one more attempt, with its own webhook-id. since may be at most ${RECOVER_MAX_DAYS} days back, and not in the future. A disabled subscription must be enabled first.`,
  scopes: ["webhooks:write"],
  request: { params: subscriptionIdParams, body: recoverBodySchema },
  success: {
    status: 202,
    description: "How many failed deliveries are due again.",
    schema: envelope(recoverResultSchema),
  },
  errors: [400, 404, 409, 413, 415, ...AUTHENTICATED_ERRORS],
}, (deps) => async (c, { params, body }) => {
  const now = deps.clock().getTime();
  const since = body.since.getTime();
  const problem = since < now - RECOVER_MAX_DAYS * DAY_MS
    ? `since must be at most ${RECOVER_MAX_DAYS} days ago.`
    : since > now + CLOCK_SKEW_MS
    ? "since must not be in the future."
    : null;
  if (problem) {
    throw invalidRequest("Invalid request body: check since.", [{
      field: "since",
      message: problem,
    }]);
  }
  const recovered = await deps.deliveries.recoverDeliveries(
    c.get("principal").workspaceId,
    params.id,
    body.since,
  );
  if (recovered.outcome === "not_found") throw subscriptionNotFound();
  if (recovered.outcome === "subscription_disabled") {
    throw subscriptionDisabled("its failed deliveries would only be cancelled again");
  }
  return c.json({ data: { recovered: recovered.count } }, 202);
});
