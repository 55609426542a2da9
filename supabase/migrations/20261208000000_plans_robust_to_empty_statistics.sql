-- Claims refresh the queue's statistics when they say it is empty and it is not. An ANALYZE that
-- runs while a large emit is still uncommitted (an import's first burst into a new project's empty
-- tables, say) counts none of its rows: webhook_deliveries is recorded as holding no rows on the
-- pages it has. Until the next analyze (autovacuum looks once a minute), every plan expects one row
-- wherever it looks: the claim joined its 64 chosen ids to a full scan of the table (400-500 ms a
-- claim where 2-5 ms is usual), and the foreign-key check of each attempt row, whose plan each
-- connection keeps, read the table sequentially. It happened in one benchmark round in about fifty
-- (3.6 ms of Postgres CPU a delivery instead of 0.2; docs/performance.md).
-- Fighting each plan would not end it, so the claim ends the state: when the statistics count no
-- rows but a delivery is due, it analyzes the two queue tables (tens of milliseconds, once; the
-- next claim is planned with true counts, and the kept plans are made again). A table emptied by
-- retention has nothing due, so it is not analyzed on every claim. The function runs as its owner,
-- who may analyze; it waits at most 100 ms for a running (auto)vacuum and otherwise leaves it to
-- the next claim.

create function private.analyze_queue_if_counted_empty()
returns void
language plpgsql
security definer
set search_path = ''
set lock_timeout = '100ms'
as $$
begin
  if exists (select from pg_catalog.pg_class as c
              where c.oid = 'public.webhook_deliveries'::regclass
                and c.reltuples = 0 and c.relpages > 0)
     and exists (select from public.webhook_deliveries as d
                  where d.status = 'pending' and d.next_attempt_at <= now()) then
    begin
      analyze public.webhook_deliveries, public.webhook_events;
    exception when lock_not_available then
      null;
    end;
  end if;
end
$$;

revoke all on function private.analyze_queue_if_counted_empty() from public;
grant execute on function private.analyze_queue_if_counted_empty() to service_role;

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

  select private.analyze_queue_if_counted_empty();

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

notify pgrst, 'reload schema';
