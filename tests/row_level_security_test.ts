import assert from "node:assert/strict";
import pg from "pg";
import { signJwt } from "../scripts/local-stack/keys.ts";
import { CONTRACT_EXAMPLE, createSubscription, newToken, sql, stack } from "./helpers/stack.ts";

async function authenticatedUserJwt(): Promise<string> {
  return await signJwt(stack.jwtSecret, {
    sub: crypto.randomUUID(),
    role: "authenticated",
    aud: "authenticated",
    exp: Math.floor(Date.now() / 1000) + 600,
  });
}

async function visibleRowsWithGrantRestored(table: string) {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    await client.query("begin");
    const [{ count: total }] =
      (await client.query(`select count(*)::int from public.${table}`)).rows;
    assert.ok(total > 0, `${table} has rows to hide`);
    await client.query(`grant select on public.${table} to anon, authenticated`);
    const visible: Record<string, number> = {};
    for (const role of ["anon", "authenticated"]) {
      await client.query(`set local role ${role}`);
      visible[role] =
        (await client.query(`select count(*)::int from public.${table}`)).rows[0].count;
      await client.query("reset role");
    }
    return visible;
  } finally {
    await client.query("rollback");
    await client.end();
  }
}

async function restAs(key: string, bearer: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${stack.apiUrl}/rest/v1/${path}`, {
    ...init,
    headers: { apikey: key, Authorization: `Bearer ${bearer}`, ...init.headers },
  });
  return { status: response.status, text: await response.text() };
}

Deno.test("Row Level Security is enabled on every table in the exposed schema", async () => {
  const tables = await sql<{ relname: string; relrowsecurity: boolean }>(
    `select c.relname, c.relrowsecurity from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')`,
  );
  assert.ok(tables.length >= 3);
  for (const table of tables) assert.ok(table.relrowsecurity, `${table.relname} has no RLS`);
});

Deno.test("the API roles have no table privileges, and RLS alone would still hide every row", async () => {
  const { token } = await newToken();
  const created = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(created.status, 201);
  await created.body?.cancel();

  for (const table of ["webhook_subscriptions", "api_tokens", "workspaces"]) {
    const [privileges] = await sql<{ anon: boolean; authenticated: boolean }>(
      `select has_table_privilege('anon', $1, 'select,insert,update,delete') as anon,
              has_table_privilege('authenticated', $1, 'select,insert,update,delete') as authenticated`,
      [`public.${table}`],
    );
    assert.deepEqual(privileges, { anon: false, authenticated: false }, table);

    // Suppose someone grants the table back to the API roles: Row Level Security still shows
    // them nothing. Tried inside a transaction that is rolled back.
    const visible = await visibleRowsWithGrantRestored(table);
    assert.deepEqual(visible, { anon: 0, authenticated: 0 }, table);
  }
});

Deno.test("neither the anon key nor a signed-in user can read a secret or a token hash", async () => {
  const { token } = await newToken();
  const created = await createSubscription(token, CONTRACT_EXAMPLE);
  const { secret, id } = (await created.json()).data;
  const [{ token_hash }] = await sql<{ token_hash: string }>(
    "select token_hash from public.api_tokens order by created_at desc limit 1",
  );

  // The service role sees both, so the denials below are not an empty or broken API.
  const service = await restAs(
    stack.serviceRoleKey,
    stack.serviceRoleKey,
    `webhook_subscriptions?id=eq.${id}&select=secret`,
  );
  assert.equal(service.status, 200);
  assert.ok(service.text.includes(secret));

  const userJwt = await authenticatedUserJwt();
  for (const [who, bearer] of [["anon", stack.anonKey], ["authenticated", userJwt]]) {
    for (
      const path of [
        "webhook_subscriptions?select=*",
        `webhook_subscriptions?id=eq.${id}&select=secret`,
        "api_tokens?select=*",
        "api_tokens?select=token_hash",
        "workspaces?select=*",
      ]
    ) {
      const result = await restAs(stack.anonKey, bearer, path);
      assert.ok(result.status === 401 || result.status === 403, `${who} ${path}: ${result.status}`);
      assert.ok(!result.text.includes(secret), `${who} read a secret via ${path}`);
      assert.ok(!result.text.includes(token_hash), `${who} read a token hash via ${path}`);
    }
  }
});

Deno.test("neither the anon key nor a signed-in user can write subscriptions or tokens", async () => {
  const { workspaceId } = await newToken();
  const userJwt = await authenticatedUserJwt();
  for (const bearer of [stack.anonKey, userJwt]) {
    const insert = await restAs(stack.anonKey, bearer, "webhook_subscriptions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        workspace_id: workspaceId,
        target_url: "https://attacker.example/x",
        event_types: ["deal.created"],
        secret: "0".repeat(64),
      }),
    });
    assert.ok(insert.status === 401 || insert.status === 403, String(insert.status));
    const update = await restAs(stack.anonKey, bearer, "api_tokens?id=not.is.null", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ revoked_at: null, scopes: ["webhooks:read", "webhooks:write"] }),
    });
    assert.ok(update.status === 401 || update.status === 403, String(update.status));
  }
  const [{ count }] = await sql<{ count: string }>(
    "select count(*) from public.webhook_subscriptions where target_url = 'https://attacker.example/x'",
  );
  assert.equal(Number(count), 0);
});

Deno.test("the REST API refuses requests without a known API key, as Supabase's gateway does", async () => {
  const none = await fetch(`${stack.apiUrl}/rest/v1/webhook_subscriptions`);
  assert.equal(none.status, 401);
  await none.body?.cancel();
  const wrong = await fetch(`${stack.apiUrl}/rest/v1/webhook_subscriptions`, {
    headers: { apikey: "not-a-key" },
  });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
});

Deno.test("the secret-rotation RPC is the service role's alone", async () => {
  const { token, workspaceId } = await newToken();
  const created = await createSubscription(token, CONTRACT_EXAMPLE);
  const { id, secret } = (await created.json()).data;
  const userJwt = await authenticatedUserJwt();
  for (const bearer of [stack.anonKey, userJwt]) {
    const result = await restAs(stack.anonKey, bearer, "rpc/rotate_webhook_subscription_secret", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subscription_id: id,
        owner_workspace_id: workspaceId,
        new_secret: "1".repeat(64),
      }),
    });
    assert.ok(result.status >= 400 && result.status < 500, `${result.status} ${result.text}`);
  }
  const [row] = await sql<{ secret: string; previous_secret: string | null }>(
    "select secret, previous_secret from public.webhook_subscriptions where id = $1",
    [id],
  );
  assert.deepEqual(row, { secret, previous_secret: null });
  const [grants] = await sql<Record<string, boolean>>(
    `select
       has_function_privilege('anon', 'public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)', 'execute') as anon,
       has_function_privilege('authenticated', 'public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)', 'execute') as authenticated,
       has_function_privilege('service_role', 'public.rotate_webhook_subscription_secret(uuid, uuid, text, interval)', 'execute') as service_role`,
  );
  assert.deepEqual(grants, { anon: false, authenticated: false, service_role: true });
});
