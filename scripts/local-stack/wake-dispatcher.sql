-- The local stand-in for the README's pg_net wake trigger: once per statement that inserts events,
-- notify `webhook_events`, which the local scheduler listens on (Postgres delivers it only if the
-- transaction commits). Local only, like bootstrap.sql; applied after the migrations on every start.

create or replace function private.wake_webhook_dispatcher()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('webhook_events', '');
  return null;
end
$$;

create or replace trigger webhook_events_wake_dispatcher
  after insert on public.webhook_events
  for each statement execute function private.wake_webhook_dispatcher();
