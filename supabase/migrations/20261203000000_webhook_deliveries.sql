-- Deliveries (docs/deliveries.md): events enter in the CRM's own transaction, fan out there to one
-- delivery per subscription (a transactional outbox), and the webhook-dispatcher function claims
-- due deliveries under a lease, sends them, and records every attempt. Only the service role may
-- touch any of it.

-- Subscriptions: why one is disabled, and since when it has been failing -------------------------

alter table public.webhook_subscriptions
  -- manual (PATCH enabled: false), target_gone (the receiver answered 410) or failing (every
  -- attempt failed for 5 days).
  add column disabled_reason text check (disabled_reason in ('manual', 'target_gone', 'failing')),
  add column disabled_at timestamptz,
  -- The first failed attempt since the last successful one; null while the receiver answers.
  add column failing_since timestamptz;

update public.webhook_subscriptions
   set disabled_reason = 'manual', disabled_at = updated_at
 where not enabled;

alter table public.webhook_subscriptions
  add constraint webhook_subscriptions_disabled_state check (
    (enabled and disabled_reason is null and disabled_at is null)
    or (not enabled and disabled_reason is not null and disabled_at is not null)
  );

-- Keeps the reason in step with `enabled`, whoever writes it (API, dashboard, SQL): disabling
-- without a reason is 'manual'; enabling again clears the reason and the failure streak.
create function private.track_subscription_state()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.enabled then
    new.disabled_reason := null;
    new.disabled_at := null;
    if tg_op = 'UPDATE' and not old.enabled then
      new.failing_since := null;
    end if;
  elsif tg_op = 'INSERT' or old.enabled then
    new.disabled_reason := coalesce(new.disabled_reason, 'manual');
    new.disabled_at := coalesce(new.disabled_at, now());
  end if;
  return new;
end
$$;

create trigger webhook_subscriptions_track_state
  before insert or update of enabled on public.webhook_subscriptions
  for each row execute function private.track_subscription_state();

-- Tables ---------------------------------------------------------------------------------------

create table public.webhook_events (
  -- Also the webhook-id every receiver deduplicates on.
  id uuid primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  type text not null check (type in (
    'contact.created',
    'contact.updated',
    'contact.tag_added',
    'contact.enriched',
    'contact.note_added',
    'deal.created',
    'deal.updated',
    'webhook.test'
  )),
  data jsonb not null check (jsonb_typeof(data) = 'object' and octet_length(data::text) <= 65536),
  created_at timestamptz not null default now()
);

comment on table public.webhook_events is 'CRM events, as emitted; kept 30 days.';

create index webhook_events_created_at_idx on public.webhook_events (created_at);
create index webhook_events_workspace_id_idx on public.webhook_events (workspace_id);

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references public.webhook_events (id) on delete cascade,
  -- Deleting a subscription deletes its deliveries: nothing more is sent to it.
  subscription_id uuid not null references public.webhook_subscriptions (id) on delete cascade,
  status text not null default 'pending'
    check (status in ('pending', 'succeeded', 'failed', 'cancelled')),
  -- Attempts started, counted when claimed: a delivery that kills its dispatcher still runs out.
  attempt_count integer not null default 0 check (attempt_count >= 0),
  -- While pending: when it is due. A claim moves it to the end of the lease, so a dispatcher
  -- that dies simply lets it fall due again.
  next_attempt_at timestamptz not null default now(),
  -- The claim that holds it; only that claim may record the attempt.
  lease_id uuid,
  last_response_status integer,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  constraint webhook_deliveries_event_subscription_key unique (event_id, subscription_id),
  constraint webhook_deliveries_finished check ((status = 'pending') = (finished_at is null))
);

comment on table public.webhook_deliveries is 'One event for one subscription, until it succeeds or runs out of attempts.';

-- The queue: what is due, oldest first.
create index webhook_deliveries_due_idx
  on public.webhook_deliveries (next_attempt_at) where status = 'pending';
-- Leased deliveries per subscription, for the per-receiver bound of a claim.
create index webhook_deliveries_leased_idx
  on public.webhook_deliveries (subscription_id) where status = 'pending' and lease_id is not null;
-- A subscription's deliveries newest first (history, cancelling, deleting).
create index webhook_deliveries_subscription_idx
  on public.webhook_deliveries (subscription_id, created_at desc, id desc);

create table public.webhook_delivery_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references public.webhook_deliveries (id) on delete cascade,
  attempt_number integer not null check (attempt_number >= 1),
  started_at timestamptz not null,
  duration_ms integer not null check (duration_ms >= 0),
  -- Null when no response came (timeout, connection or TLS failure, blocked address).
  response_status integer check (response_status between 100 and 599),
  -- Null for a 2xx; otherwise why the attempt failed.
  error_kind text check (error_kind in (
    'http_status',
    'redirect',
    'timeout',
    'connection_refused',
    'connection_reset',
    'connection_failed',
    'tls_error',
    'dns_failure',
    'blocked_address',
    'invalid_response',
    -- More than the 64 KiB a response may have; the status is kept.
    'response_too_large',
    -- The dispatcher could not make the request (on our side); retried like any failure.
    'internal_error'
  )),
  -- The first 1 KiB of the response body, decoded as UTF-8.
  response_body text check (octet_length(response_body) <= 4096),
  constraint webhook_delivery_attempts_number_key unique (delivery_id, attempt_number)
);

comment on table public.webhook_delivery_attempts is 'Every request made for a delivery and what came back.';

-- Access: the service role only, as for the other tables.
alter table public.webhook_events enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_delivery_attempts enable row level security;

revoke all on table public.webhook_events, public.webhook_deliveries,
  public.webhook_delivery_attempts from anon, authenticated;
grant select, insert, update, delete on table public.webhook_events, public.webhook_deliveries,
  public.webhook_delivery_attempts to service_role;

-- Disabling a subscription, however it happens, cancels what it still had to receive. A lease
-- stays, so an attempt already in flight is still recorded.
create function private.cancel_pending_deliveries()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.webhook_deliveries as d
     set status = 'cancelled', finished_at = now()
   where d.subscription_id = new.id and d.status = 'pending';
  return null;
end
$$;

create trigger webhook_subscriptions_cancel_pending
  after update of enabled on public.webhook_subscriptions
  for each row when (old.enabled and not new.enabled)
  execute function private.cancel_pending_deliveries();

-- Intake ---------------------------------------------------------------------------------------

-- Called by the CRM inside its own transaction: the event and its deliveries commit or roll back
-- with the change that caused them. The same p_event_id again changes nothing and returns it.
create function public.emit_webhook_event(
  p_workspace_id uuid,
  p_type text,
  p_data jsonb,
  p_event_id uuid default null
)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  new_event_id uuid := coalesce(p_event_id, gen_random_uuid());
  data_bytes integer;
begin
  if p_workspace_id is null then
    raise exception 'emit_webhook_event: p_workspace_id must not be null'
      using errcode = 'null_value_not_allowed';
  end if;
  if p_type is null or p_type not in ('contact.created', 'contact.updated', 'contact.tag_added',
      'contact.enriched', 'contact.note_added', 'deal.created', 'deal.updated', 'webhook.test') then
    raise exception 'emit_webhook_event: unknown event type %', coalesce(quote_literal(p_type), 'null')
      using errcode = 'invalid_parameter_value',
            hint = 'One of contact.created, contact.updated, contact.tag_added, contact.enriched, '
              || 'contact.note_added, deal.created, deal.updated, webhook.test.';
  end if;
  if p_data is null or jsonb_typeof(p_data) <> 'object' then
    raise exception 'emit_webhook_event: p_data must be a JSON object, not %',
      coalesce(jsonb_typeof(p_data), 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  data_bytes := octet_length(p_data::text);
  if data_bytes > 65536 then
    raise exception 'emit_webhook_event: p_data is % bytes as JSON, more than the 65536 (64 KiB) allowed',
      data_bytes
      using errcode = 'program_limit_exceeded';
  end if;
  if not exists (select from public.workspaces as w where w.id = p_workspace_id) then
    raise exception 'emit_webhook_event: there is no workspace %', p_workspace_id
      using errcode = 'foreign_key_violation';
  end if;

  insert into public.webhook_events as e (id, workspace_id, type, data)
  values (new_event_id, p_workspace_id, p_type, p_data)
  on conflict (id) do nothing;
  if not found then
    if not exists (select from public.webhook_events as e
                    where e.id = new_event_id and e.workspace_id = p_workspace_id) then
      raise exception 'emit_webhook_event: event % belongs to another workspace', new_event_id
        using errcode = 'unique_violation';
    end if;
    return new_event_id;
  end if;

  insert into public.webhook_deliveries (event_id, subscription_id)
  select new_event_id, s.id
    from public.webhook_subscriptions as s
   where s.workspace_id = p_workspace_id
     and s.enabled
     and p_type = any (s.event_types);

  -- Wakes a listening dispatcher (the local stack's); Postgres sends it only on commit.
  perform pg_notify('webhook_events', '');
  return new_event_id;
end
$$;

-- Dispatch -------------------------------------------------------------------------------------

-- Claims up to max_deliveries due deliveries: oldest first, and never more than
-- max_per_subscription leased at once for one subscription (rows beyond that stay due, and
-- subscriptions at their bound are skipped, so one slow receiver does not hold up the others).
-- Each claimed row is leased for lease_seconds: due again then, unless its attempt is recorded
-- first. A due delivery whose subscription was disabled meanwhile (an emit that committed after
-- the disable's cancellation ran) is cancelled here instead.
create function public.claim_webhook_deliveries(
  max_deliveries integer,
  lease_seconds integer,
  max_per_subscription integer
)
returns table (
  delivery_id uuid,
  lease_id uuid,
  attempt_number integer,
  subscription_id uuid,
  target_url text,
  secret text,
  previous_secret text,
  event_id uuid,
  event_type text,
  event_created_at timestamptz,
  workspace_id uuid,
  data jsonb
)
language sql
volatile
security invoker
set search_path = ''
as $$
  -- Claims take turns (each is one short statement): the leases a claim counts must include those
  -- the claim before it made, or two overlapping runs could each fill a subscription's bound. The
  -- next statement takes its snapshot after the lock is held.
  select pg_advisory_xact_lock(hashtext('public.claim_webhook_deliveries'));

  with leased as (
    select l.subscription_id, count(*) as held
      from public.webhook_deliveries as l
     where l.status = 'pending' and l.lease_id is not null and l.next_attempt_at > now()
     group by l.subscription_id
  ), due as (
    select d.id, d.subscription_id, d.next_attempt_at, s.enabled
      from public.webhook_deliveries as d
      join public.webhook_subscriptions as s on s.id = d.subscription_id
     where d.status = 'pending'
       and d.next_attempt_at <= now()
       and not exists (select from leased
                        where leased.subscription_id = d.subscription_id
                          and leased.held >= max_per_subscription)
     order by d.next_attempt_at
     -- Room for the rows the per-subscription bound drops below.
     limit max_deliveries + 4 * max_per_subscription
       for update of d skip locked
  ), ranked as (
    select due.id, due.enabled, due.next_attempt_at,
           row_number() over (partition by due.subscription_id
                              order by due.next_attempt_at, due.id) + coalesce(leased.held, 0)
             as slot
      from due left join leased on leased.subscription_id = due.subscription_id
  ), chosen as (
    select ranked.id from ranked
     where ranked.enabled and ranked.slot <= max_per_subscription
     order by ranked.next_attempt_at, ranked.id
     limit max_deliveries
  ), cancelled as (
    update public.webhook_deliveries as d
       set status = 'cancelled', finished_at = now()
      from ranked
     where d.id = ranked.id and not ranked.enabled
  ), claimed as (
    update public.webhook_deliveries as d
       set lease_id = gen_random_uuid(),
           next_attempt_at = now() + make_interval(secs => lease_seconds),
           attempt_count = d.attempt_count + 1
      from chosen
     where d.id = chosen.id
    returning d.id, d.lease_id, d.attempt_count, d.subscription_id, d.event_id
  )
  select c.id, c.lease_id, c.attempt_count, s.id, s.target_url, s.secret,
         case when s.previous_secret_expires_at > now() then s.previous_secret end,
         e.id, e.type, e.created_at, e.workspace_id, e.data
    from claimed as c
    join public.webhook_subscriptions as s on s.id = c.subscription_id
    join public.webhook_events as e on e.id = c.event_id
$$;

-- Records finished attempts, one JSON object each (see the dispatcher's AttemptRecord), in one
-- round trip. An attempt whose lease was lost (it expired and another claim took the delivery)
-- is not recorded: the later claim owns the delivery. One whose delivery was cancelled while it
-- was in flight is recorded, and the delivery stays cancelled.
-- outcome: succeeded | retry (due again at next_attempt_at) | failed (no attempts left) |
-- gone (410: the subscription is disabled as target_gone, its pending deliveries cancelled).
-- A failure extends the subscription's failure streak; one that has lasted failing_after_seconds
-- disables it as failing. Returns how many attempts were recorded.
create function public.record_webhook_attempts(attempts jsonb, failing_after_seconds integer)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  attempt record;
  owner_subscription_id uuid;
  streak_start timestamptz;
  recorded integer := 0;
begin
  -- Subscriptions first, in id order, then deliveries: the order disabling a subscription takes
  -- them in (the subscription, then its pending deliveries), so the two never deadlock.
  perform from public.webhook_subscriptions as s
   where s.id in (select d.subscription_id from public.webhook_deliveries as d
                   where d.id in (select (a ->> 'delivery_id')::uuid
                                    from jsonb_array_elements(attempts) as a))
   order by s.id
     for no key update of s;

  for attempt in
    select * from jsonb_to_recordset(attempts) as a(
      delivery_id uuid,
      lease_id uuid,
      attempt_number integer,
      started_at timestamptz,
      duration_ms integer,
      response_status integer,
      error_kind text,
      response_body text,
      outcome text,
      next_attempt_at timestamptz
    )
    order by a.delivery_id
  loop
    if attempt.outcome not in ('succeeded', 'retry', 'failed', 'gone') then
      raise exception 'record_webhook_attempts: unknown outcome %', attempt.outcome;
    end if;
    update public.webhook_deliveries as d
       set status = case attempt.outcome
                      when 'succeeded' then 'succeeded'
                      when 'retry' then 'pending'
                      else 'failed'
                    end,
           next_attempt_at = case when attempt.outcome = 'retry'
                               then attempt.next_attempt_at else d.next_attempt_at end,
           finished_at = case when attempt.outcome = 'retry' then null else now() end,
           last_response_status = attempt.response_status,
           lease_id = null
     where d.id = attempt.delivery_id
       and d.lease_id = attempt.lease_id
       and d.status = 'pending'
    returning d.subscription_id into owner_subscription_id;
    if not found then
      owner_subscription_id := null;
      update public.webhook_deliveries as d
         set lease_id = null, last_response_status = attempt.response_status
       where d.id = attempt.delivery_id
         and d.lease_id = attempt.lease_id
         and d.status = 'cancelled';
      continue when not found;
    end if;

    insert into public.webhook_delivery_attempts
      (delivery_id, attempt_number, started_at, duration_ms, response_status, error_kind,
       response_body)
    values (attempt.delivery_id, attempt.attempt_number, attempt.started_at, attempt.duration_ms,
            attempt.response_status, attempt.error_kind, attempt.response_body);
    recorded := recorded + 1;
    -- A cancelled delivery's subscription is disabled or gone: nothing more to learn from it.
    continue when owner_subscription_id is null;

    if attempt.outcome = 'succeeded' then
      update public.webhook_subscriptions as s
         set failing_since = null
       where s.id = owner_subscription_id and s.failing_since is not null;
    elsif attempt.outcome = 'gone' then
      update public.webhook_subscriptions as s
         set enabled = false, disabled_reason = 'target_gone', disabled_at = now()
       where s.id = owner_subscription_id and s.enabled;
    else
      update public.webhook_subscriptions as s
         set failing_since = coalesce(s.failing_since, attempt.started_at)
       where s.id = owner_subscription_id
      returning s.failing_since into streak_start;
      if streak_start <= now() - make_interval(secs => failing_after_seconds) then
        update public.webhook_subscriptions as s
           set enabled = false, disabled_reason = 'failing', disabled_at = now()
         where s.id = owner_subscription_id and s.enabled;
      end if;
    end if;
  end loop;
  return recorded;
end
$$;

-- Retention: events older than 30 days go, with their deliveries and attempts, a batch at a time
-- (rows other transactions hold are left for the next call). Returns how many events went.
create function public.delete_expired_webhook_events(max_events integer default 1000)
returns integer
language sql
security invoker
set search_path = ''
as $$
  with gone as (
    delete from public.webhook_events
     where ctid = any (array(
       select ctid from public.webhook_events
        where created_at < now() - interval '30 days'
        order by created_at
        limit max_events
        for update skip locked
     ))
    returning 1
  )
  select count(*)::integer from gone
$$;

-- Rotation now also answers with why a subscription is disabled; a function's result type can
-- only change by replacing it.
drop function public.rotate_webhook_subscription_secret(uuid, uuid, text, interval);
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
  disabled_reason text,
  disabled_at timestamptz,
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
  returning s.id, s.target_url, s.event_types, s.enabled, s.disabled_reason, s.disabled_at,
            s.description, s.created_at, s.previous_secret_expires_at
$$;

-- Function privileges ----------------------------------------------------------------------------

revoke execute on all functions in schema private from public;

revoke execute on function
  public.rotate_webhook_subscription_secret(uuid, uuid, text, interval),
  public.emit_webhook_event(uuid, text, jsonb, uuid),
  public.claim_webhook_deliveries(integer, integer, integer),
  public.record_webhook_attempts(jsonb, integer),
  public.delete_expired_webhook_events(integer)
  from public, anon, authenticated;
grant execute on function
  public.rotate_webhook_subscription_secret(uuid, uuid, text, interval),
  public.emit_webhook_event(uuid, text, jsonb, uuid),
  public.claim_webhook_deliveries(integer, integer, integer),
  public.record_webhook_attempts(jsonb, integer),
  public.delete_expired_webhook_events(integer)
  to service_role;

notify pgrst, 'reload schema';
