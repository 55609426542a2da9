/** Why a delivery attempt failed, as recorded in webhook_delivery_attempts.error_kind. */
export const ATTEMPT_ERROR_KINDS = [
  "http_status",
  "redirect",
  "timeout",
  "connection_refused",
  "connection_reset",
  "connection_failed",
  "tls_error",
  "dns_failure",
  "blocked_address",
  "invalid_response",
  // More than the 64 KiB a response may have; the status is kept.
  "response_too_large",
  // The dispatcher could not make the request (on our side); retried like any failure.
  "internal_error",
] as const;

export type AttemptErrorKind = typeof ATTEMPT_ERROR_KINDS[number];
