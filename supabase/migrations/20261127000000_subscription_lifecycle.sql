-- The subscription lifecycle: updates, and secret rotation with a 24-hour overlap.

alter table public.webhook_subscriptions
  add column updated_at timestamptz not null default now(),
  -- After a rotation, deliveries are signed with both secrets until previous_secret_expires_at.
  add column previous_secret text check (previous_secret ~ '^[0-9a-f]{64}$'),
  add column previous_secret_expires_at timestamptz,
  add constraint webhook_subscriptions_previous_secret_pair check (
    (previous_secret is null) = (previous_secret_expires_at is null)
  );

create or replace function private.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

revoke execute on function private.touch_updated_at() from public;

create trigger webhook_subscriptions_touch_updated_at
  before update on public.webhook_subscriptions
  for each row execute function private.touch_updated_at();

-- Rotation must move the current secret to previous_secret in the same statement that replaces it;
-- PostgREST's PATCH can only set given values, so this is an RPC for the service role alone.
create or replace function public.rotate_webhook_subscription_secret(
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
  returning s.id, s.target_url, s.event_types, s.enabled, s.description, s.created_at,
            s.previous_secret_expires_at
$$;

-- Supabase grants EXECUTE on new functions in public to anon and authenticated by default.
revoke execute on function public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)
  from public, anon, authenticated;
grant execute on function public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)
  to service_role;
