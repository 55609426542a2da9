/**
 * Intake (../shared/spec/deliveries.md, "Events enter in the CRM's own transaction"):
 * public.emit_webhook_event called in SQL as the CRM calls it, and `deno task emit`.
 */
import assert from "node:assert/strict";
import pg from "pg";
import { run } from "./helpers/processes.ts";
import { deliveriesOf, emit, startReceiver, subscribe } from "./helpers/receiver.ts";
import { newToken, sql, stack } from "./helpers/stack.ts";

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function eventCount(workspaceId: string): Promise<number> {
  const [row] = await sql<{ count: number }>(
    "select count(*)::int as count from public.webhook_events where workspace_id = $1",
    [workspaceId],
  );
  return row.count;
}

Deno.test("emit fans out in the caller's transaction: a rollback leaves nothing and delivers nothing", async () => {
  const receiver = startReceiver();
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    await withClient(async (client) => {
      await client.query("begin");
      await client.query(
        "insert into public.workspaces (name) values ('a change the CRM makes in the same transaction')",
      );
      const { rows } = await client.query(
        "select public.emit_webhook_event($1, 'contact.created', '{\"id\": \"rolled back\"}') as id",
        [subscription.workspaceId],
      );
      assert.match(rows[0].id, /^[0-9a-f-]{36}$/);
      // Inside the transaction, the delivery exists; nobody else sees it.
      const inside = await client.query(
        "select count(*)::int as count from public.webhook_deliveries where subscription_id = $1",
        [subscription.id],
      );
      assert.equal(inside.rows[0].count, 1);
      assert.equal((await deliveriesOf(subscription.id)).length, 0);
      await client.query("rollback");
    });
    assert.equal(await eventCount(subscription.workspaceId), 0);
    assert.equal((await deliveriesOf(subscription.id)).length, 0);

    // A committed event after it arrives; the rolled-back one never does.
    const eventId = await emit(subscription.workspaceId, "contact.created", { id: "committed" });
    const [request] = await receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.requests.length, 1);
    assert.equal(request.headers["webhook-id"], eventId);
  } finally {
    await receiver.close();
  }
});

Deno.test("the emit itself notifies nothing; the local wake trigger notifies once per committed statement", async () => {
  const { rows: [workspace] } = await withClient((client) =>
    client.query<{ id: string }>(
      "insert into public.workspaces (name) values ('wake trigger') returning id",
    )
  );
  await withClient(async (listener) => {
    const notifications: string[] = [];
    listener.on("notification", (message) => notifications.push(message.channel));
    await listener.query("listen webhook_events");
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
    const emitWith = (setup: string | null, statement: string) =>
      withClient(async (client) => {
        if (setup) await client.query(setup);
        await client.query(statement, [workspace.id]);
      });

    // Triggers off (session_replication_role = replica): what is left is the function's own.
    await emitWith(
      "set session_replication_role = replica",
      "select public.emit_webhook_event($1, 'contact.created', '{}')",
    );
    await settle();
    assert.deepEqual(notifications, [], "emit_webhook_event sends no NOTIFY of its own");

    // The local stack's trigger, standing in for the README's pg_net trigger: one per statement,
    // however many events it inserts.
    await emitWith(null, "select public.emit_webhook_event($1, 'contact.created', '{}')");
    await emitWith(
      null,
      "select public.emit_webhook_event($1, 'contact.updated', '{}') from generate_series(1, 3)",
    );
    await settle();
    assert.deepEqual(notifications, ["webhook_events", "webhook_events"]);
  });
  assert.equal(await eventCount(workspace.id), 5);
});

Deno.test("a burst of emits in one statement finds each event by index, even with statistics that count no events", async () => {
  const { rows: [workspace] } = await withClient((client) =>
    client.query<{ id: string }>(
      "insert into public.workspaces (name) values ('burst under stale statistics') returning id",
    )
  );
  await sql(
    `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
     values ($1, 'https://example.com/burst', '{contact.created}', repeat('a', 64))`,
    [workspace.id],
  );
  try {
    // One transaction, rolled back: the statistics below are seen by this connection alone, and
    // the rows read are this transaction's own (pg_stat_xact_user_tables), so that neither the
    // dispatcher nor any other test reads or adds to them.
    await withClient(async (client) => {
      await client.query("begin");
      try {
        // What an ANALYZE of the emptied table leaves: no rows counted on its pages. The check's
        // plan is made afresh on this new connection, under these statistics.
        await client.query(
          "update pg_class set reltuples = 0, relpages = 1 where oid = 'public.webhook_events'::regclass",
        );
        const seqRead = async () => {
          const { rows: [row] } = await client.query<{ read: string }>(
            "select seq_tup_read as read from pg_stat_xact_user_tables where relid = 'public.webhook_events'::regclass",
          );
          return Number(row.read);
        };
        const before = await seqRead();
        await client.query(
          `select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n))
             from generate_series(1, 2000) n`,
          [workspace.id],
        );
        const read = await seqRead() - before;
        // A sequential check reads every event in the table for each of the 2,000.
        assert.ok(read < 2_000, `the emits read ${read} events sequentially`);
        const { rows: [emitted] } = await client.query<{ count: number }>(
          "select count(*)::int as count from public.webhook_events where workspace_id = $1",
          [workspace.id],
        );
        assert.equal(emitted.count, 2000);
      } finally {
        await client.query("rollback");
      }
    });
    assert.equal(await eventCount(workspace.id), 0, "the rolled-back burst left no events");
  } finally {
    await sql("delete from public.workspaces where id = $1", [workspace.id]);
  }
});

Deno.test("the same event id twice fans out once and returns the id", async () => {
  const receiver = startReceiver();
  try {
    const { token, workspaceId } = await newToken();
    const first = await subscribe(token, `${receiver.origin}/one`);
    const second = await subscribe(token, `${receiver.origin}/two`);
    const eventId = crypto.randomUUID();
    assert.equal(await emit(workspaceId, "contact.created", { id: "c_1" }, eventId), eventId);
    assert.equal(await emit(workspaceId, "contact.created", { id: "c_1" }, eventId), eventId);
    await receiver.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(receiver.requests.map((r) => r.path).sort(), ["/one", "/two"]);
    for (const request of receiver.requests) assert.equal(request.headers["webhook-id"], eventId);
    assert.equal((await deliveriesOf(first.id)).length, 1);
    assert.equal((await deliveriesOf(second.id)).length, 1);

    // Another workspace cannot take the id over.
    const other = await newToken();
    await assert.rejects(
      emit(other.workspaceId, "contact.created", { id: "c_1" }, eventId),
      /event .* belongs to another workspace/,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("emit refuses what the contract does not allow, with an error that names it, and stores nothing", async () => {
  const { workspaceId } = await newToken();
  const cases: [string, unknown, RegExp][] = [
    ["contact.deleted", { id: 1 }, /unknown event type 'contact.deleted'/],
    ["contact.created", [1, 2], /p_data must be a JSON object, not array/],
    ["contact.created", "text", /p_data must be a JSON object, not string/],
    [
      "contact.created",
      { blob: "x".repeat(65_536) },
      /p_data is 65548 bytes as JSON, more than the 65536 \(64 KiB\) allowed/,
    ],
  ];
  for (const [type, data, message] of cases) {
    await assert.rejects(
      sql("select public.emit_webhook_event($1, $2, $3::jsonb)", [
        workspaceId,
        type,
        JSON.stringify(data),
      ]),
      message,
    );
  }
  await assert.rejects(
    sql("select public.emit_webhook_event($1, 'contact.created', null)", [workspaceId]),
    /p_data must be a JSON object, not null/,
  );
  await assert.rejects(
    emit(crypto.randomUUID(), "contact.created", { id: 1 }),
    /there is no workspace/,
  );
  assert.equal(await eventCount(workspaceId), 0);
  // Exactly 64 KiB is allowed.
  await emit(workspaceId, "contact.created", { blob: "x".repeat(65_536 - 12) });
  assert.equal(await eventCount(workspaceId), 1);
});

Deno.test("only the service role may emit, claim, record or use the history functions through the API", async () => {
  const { workspaceId } = await newToken();
  const rpc = (name: string, key: string, body: unknown) =>
    fetch(`${stack.apiUrl}/rest/v1/rpc/${name}`, {
      method: "POST",
      headers: { apikey: key, Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  const emitBody = { p_workspace_id: workspaceId, p_type: "contact.created", p_data: { id: 1 } };
  const scope = { p_workspace_id: workspaceId, p_subscription_id: crypto.randomUUID() };
  const calls: [string, unknown][] = [
    ["emit_webhook_event", emitBody],
    ["claim_webhook_deliveries", { max_deliveries: 1, lease_seconds: 60, max_per_subscription: 1 }],
    ["record_webhook_attempts", { attempts: [], failing_after_seconds: 1 }],
    ["delete_expired_webhook_events", {}],
    ["list_webhook_deliveries", { ...scope, p_limit: 1 }],
    ["get_webhook_delivery", { ...scope, p_delivery_id: crypto.randomUUID() }],
    ["retry_webhook_delivery", { ...scope, p_delivery_id: crypto.randomUUID() }],
    ["send_test_webhook_event", { ...scope, p_data: {} }],
    ["recover_webhook_deliveries", { ...scope, p_since: "2026-01-01T00:00:00Z" }],
  ];
  for (const [name, body] of calls) {
    const response = await rpc(name, stack.anonKey, body);
    assert.ok([401, 403, 404].includes(response.status), `${name}: ${response.status}`);
    await response.body?.cancel();
  }
  for (const table of ["webhook_events", "webhook_deliveries", "webhook_delivery_attempts"]) {
    const response = await fetch(`${stack.apiUrl}/rest/v1/${table}?select=*`, {
      headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` },
    });
    assert.ok([401, 403, 404].includes(response.status), `${table}: ${response.status}`);
    await response.body?.cancel();
  }
  const emitted = await rpc("emit_webhook_event", stack.serviceRoleKey, emitBody);
  assert.equal(emitted.status, 200);
  assert.match(await emitted.json(), /^[0-9a-f-]{36}$/);
  assert.equal(await eventCount(workspaceId), 1);
  // The same arguments reach the history functions for the service role (nothing found here).
  const found = await rpc("get_webhook_delivery", stack.serviceRoleKey, calls[5][1]);
  assert.equal(found.status, 200);
  assert.equal(await found.json(), null);
});

Deno.test("deno task emit prints the event id, and says what is wrong with bad input", async () => {
  const { workspaceId } = await newToken();
  const env = { SUPABASE_URL: stack.apiUrl, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey };
  const ok = await run([
    "task",
    "emit",
    "--type",
    "contact.created",
    "--data",
    '{"id": "c_1"}',
    "--workspace",
    workspaceId,
  ], env);
  assert.equal(ok.code, 0, ok.stderr);
  const eventId = ok.stdout.trim();
  const [row] = await sql<{ type: string; data: unknown }>(
    "select type, data from public.webhook_events where id = $1",
    [eventId],
  );
  assert.deepEqual({ ...row }, { type: "contact.created", data: { id: "c_1" } });

  const badType = await run(
    ["task", "emit", "--type", "contact.nope", "--data", "{}", "--workspace", workspaceId],
    env,
  );
  assert.equal(badType.code, 1);
  assert.match(badType.stderr, /unknown event type 'contact.nope'/);
  const badJson = await run(["task", "emit", "--type", "contact.created", "--data", "{"], env);
  assert.equal(badJson.code, 2);
  assert.match(badJson.stderr, /--data is not valid JSON/);
  assert.equal(await eventCount(workspaceId), 1);
});
