import { StoreUnavailableError } from "./errors.ts";

interface PostgrestFailure {
  message: string;
  code: string;
}

// PGRST000-PGRST003: PostgREST cannot reach or get a connection to Postgres. Status 0 is a fetch
// that never got an answer (refused, reset, timed out on our side). 57014 is Postgres cancelling
// the statement at the API role's statement_timeout: it rolled back, and the caller may retry.
const UNAVAILABLE_STATUSES = new Set([0, 502, 503, 504]);
const UNAVAILABLE_CODES = /^(?:PGRST00[0-3]|57014)$/;

/** The error for a failed PostgREST call: unavailable (a 503) or unexpected (a 500). */
export function storeFailure(operation: string, error: PostgrestFailure, status: number): Error {
  if (UNAVAILABLE_STATUSES.has(status) || UNAVAILABLE_CODES.test(error.code ?? "")) {
    return new StoreUnavailableError(`${operation}: status ${status} ${error.code ?? ""}`.trim());
  }
  // Only the code and message: PostgREST's `details` can quote row values, secrets included.
  return new Error(`${operation} failed: status ${status} code ${error.code} ${error.message}`);
}
