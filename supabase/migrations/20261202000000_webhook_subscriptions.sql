-- The webhook-subscription API's schema: workspaces, their API access tokens, their webhook
-- subscriptions, idempotency keys and rate-limit counters, and the functions the API calls.
-- Applies unchanged to a Supabase project: it relies only on the roles Supabase creates (anon,
-- authenticated, service_role) and on core PostgreSQL. Only the service role (the edge functions)
-- may touch any of it.

create schema if not exists private;
revoke all on schema private from public;
-- The service role's functions below call into private; anon and authenticated cannot.
grant usage on schema private to service_role;

-- The API gives up on a database call after 10 s and answers 503. Postgres must give up first, and
-- roll back, or a write it finishes after that 503 would surprise a client that retries. (Supabase
-- applies role settings to requests through PostgREST; unset, the service role would inherit the
-- authenticator's 8 s there, but not on every stack.)
alter role service_role set statement_timeout = '8s';

-- Helpers --------------------------------------------------------------------------------------

-- Constraint helper; lives outside the exposed schemas so PostgREST never offers it as RPC.
create function private.has_no_duplicates(items text[])
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select cardinality(items) = (select count(distinct item) from unnest(items) as item)
$$;

create function private.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- Tables ---------------------------------------------------------------------------------------

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  -- Kept by a trigger on webhook_subscriptions, so the cap is checked without counting rows.
  subscription_count integer not null default 0 check (subscription_count >= 0),
  created_at timestamptz not null default now()
);

comment on table public.workspaces is 'A tenant: every token and subscription belongs to exactly one.';

create table public.api_tokens (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text check (char_length(name) <= 200),
  -- The token's first 4 random characters (24 of its 256 bits), so a person can recognise it.
  token_prefix text not null check (token_prefix ~ '^wtos_[A-Za-z0-9_-]{4}$'),
  -- SHA-256 of the whole token, lowercase hex. The token itself is never stored.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null check (
    coalesce(array_ndims(scopes), 1) = 1
    and array_position(scopes, null) is null
    and scopes <@ array['webhooks:read', 'webhooks:write']::text[]
  ),
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);

comment on table public.api_tokens is 'Opaque bearer tokens for the public API; looked up by token_hash.';

create index api_tokens_workspace_id_idx on public.api_tokens (workspace_id);

create table public.webhook_subscriptions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- An absolute http(s) URL with a host, no user:password@, no whitespace or control characters.
  target_url text not null check (
    char_length(target_url) <= 2048
    and target_url ~ '^https?://[^/?#@[:space:][:cntrl:]]+([/?#][^[:space:][:cntrl:]]*)?$'
  ),
  event_types text[] not null check (
    array_ndims(event_types) = 1
    and cardinality(event_types) >= 1
    and array_position(event_types, null) is null
    and event_types <@ array[
      'contact.created',
      'contact.updated',
      'contact.tag_added',
      'contact.enriched',
      'contact.note_added',
      'deal.created',
      'deal.updated'
    ]::text[]
    and private.has_no_duplicates(event_types)
  ),
  description text check (char_length(description) <= 500),
  -- Signs every delivery: 32 random bytes as lowercase hex. Returned only on create and rotation.
  secret text not null check (secret ~ '^[0-9a-f]{64}$'),
  -- After a rotation, deliveries are signed with both secrets until previous_secret_expires_at.
  previous_secret text check (previous_secret ~ '^[0-9a-f]{64}$'),
  previous_secret_expires_at timestamptz,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint webhook_subscriptions_previous_secret_pair check (
    (previous_secret is null) = (previous_secret_expires_at is null)
  )
);

comment on table public.webhook_subscriptions is 'URLs that receive signed deliveries of CRM events.';

-- Listing a workspace's subscriptions newest first, with a stable tie-breaker for cursors.
create index webhook_subscriptions_workspace_created_idx
  on public.webhook_subscriptions (workspace_id, created_at desc, id desc);

-- Idempotency-Key on create: the same key and request within 24 hours replays the subscription as
-- it is now. The key keeps no secret, and goes with its subscription.
create table public.idempotency_keys (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  key text not null check (char_length(key) between 1 and 255),
  -- SHA-256 of the validated request and the credential, so another request under the key shows.
  request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
  subscription_id uuid not null references public.webhook_subscriptions (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (workspace_id, key)
);

create index idempotency_keys_expires_at_idx on public.idempotency_keys (expires_at);
create index idempotency_keys_subscription_id_idx on public.idempotency_keys (subscription_id);

-- Fixed-window request counters, one row per credential, request class and window. Every request
-- writes one; they need no crash safety (a crash only restarts the windows), so no WAL.
create unlogged table public.rate_limit_counters (
  bucket text not null check (char_length(bucket) <= 200),
  window_start timestamptz not null,
  hits integer not null check (hits > 0),
  primary key (bucket, window_start)
);

create index rate_limit_counters_window_start_idx on public.rate_limit_counters (window_start);

-- Triggers -------------------------------------------------------------------------------------

create trigger webhook_subscriptions_touch_updated_at
  before update on public.webhook_subscriptions
  for each row execute function private.touch_updated_at();

-- The workspace cap's counter, right whichever way rows come and go (API, dashboard, SQL,
-- cascades).
create function private.count_workspace_subscriptions()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op in ('DELETE', 'UPDATE') then
    update public.workspaces as w
       set subscription_count = w.subscription_count - 1
     where w.id = old.workspace_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    update public.workspaces as w
       set subscription_count = w.subscription_count + 1
     where w.id = new.workspace_id;
  end if;
  return case tg_op when 'DELETE' then old else new end;
end
$$;

-- A delete counts down BEFORE the row goes, so it takes the workspace's row lock before the cascade
-- to the subscription's idempotency key: the order a create takes them in (workspace, then key),
-- which keeps the two from deadlocking.
create trigger webhook_subscriptions_count_down
  before delete on public.webhook_subscriptions
  for each row execute function private.count_workspace_subscriptions();

create trigger webhook_subscriptions_count_up
  after insert or update of workspace_id on public.webhook_subscriptions
  for each row execute function private.count_workspace_subscriptions();

-- Access: the service role only -----------------------------------------------------------------

-- Row Level Security with no policies denies anon and authenticated every row, and the revokes
-- deny them the tables too, so a leaked anon key can read neither a secret nor a token hash.
alter table public.workspaces enable row level security;
alter table public.api_tokens enable row level security;
alter table public.webhook_subscriptions enable row level security;
alter table public.idempotency_keys enable row level security;
alter table public.rate_limit_counters enable row level security;

revoke all on table public.workspaces, public.api_tokens, public.webhook_subscriptions,
  public.idempotency_keys, public.rate_limit_counters
  from anon, authenticated;
grant select, insert, update, delete on table public.workspaces, public.api_tokens,
  public.webhook_subscriptions, public.idempotency_keys, public.rate_limit_counters
  to service_role;

-- Rate limits ----------------------------------------------------------------------------------

-- Counts one request of `request_class` against `credential` ('token:<id>' or 'user:<id>') in the
-- current fixed window, and reports the window's count and how long until it ends.
create function private.hit_rate_limit(
  credential text,
  request_class text,
  max_hits integer,
  window_seconds integer,
  out hits integer,
  out reset_seconds integer
)
language plpgsql
set search_path = ''
as $$
declare
  counter_bucket text := credential || ':' || request_class;
  current_window timestamptz := to_timestamp(
    floor(extract(epoch from clock_timestamp()) / window_seconds) * window_seconds
  );
begin
  if request_class not in ('read', 'write') then
    raise exception 'unknown request class %', request_class;
  end if;
  -- The common case, the window's row exists, is one UPDATE without a speculative insertion.
  update public.rate_limit_counters as c
     set hits = c.hits + 1
   where c.bucket = counter_bucket and c.window_start = current_window
  returning c.hits into hits;
  if not found then
    insert into public.rate_limit_counters as c (bucket, window_start, hits)
    values (counter_bucket, current_window, 1)
    on conflict on constraint rate_limit_counters_pkey
      do update set hits = c.hits + 1
    returning c.hits into hits;
  end if;
  reset_seconds := ceil(extract(epoch from current_window + make_interval(secs => window_seconds)
    - clock_timestamp()))::integer;
  if hits = 1 then
    -- First request of a new window: the bucket's older windows are done with, and so are any
    -- bucket's windows that ended long ago (credentials that stopped calling). Rows other
    -- transactions hold are left for later.
    delete from public.rate_limit_counters as c
     where c.bucket = counter_bucket and c.window_start < current_window;
    delete from public.rate_limit_counters
     where ctid = any (array(
       select ctid from public.rate_limit_counters as c
        where c.window_start < current_window - interval '1 day'
          and c.window_start < current_window - make_interval(secs => window_seconds)
        limit 100
        for update skip locked
     ));
  end if;
end
$$;

-- Authentication -------------------------------------------------------------------------------

-- An API token by its hash and, when it is live, this request counted against its rate limit: one
-- round trip. A dead (revoked or expired) token comes back uncounted, with null hits.
create function public.authenticate_api_token(
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
  select * into token from public.api_tokens as t where t.token_hash = authenticate_api_token.token_hash;
  if not found then
    return;
  end if;
  if token.revoked_at is null and (token.expires_at is null or token.expires_at > now()) then
    select r.hits, r.reset_seconds into counted_hits, counted_reset
      from private.hit_rate_limit('token:' || token.id, request_class, max_hits, window_seconds) as r;
  end if;
  return query select token.id, token.workspace_id, token.scopes, token.expires_at,
    token.revoked_at, counted_hits, counted_reset;
end
$$;

-- A dashboard session, which the function verifies itself: counts the request against the user's
-- rate limit, and says whether the session's workspace exists.
create function public.authenticate_session(
  session_workspace_id uuid,
  user_id text,
  request_class text,
  max_hits integer,
  window_seconds integer
)
returns table (workspace_exists boolean, hits integer, reset_seconds integer)
language sql
security invoker
set search_path = ''
as $$
  select exists (select from public.workspaces as w where w.id = session_workspace_id),
         r.hits, r.reset_seconds
    from private.hit_rate_limit('user:' || user_id, request_class, max_hits, window_seconds) as r
$$;

-- Subscriptions --------------------------------------------------------------------------------

-- Expired idempotency keys of any workspace, a batch at a time; rows other transactions hold
-- would only make this wait, so it takes what is free.
create function private.delete_expired_idempotency_keys()
returns void
language sql
set search_path = ''
as $$
  delete from public.idempotency_keys
   where ctid = any (array(
     select ctid from public.idempotency_keys
      where expires_at <= now()
      limit 100
      for update skip locked
   ))
$$;

-- Create, under the workspace cap and honouring an idempotency key, in one transaction.
--   outcome: created | replayed | key_reused | in_flight | limit_reached | workspace_not_found
-- subscription is the row as JSON (secret included) for created and replayed.
create function public.create_webhook_subscription(
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
  current_count integer;
begin
  -- A twin request still in its transaction holds this lock: answer at once instead of waiting.
  -- Taken first, and never waited for, so it cannot deadlock with the row lock below.
  if idempotency_key is not null
     and not pg_try_advisory_xact_lock(hashtext(owner_workspace_id::text), hashtext(idempotency_key)) then
    return query select 'in_flight', null::jsonb;
    return;
  end if;

  -- Locks the workspace's row: creates in one workspace take turns, so the cap holds under
  -- concurrency, and the workspace cannot be deleted under this insert.
  select w.subscription_count into current_count
    from public.workspaces as w where w.id = owner_workspace_id
     for no key update;
  if not found then
    return query select 'workspace_not_found', null::jsonb;
    return;
  end if;

  if idempotency_key is not null then
    perform private.delete_expired_idempotency_keys();
    select * into existing from public.idempotency_keys as k
     where k.workspace_id = owner_workspace_id and k.key = idempotency_key
       and k.expires_at > now();
    if found then
      if existing.request_hash <> create_webhook_subscription.request_hash then
        return query select 'key_reused', null::jsonb;
      else
        -- The subscription as it is now: a rotated-away secret is never handed out again.
        return query select 'replayed', to_jsonb(s)
          from public.webhook_subscriptions as s where s.id = existing.subscription_id;
      end if;
      return;
    end if;
    -- Expired but still here (another transaction was cleaning it): the key is free again.
    delete from public.idempotency_keys as k
     where k.workspace_id = owner_workspace_id and k.key = idempotency_key;
  end if;

  if current_count >= max_subscriptions then
    return query select 'limit_reached', null::jsonb;
    return;
  end if;

  insert into public.webhook_subscriptions as s
    (workspace_id, target_url, event_types, description, secret)
  values (owner_workspace_id, target_url, event_types, description, secret)
  returning * into created;

  if idempotency_key is not null then
    insert into public.idempotency_keys (workspace_id, key, request_hash, subscription_id, expires_at)
    values (owner_workspace_id, idempotency_key, create_webhook_subscription.request_hash,
            created.id, now() + interval '24 hours');
  end if;
  return query select 'created', to_jsonb(created);
end
$$;

-- Rotation moves the current secret to previous_secret in the same statement that replaces it;
-- PostgREST's PATCH can only set given values, so this is a function.
create function public.rotate_webhook_subscription_secret(
  subscription_id uuid,
  owner_workspace_id uuid,
  new_secret text,
  overlap interval default interval '24 hours'
)
returns table (
  id uuid,
  target_url text,
  event_types text[],
  enabled boolean,
  description text,
  created_at timestamptz,
  previous_secret_expires_at timestamptz
)
language sql
security invoker
set search_path = ''
as $$
  update public.webhook_subscriptions as s
     set previous_secret = s.secret,
         previous_secret_expires_at = now() + overlap,
         secret = new_secret
   where s.id = subscription_id
     and s.workspace_id = owner_workspace_id
  returning s.id, s.target_url, s.event_types, s.enabled, s.description, s.created_at,
            s.previous_secret_expires_at
$$;

-- Function privileges ----------------------------------------------------------------------------

-- Projects may revoke the default EXECUTE from PUBLIC, and Supabase grants EXECUTE on new
-- functions in public to anon and authenticated: say who may run each, explicitly.
revoke execute on all functions in schema private from public;
-- Check constraints run with the writing role's rights (trigger functions need no grant).
grant execute on function private.has_no_duplicates(text[]) to service_role;
grant execute on function private.hit_rate_limit(text, text, integer, integer) to service_role;
grant execute on function private.delete_expired_idempotency_keys() to service_role;

revoke execute on function
  public.authenticate_api_token(text, text, integer, integer),
  public.authenticate_session(uuid, text, text, integer, integer),
  public.create_webhook_subscription(uuid, text, text[], text, text, integer, text, text),
  public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)
  from public, anon, authenticated;
grant execute on function
  public.authenticate_api_token(text, text, integer, integer),
  public.authenticate_session(uuid, text, text, integer, integer),
  public.create_webhook_subscription(uuid, text, text[], text, text, integer, text, text),
  public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)
  to service_role;

-- PostgREST reads role settings (the statement_timeout above) when it loads its configuration.
notify pgrst, 'reload config';
