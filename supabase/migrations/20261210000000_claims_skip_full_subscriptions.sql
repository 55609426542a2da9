-- A claim's cost no longer grows with the backlog of subscriptions that are at their bound of
-- leases. The claim of 20261206000000 took the queue's head after leaving out the subscriptions at
-- their bound, so it read every due delivery of theirs on the way to anyone else's: one slow
-- receiver (500 ms an answer, 8 in flight) with 100,000 deliveries due made every claim read all of
-- them, 45 ms a claim, several claims a second as its attempts finished: more than half a core of
-- Postgres for one subscription, and as much again for each such receiver (docs/performance.md).
--
-- Now a claim reads at most 1,000 rows of the queue's head, leaving out those subscriptions as
-- before. When that does not fill the head, subscriptions at their bound hold it up, and the claim
-- looks per subscription instead: each subscription with deliveries due, found by a skip scan of a
-- new index in subscription order (one descent each), gives its earliest few, and the earliest of
-- those are taken. With more than 1,000 subscriptions with deliveries due, looking at each would
-- cost more than reading past the backlogs, so the claim reads past them as before. What is taken
-- is what the claim of 20261206000000 took: in due order, at most max_per_subscription leased per
-- subscription, deliveries of disabled subscriptions among them cancelled (test deliveries
-- excepted). The chosen rows are locked at the end, skipping any another transaction holds
-- (claims themselves take turns on the advisory lock).
--
-- It stays a SQL function, planned on every call: as PL/pgSQL planned per call
-- (plan_cache_mode = force_custom_plan), parsing it once per connection saved no Postgres CPU that
-- alternated claims could tell apart from noise (docs/performance.md).

create index webhook_deliveries_subscription_due_idx
  on public.webhook_deliveries (subscription_id, next_attempt_at, id) where status = 'pending';

create or replace function private.claim_webhook_deliveries_as_planned(
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
-- Running leases counted by a plain index scan (20261206000000), and every row found by index,
-- whatever the statistics or the unknown parameters lead the planner to expect.
set enable_bitmapscan = off
set enable_seqscan = off
as $$
  select pg_advisory_xact_lock(hashtext('public.claim_webhook_deliveries'));

  with recursive leased as (
    select l.subscription_id, count(*) as held
      from public.webhook_deliveries as l
     where l.status = 'pending' and l.lease_id is not null and l.next_attempt_at > now()
     group by l.subscription_id
  ), full_subscriptions as (
    select array(select leased.subscription_id from leased
                  where leased.held >= max_per_subscription) as ids
  ), scanned as (
    -- The queue's head in due order, read lazily: at most 1,000 rows, however long the backlogs
    -- behind a bound.
    select d.id, d.subscription_id, d.next_attempt_at, d.is_test
      from public.webhook_deliveries as d
     where d.status = 'pending' and d.next_attempt_at <= now()
     order by d.next_attempt_at, d.id
     limit 1000
  ), head as (
    select scanned.*
      from scanned
     where scanned.subscription_id <> all ((select ids from full_subscriptions)::uuid[])
     limit max_deliveries + 4 * max_per_subscription
  ), held_up as (
    -- The head is not full, and not because the queue ended within the 1,000 read (then every
    -- row was read already, so counting them reads nothing more).
    select case when count(*) >= max_deliveries + 4 * max_per_subscription then false
                else (select count(*) from scanned) >= 1000 end as yes
      from head
  ), due_subscriptions (id, n) as (
    -- Skip scan: each subscription with deliveries due, one index descent each, at most 1,001.
    (select d.subscription_id, 1
       from public.webhook_deliveries as d
      where d.status = 'pending' and d.next_attempt_at <= now()
        and (select yes from held_up)
      order by d.subscription_id
      limit 1)
    union all
    select (select d.subscription_id
              from public.webhook_deliveries as d
             where d.status = 'pending' and d.next_attempt_at <= now()
               and d.subscription_id > due_subscriptions.id
             order by d.subscription_id
             limit 1),
           due_subscriptions.n + 1
      from due_subscriptions
     where due_subscriptions.id is not null and due_subscriptions.n <= 1000
  ), many_due as (
    select count(*) > 1000 as yes from due_subscriptions where due_subscriptions.id is not null
  ), spread as (
    -- Up to 1,000 subscriptions with deliveries due: the earliest few of each below its bound.
    select firsts.*
      from due_subscriptions
      left join leased on leased.subscription_id = due_subscriptions.id
      cross join lateral (
        select d.id, d.subscription_id, d.next_attempt_at, d.is_test
          from public.webhook_deliveries as d
         -- This subscription's due deliveries, as a range of the subscription's index: written
         -- as "subscription_id = ...", the planner may read them in due order from the queue's
         -- index instead, past every other subscription's.
         where (d.subscription_id, d.next_attempt_at) >= (due_subscriptions.id, '-infinity')
           and (d.subscription_id, d.next_attempt_at) <= (due_subscriptions.id, now())
           and d.status = 'pending'
         order by d.subscription_id, d.next_attempt_at, d.id
         limit max_per_subscription - coalesce(leased.held, 0)
      ) as firsts
     where due_subscriptions.id is not null
       and coalesce(leased.held, 0) < max_per_subscription
       and not (select yes from many_due)
  ), beyond as (
    -- More: looking per subscription would cost more than reading past the backlogs.
    select d.id, d.subscription_id, d.next_attempt_at, d.is_test
      from public.webhook_deliveries as d
     where d.status = 'pending' and d.next_attempt_at <= now()
       and (select yes from many_due)
       and d.subscription_id <> all ((select ids from full_subscriptions)::uuid[])
     order by d.next_attempt_at, d.id
     limit max_deliveries + 4 * max_per_subscription
  ), candidates as (
    select * from head where not (select yes from held_up)
    union all
    select * from spread
    union all
    select * from beyond
  ), ranked as (
    -- A lookup per candidate: a join may be planned as a hash of every subscription.
    select c.id, c.next_attempt_at,
           row_number() over (partition by c.subscription_id order by c.next_attempt_at, c.id)
             + coalesce(leased.held, 0) as slot,
           c.is_test or (select s.enabled from public.webhook_subscriptions as s
                          where s.id = c.subscription_id) as sendable
      from candidates as c
      left join leased on leased.subscription_id = c.subscription_id
  ), chosen as (
    select d.id
      from public.webhook_deliveries as d
     where d.id in (select ranked.id from ranked
                     where ranked.sendable and ranked.slot <= max_per_subscription
                     order by ranked.next_attempt_at, ranked.id
                     limit max_deliveries)
       and d.status = 'pending' and d.next_attempt_at <= now()
       for update of d skip locked
  ), cancelled as (
    update public.webhook_deliveries as d
       set status = 'cancelled', finished_at = now()
      from ranked
     where d.id = ranked.id and not ranked.sendable and d.status = 'pending'
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
