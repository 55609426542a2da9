/**
 * A second reference: the reference's two database calls (authenticate, then create) made through
 * supabase-js, configured as the function configures it, after loading hono and zod as well: the
 * shape's libraries, loaded and used for the database calls, and nothing else. The gap between it
 * and the plain-fetch reference is what the shape's client costs; the gap between the function
 * and it is the function's own handling (routing, validation, checks, logging) and start-up.
 */
import "hono";
import "zod";
import { createServiceClient } from "../../supabase/functions/_shared/supabase-client.ts";
import { hex } from "./rest.ts";

const client = createServiceClient({
  supabaseUrl: Deno.env.get("SUPABASE_URL")!,
  serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!,
});

Deno.serve(async (request) => {
  const body = await request.json();
  const token = request.headers.get("authorization")!.slice("Bearer ".length);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const auth = await client.rpc("authenticate_api_token", {
    token_hash: hex(new Uint8Array(digest)),
    request_class: "write",
    max_hits: 999_999_999,
    window_seconds: 60,
  }).single();
  if (auth.error) throw new Error(auth.error.message);
  const created = await client.rpc("create_webhook_subscription", {
    owner_workspace_id: auth.data.workspace_id,
    target_url: body.target_url,
    event_types: body.event_types,
    description: body.description,
    secret: hex(crypto.getRandomValues(new Uint8Array(32))),
    max_subscriptions: 999_999_999,
  }).single();
  if (created.error) throw new Error(created.error.message);
  return Response.json({ data: created.data.subscription }, { status: 201 });
});
