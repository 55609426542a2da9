/** What the small project commands (`deno task token`, `deno task emit`) share. */
import { readState } from "./state.ts";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Prints the problem and the usage, and exits 2 (a usage error). */
export function usageError(usage: string): (message: string) => never {
  return (message) => {
    console.error(`error: ${message}\n${usage}`);
    Deno.exit(2);
  };
}

/**
 * The project to talk to: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY when set (a real project), or
 * the running `deno task start`. Exits 1 when there is neither.
 */
export async function targetProject(): Promise<{ apiUrl: string; serviceRoleKey: string }> {
  const state = await readState();
  const apiUrl = Deno.env.get("SUPABASE_URL") || state?.apiUrl;
  const serviceRoleKey = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") || state?.serviceRoleKey;
  if (!apiUrl || !serviceRoleKey) {
    console.error(
      "error: no running stack found. Start it with 'deno task start' (or set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY).",
    );
    Deno.exit(1);
  }
  return { apiUrl, serviceRoleKey };
}
