-- Emits no NOTIFY. emit_webhook_event keeps its definition from 20261203000000, less the
-- pg_notify that woke the local stack's scheduler: on Supabase nothing listens (pg_cron and the
-- README's pg_net trigger start the dispatcher), yet every commit that notified took one lock in
-- turn and wrote to the notification queue, in the CRM's own transaction. With 8 connections
-- emitting, an emit cost 0.27 ms of Postgres CPU with it and 0.20 ms without it (5,671 against
-- 8,304 emits a second; medians of three alternating rounds, docs/performance.md). The local stack
-- wakes its scheduler with a trigger of its own (scripts/local-stack/wake-dispatcher.sql), as the
-- README's trigger does on Supabase.

create or replace function public.emit_webhook_event(
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

  return new_event_id;
end
$$;
