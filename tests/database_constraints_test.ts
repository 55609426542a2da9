import assert from "node:assert/strict";
import { newToken, sql, stack } from "./helpers/stack.ts";

/** Writes straight through PostgREST with the service role, bypassing the function's validation. */
async function insertDirectly(row: Record<string, unknown>) {
  const response = await fetch(`${stack.apiUrl}/rest/v1/webhook_subscriptions`, {
    method: "POST",
    headers: {
      apikey: stack.serviceRoleKey,
      Authorization: `Bearer ${stack.serviceRoleKey}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify(row),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

Deno.test("the database itself enforces the API's rules for subscriptions", async () => {
  const { workspaceId } = await newToken();
  const valid = {
    workspace_id: workspaceId,
    target_url: "https://example.com/hook",
    event_types: ["contact.created"],
    description: null,
    secret: "a".repeat(64),
  };
  const accepted = await insertDirectly(valid);
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));

  const violations: [string, Record<string, unknown>][] = [
    ["an unsupported event type", { event_types: ["contact.deleted"] }],
    ["no event types", { event_types: [] }],
    ["a duplicate event type", { event_types: ["deal.created", "deal.created"] }],
    ["a null event type", { event_types: ["deal.created", null] }],
    ["a short secret", { secret: "a".repeat(63) }],
    ["an uppercase secret", { secret: "A".repeat(64) }],
    ["a URL over 2,048 characters", { target_url: "https://example.com/" + "a".repeat(2029) }],
    ["a URL that is not http(s)", { target_url: "ftp://example.com/x" }],
    ["a description over 500 characters", { description: "x".repeat(501) }],
    ["an unknown workspace", { workspace_id: crypto.randomUUID() }],
  ];
  for (const [name, change] of violations) {
    const rejected = await insertDirectly({ ...valid, ...change });
    assert.ok(rejected.status >= 400 && rejected.status < 500, `${name}: ${rejected.status}`);
    assert.match(String(rejected.body?.code), /^23(514|503)$/, name);
  }
  const [{ count }] = await sql<{ count: string }>(
    "select count(*) from public.webhook_subscriptions where workspace_id = $1",
    [workspaceId],
  );
  assert.equal(Number(count), 1);
});

Deno.test("the database enforces token hash format, known scopes and uniqueness", async () => {
  const { workspaceId } = await newToken();
  const insert = (row: Record<string, unknown>) =>
    sql(
      `insert into public.api_tokens (workspace_id, token_prefix, token_hash, scopes)
       values ($1, $2, $3, $4)`,
      [workspaceId, row.token_prefix, row.token_hash, row.scopes],
    );
  const valid = { token_prefix: "wtos_abcd", token_hash: "b".repeat(64), scopes: [] };
  await insert(valid);
  await assert.rejects(insert(valid), /duplicate key/);
  await assert.rejects(insert({ ...valid, token_hash: "not-a-hash" }), /check constraint/);
  await assert.rejects(
    insert({ ...valid, token_hash: "c".repeat(64), scopes: ["admin"] }),
    /check constraint/,
  );
  await assert.rejects(
    insert({ ...valid, token_hash: "d".repeat(64), token_prefix: "wtos_" + "x".repeat(43) }),
    /check constraint/,
  );
});

Deno.test("the database refuses URLs the API refuses, even when written directly", async () => {
  const { workspaceId } = await newToken();
  const insert = (targetUrl: string) =>
    sql(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       values ($1, $2, array['deal.created'], $3)`,
      [workspaceId, targetUrl, "e".repeat(64)],
    );
  await insert("https://example.com/a@b?c=d#e");
  await insert("http://[::1]:8080/");
  for (
    const url of [
      "https://user:pw@example.com/x",
      "https://example.com/ x",
      "https://example.com/\tx",
      "https://exa mple.com/",
      "https://",
      "mailto:someone@example.com",
    ]
  ) {
    await assert.rejects(insert(url), /check constraint/, url);
  }
  await assert.rejects(
    sql(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       values ($1, 'https://example.com/', array[['deal.created']], $2)`,
      [workspaceId, "f".repeat(64)],
    ),
    /check constraint/,
    "a two-dimensional event_types array",
  );
});

Deno.test("only the service role may run the constraint helper; nothing else relies on defaults", async () => {
  const [privileges] = await sql<Record<string, boolean>>(
    `select
       has_function_privilege('service_role', 'private.has_no_duplicates(text[])', 'execute') as service_role,
       has_function_privilege('anon', 'private.has_no_duplicates(text[])', 'execute') as anon,
       has_function_privilege('authenticated', 'private.has_no_duplicates(text[])', 'execute') as authenticated`,
  );
  assert.deepEqual(privileges, { service_role: true, anon: false, authenticated: false });
});
