import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { FunctionConfig } from "./config.ts";

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
): SupabaseClient {
  return createClient(config.supabaseUrl, config.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Fail fast: a hung or unreachable database becomes a 503 with Retry-After at once, and the
    // caller retries, instead of the request waiting out supabase-js's 1 + 2 + 4 s backoff.
    db: { retry: false, timeout: options.timeoutMs ?? DATABASE_TIMEOUT_MS },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
  });
}
