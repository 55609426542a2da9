/**
 * A throughput reference: a bare Deno.serve that creates the way the function does on its hot path,
 * one `create_webhook_subscription_with_token` call through the gateway, with plain fetch and no
 * library, no validation and no target check. The function can at best match it; the gap between
 * it and the floor is the architecture's (a second hop, authentication and counting in Postgres).
 */
import { hashApiToken } from "../../supabase/functions/api-webhook-subscriptions/api-token.ts";
import { hex, rpc } from "./rest.ts";

Deno.serve(async (request) => {
  const body = await request.json();
  const token = request.headers.get("authorization")!.slice("Bearer ".length);
  const response = await rpc("create_webhook_subscription_with_token", {
    token_hash: hashApiToken(token),
    max_hits: 999_999_999,
    window_seconds: 60,
    target_url: body.target_url,
    event_types: body.event_types,
    description: body.description,
    secret: hex(crypto.getRandomValues(new Uint8Array(32))),
    max_subscriptions: 999_999_999,
  });
  const created = await response.json();
  return Response.json({ data: created.subscription }, { status: response.ok ? 201 : 500 });
});
