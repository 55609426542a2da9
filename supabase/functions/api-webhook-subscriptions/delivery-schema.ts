import { z } from "zod";
import { ATTEMPT_ERROR_KINDS } from "../_shared/attempt-error-kinds.ts";
import { EVENT_TYPES } from "../_shared/event-types.ts";
import { webhookPayload } from "../_shared/webhook-payload.ts";
import {
  DELIVERY_STATUSES,
  type DeliveryDetail,
  type DeliveryRecord,
} from "./delivery-history-store.ts";
import { pageQueryFields, pageSchema } from "./pagination.ts";
import {
  formatOptionalTimestamp,
  formatTimestamp,
  subscriptionIdParams,
  timestamp,
  uuidPathParam,
} from "./subscription-schema.ts";

/** The API's own event, sent only to the subscription it was asked for. */
export const TEST_EVENT_TYPE = "webhook.test";
export const DELIVERY_EVENT_TYPES = [...EVENT_TYPES, TEST_EVENT_TYPE] as const;
/** The test event's data, always the same: it says nothing about the workspace. */
export const TEST_EVENT_DATA = {
  message: "A test event from WundertreOS, sent because you asked for one.",
} as const;

/** How far back a recover may reach: delivery records are kept 30 days. */
export const RECOVER_MAX_DAYS = 30;

/** `{id}` and `{delivery_id}`; either malformed is the same 404 as an unknown one. */
export const deliveryParams = subscriptionIdParams.extend({ delivery_id: uuidPathParam });

export const deliveryListQuerySchema = z.strictObject({
  ...pageQueryFields,
  status: z
    .enum(DELIVERY_STATUSES, {
      error: `status must be one of: ${DELIVERY_STATUSES.join(", ")}.`,
    })
    .optional()
    .meta({ description: "Only deliveries in this state." }),
  event_type: z
    .enum(DELIVERY_EVENT_TYPES, {
      error: `event_type must be one of: ${DELIVERY_EVENT_TYPES.join(", ")}.`,
    })
    .optional()
    .meta({ description: "Only deliveries of this event type." }),
});

// RFC 3339: a date, a time and an offset (Z or ±hh:mm), seconds' fractions allowed.
const RFC_3339 = z.iso.datetime({ offset: true, error: "since must be an RFC 3339 timestamp." });

export const recoverBodySchema = z.strictObject({
  since: z
    .string({ error: "since is required, as an RFC 3339 timestamp." })
    .pipe(RFC_3339)
    .transform((value) => new Date(value))
    .meta({
      description:
        `Failed deliveries created at or after this time are sent again; at most ${RECOVER_MAX_DAYS} days back, and not in the future.`,
      examples: ["2026-12-01T00:00:00Z"],
    }),
});

// Responses. Strict objects, so the OpenAPI document says exactly what a response may contain.
const deliveryFields = {
  id: z.uuid(),
  // Event ids may come from the CRM (emit_webhook_event's p_event_id): any UUID.
  event_id: z.guid().meta({ description: "Also the webhook-id header of every attempt." }),
  event_type: z.enum(DELIVERY_EVENT_TYPES),
  status: z.enum(DELIVERY_STATUSES).meta({
    description:
      "pending (due or being sent), succeeded (a 2xx), failed (every attempt failed; POST …/retry or …/recover sends it again), cancelled (its subscription was disabled).",
  }),
  attempt_count: z.int().min(0),
  last_response_status: z.int().nullable().meta({
    description: "The HTTP status of the latest attempt; null when none came back.",
  }),
  next_attempt_at: timestamp.nullable().meta({
    description: "While pending: when the next attempt is due. Null otherwise.",
  }),
  created_at: timestamp,
  finished_at: timestamp.nullable(),
};

export const deliverySchema = z.strictObject(deliveryFields);
export const deliveryListSchema = pageSchema(deliverySchema);

const attemptSchema = z.strictObject({
  attempt_number: z.int().min(1),
  started_at: timestamp,
  duration_ms: z.int().min(0),
  response_status: z.int().nullable(),
  error_kind: z.enum(ATTEMPT_ERROR_KINDS).nullable().meta({
    description: "Why the attempt failed; null for a 2xx.",
  }),
  response_body: z.string().nullable().meta({
    description: "The first 1 KiB of the receiver's answer, as UTF-8.",
  }),
});

export const deliveryDetailSchema = z.strictObject({
  ...deliveryFields,
  payload: z.strictObject({
    id: z.guid(),
    type: z.enum(DELIVERY_EVENT_TYPES),
    timestamp: z.iso.datetime(),
    workspace_id: z.guid(),
    data: z.record(z.string(), z.unknown()),
  }).meta({ description: "The body every attempt sends, as the receiver gets it." }),
  attempts: z.array(attemptSchema).meta({ description: "Every attempt, oldest first." }),
});

export const recoverResultSchema = z.strictObject({
  recovered: z.int().min(0).meta({ description: "How many failed deliveries are due again." }),
});

export function deliveryResource(record: DeliveryRecord): z.input<typeof deliverySchema> {
  return {
    id: record.id,
    event_id: record.eventId,
    event_type: record.eventType as z.input<typeof deliverySchema>["event_type"],
    status: record.status,
    attempt_count: record.attemptCount,
    last_response_status: record.lastResponseStatus,
    next_attempt_at: formatOptionalTimestamp(record.nextAttemptAt),
    created_at: formatTimestamp(record.createdAt),
    finished_at: formatOptionalTimestamp(record.finishedAt),
  };
}

export function deliveryDetailResource(
  detail: DeliveryDetail,
): z.input<typeof deliveryDetailSchema> {
  return {
    ...deliveryResource(detail),
    payload: webhookPayload(detail.event) as z.input<typeof deliveryDetailSchema>["payload"],
    attempts: detail.attempts.map((attempt) => ({
      attempt_number: attempt.attemptNumber,
      started_at: formatTimestamp(attempt.startedAt),
      duration_ms: attempt.durationMs,
      response_status: attempt.responseStatus,
      error_kind: attempt.errorKind as z.input<typeof attemptSchema>["error_kind"],
      response_body: attempt.responseBody,
    })),
  };
}
