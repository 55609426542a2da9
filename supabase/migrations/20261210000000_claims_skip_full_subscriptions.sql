-- A claim's cost no longer grows with the backlog of subscriptions that are at their bound of
-- leases. The claim of 20261206000000 took the queue's head after leaving out the subscriptions at
-- their bound, so it read every due delivery of theirs on the way to anyone else's: one slow
-- receiver (500 ms an answer, 8 in flight) with 100,000 deliveries due made every claim read all of
-- them, 45 ms a claim, 12 claims a second as its attempts finished: half a core of Postgres for one
-- subscription, and more for each such receiver (docs/performance.md).
-- Now a claim reads the queue's head as it is (96 deliveries, whoever they belong to). When fewer
-- than it may take there are free to take, the head is held up by subscriptions at their bound, and
-- the claim looks per subscription instead: each subscription with deliveries due, found by a skip
-- scan of a new index in subscription order, gives its earliest few, and the earliest of those are
-- taken. That costs a few index lookups per subscription with deliveries due, and nothing per
-- delivery waiting behind a bound. What is taken is what the claim of 20261206000000 took: in due
-- order, at most max_per_subscription leased per subscription, deliveries of disabled
-- subscriptions among them cancelled (test deliveries excepted).
-- The chosen rows are locked at the end, skipping any another transaction holds (claims themselves
-- take turns on the advisory lock).

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
  ), head as (
    select d.id, d.subscription_id, d.next_attempt_at, d.is_test
      from public.webhook_deliveries as d
     where d.status = 'pending' and d.next_attempt_at <= now()
     order by d.next_attempt_at, d.id
     limit max_deliveries + 4 * max_per_subscription
  ), head_ranked as (
    select head.*,
           row_number() over (partition by head.subscription_id
                              order by head.next_attempt_at, head.id) + coalesce(leased.held, 0)
             as slot
      from head left join leased on leased.subscription_id = head.subscription_id
  ), held_up as (
    select count(*) = max_deliveries + 4 * max_per_subscription
           and count(*) filter (where slot <= max_per_subscription) < max_deliveries as yes
      from head_ranked
  ), due_subscriptions (id) as (
    (select d.subscription_id
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
             limit 1)
      from due_subscriptions
     where due_subscriptions.id is not null
  ), spread as (
    select firsts.*,
           row_number() over (partition by firsts.subscription_id
                              order by firsts.next_attempt_at, firsts.id) + coalesce(leased.held, 0)
             as slot
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
  ), candidates as (
    select * from head_ranked where not (select yes from held_up)
    union all
    select * from spread
  ), ranked as (
    select c.id, c.next_attempt_at, c.slot, s.enabled or c.is_test as sendable
      from candidates as c
      join public.webhook_subscriptions as s on s.id = c.subscription_id
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
