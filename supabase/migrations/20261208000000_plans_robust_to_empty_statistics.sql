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
-- claim is then planned with true counts, and the kept plans are made again). A table emptied by
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

-- The claim of 20261206000000 stays as it is, in private, and the API's claim_webhook_deliveries
-- checks the statistics before calling it. Its statement is planned when it runs, after the check.
alter function public.claim_webhook_deliveries(integer, integer, integer)
  rename to claim_webhook_deliveries_as_planned;
alter function public.claim_webhook_deliveries_as_planned(integer, integer, integer)
  set schema private;

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
  select private.analyze_queue_if_counted_empty();

  select * from private.claim_webhook_deliveries_as_planned(
    max_deliveries, lease_seconds, max_per_subscription);
$$;

revoke execute on function public.claim_webhook_deliveries(integer, integer, integer)
  from public, anon, authenticated;
revoke execute on function private.claim_webhook_deliveries_as_planned(integer, integer, integer)
  from public, anon, authenticated;
grant execute on function public.claim_webhook_deliveries(integer, integer, integer),
  private.claim_webhook_deliveries_as_planned(integer, integer, integer)
  to service_role;

notify pgrst, 'reload schema';
