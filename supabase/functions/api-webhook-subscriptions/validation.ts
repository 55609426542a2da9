import type { z } from "zod";
import { type ApiError, type FieldError, invalidRequest } from "../_shared/errors.ts";

// A small hostile body (thousands of bad array items or unknown keys) must not buy a huge answer.
export const MAX_FIELD_ERRORS = 20;
const MAX_ECHOED_KEY_LENGTH = 64;

function echoedKey(key: string): string {
  return key.length > MAX_ECHOED_KEY_LENGTH ? `${key.slice(0, MAX_ECHOED_KEY_LENGTH)}…` : key;
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, key) =>
      typeof key === "number" ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key),
    "",
  );
}

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: fieldName([...issue.path, echoedKey(key)]),
        message: `${echoedKey(key)} is not a known ${issue.path.length ? "field" : "parameter"}.`,
      }));
    }
    // A rule about the whole body (such as "send at least one field") has an empty path.
    return [{ field: fieldName(issue.path) || "body", message: issue.message }];
  });
}

/** The one 400 for every validation failure: each field's problem, at most MAX_FIELD_ERRORS. */
function invalid(what: "request body" | "query" | "header", details: FieldError[]): ApiError {
  const fields = [...new Set(details.map((detail) => detail.field.split(/[.[]/)[0]))];
  const named = fields.length > 5
    ? `${fields.slice(0, 5).join(", ")} and ${fields.length - 5} more`
    : fields.join(", ");
  return invalidRequest(
    what === "header" ? `Invalid ${named} header.` : `Invalid ${what}: check ${named}.`,
    details.slice(0, MAX_FIELD_ERRORS),
    details.length > MAX_FIELD_ERRORS ? { details_truncated: true } : {},
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates a parsed JSON body, or throws a 400 naming every offending field. */
export function validateBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (!isPlainObject(body)) {
    throw invalidRequest("The request body must be a JSON object.", []);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw invalid("request body", fieldErrors(result.error));
}

/** Validates the query string; a parameter given twice is an error, not a silent pick. */
export function validateQuery<T extends z.ZodType>(schema: T, url: string): z.output<T> {
  const params = new URL(url).searchParams;
  const query = new Map<string, string>();
  const repeated: FieldError[] = [];
  for (const [name, value] of params) {
    if (query.has(name)) {
      repeated.push({
        field: echoedKey(name),
        message: `${echoedKey(name)} is given more than once.`,
      });
    }
    query.set(name, value);
  }
  // Own properties only: a parameter named toString or __proto__ is just an unknown parameter.
  const result = schema.safeParse(Object.fromEntries(query));
  const details = [...repeated, ...(result.success ? [] : fieldErrors(result.error))];
  if (details.length > 0) throw invalid("query", details);
  return result.data as z.output<T>;
}

/** Validates the request headers the schema names (by their canonical spelling); others pass. */
export function validateHeaders<T extends z.ZodObject>(
  schema: T,
  header: (name: string) => string | undefined,
): z.output<T> {
  const given = Object.keys(schema.shape).flatMap((name) => {
    const value = header(name);
    return value === undefined ? [] : [[name, value]];
  });
  const result = schema.safeParse(Object.fromEntries(given));
  if (result.success) return result.data;
  throw invalid("header", fieldErrors(result.error));
}
