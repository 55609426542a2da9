/** What tests/zapier/invoke.ts sends to tests/zapier/runtime.ts, and what comes back. */

/** Starts the one line of stdout that carries the outcome. */
export const RESULT_PREFIX = "zapier-runtime-result ";

export type Invocation =
  /** What `zapier validate` checks: the app definition against Zapier's schema. */
  | { command: "validate" }
  /** A method of the app by its path, e.g. "triggers.new_contact.operation.performSubscribe". */
  | { method: string; bundle: Record<string, unknown> }
  /** An ad-hoc z.request with the app's middleware, as any perform function could make it. */
  | {
    request: { url: string; method?: "GET" | "POST" | "PATCH" | "DELETE" };
    bundle: Record<string, unknown>;
  };

export type Outcome =
  | { ok: true; result: unknown }
  | { ok: false; error: { name: string; message: string } };
