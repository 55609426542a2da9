import { z } from "zod";
import { EVENT_TYPES, type EventType } from "../_shared/event-types.ts";
import type { SubscriptionRecord } from "../_shared/subscription-store.ts";
import { isUuid } from "../_shared/uuid.ts";
import { pageQueryFields, pageSchema } from "./pagination.ts";

export const MAX_TARGET_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 500;

// Whitespace and control characters are silently dropped or trimmed by the WHATWG URL parser, so a
// URL containing them would not be the URL the caller thinks it registered.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const URL_FORBIDDEN_CHARACTERS = /[\u0000-\u0020\u007f-\u009f]/;

function targetUrlProblem(value: string): string | null {
  if (value.length > MAX_TARGET_URL_LENGTH) {
    return `target_url must be at most ${MAX_TARGET_URL_LENGTH} characters.`;
  }
  if (URL_FORBIDDEN_CHARACTERS.test(value)) {
    return "target_url must not contain spaces or control characters.";
  }
  if (!URL.canParse(value)) return "target_url must be a valid absolute URL.";
  const url = new URL(value);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return "target_url must use the http or https scheme.";
  }
  if (url.username !== "" || url.password !== "") {
    return "target_url must not contain a username or password.";
  }
  if (url.href.length > MAX_TARGET_URL_LENGTH) {
    return `target_url must be at most ${MAX_TARGET_URL_LENGTH} characters.`;
  }
  return null;
}

const requiredString = (field: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required.` : `${field} must be a string.`;

/** Stored and returned in WHATWG-serialised form: the exact URL deliveries will be sent to. */
export const targetUrlSchema = z.string({ error: requiredString("target_url") })
  .transform((value, context) => {
    const problem = targetUrlProblem(value);
    if (problem === null) return new URL(value).href;
    context.issues.push({ code: "custom", message: problem, input: value });
    return z.NEVER;
  });

export const eventTypesSchema = z
  .array(
    z.enum(EVENT_TYPES, {
      error: () => `Each event type must be one of: ${EVENT_TYPES.join(", ")}.`,
    }),
    {
      error: (issue) =>
        issue.input === undefined
          ? "event_types is required."
          : "event_types must be an array of event type strings.",
    },
  )
  .min(1, { error: "event_types must contain at least one event type." })
  // Duplicates collapse to their first occurrence so the stored order is the caller's order.
  .transform((eventTypes) => [...new Set(eventTypes)]);

export const descriptionSchema = z
  .string({ error: "description must be a string or null." })
  .refine((value) => !value.includes("\u0000"), {
    error: "description must not contain NUL characters.",
  })
  .refine((value) => value.isWellFormed(), {
    error: "description must be valid Unicode text (no lone surrogates).",
  })
  .refine((value) => [...value].length <= MAX_DESCRIPTION_LENGTH, {
    error: `description must be at most ${MAX_DESCRIPTION_LENGTH} characters.`,
  })
  .nullable();

export const createSubscriptionBodySchema = z.strictObject({
  target_url: targetUrlSchema,
  event_types: eventTypesSchema,
  description: descriptionSchema.optional(),
});

export const updateSubscriptionBodySchema = z
  .strictObject({
    target_url: targetUrlSchema.optional(),
    event_types: eventTypesSchema.optional(),
    description: descriptionSchema.optional(),
    enabled: z.boolean({ error: "enabled must be true or false." }).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, {
    error: "Send at least one of target_url, event_types, description, enabled.",
    // Only when everything else was valid: `{"secret": …}` is about the unknown field.
    when: (payload) => payload.issues.length === 0,
  });

export const listQuerySchema = z.strictObject({
  ...pageQueryFields,
  enabled: z
    .enum(["true", "false"], { error: "enabled must be true or false." })
    .transform((value) => value === "true")
    .optional(),
  event_type: z
    .enum(EVENT_TYPES, { error: `event_type must be one of: ${EVENT_TYPES.join(", ")}.` })
    .optional()
    .meta({ description: "Only subscriptions that include this event type." }),
});

/** A uuid in a path, lower-cased; anything else fails (and is answered as a 404). */
export const uuidPathParam = z.string().refine(isUuid).meta({ format: "uuid" }).transform((id) =>
  id.toLowerCase()
);

/** The `{id}` of a subscription's path; anything else is the same 404 as an unknown id. */
export const subscriptionIdParams = z.object({ id: uuidPathParam });

/** Idempotency-Key on create: a retry with the same key and body cannot make a second one. */
export const idempotencyHeaders = z.object({
  "Idempotency-Key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, {
      error: "Idempotency-Key must be 1 to 255 visible ASCII characters.",
    })
    .optional()
    .meta({
      description:
        "Up to 255 visible ASCII characters. The same key and body from the same credential within 24 hours replays the first answer instead of creating again.",
    }),
});

// Responses. Strict objects, so the OpenAPI document says exactly what a response may contain.
/** A response's time: RFC 3339 in UTC, to the second. */
export const timestamp = z.iso.datetime({ offset: false, precision: 0 });
/** The contract's create response, field for field. */
const contractFields = {
  id: z.uuid(),
  target_url: z.string(),
  event_types: z.array(z.enum(EVENT_TYPES)),
  enabled: z.boolean(),
  description: z.string().nullable(),
  created_at: timestamp,
};
const subscriptionFields = {
  ...contractFields,
  disabled_reason: z.enum(["manual", "target_gone", "failing"]).nullable().meta({
    description:
      "Why deliveries stopped: manual (enabled set to false), target_gone (the receiver answered 410 Gone), failing (every attempt failed for 5 days). Null while enabled; PATCH enabled: true clears it.",
  }),
  disabled_at: timestamp.nullable(),
};
const secret = z.string().regex(/^[0-9a-f]{64}$/).meta({
  description: "Signs every delivery. Returned only here: store it now.",
});

export const subscriptionSchema = z.strictObject(subscriptionFields);
export const createdSubscriptionSchema = z.strictObject({ ...contractFields, secret });
export const rotatedSubscriptionSchema = z.strictObject({
  ...subscriptionFields,
  secret,
  previous_secret_expires_at: timestamp.meta({
    description: "Until then, deliveries are signed with the previous secret as well.",
  }),
});
export const subscriptionListSchema = pageSchema(subscriptionSchema);
export const envelope = <T extends z.ZodType>(schema: T) => z.strictObject({ data: schema });

/** RFC 3339 in UTC to the second, as in the contract's example (`2026-05-17T14:30:00Z`). */
export function formatTimestamp(timestamp: string | Date): string {
  return new Date(timestamp).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export const formatOptionalTimestamp = (timestamp: string | null) =>
  timestamp === null ? null : formatTimestamp(timestamp);

/** The public shape of a subscription; the secret is added only where the contract returns it. */
export function subscriptionResource(
  record: SubscriptionRecord,
): z.input<typeof subscriptionSchema> {
  return {
    id: record.id,
    target_url: record.targetUrl,
    event_types: record.eventTypes as EventType[],
    enabled: record.enabled,
    description: record.description,
    created_at: formatTimestamp(record.createdAt),
    disabled_reason: record.disabledReason,
    disabled_at: formatOptionalTimestamp(record.disabledAt),
  };
}

/** The contract's create response, exactly: the secret sits right after event_types. */
export function subscriptionWithSecret(
  record: SubscriptionRecord,
  secret: string,
): z.input<typeof createdSubscriptionSchema> {
  const { id, target_url, event_types, enabled, description, created_at } = subscriptionResource(
    record,
  );
  return { id, target_url, event_types, secret, enabled, description, created_at };
}
