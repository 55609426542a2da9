import assert from "node:assert/strict";
import { hashApiToken } from "../supabase/functions/api-webhook-subscriptions/api-token.ts";
import { DEMO_WORKSPACE_ID } from "../scripts/local-stack/api-tokens.ts";
import { CONTRACT_EXAMPLE, createSubscription, sql } from "./helpers/stack.ts";
import { run } from "./helpers/processes.ts";

const TOKEN_LINE = /^wtos_[A-Za-z0-9_-]{43}\n$/;

async function storedToken(token: string) {
  const [row] = await sql<{ workspace_id: string; scopes: string[]; expires_at: Date | null }>(
    "select workspace_id, scopes, expires_at from public.api_tokens where token_hash = $1",
    [await hashApiToken(token)],
  );
  return row;
}

Deno.test("deno task token prints only a working token for the demo workspace", async () => {
  const result = await run(["task", "token", "--scopes", "webhooks:read,webhooks:write"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, TOKEN_LINE);
  const token = result.stdout.trim();

  const row = await storedToken(token);
  assert.equal(row.workspace_id, DEMO_WORKSPACE_ID);
  assert.deepEqual(row.scopes, ["webhooks:read", "webhooks:write"]);
  assert.equal(row.expires_at, null);

  const response = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(response.status, 201);
  await response.body?.cancel();
});

Deno.test("deno task token honours --workspace, --expires-in and the scopes it is given", async () => {
  const workspaceId = crypto.randomUUID();
  const before = Date.now();
  const result = await run([
    "task",
    "token",
    "--scopes",
    "webhooks:read",
    "--workspace",
    workspaceId,
    "--expires-in",
    "3600",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, TOKEN_LINE);
  const token = result.stdout.trim();
  const row = await storedToken(token);
  assert.equal(row.workspace_id, workspaceId);
  assert.deepEqual(row.scopes, ["webhooks:read"]);
  const expiresAt = row.expires_at!.getTime();
  assert.ok(expiresAt >= before + 3_599_000 && expiresAt <= Date.now() + 3_601_000);

  const response = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(response.status, 403, "a read-only token cannot create");
  await response.body?.cancel();
});

Deno.test("deno task token refuses bad arguments, printing nothing on stdout", async () => {
  const [{ count: before }] = await sql<{ count: string }>(
    "select count(*) from public.api_tokens",
  );
  for (
    const args of [
      [],
      ["--scopes", "webhooks:admin"],
      ["--scopes", "webhooks:read", "--workspace", "not-a-uuid"],
      ["--scopes", "webhooks:read", "--expires-in", "0"],
      ["--scopes", "webhooks:read", "--expires-in", "soon"],
      ["--scopes", "webhooks:read", "--unknown"],
    ]
  ) {
    const result = await run(["task", "token", ...args]);
    assert.notEqual(result.code, 0, args.join(" "));
    assert.equal(result.stdout, "", args.join(" "));
    assert.match(result.stderr, /usage: deno task token/);
  }
  const [{ count: after }] = await sql<{ count: string }>("select count(*) from public.api_tokens");
  assert.equal(after, before);
});

Deno.test("deno task token says so when no stack is running", async () => {
  const result = await run(["task", "token", "--scopes", "webhooks:read"], {
    SUPABASE_URL: "",
    SUPABASE_SERVICE_ROLE_KEY: "",
    WUNDERTRE_LOCAL_DIR: await Deno.makeTempDir(),
  });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /deno task start/);
});
