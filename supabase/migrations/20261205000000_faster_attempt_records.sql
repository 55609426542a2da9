-- Recording attempts for less: the successes of a batch (nearly all of it when receivers are
-- well) are recorded in three set-based statements instead of three per attempt, ids are looked up
-- by arrays, and subscriptions that only get successes are held by an advisory lock instead of
-- their rows. Everything else is as in 20261203000000, whose loop handles the attempts the fast
-- path did not record. The dispatcher sends at most 256 attempts a call. Measured with
-- `deno task bench --deliveries` (docs/performance.md).

create or replace function public.record_webhook_attempts(attempts jsonb, failing_after_seconds integer)
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
  recorded_fast uuid[];
  batch_ids uuid[];
  unsuccessful_ids uuid[];
  batch_subscription_ids uuid[];
  locked_subscription_ids uuid[];
begin
  -- Subscriptions first, in id order, then deliveries: the order disabling a subscription takes
  -- them in (the subscription, then, in its trigger, the subscription's advisory lock and its
  -- pending deliveries), so the two never deadlock.
  --   * The rows of the subscriptions this batch may update (an attempt that did not succeed, or
  --     a failure streak to end) are locked, as before.
  --   * Every subscription of the batch takes its advisory lock, which the disable trigger takes
  --     too. Row-locking subscriptions that only get successes made every emit's foreign-key
  --     check share their rows with a recorder (multixacts), which slowed deliveries under load.
  -- By arrays of ids, so each lookup is an index probe (a set from jsonb_array_elements is
  -- planned as a hundred rows, which made these scans of the whole deliveries table).
  select coalesce(array_agg((a ->> 'delivery_id')::uuid), '{}'),
         coalesce(array_agg((a ->> 'delivery_id')::uuid)
                    filter (where a ->> 'outcome' <> 'succeeded'), '{}')
    into batch_ids, unsuccessful_ids
    from jsonb_array_elements(attempts) as a;
  select coalesce(array_agg(s.id order by s.id), '{}') into batch_subscription_ids
    from public.webhook_subscriptions as s
   where s.id = any (array(select d.subscription_id from public.webhook_deliveries as d
                            where d.id = any (batch_ids)));
  select coalesce(array_agg(locked.id order by locked.id), '{}') into locked_subscription_ids
    from (select s.id from public.webhook_subscriptions as s
           where s.id = any (batch_subscription_ids)
             and (s.failing_since is not null
                  or s.id = any (array(select d.subscription_id
                                         from public.webhook_deliveries as d
                                        where d.id = any (unsuccessful_ids))))
           order by s.id
             for no key update of s) as locked;
  perform pg_advisory_xact_lock(hashtextextended('webhook_subscription:' || id::text, 0))
     from unnest(batch_subscription_ids) as id
    order by id;

  -- Successes of deliveries still pending under this lease, the common case, in three
  -- statements for the whole batch; everything else goes through the loop below.
  with input as (
    select * from jsonb_to_recordset(attempts) as a(
      delivery_id uuid,
      lease_id uuid,
      attempt_number integer,
      started_at timestamptz,
      duration_ms integer,
      response_status integer,
      error_kind text,
      response_body text,
      outcome text
    )
    where a.outcome = 'succeeded'
  ), done as (
    update public.webhook_deliveries as d
       set status = 'succeeded', finished_at = now(),
           last_response_status = input.response_status, lease_id = null
      from input
     where d.id = input.delivery_id
       and d.lease_id = input.lease_id
       and d.status = 'pending'
    -- The attempt's own fields come along: joining input again could match a second, stale
    -- attempt of the same delivery (another lease) and record it too.
    returning d.id, d.subscription_id, input.attempt_number, input.started_at,
              input.duration_ms, input.response_status, input.error_kind, input.response_body
  ), kept as (
    insert into public.webhook_delivery_attempts
      (delivery_id, attempt_number, started_at, duration_ms, response_status, error_kind,
       response_body)
    select done.id, done.attempt_number, done.started_at, done.duration_ms,
           done.response_status, done.error_kind, done.response_body
      from done
    returning delivery_id
  ), healed as (
    update public.webhook_subscriptions as s
       set failing_since = null
     -- Only rows locked above: one whose streak began meanwhile keeps it until its next success.
     where s.id in (select done.subscription_id from done)
       and s.id = any (locked_subscription_ids)
       and s.failing_since is not null
  )
  select coalesce(array_agg(kept.delivery_id), '{}') into recorded_fast from kept;
  recorded := cardinality(recorded_fast);

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
    where not (a.delivery_id = any (recorded_fast))
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

-- Disabling takes the subscription's advisory lock before cancelling its deliveries, so that it
-- waits for, or is waited for by, a record of the subscription's successes (see above).
create or replace function private.cancel_pending_deliveries()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('webhook_subscription:' || new.id::text, 0));
  update public.webhook_deliveries as d
     set status = 'cancelled', finished_at = now()
   where d.subscription_id = new.id and d.status = 'pending';
  return null;
end
$$;

notify pgrst, 'reload schema';
