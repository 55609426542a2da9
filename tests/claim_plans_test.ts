/**
 * The queue's plans when the statistics are wrong. An ANALYZE that runs while a large emit is still
 * uncommitted records the deliveries table as holding no rows on the pages it has; until the next
 * analyze, every plan expects one row wherever it looks, and claims and attempt records read the
 * whole table for each row. A claim that finds deliveries due under such statistics analyzes the
 * queue, so that what follows reads rows by index (migration 20261208000000).
 */
import assert from "node:assert/strict";
import pg from "pg";
import { pauseScheduler, resumeScheduler } from "./helpers/receiver.ts";
import { stack } from "./helpers/stack.ts";

const QUEUED = 20_000;

/**
 * Rows read from the queue's two tables by `work` on `client`, counted in the client's own
 * transaction (pg_stat_xact_user_tables), so that no other connection's reads are counted.
 */
async function rowsRead(client: pg.Client, work: () => Promise<void>): Promise<number> {
  const count = async () => {
    const { rows: [row] } = await client.query<{ read: string }>(
      `select sum(seq_tup_read + coalesce(idx_tup_fetch, 0)) as read
         from pg_stat_xact_user_tables
        where relid in ('public.webhook_deliveries'::regclass, 'public.webhook_events'::regclass)`,
    );
    return Number(row.read);
  };
  await client.query("begin");
  try {
    const before = await count();
    await work();
    return await count() - before;
  } finally {
    await client.query("commit");
  }
}

/**
 * Runs `work` with the scheduler paused, on its own connection and workspace, then removes the
 * workspace (and with it what the test queued) and analyzes the queue again for the next test.
 */
async function withQueueOfItsOwn(
  name: string,
  work: (client: pg.Client, workspaceId: string) => Promise<void>,
): Promise<void> {
  await pauseScheduler();
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  let workspaceId: string | null = null;
  try {
    const { rows: [workspace] } = await client.query<{ id: string }>(
      "insert into public.workspaces (name) values ($1) returning id",
      [name],
    );
    workspaceId = workspace.id;
    await work(client, workspace.id);
  } finally {
    if (workspaceId) {
      await client.query("delete from public.workspaces where id = $1", [workspaceId]);
    }
    await client.query("analyze public.webhook_deliveries, public.webhook_events");
    await client.end();
    await resumeScheduler();
  }
}

Deno.test("with statistics that say the queue is empty, a claim analyzes it, and the next claim and the record read rows by index", async () => {
  await withQueueOfItsOwn("stale statistics", async (client, workspaceId) => {
    // 100 subscriptions (the claim takes at most 8 per subscription), 20,000 deliveries due.
    await client.query(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       select $1, 'https://example.com/stale/' || n, '{contact.created}', repeat('a', 64)
         from generate_series(1, 100) n`,
      [workspaceId],
    );
    await client.query(
      `select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n))
         from generate_series(1, $2::int / 100) n`,
      [workspaceId, QUEUED],
    );
    // What the analyze during the uncommitted burst leaves, set directly so that the test does
    // not depend on timing: pages, but no rows.
    await client.query(
      `update pg_class
          set reltuples = 0, relpages = greatest(1, pg_relation_size(oid) / 8192)::int
        where oid in ('public.webhook_deliveries'::regclass, 'public.webhook_events'::regclass)
           or oid in (select indexrelid from pg_index
                       where indrelid in ('public.webhook_deliveries'::regclass,
                                          'public.webhook_events'::regclass))`,
    );

    // The first claim, as the dispatcher makes it (the service role, which may not analyze by
    // itself), finds the statistics wrong and analyzes the queue; the next is planned with true
    // counts.
    await client.query("set role service_role");
    const { rows: first } = await client.query(
      "select * from public.claim_webhook_deliveries(64, 60, 8)",
    );
    await client.query("reset role");
    assert.equal(first.length, 64);
    const { rows: [counted] } = await client.query<{ reltuples: number }>(
      "select reltuples from pg_class where oid = 'public.webhook_deliveries'::regclass",
    );
    assert.ok(counted.reltuples >= QUEUED, `statistics now count ${counted.reltuples} rows`);

    let claimed: { delivery_id: string; lease_id: string; attempt_number: number }[] = [];
    const claimRead = await rowsRead(client, async () => {
      ({ rows: claimed } = await client.query(
        "select * from public.claim_webhook_deliveries(64, 60, 8)",
      ));
    });
    assert.equal(claimed.length, 64);
    // The due queue's head, the leases, the 64 rows by id, their events: a few hundred. A join
    // against a full scan reads the 20,000 rows once per update.
    assert.ok(claimRead < 2_000, `the claim read ${claimRead} rows`);

    const attempts = claimed.map((delivery) => ({
      delivery_id: delivery.delivery_id,
      lease_id: delivery.lease_id,
      attempt_number: delivery.attempt_number,
      started_at: new Date().toISOString(),
      duration_ms: 3,
      response_status: 204,
      error_kind: null,
      response_body: "",
      outcome: "succeeded",
      next_attempt_at: null,
    }));
    // A new connection plans the attempt rows' foreign-key check afresh, under these statistics.
    const recorder = new pg.Client({ connectionString: stack.databaseUrl });
    await recorder.connect();
    try {
      let recorded = 0;
      const recordRead = await rowsRead(recorder, async () => {
        const { rows: [row] } = await recorder.query<{ recorded: number }>(
          "select public.record_webhook_attempts($1::jsonb, 432000) as recorded",
          [JSON.stringify(attempts)],
        );
        recorded = row.recorded;
      });
      assert.equal(recorded, 64);
      // A sequential scan per foreign-key check would read 20,000 rows for each of the 64.
      assert.ok(recordRead < 2_000, `the record read ${recordRead} rows`);
    } finally {
      await recorder.end();
    }
    const { rows: [{ succeeded }] } = await client.query<{ succeeded: number }>(
      `select count(*)::int as succeeded from public.webhook_deliveries d
         join public.webhook_subscriptions s on s.id = d.subscription_id
        where s.workspace_id = $1 and d.status = 'succeeded'`,
      [workspaceId],
    );
    assert.equal(succeeded, 64);
  });
});

Deno.test("a subscription at its bound with a long backlog neither holds up another's deliveries nor makes claims read its backlog", async () => {
  await withQueueOfItsOwn("a slow receiver's backlog", async (client, workspaceId) => {
    const { rows: [slow, other] } = await client.query<{ id: string }>(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       values ($1, 'https://example.com/slow', '{contact.created}', repeat('a', 64)),
              ($1, 'https://example.com/other', '{deal.updated}', repeat('b', 64))
       returning id`,
      [workspaceId],
    );
    const emit = (type: string, count: number) =>
      client.query(
        `select public.emit_webhook_event($1, $2, jsonb_build_object('n', n))
           from generate_series(1, $3::int) n`,
        [workspaceId, type, count],
      );
    // The backlog first, then the other subscription's five: the queue's head is the backlog's.
    await emit("contact.created", 10_000);
    await emit("deal.updated", 5);
    await client.query("analyze public.webhook_deliveries, public.webhook_events");
    const claim = async () => {
      const { rows } = await client.query<{ subscription_id: string }>(
        "select * from public.claim_webhook_deliveries(64, 60, 8)",
      );
      return {
        slow: rows.filter((row) => row.subscription_id === slow.id).length,
        other: rows.filter((row) => row.subscription_id === other.id).length,
      };
    };
    assert.deepEqual(await claim(), { slow: 8, other: 0 });

    // The backlog's subscription is now at its bound. The other's five, and three more, are
    // claimed without reading the 9,992 waiting behind the bound: at most 1,000 of them, then
    // per subscription.
    await emit("deal.updated", 3);
    let taken = { slow: -1, other: -1 };
    const read = await rowsRead(client, async () => {
      taken = await claim();
    });
    assert.deepEqual(taken, { slow: 0, other: 8 });
    assert.ok(read < 3_000, `the claim read ${read} rows`);

    // With more than 1,000 subscriptions with deliveries due, the claim reads past the backlog
    // instead (looking at each would cost more), and still takes what is due behind it.
    await client.query(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       select $1, 'https://example.com/many/' || n, '{deal.created}', repeat('c', 64)
         from generate_series(1, 1100) n`,
      [workspaceId],
    );
    await emit("deal.created", 1);
    const { rows: behind } = await client.query<{ target_url: string }>(
      "select * from public.claim_webhook_deliveries(64, 60, 8)",
    );
    assert.equal(behind.filter((row) => row.target_url.includes("/many/")).length, 64);

    const { rows: leased } = await client.query<{ subscription_id: string; count: number }>(
      `select subscription_id, count(*)::int as count from public.webhook_deliveries
        where subscription_id = any($1::uuid[]) and lease_id is not null
        group by subscription_id`,
      [[slow.id, other.id]],
    );
    assert.deepEqual(
      Object.fromEntries(leased.map((row) => [row.subscription_id, row.count])),
      { [slow.id]: 8, [other.id]: 8 },
    );
  });
});
