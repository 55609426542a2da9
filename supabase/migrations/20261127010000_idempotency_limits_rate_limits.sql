-- Hardening: idempotent create, a per-workspace cap, and per-credential rate limits, all enforced
-- by the database so that they hold across isolates.

-- Idempotency-Key on create: the same key and body within 24 hours replays the original response.
create table public.idempotency_keys (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  key text not null check (char_length(key) between 1 and 255),
  -- SHA-256 of the validated request, so a different body under the same key is detected.
  request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
  -- The subscription as created, secret included: the replayed response must be identical.
  subscription jsonb not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (workspace_id, key)
);

create index idempotency_keys_expires_at_idx on public.idempotency_keys (expires_at);

-- Fixed-window request counters, one row per credential, request class and window.
create table public.rate_limit_counters (
  bucket text not null check (char_length(bucket) <= 200),
  window_start timestamptz not null,
  hits integer not null check (hits > 0),
  primary key (bucket, window_start)
);

alter table public.idempotency_keys enable row level security;
alter table public.rate_limit_counters enable row level security;
revoke all on table public.idempotency_keys, public.rate_limit_counters from anon, authenticated;
grant select, insert, update, delete on table public.idempotency_keys, public.rate_limit_counters
  to service_role;

-- The service role's RPCs below call into private; anon and authenticated still cannot.
grant usage on schema private to service_role;

-- Counts one request against `bucket` and reports the window's state.
create or replace function private.hit_rate_limit(
  bucket text,
  max_hits integer,
  window_seconds integer,
  out hits integer,
  out reset_seconds integer
)
language plpgsql
set search_path = ''
as $$
declare
  current_window timestamptz := to_timestamp(
    floor(extract(epoch from clock_timestamp()) / window_seconds) * window_seconds
  );
begin
  insert into public.rate_limit_counters as c (bucket, window_start, hits)
  values (hit_rate_limit.bucket, current_window, 1)
  on conflict on constraint rate_limit_counters_pkey
    do update set hits = c.hits + 1
  returning c.hits into hits;
  reset_seconds := ceil(extract(epoch from current_window + make_interval(secs => window_seconds)
    - clock_timestamp()))::integer;
  if hits = 1 then
    -- First request of a new window: the bucket's older windows are done with.
    delete from public.rate_limit_counters as c
     where c.bucket = hit_rate_limit.bucket and c.window_start < current_window;
  end if;
end
$$;

revoke execute on function private.hit_rate_limit(text, integer, integer) from public;
grant execute on function private.hit_rate_limit(text, integer, integer) to service_role;

-- Authentication and rate limiting in one round trip: looks up an API token by its hash and,
-- when it is live, counts the request against the token's bucket for this request class.
create or replace function public.authenticate_api_token(
  token_hash text,
  request_class text,
  max_hits integer,
  window_seconds integer
)
returns table (
  id uuid,
  workspace_id uuid,
  scopes text[],
  expires_at timestamptz,
  revoked_at timestamptz,
  hits integer,
  reset_seconds integer
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  token public.api_tokens;
  counted_hits integer;
  counted_reset integer;
begin
  if request_class not in ('read', 'write') then
    raise exception 'unknown request class %', request_class;
  end if;
  select * into token from public.api_tokens as t where t.token_hash = authenticate_api_token.token_hash;
  if not found then
    return;
  end if;
  if token.revoked_at is null and (token.expires_at is null or token.expires_at > now()) then
    select r.hits, r.reset_seconds into counted_hits, counted_reset
      from private.hit_rate_limit('token:' || token.id || ':' || request_class, max_hits, window_seconds) as r;
  end if;
  return query select token.id, token.workspace_id, token.scopes, token.expires_at,
    token.revoked_at, counted_hits, counted_reset;
end
$$;

-- The same counting for dashboard sessions, whose credential the function verifies itself.
create or replace function public.hit_rate_limit(
  bucket text,
  max_hits integer,
  window_seconds integer
)
returns table (hits integer, reset_seconds integer)
language sql
security invoker
set search_path = ''
as $$
  select * from private.hit_rate_limit(bucket, max_hits, window_seconds)
$$;

-- Create, with the workspace cap and the idempotency key, in one transaction.
--   outcome: created | replayed | key_reused | in_flight | limit_reached
create or replace function public.create_webhook_subscription(
  owner_workspace_id uuid,
  target_url text,
  event_types text[],
  description text,
  secret text,
  max_subscriptions integer,
  idempotency_key text default null,
  request_hash text default null
)
returns table (outcome text, subscription jsonb)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  existing public.idempotency_keys;
  created public.webhook_subscriptions;
begin
  if idempotency_key is not null then
    -- A twin request still in its transaction holds this lock: answer at once instead of waiting.
    if not pg_try_advisory_xact_lock(hashtext(owner_workspace_id::text), hashtext(idempotency_key)) then
      return query select 'in_flight', null::jsonb;
      return;
    end if;
    delete from public.idempotency_keys as k
     where k.workspace_id = owner_workspace_id and k.expires_at <= now();
    select * into existing from public.idempotency_keys as k
     where k.workspace_id = owner_workspace_id and k.key = idempotency_key;
    if found then
      if existing.request_hash <> create_webhook_subscription.request_hash then
        return query select 'key_reused', null::jsonb;
      else
        return query select 'replayed', existing.subscription;
      end if;
      return;
    end if;
  end if;

  -- Creates in one workspace take turns, so the cap holds under concurrency.
  perform pg_advisory_xact_lock(hashtext('webhook_subscriptions'), hashtext(owner_workspace_id::text));
  if (select count(*) from public.webhook_subscriptions as s
       where s.workspace_id = owner_workspace_id) >= max_subscriptions then
    return query select 'limit_reached', null::jsonb;
    return;
  end if;

  insert into public.webhook_subscriptions as s
    (workspace_id, target_url, event_types, description, secret)
  values (owner_workspace_id, target_url, event_types, description, secret)
  returning * into created;

  if idempotency_key is not null then
    insert into public.idempotency_keys (workspace_id, key, request_hash, subscription, expires_at)
    values (owner_workspace_id, idempotency_key, create_webhook_subscription.request_hash,
            to_jsonb(created), now() + interval '24 hours');
  end if;
  return query select 'created', to_jsonb(created);
end
$$;

-- Supabase grants EXECUTE on new functions in public to anon and authenticated by default.
revoke execute on function public.authenticate_api_token(text, text, integer, integer)
  from public, anon, authenticated;
revoke execute on function public.hit_rate_limit(text, integer, integer)
  from public, anon, authenticated;
revoke execute on function public.create_webhook_subscription(uuid, text, text[], text, text, integer, text, text)
  from public, anon, authenticated;
grant execute on function public.authenticate_api_token(text, text, integer, integer) to service_role;
grant execute on function public.hit_rate_limit(text, integer, integer) to service_role;
grant execute on function public.create_webhook_subscription(uuid, text, text[], text, text, integer, text, text)
  to service_role;
