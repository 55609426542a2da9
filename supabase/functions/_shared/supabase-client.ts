import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { FunctionConfig } from "./config.ts";
import type { Database } from "./database.ts";

/**
 * How long a database call may take before the function answers 503. The migrations give the
 * service role a shorter statement_timeout (8 s), so Postgres gives up, and rolls back, first: a
 * 503 for a call the database held too long never hides a write that commits later.
 */
export const DATABASE_TIMEOUT_MS = 10_000;

export interface ServiceClientOptions {
  /** The transport; tests hand in a stub to see how the real client reports failures. */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** The service-role client; the function authorises every request itself before using it. */
export function createServiceClient(
  config: Pick<FunctionConfig, "supabaseUrl" | "serviceRoleKey">,
  options: ServiceClientOptions = {},
): SupabaseClient<Database> {
  const serviceRoleKey = Promise.resolve(config.serviceRoleKey);
  return createClient<Database>(config.supabaseUrl, config.serviceRoleKey, {
    // The client never signs anyone in: with a fixed access token supabase-js builds no auth client,
    // so no request waits on its session lock to learn there is no session.
    accessToken: () => serviceRoleKey,
    // Fail fast: a hung or unreachable database becomes a 503 with Retry-After at once, and the
    // caller retries, instead of the request waiting out supabase-js's 1 + 2 + 4 s backoff.
    db: { retry: false, timeout: options.timeoutMs ?? DATABASE_TIMEOUT_MS },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
  });
}
