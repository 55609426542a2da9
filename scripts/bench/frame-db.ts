/**
 * The reference: a bare Deno.serve that makes the same database calls as the function's
 * first create (look the token up, then create) with plain fetch and no library. The gap between
 * it and the bare frame is what the database round trips cost, which no import diet can remove.
 */
import { hex, rpc } from "./rest.ts";

async function call(name: string, args: unknown) {
  const response = await rpc(name, args);
  if (!response.ok) throw new Error(`${name}: ${response.status}`);
  return await response.json();
}

Deno.serve(async (request) => {
  const body = await request.json();
  const token = request.headers.get("authorization")!.slice("Bearer ".length);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const auth = await call("authenticate_api_token", {
    token_hash: hex(new Uint8Array(digest)),
    request_class: "write",
    max_hits: 999_999_999,
    window_seconds: 60,
  });
  const created = await call("create_webhook_subscription", {
    owner_workspace_id: auth.workspace_id,
    target_url: body.target_url,
    event_types: body.event_types,
    description: body.description,
    secret: hex(crypto.getRandomValues(new Uint8Array(32))),
    max_subscriptions: 999_999_999,
  });
  return Response.json({ data: created.subscription }, { status: 201 });
});
