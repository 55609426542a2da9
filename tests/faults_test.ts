import assert from "node:assert/strict";
import pg from "pg";
import { DATABASE_TIMEOUT_MS } from "../supabase/functions/_shared/supabase-client.ts";
import {
  CONTRACT_EXAMPLE,
  controlStack,
  newToken,
  sql,
  stack,
  subscriptionCount,
} from "./helpers/stack.ts";
import { call, createWithKey } from "./helpers/subscriptions.ts";

/** Polls until `probe` is true; the API must recover by itself, with no restart of the function. */
async function eventually(what: string, probe: () => Promise<boolean>, seconds = 45) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${seconds} s`);
}

Deno.test("PostgREST stopped mid-run: 503 with Retry-After, nothing written; recovery by itself", async () => {
  const { token, workspaceId } = await newToken();
  assert.equal((await call(token, "GET")).status, 200);
  await controlStack("postgrest/stop");
  try {
    for (const [method, body] of [["GET", undefined], ["POST", CONTRACT_EXAMPLE]] as const) {
      const answer = await call(token, method, "", body);
      assert.equal(answer.status, 503, method);
      assert.equal(answer.body.error, "service_unavailable");
      assert.equal(answer.headers.get("retry-after"), "5");
    }
  } finally {
    await controlStack("postgrest/start");
  }
  await eventually(
    "the API answering again",
    async () => (await call(token, "GET")).status === 200,
  );
  assert.equal(await subscriptionCount(workspaceId), 0);
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
});

Deno.test("Postgres down and restarted: 503s while it is down, then recovery by itself", async () => {
  const { token, workspaceId } = await newToken();
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
  await controlStack("postgres/stop");
  try {
    for (const [method, body] of [["GET", undefined], ["POST", CONTRACT_EXAMPLE]] as const) {
      const answer = await call(token, method, "", body);
      assert.equal(answer.status, 503, method);
      assert.equal(answer.body.error, "service_unavailable");
    }
  } finally {
    await controlStack("postgres/start");
  }
  await eventually(
    "the API answering again",
    async () => (await call(token, "GET")).status === 200,
  );
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
  assert.equal(await subscriptionCount(workspaceId), 2, "the data survived the restart");
});

Deno.test("a create held up by a lock past the timeout is a 503 that leaves no row behind", async () => {
  const { token, workspaceId } = await newToken();
  // As in psql: another transaction holds the workspace's row, which every create locks.
  const holder = new pg.Client({ connectionString: stack.databaseUrl });
  await holder.connect();
  let released = false;
  try {
    await holder.query("begin");
    await holder.query("select * from public.workspaces where id = $1 for update", [workspaceId]);
    const started = performance.now();
    const answer = await call(token, "POST", "", CONTRACT_EXAMPLE);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error, "service_unavailable");
    assert.match(answer.body.message, /may or may not have taken effect/);
    assert.match(answer.body.message, /Idempotency-Key/);
    assert.equal(answer.headers.get("retry-after"), "5");
    // Postgres gave up (8 s) before the function's client would have (10 s).
    assert.ok(
      seconds >= 7.5 && seconds < DATABASE_TIMEOUT_MS / 1000,
      `answered after ${seconds} s`,
    );
    await holder.query("commit");
    released = true;
    // Nothing was left running to commit once the lock is gone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await subscriptionCount(workspaceId), 0);
  } finally {
    if (!released) await holder.query("rollback").catch(() => {});
    await holder.end();
  }
  // The retry the 503 advises, with a key, creates exactly one however often it is sent.
  for (let i = 0; i < 2; i++) {
    const retry = await createWithKey(token, "retry-after-503");
    await retry.body?.cancel();
    assert.equal(retry.status, 201);
  }
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("the service role's own statement timeout is shorter than the function's client timeout", async () => {
  // Not left to the authenticator's setting, which a project may raise for other clients.
  const [{ rolconfig }] = await sql<{ rolconfig: string[] }>(
    "select rolconfig from pg_roles where rolname = 'service_role'",
  );
  const setting = rolconfig.find((entry) => entry.startsWith("statement_timeout="));
  assert.equal(setting, "statement_timeout=8s");
  assert.ok(8_000 < DATABASE_TIMEOUT_MS);
});
