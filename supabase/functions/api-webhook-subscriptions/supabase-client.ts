import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { FunctionConfig } from "./config.ts";

export const DATABASE_TIMEOUT_MS = 10_000;

/** The service-role client; the function authorises every request itself before using it. */
export function createServiceClient(config: FunctionConfig): SupabaseClient {
  return createClient(config.supabaseUrl, config.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: {
      // A hung database must become a 503, not a request that never ends.
      fetch: (input, init) =>
        fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(DATABASE_TIMEOUT_MS) }),
    },
  });
}
