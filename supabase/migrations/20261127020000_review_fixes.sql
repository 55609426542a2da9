-- Fixes from the security review of the hardening migration, and a cheaper create:
--   * an idempotent replay answers with the subscription as it is now, not a stored snapshot, so no
--     secret is kept outside webhook_subscriptions and a rotated-away secret is never handed out;
--   * a dashboard session whose workspace does not exist gets a clear answer instead of a 500;
--   * expired idempotency keys and finished rate-limit windows are cleaned up globally, not only
--     when the same workspace or credential comes back;
--   * the workspace cap reads a counter kept by a trigger instead of counting rows on every create,
--     and the rate-limit counters are unlogged.

-- The key now points at its subscription; deleting the subscription deletes the key with it.
alter table public.idempotency_keys
  add column subscription_id uuid references public.webhook_subscriptions (id) on delete cascade;

update public.idempotency_keys as k
   set subscription_id = s.id
  from public.webhook_subscriptions as s
 where s.id = (k.subscription ->> 'id')::uuid;

delete from public.idempotency_keys where subscription_id is null;

alter table public.idempotency_keys
  alter column subscription_id set not null,
  drop column subscription;

create index idempotency_keys_subscription_id_idx on public.idempotency_keys (subscription_id);

create index rate_limit_counters_window_start_idx on public.rate_limit_counters (window_start);

-- Every request writes a counter; they need no crash safety (a crash only restarts the windows),
-- so they skip the write-ahead log.
alter table public.rate_limit_counters set unlogged;

-- The workspace cap, without counting rows on every create: a counter kept by a trigger, so it is
-- right whichever way rows come and go (API, dashboard, SQL, cascades).
alter table public.workspaces
  add column subscription_count integer not null default 0 check (subscription_count >= 0);

update public.workspaces as w
   set subscription_count = (
     select count(*) from public.webhook_subscriptions as s where s.workspace_id = w.id
   );

create or replace function private.count_workspace_subscriptions()
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

revoke execute on function private.count_workspace_subscriptions() from public;

-- A delete counts down BEFORE the row goes, so it takes the workspace's row lock before the cascade
-- to the subscription's idempotency key: the same order a create takes them in (workspace, then
-- key), which is what keeps the two from deadlocking.
create trigger webhook_subscriptions_count_down
  before delete on public.webhook_subscriptions
  for each row execute function private.count_workspace_subscriptions();

create trigger webhook_subscriptions_count_up
  after insert or update of workspace_id on public.webhook_subscriptions
  for each row execute function private.count_workspace_subscriptions();

-- Work on rows other transactions hold would only wait; cleanup takes what is free, a batch at a time.
create or replace function private.delete_expired_idempotency_keys()
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

revoke execute on function private.delete_expired_idempotency_keys() from public;
grant execute on function private.delete_expired_idempotency_keys() to service_role;

-- Also cheaper than before: the common case (the window's row exists) is one UPDATE, without the
-- speculative insertion INSERT ... ON CONFLICT makes every time.
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
  update public.rate_limit_counters as c
     set hits = c.hits + 1
   where c.bucket = hit_rate_limit.bucket and c.window_start = current_window
  returning c.hits into hits;
  if not found then
    insert into public.rate_limit_counters as c (bucket, window_start, hits)
    values (hit_rate_limit.bucket, current_window, 1)
    on conflict on constraint rate_limit_counters_pkey
      do update set hits = c.hits + 1
    returning c.hits into hits;
  end if;
  reset_seconds := ceil(extract(epoch from current_window + make_interval(secs => window_seconds)
    - clock_timestamp()))::integer;
  if hits = 1 then
    -- First request of a new window: the bucket's older windows are done with, and so are any
    -- bucket's windows that ended long ago (credentials that stopped calling).
    delete from public.rate_limit_counters as c
     where c.bucket = hit_rate_limit.bucket and c.window_start < current_window;
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

-- Sessions: counts the request, and says whether the session's workspace exists.
create or replace function public.authenticate_session(
  session_workspace_id uuid,
  bucket text,
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
    from private.hit_rate_limit(bucket, max_hits, window_seconds) as r
$$;

-- Same signature as before; outcome may now also be workspace_not_found.
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

-- Supabase grants EXECUTE on new functions in public to anon and authenticated by default.
revoke execute on function public.authenticate_session(uuid, text, integer, integer)
  from public, anon, authenticated;
grant execute on function public.authenticate_session(uuid, text, integer, integer) to service_role;
