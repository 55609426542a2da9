-- Local development data only (`deno task start`, `supabase db reset`); never pushed.
insert into public.workspaces (id, name)
values ('00000000-0000-4000-8000-000000000001', 'Local demo workspace')
on conflict (id) do nothing;
