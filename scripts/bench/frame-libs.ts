/**
 * A cold-start reference: frame-db after loading what the function's fixed shape requires
 * (supabase-js with its client built, zod and hono). The gap between it and frame-db is what those
 * libraries cost to load; the gap between the function and it is the function's own start-up.
 */
import "hono";
import "zod";
import { createClient } from "@supabase/supabase-js";
import "./frame-db.ts";

const serviceRoleKey = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!;
createClient(Deno.env.get("SUPABASE_URL")!, serviceRoleKey, {
  accessToken: () => Promise.resolve(serviceRoleKey),
});
