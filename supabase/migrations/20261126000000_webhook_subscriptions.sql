-- Webhook subscriptions and the API access tokens that manage them.
-- Applies unchanged to a Supabase project: it relies only on the roles Supabase creates
-- (anon, authenticated, service_role) and on gen_random_uuid() from core PostgreSQL.

create schema if not exists private;
revoke all on schema private from public;

-- Constraint helper; lives outside the exposed schemas so PostgREST never offers it as RPC.
create or replace function private.has_no_duplicates(items text[])
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select cardinality(items) = (select count(distinct item) from unnest(items) as item)
$$;

-- Check constraints run the function with the inserting role's rights. Grant it explicitly, since
-- projects may revoke the default EXECUTE from PUBLIC on new functions.
revoke execute on function private.has_no_duplicates(text[]) from public;
grant execute on function private.has_no_duplicates(text[]) to service_role;

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

comment on table public.workspaces is 'A tenant: every token and subscription belongs to exactly one.';

create table public.api_tokens (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text check (char_length(name) <= 200),
  -- The token's first 4 random characters (24 of its 256 bits), so a person can recognise it.
  token_prefix text not null check (token_prefix ~ '^wtos_[A-Za-z0-9_-]{4}$'),
  -- SHA-256 of the whole token, lowercase hex. The token itself is never stored.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null check (
    coalesce(array_ndims(scopes), 1) = 1
    and array_position(scopes, null) is null
    and scopes <@ array['webhooks:read', 'webhooks:write']::text[]
  ),
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);

comment on table public.api_tokens is 'Opaque bearer tokens for the public API; looked up by token_hash.';

create index api_tokens_workspace_id_idx on public.api_tokens (workspace_id);

create table public.webhook_subscriptions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- An absolute http(s) URL with a host, no user:password@, no whitespace or control characters.
  target_url text not null check (
    char_length(target_url) <= 2048
    and target_url ~ '^https?://[^/?#@[:space:][:cntrl:]]+([/?#][^[:space:][:cntrl:]]*)?$'
  ),
  event_types text[] not null check (
    array_ndims(event_types) = 1
    and cardinality(event_types) >= 1
    and array_position(event_types, null) is null
    and event_types <@ array[
      'contact.created',
      'contact.updated',
      'contact.tag_added',
      'contact.enriched',
      'contact.note_added',
      'deal.created',
      'deal.updated'
    ]::text[]
    and private.has_no_duplicates(event_types)
  ),
  description text check (char_length(description) <= 500),
  -- Signs every delivery: 32 random bytes as lowercase hex. Returned to the caller only on create.
  secret text not null check (secret ~ '^[0-9a-f]{64}$'),
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);

comment on table public.webhook_subscriptions is 'URLs that receive signed deliveries of CRM events.';

-- Listing a workspace's subscriptions newest first, with a stable tie-breaker for cursors.
create index webhook_subscriptions_workspace_created_idx
  on public.webhook_subscriptions (workspace_id, created_at desc, id desc);

-- Only the service role (the edge function) touches these tables. Row Level Security with no
-- policies denies anon and authenticated every row, and the revokes deny them the tables too,
-- so a leaked anon key can read neither a secret nor a token hash.
alter table public.workspaces enable row level security;
alter table public.api_tokens enable row level security;
alter table public.webhook_subscriptions enable row level security;

revoke all on table public.workspaces, public.api_tokens, public.webhook_subscriptions
  from anon, authenticated;
grant select, insert, update, delete
  on table public.workspaces, public.api_tokens, public.webhook_subscriptions
  to service_role;
