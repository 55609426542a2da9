import { z } from "zod";
import { EVENT_TYPES } from "./event-types.ts";
import { type ApiError, type FieldError, invalidRequest } from "./errors.ts";
import type { SubscriptionRecord } from "./store.ts";

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

export type CreateSubscriptionBody = z.output<typeof createSubscriptionBodySchema>;

function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, key) =>
      typeof key === "number" ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key),
    "",
  );
}

// A small hostile body (thousands of bad array items or unknown keys) must not buy a huge answer.
export const MAX_FIELD_ERRORS = 20;
const MAX_ECHOED_KEY_LENGTH = 64;

function echoedKey(key: string): string {
  return key.length > MAX_ECHOED_KEY_LENGTH ? `${key.slice(0, MAX_ECHOED_KEY_LENGTH)}…` : key;
}

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: fieldName([...issue.path, echoedKey(key)]),
        message: `${echoedKey(key)} is not a known field.`,
      }));
    }
    return [{ field: fieldName(issue.path), message: issue.message }];
  });
}

function invalidBody(details: FieldError[]): ApiError {
  const fields = [...new Set(details.map((detail) => detail.field.split(/[.[]/)[0]))];
  const named = fields.length > 5
    ? `${fields.slice(0, 5).join(", ")} and ${fields.length - 5} more`
    : fields.join(", ");
  const truncated = details.length > MAX_FIELD_ERRORS;
  return invalidRequest(
    `Invalid request body: check ${named}.`,
    details.slice(0, MAX_FIELD_ERRORS),
    truncated ? { details_truncated: true } : {},
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates a parsed JSON body, or throws a 400 naming every offending field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (!isPlainObject(body)) {
    throw invalidRequest("The request body must be a JSON object.", []);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw invalidBody(fieldErrors(result.error));
}

/** RFC 3339 in UTC to the second, as in the contract's example (`2026-05-17T14:30:00Z`). */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The public shape of a subscription; the secret is added only where the contract returns it. */
export function subscriptionResource(record: SubscriptionRecord, secret?: string) {
  return {
    id: record.id,
    target_url: record.targetUrl,
    event_types: record.eventTypes,
    ...(secret === undefined ? {} : { secret }),
    enabled: record.enabled,
    description: record.description,
    created_at: formatTimestamp(record.createdAt),
  };
}
