import assert from "node:assert/strict";
import pg from "pg";
import { CONTRACT_EXAMPLE, newToken, sql, stack, subscriptionCount } from "./helpers/stack.ts";
import { call, createWithKey } from "./helpers/subscriptions.ts";

Deno.test("the same Idempotency-Key and body replays the original response, marked as a replay", async () => {
  const { token, workspaceId } = await newToken();
  const key = crypto.randomUUID();
  const first = await createWithKey(token, key);
  assert.equal(first.status, 201);
  assert.equal(first.headers.get("idempotent-replayed"), null);
  const original = await first.json();

  const again = await createWithKey(token, key);
  assert.equal(again.status, 201);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(await again.json(), original, "same id, same secret, same everything");
  assert.equal(again.headers.get("location"), first.headers.get("location"));
  assert.equal(await subscriptionCount(workspaceId), 1);

  // Field order and whitespace do not make a different request; the fields do.
  const reordered = await createWithKey(token, key, {
    description: CONTRACT_EXAMPLE.description,
    event_types: CONTRACT_EXAMPLE.event_types,
    target_url: CONTRACT_EXAMPLE.target_url,
  });
  assert.equal(reordered.status, 201);
  assert.equal((await reordered.json()).data.id, original.data.id);
});

Deno.test("the same Idempotency-Key with a different body is a 422 and writes nothing", async () => {
  const { token, workspaceId } = await newToken();
  const key = "order-7-subscribe";
  assert.equal((await createWithKey(token, key)).status, 201);
  const different = await createWithKey(token, key, { ...CONTRACT_EXAMPLE, description: "Other" });
  assert.equal(different.status, 422);
  assert.equal((await different.json()).error, "idempotency_key_reused");
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("Idempotency-Keys are scoped to the workspace", async () => {
  const a = await newToken();
  const b = await newToken();
  const fromA = await (await createWithKey(a.token, "shared-key")).json();
  const fromB = await (await createWithKey(b.token, "shared-key")).json();
  assert.notEqual(fromA.data.id, fromB.data.id);
  assert.notEqual(fromA.data.secret, fromB.data.secret);
});

Deno.test("a replay is only for the credential that made the request, not another token of the workspace", async () => {
  const owner = await newToken();
  const colleague = await newToken({ workspaceId: owner.workspaceId });
  const key = crypto.randomUUID();
  const original = await createWithKey(owner.token, key);
  assert.equal(original.status, 201);
  const secret = (await original.json()).data.secret;

  const other = await createWithKey(colleague.token, key);
  assert.equal(other.status, 422);
  const body = await other.json();
  assert.equal(body.error, "idempotency_key_reused");
  assert.ok(!JSON.stringify(body).includes(secret));
  assert.equal(await subscriptionCount(owner.workspaceId), 1);
  assert.equal((await createWithKey(owner.token, key)).headers.get("idempotent-replayed"), "true");
});

Deno.test("concurrent creates with one Idempotency-Key make exactly one row", async () => {
  const { token, workspaceId } = await newToken();
  const key = crypto.randomUUID();
  const responses = await Promise.all(Array.from({ length: 12 }, () => createWithKey(token, key)));
  const statuses = responses.map((response) => response.status);
  const bodies = await Promise.all(responses.map((response) => response.json()));
  assert.ok(statuses.every((status) => status === 201 || status === 409), statuses.join(","));
  for (const [i, status] of statuses.entries()) {
    if (status === 409) {
      assert.equal(bodies[i].error, "idempotency_key_in_use");
      assert.equal(responses[i].headers.get("retry-after"), "1");
    }
  }
  const ids = new Set(bodies.filter((body) => body.data).map((body) => body.data.id));
  assert.equal(ids.size, 1, "every 201 is the same subscription");
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("an expired Idempotency-Key is cleaned up and can be used afresh", async () => {
  const { token, workspaceId } = await newToken();
  const key = crypto.randomUUID();
  const first = await (await createWithKey(token, key)).json();
  await sql(
    "update public.idempotency_keys set expires_at = now() - interval '1 second' where key = $1",
    [key],
  );
  const fresh = await createWithKey(token, key, { ...CONTRACT_EXAMPLE, description: "New day" });
  assert.equal(fresh.status, 201);
  assert.notEqual((await fresh.json()).data.id, first.data.id);
  const keys = await sql("select expires_at from public.idempotency_keys where workspace_id = $1", [
    workspaceId,
  ]);
  assert.equal(keys.length, 1, "the expired key was replaced, not kept");
  assert.equal(await subscriptionCount(workspaceId), 2);
});

Deno.test("a replay after a rotation answers with the current secret, never the rotated one", async () => {
  const { token } = await newToken();
  const key = crypto.randomUUID();
  const original = (await (await createWithKey(token, key)).json()).data;
  const rotated = await call(token, "POST", `/${original.id}/rotate-secret`);
  assert.equal(rotated.status, 200);

  const replay = await createWithKey(token, key);
  assert.equal(replay.status, 201);
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  const replayed = (await replay.json()).data;
  assert.equal(replayed.id, original.id);
  assert.equal(replayed.secret, rotated.body.data.secret);
  assert.notEqual(replayed.secret, original.secret);
});

Deno.test("the idempotency record keeps no secret, and goes when its subscription is deleted", async () => {
  const { token, workspaceId } = await newToken();
  const key = crypto.randomUUID();
  const original = (await (await createWithKey(token, key)).json()).data;
  const [stored] = await sql<Record<string, unknown>>(
    "select * from public.idempotency_keys where workspace_id = $1",
    [workspaceId],
  );
  assert.deepEqual(Object.keys(stored).sort(), [
    "created_at",
    "expires_at",
    "key",
    "request_hash",
    "subscription_id",
    "workspace_id",
  ]);
  assert.ok(!JSON.stringify(stored).includes(original.secret));

  assert.equal((await call(token, "DELETE", `/${original.id}`)).status, 204);
  const keys = await sql("select 1 from public.idempotency_keys where workspace_id = $1", [
    workspaceId,
  ]);
  assert.equal(keys.length, 0);
  // The key is free again: a retry subscribes anew rather than replaying a deleted subscription.
  const again = await createWithKey(token, key);
  assert.equal(again.status, 201);
  assert.equal(again.headers.get("idempotent-replayed"), null);
  assert.notEqual((await again.json()).data.id, original.id);
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("expired Idempotency-Keys are cleaned up even when their workspace never returns", async () => {
  const idle = await newToken();
  const idleKey = crypto.randomUUID();
  assert.equal((await createWithKey(idle.token, idleKey)).status, 201);
  await sql(
    "update public.idempotency_keys set expires_at = now() - interval '1 second' where key = $1",
    [idleKey],
  );
  const busy = await newToken();
  assert.equal((await createWithKey(busy.token, crypto.randomUUID())).status, 201);
  const left = await sql("select 1 from public.idempotency_keys where key = $1", [idleKey]);
  assert.equal(left.length, 0);
});

Deno.test("a malformed Idempotency-Key is a 400 naming the header", async () => {
  const { token, workspaceId } = await newToken();
  // "é" goes out as the single byte 0xE9: not visible ASCII.
  for (const key of ["x".repeat(256), "has space", "tab\there", "caf\u00e9"]) {
    const response = await createWithKey(token, key);
    assert.equal(response.status, 400, key);
    assert.deepEqual(await response.json(), {
      error: "invalid_request",
      message: "Invalid Idempotency-Key header.",
      details: [{
        field: "Idempotency-Key",
        message: "Idempotency-Key must be 1 to 255 visible ASCII characters.",
      }],
    });
  }
  assert.equal((await createWithKey(token, "k".repeat(255))).status, 201);
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("a workspace holds at most the configured number of subscriptions, even under concurrency", async () => {
  const { token, workspaceId } = await newToken();
  const cap = 30; // MAX_SUBSCRIPTIONS_PER_WORKSPACE of the test stack
  const responses = await Promise.all(
    Array.from(
      { length: cap + 5 },
      (_, i) => call(token, "POST", "", { ...CONTRACT_EXAMPLE, description: `#${i}` }),
    ),
  );
  const statuses = responses.map((response) => response.status);
  assert.equal(statuses.filter((status) => status === 201).length, cap);
  for (const refused of responses.filter((response) => response.status !== 201)) {
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error, "subscription_limit_reached");
    assert.equal(refused.body.limit, cap);
  }
  assert.equal(await subscriptionCount(workspaceId), cap);

  // Deleting one makes room for one.
  const list = await call(token, "GET", "?limit=1");
  assert.equal((await call(token, "DELETE", `/${list.body.data[0].id}`)).status, 204);
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 422);
});

Deno.test("creates that waited for the workspace re-check the cap against what the other left", async () => {
  const cap = 30; // MAX_SUBSCRIPTIONS_PER_WORKSPACE of the test stack
  const owner = await newToken();
  const workspaceId = owner.workspaceId;
  // One token per request, so they queue on the workspace's row and not on one token's counter.
  const tokens = [
    owner,
    ...await Promise.all(Array.from({ length: 7 }, () => newToken({ workspaceId }))),
  ];
  for (const { token } of tokens) {
    assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
  }
  await sql(
    `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
     select $1, 'https://example.com/hook', array['contact.created'], repeat('a', 64)
       from generate_series(1, $2::integer)`,
    [workspaceId, cap - 3 - tokens.length],
  );
  // Room for 3. Another transaction creates one and holds the workspace while the 8 requests
  // arrive: they must wait, and then find room for only 2.
  const holder = new pg.Client({ connectionString: stack.databaseUrl });
  await holder.connect();
  let responses;
  try {
    await holder.query("begin");
    await holder.query(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       values ($1, 'https://example.com/hook', array['contact.created'], repeat('b', 64))`,
      [workspaceId],
    );
    const pending = tokens.map(({ token }, i) =>
      call(token, "POST", "", { ...CONTRACT_EXAMPLE, description: `#${i}` })
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await holder.query("commit");
    responses = await Promise.all(pending);
  } finally {
    await holder.end();
  }
  const statuses = responses.map((response) => response.status).sort();
  assert.deepEqual(statuses, [201, 201, 422, 422, 422, 422, 422, 422]);
  for (const refused of responses.filter((response) => response.status !== 201)) {
    assert.equal(refused.body.error, "subscription_limit_reached");
  }
  assert.equal(await subscriptionCount(workspaceId), cap);
  const [{ subscription_count }] = await sql<{ subscription_count: number }>(
    "select subscription_count from public.workspaces where id = $1",
    [workspaceId],
  );
  assert.equal(subscription_count, cap);
});

Deno.test("writes are rate limited per token with 429, Retry-After and RateLimit headers", async () => {
  const { token, workspaceId } = await newToken();
  const writes = 60; // RATE_LIMIT_WRITES_PER_MINUTE's default
  let last;
  for (let i = 0; i < writes; i++) {
    last = await call(token, "DELETE", `/${crypto.randomUUID()}`);
    assert.equal(last.status, 404, `write ${i + 1}`);
  }
  assert.equal(last!.headers.get("ratelimit-limit"), "60");
  assert.equal(last!.headers.get("ratelimit-remaining"), "0");
  assert.match(last!.headers.get("ratelimit-policy") ?? "", /^"write";q=60;w=60$/);

  const limited = await call(token, "POST", "", CONTRACT_EXAMPLE);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error, "rate_limited");
  const retryAfter = Number(limited.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
  assert.match(limited.headers.get("ratelimit") ?? "", /^"write";r=0;t=\d+$/);
  assert.equal(await subscriptionCount(workspaceId), 0, "nothing written when limited");

  // Reads have their own budget; another token of the same workspace has its own too.
  const read = await call(token, "GET");
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("ratelimit-limit"), "600");
  assert.equal(read.headers.get("ratelimit-remaining"), "599");
  const other = await newToken({ workspaceId });
  assert.equal((await call(other.token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
});

Deno.test("the rate-limit counters live in Postgres, so they hold across isolates", async () => {
  const { token, tokenId } = await newToken();
  await call(token, "GET");
  await call(token, "GET");
  const rows = await sql<{ bucket: string; hits: number }>(
    "select bucket, hits from public.rate_limit_counters where bucket like $1",
    [`token:${tokenId}:%`],
  );
  assert.deepEqual(rows, [{ bucket: `token:${tokenId}:read`, hits: 2 }]);
});

Deno.test("finished rate-limit windows of credentials that stopped calling are cleaned up", async () => {
  const bucket = `token:${crypto.randomUUID()}:read`;
  await sql(
    `insert into public.rate_limit_counters (bucket, window_start, hits)
     values ($1, date_trunc('minute', now()) - interval '2 days', 5)`,
    [bucket],
  );
  const { token } = await newToken(); // a new credential opens a new window
  assert.equal((await call(token, "GET")).status, 200);
  const left = await sql("select 1 from public.rate_limit_counters where bucket = $1", [bucket]);
  assert.equal(left.length, 0);
});

Deno.test("the cap's counter follows every way rows come and go, and a workspace can still be deleted", async () => {
  const { token, workspaceId } = await newToken();
  const count = async () =>
    Number(
      (await sql<{ subscription_count: number }>(
        "select subscription_count from public.workspaces where id = $1",
        [workspaceId],
      ))[0]?.subscription_count,
    );
  const a = await call(token, "POST", "", CONTRACT_EXAMPLE);
  await call(token, "POST", "", CONTRACT_EXAMPLE);
  assert.equal(await count(), 2);
  assert.equal((await call(token, "DELETE", `/${a.body.data.id}`)).status, 204);
  assert.equal(await count(), 1);
  // Written directly, as the dashboard or an operator might: the counter still agrees.
  await sql(
    `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
     values ($1, 'https://example.com/direct', '{deal.created}', repeat('a', 64))`,
    [workspaceId],
  );
  assert.equal(await count(), 2);
  assert.equal(await count(), await subscriptionCount(workspaceId));

  await sql("delete from public.workspaces where id = $1", [workspaceId]);
  assert.equal(await subscriptionCount(workspaceId), 0);
});

Deno.test("a create replacing an expired key and a delete of that key's subscription do not deadlock", async () => {
  const owner = await newToken();
  const colleague = await newToken({ workspaceId: owner.workspaceId });
  const key = crypto.randomUUID();
  const first = (await (await createWithKey(owner.token, key)).json()).data;
  await sql(
    "update public.idempotency_keys set expires_at = now() - interval '1 second' where key = $1",
    [key],
  );
  // A third transaction holds the workspace's row, as a concurrent create would, so that both
  // requests below are under way together when it lets go.
  const holder = new pg.Client({ connectionString: stack.databaseUrl });
  await holder.connect();
  try {
    await holder.query("begin");
    await holder.query("select 1 from public.workspaces where id = $1 for no key update", [
      owner.workspaceId,
    ]);
    const create = createWithKey(owner.token, key, { ...CONTRACT_EXAMPLE, description: "Again" });
    const remove = call(colleague.token, "DELETE", `/${first.id}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await holder.query("commit");
    const [created, removed] = await Promise.all([create, remove]);
    assert.equal(created.status, 201);
    await created.body?.cancel();
    assert.equal(removed.status, 204);
  } finally {
    await holder.end();
  }
  assert.equal(await subscriptionCount(owner.workspaceId), 1);
});
