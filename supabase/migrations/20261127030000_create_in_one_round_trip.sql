-- Create with an API token in one round trip: authenticate the token, count the write against its
-- rate limit, check its scopes and create, all in one transaction. The function calls this once it
-- has seen the token succeed recently; the check here is the one that counts, so a revoked or
-- narrowed token is refused at once.
--   outcome: invalid_token | rate_limited | forbidden | any outcome of create_webhook_subscription
create or replace function public.create_webhook_subscription_with_token(
  token_hash text,
  max_hits integer,
  window_seconds integer,
  target_url text,
  event_types text[],
  description text,
  secret text,
  max_subscriptions integer,
  idempotency_key text default null,
  request_hash text default null
)
returns table (
  outcome text,
  subscription jsonb,
  token_id uuid,
  workspace_id uuid,
  scopes text[],
  expires_at timestamptz,
  hits integer,
  reset_seconds integer
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  token record;
  created record;
begin
  -- The same lookup and count as a separate authentication; a dead token is not counted.
  select * into token from public.authenticate_api_token(token_hash, 'write', max_hits, window_seconds);
  if not found or token.hits is null then
    return query select 'invalid_token', null::jsonb, null::uuid, null::uuid, null::text[],
      null::timestamptz, null::integer, null::integer;
    return;
  end if;
  if token.hits > max_hits then
    return query select 'rate_limited', null::jsonb, token.id, token.workspace_id, token.scopes,
      token.expires_at, token.hits, token.reset_seconds;
    return;
  end if;
  if not token.scopes @> array['webhooks:read', 'webhooks:write'] then
    return query select 'forbidden', null::jsonb, token.id, token.workspace_id, token.scopes,
      token.expires_at, token.hits, token.reset_seconds;
    return;
  end if;

  select * into created from public.create_webhook_subscription(
    token.workspace_id, target_url, event_types, description, secret, max_subscriptions,
    idempotency_key, request_hash
  );
  return query select created.outcome, created.subscription, token.id, token.workspace_id,
    token.scopes, token.expires_at, token.hits, token.reset_seconds;
end
$$;

-- Supabase grants EXECUTE on new functions in public to anon and authenticated by default.
revoke execute on function public.create_webhook_subscription_with_token(
  text, integer, integer, text, text[], text, text, integer, text, text
) from public, anon, authenticated;
grant execute on function public.create_webhook_subscription_with_token(
  text, integer, integer, text, text[], text, text, integer, text, text
) to service_role;
