export interface FunctionConfig {
  supabaseUrl: string;
  serviceRoleKey: string;
}

const REQUIRED = ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"] as const;

/** Reads what the Supabase platform injects; a missing variable stops the function at start-up. */
export function readConfig(env: (name: string) => string | undefined): FunctionConfig {
  const missing = REQUIRED.filter((name) => !env(name));
  if (missing.length > 0) {
    throw new Error(
      `api-webhook-subscriptions cannot start: missing environment variable ${
        missing.join(", ")
      }. The Supabase platform sets it for deployed functions; locally, 'deno task start' does.`,
    );
  }
  const supabaseUrl = env("SUPABASE_URL")!;
  if (!URL.canParse(supabaseUrl)) {
    throw new Error("api-webhook-subscriptions cannot start: SUPABASE_URL is not a valid URL.");
  }
  return { supabaseUrl, serviceRoleKey: env("SUPABASE_SERVICE_ROLE_KEY")! };
}
