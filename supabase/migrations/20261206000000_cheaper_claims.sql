-- Cheaper claims. claim_webhook_deliveries keeps its statement from 20261204000000 (same order,
-- same bound per subscription, same leases and cancellations); it changes in two ways:
--   * It counts running leases with a plain index scan, not a bitmap scan. Every lease of the last
--     lease_seconds leaves an entry in the queue index's range of future due times until vacuum,
--     dead once its attempt is recorded. A bitmap scan visits the heap pages of all of them on every
--     claim (24,000 entries for 64 live leases after 20 s at 1,200 deliveries a second: 2.5-5 ms of
--     a claim); a plain index scan marks the dead ones in the index, so later claims skip them there
--     (0.1-0.3 ms). The claim's other scans are index scans either way.
--   * webhook_deliveries_leased_idx goes: no plan used it (the count runs on the queue index), and
--     every claim wrote an entry to it.
-- It stays a SQL function, planned on every call with the tables as they are then. As PL/pgSQL it
-- kept one plan per connection, which saved about 1.3 ms a claim but in three benchmark rounds ran
-- a plan made for other table sizes at 3-4 ms of Postgres CPU a delivery, ten times the usual.
-- Measured with `deno task bench --deliveries` (docs/performance.md).

create or replace function public.claim_webhook_deliveries(
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
-- See above: running leases counted by a plain index scan.
set enable_bitmapscan = off
as $$
  select pg_advisory_xact_lock(hashtext('public.claim_webhook_deliveries'));

  with leased as (
    select l.subscription_id, count(*) as held
      from public.webhook_deliveries as l
     where l.status = 'pending' and l.lease_id is not null and l.next_attempt_at > now()
     group by l.subscription_id
  ), due as (
    select d.id, d.subscription_id, d.next_attempt_at, s.enabled or d.is_test as sendable
      from public.webhook_deliveries as d
      join public.webhook_subscriptions as s on s.id = d.subscription_id
     where d.status = 'pending'
       and d.next_attempt_at <= now()
       and not exists (select from leased
                        where leased.subscription_id = d.subscription_id
                          and leased.held >= max_per_subscription)
     order by d.next_attempt_at, d.id
     limit max_deliveries + 4 * max_per_subscription
       for update of d skip locked
  ), ranked as (
    select due.id, due.sendable, due.next_attempt_at,
           row_number() over (partition by due.subscription_id
                              order by due.next_attempt_at, due.id) + coalesce(leased.held, 0)
             as slot
      from due left join leased on leased.subscription_id = due.subscription_id
  ), chosen as (
    select ranked.id from ranked
     where ranked.sendable and ranked.slot <= max_per_subscription
     order by ranked.next_attempt_at, ranked.id
     limit max_deliveries
  ), cancelled as (
    update public.webhook_deliveries as d
       set status = 'cancelled', finished_at = now()
      from ranked
     where d.id = ranked.id and not ranked.sendable
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

drop index public.webhook_deliveries_leased_idx;

notify pgrst, 'reload schema';
