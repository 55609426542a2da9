export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "idempotency_key_in_use",
  "idempotency_key_reused",
  "subscription_limit_reached",
  "subscription_disabled",
  "delivery_in_flight",
  "rate_limited",
  "internal_error",
  "service_unavailable",
] as const;

export type ErrorCode = typeof ERROR_CODES[number];

export interface FieldError {
  field: string;
  message: string;
  /** A machine-readable reason, where one helps (the target URL policy's refusals). */
  code?: string;
}

/** A failure the client caused or must know about; rendered as `{"error", "message", ...}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function invalidRequest(
  message: string,
  details: FieldError[],
  extra: Record<string, unknown> = {},
): ApiError {
  return new ApiError(400, "invalid_request", message, { details, ...extra });
}

/** The database (or PostgREST in front of it) cannot be reached; the request changed nothing. */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`database unavailable: ${reason}`);
    this.name = "StoreUnavailableError";
  }
}

export function errorBody(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  return { error: code, message, ...extra };
}

/** Malformed, unknown and another workspace's ids all get this same answer. */
export function subscriptionNotFound(): ApiError {
  return new ApiError(404, "not_found", "There is no webhook subscription with this id.");
}

/** Malformed and unknown delivery ids, and another subscription's, all get this same answer. */
export function deliveryNotFound(): ApiError {
  return new ApiError(404, "not_found", "This subscription has no delivery with this id.");
}

/** A send the API was asked for, refused because the subscription is disabled. */
export function subscriptionDisabled(what: string): ApiError {
  return new ApiError(
    409,
    "subscription_disabled",
    `This subscription is disabled, so ${what}. Enable it first (PATCH with {"enabled": true}); a test event (POST /{id}/test) goes even to a disabled subscription.`,
  );
}
