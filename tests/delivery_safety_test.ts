/**
 * Deliveries under attack and under failure (../shared/spec/deliveries.md, "Safety"): DNS
 * rebinding against a strict dispatcher, two dispatchers at once, a dispatcher killed mid-batch,
 * and Postgres restarted mid-run. These tests take the scheduled dispatcher off while they run
 * dispatchers of their own.
 */
import assert from "node:assert/strict";
import pg from "pg";
import { startDnsServer } from "../scripts/local-stack/dns-server.ts";
import { connectionCounter } from "./helpers/connection-counter.ts";
import { startDispatcher } from "./helpers/dispatcher.ts";
import {
  attemptsOf,
  deliveriesOf,
  emit,
  eventually,
  pauseScheduler,
  type ReceivedRequest,
  resumeScheduler,
  startReceiver,
  subscribe,
} from "./helpers/receiver.ts";
import { apiFetch, controlStack, newToken, sql, stack } from "./helpers/stack.ts";

async function pendingCount(workspaceId: string): Promise<number> {
  const [row] = await sql<{ count: number }>(
    `select count(*)::int as count from public.webhook_deliveries d
       join public.webhook_subscriptions s on s.id = d.subscription_id
      where s.workspace_id = $1 and d.status = 'pending'`,
    [workspaceId],
  );
  return row.count;
}

Deno.test({
  name:
    "DNS rebinding: a name public at create time and 127.0.0.1 at delivery time is never connected to",
  sanitizeResources: false,
  fn: async () => {
    const listener = connectionCounter();
    const name = `rebind-${crypto.randomUUID().slice(0, 8)}.dns-test.wundertreos.example`;
    // What the dispatcher's resolver answers now; the API's answered a public address.
    const dns = await startDnsServer({ fallback: {}, records: { [name]: { A: ["127.0.0.1"] } } });
    await pauseScheduler();
    const ids: string[] = [];
    const strict = await startDispatcher({
      TARGET_URL_POLICY: "strict",
      TARGET_DNS_SERVER: `127.0.0.1:${dns.port}`,
    });
    try {
      const { token, workspaceId } = await newToken();
      const created = await apiFetch(stack.functionUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          target_url: `https://${name}:${listener.port}/hook`,
          event_types: ["contact.created"],
        }),
      });
      assert.equal(created.status, 201, "the name resolved to a public address at create time");
      ids.push((await created.json()).data.id);
      // Loopback literals, as if written straight into the database: refused without a lookup.
      for (const host of ["127.0.0.1", "[::ffff:127.0.0.1]", "[::1]"]) {
        ids.push((await subscribe(token, `https://${host}:${listener.port}/hook`)).id);
      }
      await emit(workspaceId, "contact.created", { id: "c_1" });
      const summary = await strict.run();
      assert.equal(summary.claimed, 4);
      assert.equal(summary.retried, 4, "blocked attempts are retried like any failure");
      for (const id of ids) {
        const [delivery] = await deliveriesOf(id);
        assert.equal(delivery.status, "pending");
        const attempts = await attemptsOf(delivery.id);
        assert.deepEqual(attempts.map((a) => [a.error_kind, a.response_status]), [[
          "blocked_address",
          null,
        ]]);
      }
      assert.equal(listener.connections, 0, "nothing connected to the loopback listener");
    } finally {
      await sql("delete from public.webhook_subscriptions where id = any($1::uuid[])", [ids]);
      await strict.stop();
      await resumeScheduler();
      await dns.close();
      listener.close();
    }
  },
});

Deno.test("two dispatchers at once over 2,000 deliveries: each arrives once", async () => {
  const received = new Map<string, number>();
  const receiver = startReceiver((request) => {
    const key = `${request.path} ${request.headers["webhook-id"]}`;
    received.set(key, (received.get(key) ?? 0) + 1);
    return new Response(null, { status: 204 });
  });
  await pauseScheduler();
  const dispatchers = [await startDispatcher(), await startDispatcher()];
  try {
    const { token, workspaceId } = await newToken();
    // 25 receivers (the test stack's cap is 30 per workspace), 80 events.
    for (let i = 0; i < 25; i++) await subscribe(token, `${receiver.origin}/s${i}`);
    await sql(
      "select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n)) from generate_series(1, 80) as n",
      [workspaceId],
    );
    assert.equal(await pendingCount(workspaceId), 2000);
    const claimed = [0, 0];
    const deadline = Date.now() + 60_000;
    while (await pendingCount(workspaceId) > 0) {
      assert.ok(Date.now() < deadline, "not delivered within 60 s");
      const runs = await Promise.all(dispatchers.map((dispatcher) => dispatcher.run()));
      runs.forEach((run, index) => claimed[index] += run.claimed);
    }
    assert.ok(claimed[0] > 0 && claimed[1] > 0, `both worked: ${claimed}`);
    assert.equal(claimed[0] + claimed[1], 2000, "no delivery was claimed twice");
    assert.equal(received.size, 2000);
    const twice = [...received].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], "no webhook-id reached a receiver twice");
  } finally {
    for (const dispatcher of dispatchers) await dispatcher.stop();
    await resumeScheduler();
    await receiver.close();
  }
});

Deno.test("a dispatcher killed mid-batch loses nothing: what it held goes out after its lease", async () => {
  let hold = true;
  const held: (() => void)[] = [];
  const receiver = startReceiver(() => {
    if (!hold) return new Response(null, { status: 204 });
    return new Promise<Response>((resolve) => {
      held.push(() => resolve(new Response(null, { status: 204 })));
    });
  });
  await pauseScheduler();
  const leaseSeconds = 7;
  const env = { DELIVERY_LEASE_SECONDS: String(leaseSeconds), DELIVERY_ATTEMPT_TIMEOUT_MS: "2000" };
  const doomed = await startDispatcher(env);
  const survivor = await startDispatcher(env);
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    for (let n = 0; n < 10; n++) {
      await emit(subscription.workspaceId, "contact.created", { n });
    }
    const run = doomed.run().catch(() => null);
    const inFlight = await receiver.waitFor(8);
    const claimedAt = performance.now();
    await doomed.kill("SIGKILL");
    assert.equal(await run, null, "the killed run never answered");
    hold = false;
    for (const release of held) release();
    const heldIds = new Set(inFlight.map((request) => request.headers["webhook-id"]));

    // Its leases still hold, and count against the receiver's bound of 8 in flight.
    const early = await survivor.run();
    assert.equal(early.claimed, 0);
    const rows = await eventually("every delivery sent again after the lease", async () => {
      await survivor.run();
      const rows = await deliveriesOf(subscription.id);
      return rows.every((row) => row.status === "succeeded") && rows;
    }, 30_000);
    assert.equal(rows.length, 10);
    const after = receiver.requests.slice(8);
    const resent = after.filter((r: ReceivedRequest) => heldIds.has(r.headers["webhook-id"]));
    assert.equal(resent.length, 8, "each held delivery once more, with the same webhook-id");
    for (const request of resent) {
      assert.ok(request.at - claimedAt >= leaseSeconds * 1000 - 500, "not before its lease ended");
    }
    for (const row of rows) {
      if (heldIds.has(row.event_id)) {
        assert.equal(row.attempt_count, 2, "the lost attempt counts");
        assert.deepEqual((await attemptsOf(row.id)).map((a) => a.attempt_number), [2]);
      }
    }
  } finally {
    await survivor.stop();
    await doomed.stop();
    await resumeScheduler();
    await receiver.close();
  }
});

Deno.test("Postgres restarted mid-run: nothing is lost", async () => {
  const received = new Set<string>();
  const receiver = startReceiver(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    received.add(`${request.path} ${request.headers["webhook-id"]}`);
    return new Response(null, { status: 204 });
  });
  try {
    const { token, workspaceId } = await newToken();
    const subscriptions = [];
    for (let i = 0; i < 4; i++) {
      subscriptions.push(await subscribe(token, `${receiver.origin}/s${i}`));
    }
    await sql(
      "select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n)) from generate_series(1, 100) as n",
      [workspaceId],
    );
    await receiver.waitFor(40);
    await controlStack("postgres/stop");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await controlStack("postgres/start");
    await eventually("all 400 deliveries succeeded", async () => {
      return await pendingCount(workspaceId).catch(() => 1) === 0;
    }, 60_000);
    const rows = await sql<{ status: string; count: number }>(
      `select d.status, count(*)::int as count from public.webhook_deliveries d
         join public.webhook_subscriptions s on s.id = d.subscription_id
        where s.workspace_id = $1 group by d.status`,
      [workspaceId],
    );
    assert.deepEqual(rows.map((row) => ({ ...row })), [{ status: "succeeded", count: 400 }]);
    assert.equal(received.size, 400, "every delivery reached its receiver");
  } finally {
    await receiver.close();
  }
});

Deno.test("overlapping claims together lease no more than 8 of one subscription's deliveries", async () => {
  await pauseScheduler();
  const first = new pg.Client({ connectionString: stack.databaseUrl });
  const second = new pg.Client({ connectionString: stack.databaseUrl });
  await first.connect();
  await second.connect();
  let subscriptionId = "";
  try {
    const { token, workspaceId } = await newToken();
    subscriptionId = (await subscribe(token, "http://127.0.0.1:9/hook")).id;
    // More than the first claim looks at, so the second finds rows the first has not locked.
    await sql(
      "select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n)) from generate_series(1, 200) as n",
      [workspaceId],
    );
    const claim = "select * from public.claim_webhook_deliveries(64, 60, 8)";
    // The first claim's transaction stays open while the second claims.
    await first.query("begin");
    const a = (await first.query(claim)).rows.length;
    const pending = second.query(claim);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.query("commit");
    const b = (await pending).rows.length;
    assert.equal(a, 8);
    assert.equal(b, 0, "the second claim counted the first one's leases");
    const [{ leased }] = await sql<{ leased: number }>(
      "select count(*)::int as leased from public.webhook_deliveries where subscription_id = $1 and lease_id is not null",
      [subscriptionId],
    );
    assert.equal(leased, 8);
  } finally {
    await first.end();
    await second.end();
    await sql("delete from public.webhook_subscriptions where id = $1", [subscriptionId]);
    await resumeScheduler();
  }
});

Deno.test("an emit that commits after its subscription was disabled delivers nothing", async () => {
  const receiver = startReceiver();
  const emitter = new pg.Client({ connectionString: stack.databaseUrl });
  await emitter.connect();
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    // The CRM's transaction emits, and is still open when the subscription is disabled.
    await emitter.query("begin");
    await emitter.query("select public.emit_webhook_event($1, 'contact.created', '{}')", [
      subscription.workspaceId,
    ]);
    const patched = await apiFetch(`${stack.functionUrl}/${subscription.id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ enabled: false }),
    });
    assert.equal(patched.status, 200);
    await emitter.query("commit");
    const [delivery] = await eventually("the late delivery cancelled", async () => {
      const rows = await deliveriesOf(subscription.id);
      return rows.length === 1 && rows[0].status === "cancelled" && rows;
    });
    assert.equal(delivery.attempt_count, 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.requests.length, 0);
  } finally {
    await emitter.end();
    await receiver.close();
  }
});
