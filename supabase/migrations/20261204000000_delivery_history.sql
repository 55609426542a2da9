-- Delivery history and control through the API (docs/api.md): a subscription's deliveries a page
-- at a time, one delivery with its payload and attempts, retrying one, sending a test event, and
-- recovering failed ones. Each function takes the caller's workspace and finds nothing in another.
-- Only the service role may call them, as for the rest.

-- A test event asked for through the API goes to its one subscription even while that is
-- disabled; every other delivery of a disabled subscription is cancelled.
alter table public.webhook_deliveries
  add column is_test boolean not null default false;

-- One delivery as the API shows it: the delivery, its event, and every attempt, oldest first.
create function private.webhook_delivery_json(p_delivery_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'id', d.id,
    'event_id', d.event_id,
    'event_type', e.type,
    'status', d.status,
    'attempt_count', d.attempt_count,
    'last_response_status', d.last_response_status,
    'next_attempt_at', case when d.status = 'pending' then d.next_attempt_at end,
    'created_at', d.created_at,
    'finished_at', d.finished_at,
    'event_created_at', e.created_at,
    'workspace_id', e.workspace_id,
    'data', e.data,
    'attempts', coalesce((
      select jsonb_agg(jsonb_build_object(
               'attempt_number', a.attempt_number,
               'started_at', a.started_at,
               'duration_ms', a.duration_ms,
               'response_status', a.response_status,
               'error_kind', a.error_kind,
               'response_body', a.response_body
             ) order by a.attempt_number)
        from public.webhook_delivery_attempts as a
       where a.delivery_id = d.id
    ), '[]'::jsonb)
  )
    from public.webhook_deliveries as d
    join public.webhook_events as e on e.id = d.event_id
   where d.id = p_delivery_id
$$;

-- A subscription's deliveries, newest first, after the cursor's (created_at, id) when given.
-- An unknown subscription, or one of another workspace, raises no_data_found (P0002), so the API
-- can tell it from an empty page.
create function public.list_webhook_deliveries(
  p_workspace_id uuid,
  p_subscription_id uuid,
  p_limit integer,
  p_status text default null,
  p_event_type text default null,
  p_after_created_at timestamptz default null,
  p_after_id uuid default null
)
returns table (
  id uuid,
  event_id uuid,
  event_type text,
  status text,
  attempt_count integer,
  last_response_status integer,
  next_attempt_at timestamptz,
  created_at timestamptz,
  finished_at timestamptz
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if not exists (select from public.webhook_subscriptions as s
                  where s.id = p_subscription_id and s.workspace_id = p_workspace_id) then
    raise exception 'list_webhook_deliveries: no subscription % in workspace %',
      p_subscription_id, p_workspace_id
      using errcode = 'no_data_found';
  end if;
  return query
    select d.id, d.event_id, e.type, d.status, d.attempt_count, d.last_response_status,
           case when d.status = 'pending' then d.next_attempt_at end, d.created_at, d.finished_at
      from public.webhook_deliveries as d
      join public.webhook_events as e on e.id = d.event_id
     where d.subscription_id = p_subscription_id
       and (p_status is null or d.status = p_status)
       and (p_event_type is null or e.type = p_event_type)
       and (p_after_created_at is null
            or (d.created_at, d.id) < (p_after_created_at, p_after_id))
     order by d.created_at desc, d.id desc
     limit p_limit;
end
$$;

-- One delivery of the subscription, or null.
create function public.get_webhook_delivery(
  p_workspace_id uuid,
  p_subscription_id uuid,
  p_delivery_id uuid
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select private.webhook_delivery_json(d.id)
    from public.webhook_deliveries as d
    join public.webhook_subscriptions as s on s.id = d.subscription_id
   where d.id = p_delivery_id
     and d.subscription_id = p_subscription_id
     and s.workspace_id = p_workspace_id
$$;

-- Makes the delivery due now, whatever its state: its next attempt (with the same webhook-id)
-- goes out on the dispatcher's next claim; if attempts remain after it, the schedule goes on.
-- outcome: retried | in_flight (an attempt is under way right now; nothing changes) | not_found |
-- subscription_disabled (only test deliveries go to a disabled subscription).
-- In flight means leased with the lease still running, whatever the status: disabling cancels a
-- delivery but keeps its lease, so that the attempt under way can still be recorded.
create function public.retry_webhook_delivery(
  p_workspace_id uuid,
  p_subscription_id uuid,
  p_delivery_id uuid
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  subscription_enabled boolean;
  delivery record;
begin
  -- The subscription first, then the delivery: the order disabling takes them in.
  select s.enabled into subscription_enabled
    from public.webhook_subscriptions as s
   where s.id = p_subscription_id and s.workspace_id = p_workspace_id
     for no key update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  select d.status, d.lease_id, d.next_attempt_at, d.is_test into delivery
    from public.webhook_deliveries as d
   where d.id = p_delivery_id and d.subscription_id = p_subscription_id
     for update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if not subscription_enabled and not delivery.is_test then
    return jsonb_build_object('outcome', 'subscription_disabled');
  end if;
  -- Leased and the lease still running: a dispatcher is sending it now. Taking it from that
  -- dispatcher would send the same webhook-id twice at once and lose that attempt's record.
  if delivery.lease_id is not null and delivery.next_attempt_at > now() then
    return jsonb_build_object('outcome', 'in_flight',
                              'delivery', private.webhook_delivery_json(p_delivery_id));
  end if;
  update public.webhook_deliveries as d
     set status = 'pending', next_attempt_at = now(), finished_at = null, lease_id = null
   where d.id = p_delivery_id;
  perform pg_notify('webhook_events', '');
  return jsonb_build_object('outcome', 'retried',
                            'delivery', private.webhook_delivery_json(p_delivery_id));
end
$$;

-- A webhook.test event for this one subscription (enabled or not), due now.
-- outcome: sent | not_found.
create function public.send_test_webhook_event(
  p_workspace_id uuid,
  p_subscription_id uuid,
  p_data jsonb
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  new_event_id uuid := gen_random_uuid();
  new_delivery_id uuid;
begin
  perform from public.webhook_subscriptions as s
   where s.id = p_subscription_id and s.workspace_id = p_workspace_id
     for key share;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  insert into public.webhook_events (id, workspace_id, type, data)
  values (new_event_id, p_workspace_id, 'webhook.test', p_data);
  insert into public.webhook_deliveries (event_id, subscription_id, is_test)
  values (new_event_id, p_subscription_id, true)
  returning id into new_delivery_id;
  perform pg_notify('webhook_events', '');
  return jsonb_build_object('outcome', 'sent',
                            'delivery', private.webhook_delivery_json(new_delivery_id));
end
$$;

-- Makes every failed delivery of the subscription created since p_since due now, each for one
-- more attempt (Svix's recover). outcome: recovered (with count) | not_found |
-- subscription_disabled (enable it first: its deliveries would only be cancelled).
create function public.recover_webhook_deliveries(
  p_workspace_id uuid,
  p_subscription_id uuid,
  p_since timestamptz
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  subscription_enabled boolean;
  recovered integer;
begin
  select s.enabled into subscription_enabled
    from public.webhook_subscriptions as s
   where s.id = p_subscription_id and s.workspace_id = p_workspace_id
     for no key update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if not subscription_enabled then
    return jsonb_build_object('outcome', 'subscription_disabled');
  end if;
  update public.webhook_deliveries as d
     set status = 'pending', next_attempt_at = now(), finished_at = null, lease_id = null
   where d.subscription_id = p_subscription_id
     and d.status = 'failed'
     and d.created_at >= p_since;
  get diagnostics recovered = row_count;
  if recovered > 0 then
    perform pg_notify('webhook_events', '');
  end if;
  return jsonb_build_object('outcome', 'recovered', 'count', recovered);
end
$$;

-- The queue's order: due time, then id. Deliveries one statement emits share a due time; their
-- random ids interleave the subscriptions, so a claim does not meet one subscription's whole
-- backlog (beyond its bound of 8 in flight) before anyone else's.
drop index public.webhook_deliveries_due_idx;
create index webhook_deliveries_due_idx
  on public.webhook_deliveries (next_attempt_at, id) where status = 'pending';

-- The claim of 20261203000000, except that a test delivery is sent to a disabled subscription
-- instead of being cancelled, and that due deliveries are taken in the queue's order above.
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

-- Function privileges ----------------------------------------------------------------------------

revoke execute on function private.webhook_delivery_json(uuid) from public;
grant execute on function private.webhook_delivery_json(uuid) to service_role;

revoke execute on function
  public.list_webhook_deliveries(uuid, uuid, integer, text, text, timestamptz, uuid),
  public.get_webhook_delivery(uuid, uuid, uuid),
  public.retry_webhook_delivery(uuid, uuid, uuid),
  public.send_test_webhook_event(uuid, uuid, jsonb),
  public.recover_webhook_deliveries(uuid, uuid, timestamptz)
  from public, anon, authenticated;
grant execute on function
  public.list_webhook_deliveries(uuid, uuid, integer, text, text, timestamptz, uuid),
  public.get_webhook_delivery(uuid, uuid, uuid),
  public.retry_webhook_delivery(uuid, uuid, uuid),
  public.send_test_webhook_event(uuid, uuid, jsonb),
  public.recover_webhook_deliveries(uuid, uuid, timestamptz)
  to service_role;

notify pgrst, 'reload schema';
