/**
 * Delivery history and control through the API, against the real stack: a subscription's
 * deliveries page by page, one delivery with its payload and attempts, retrying one, a test event,
 * and recovering failed ones, each with a real receiver on loopback and the scheduled dispatcher.
 * Every response is also checked against the OpenAPI document (`call` goes through `apiFetch`).
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import {
  emit,
  eventually,
  pauseScheduler,
  type Receiver,
  resumeScheduler,
  settled,
  startReceiver,
  subscribe,
} from "./helpers/receiver.ts";
import { newToken, sql } from "./helpers/stack.ts";
import { call } from "./helpers/subscriptions.ts";

const ok = () => new Response(null, { status: 204 });

/** A receiver answering `respond`, a workspace, a token and a subscription delivering to it. */
async function setUp(
  respond: (index: number) => Response = ok,
  eventTypes = ["contact.created", "deal.created"],
) {
  const receiver = startReceiver((_request, index) => respond(index));
  const { token, workspaceId } = await newToken();
  const subscription = await subscribe(token, `${receiver.origin}/hook`, eventTypes);
  return { receiver, token, workspaceId, subscription };
}

async function withReceiver(receiver: Receiver, use: () => Promise<void>) {
  try {
    await use();
  } finally {
    await receiver.close();
  }
}

/** The delivery as the database holds it, in the API's terms, for comparing with an answer. */
async function storedDelivery(id: string) {
  const [row] = await sql<Record<string, unknown>>(
    `select d.id, d.event_id, e.type as event_type, d.status, d.attempt_count,
            d.last_response_status, d.created_at, d.finished_at, d.next_attempt_at, d.lease_id
       from public.webhook_deliveries d join public.webhook_events e on e.id = d.event_id
      where d.id = $1`,
    [id],
  );
  return row;
}

const seconds = (date: unknown) =>
  date === null ? null : new Date(date as Date).toISOString().replace(/\.\d{3}Z$/, "Z");

Deno.test("GET /{id}/deliveries lists the subscription's deliveries newest first, as stored", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  await withReceiver(receiver, async () => {
    const first = await emit(workspaceId, "contact.created", { id: "c_1" });
    const second = await emit(workspaceId, "deal.created", { id: "d_1" });
    const third = await emit(workspaceId, "contact.created", { id: "c_2" });
    await settled(subscription.id, 3);

    const listed = await call(token, "GET", `/${subscription.id}/deliveries`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.has_more, false);
    assert.equal(listed.body.next_cursor, null);
    assert.deepEqual(listed.body.data.map((d: { event_id: string }) => d.event_id), [
      third,
      second,
      first,
    ]);
    for (const item of listed.body.data) {
      const row = await storedDelivery(item.id);
      assert.deepEqual(item, {
        id: row.id,
        event_id: row.event_id,
        event_type: row.event_type,
        status: "succeeded",
        attempt_count: 1,
        last_response_status: 204,
        next_attempt_at: null,
        created_at: seconds(row.created_at),
        finished_at: seconds(row.finished_at),
      });
    }

    const deals = await call(
      token,
      "GET",
      `/${subscription.id}/deliveries?event_type=deal.created`,
    );
    assert.deepEqual(deals.body.data.map((d: { event_id: string }) => d.event_id), [second]);
    const failed = await call(token, "GET", `/${subscription.id}/deliveries?status=failed`);
    assert.deepEqual(failed.body.data, []);
    const succeeded = await call(
      token,
      "GET",
      `/${subscription.id}/deliveries?status=succeeded&event_type=contact.created&limit=1`,
    );
    assert.deepEqual(succeeded.body.data.map((d: { event_id: string }) => d.event_id), [third]);
    assert.equal(succeeded.body.has_more, true);
  });
});

Deno.test("paging through deliveries loses and repeats nothing while new deliveries arrive", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  await withReceiver(receiver, async () => {
    // 25 deliveries from one statement share one created_at: the id breaks the tie.
    await sql(
      `select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n))
         from generate_series(1, 25) n`,
      [workspaceId],
    );
    const before = (await sql<{ id: string }>(
      "select id from public.webhook_deliveries where subscription_id = $1",
      [subscription.id],
    )).map((row) => row.id);
    assert.equal(before.length, 25);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "?limit=7" : `?limit=7&cursor=${cursor}`;
      const page = await call(token, "GET", `/${subscription.id}/deliveries${query}`);
      assert.equal(page.status, 200);
      seen.push(...page.body.data.map((d: { id: string }) => d.id));
      cursor = page.body.next_cursor;
      pages++;
      // New deliveries between pages, in a transaction of their own each time.
      await emit(workspaceId, "contact.created", { between: pages });
    } while (cursor !== null);

    assert.equal(pages, 4);
    assert.equal(new Set(seen).size, seen.length, "no delivery twice");
    assert.deepEqual([...seen].sort(), [...before].sort(), "exactly the deliveries there at first");
    const all = await call(token, "GET", `/${subscription.id}/deliveries?limit=100`);
    assert.equal(all.body.data.length, 29, "the new ones come first on a fresh walk");
    assert.deepEqual(all.body.data.slice(4).map((d: { id: string }) => d.id), seen);
  });
});

Deno.test("GET /{id}/deliveries/{delivery_id} shows the payload as sent and every attempt", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp((index) =>
    index === 0 ? new Response("busy, try later", { status: 503 }) : ok()
  );
  await withReceiver(receiver, async () => {
    const eventId = await emit(workspaceId, "contact.created", { id: "c_9", name: "Ada" });
    const [delivery] = await settled(subscription.id, 1);
    const received = await receiver.waitFor(2);

    const answer = await call(token, "GET", `/${subscription.id}/deliveries/${delivery.id}`);
    assert.equal(answer.status, 200);
    const { data } = answer.body;
    assert.equal(data.id, delivery.id);
    assert.equal(data.event_id, eventId);
    assert.equal(data.status, "succeeded");
    assert.equal(data.attempt_count, 2);
    assert.equal(data.last_response_status, 204);
    assert.deepEqual(data.payload, JSON.parse(received[0].body), "the body the receiver got");
    assert.deepEqual(data.payload.data, { id: "c_9", name: "Ada" });
    const attempts = await sql<{ started_at: Date; duration_ms: number }>(
      "select started_at, duration_ms from public.webhook_delivery_attempts where delivery_id = $1 order by attempt_number",
      [delivery.id],
    );
    assert.deepEqual(data.attempts, [
      {
        attempt_number: 1,
        started_at: seconds(attempts[0].started_at),
        duration_ms: attempts[0].duration_ms,
        response_status: 503,
        error_kind: "http_status",
        response_body: "busy, try later",
      },
      {
        attempt_number: 2,
        started_at: seconds(attempts[1].started_at),
        duration_ms: attempts[1].duration_ms,
        response_status: 204,
        error_kind: null,
        response_body: "",
      },
    ]);
    assert.ok(!answer.text.includes(subscription.secret), "no secret in the answer");
  });
});

Deno.test("POST …/retry sends a failed delivery again with the same webhook-id, then a succeeded one", async () => {
  let healthy = false;
  const { receiver, token, subscription, workspaceId } = await setUp(() =>
    healthy ? ok() : new Response("down", { status: 500 })
  );
  await withReceiver(receiver, async () => {
    const eventId = await emit(workspaceId, "contact.created", { id: "c_1" });
    const [failed] = await settled(subscription.id, 1);
    assert.equal(failed.status, "failed");
    assert.equal(failed.attempt_count, 3);
    await receiver.waitFor(3);

    healthy = true;
    const retried = await call(
      token,
      "POST",
      `/${subscription.id}/deliveries/${failed.id}/retry`,
    );
    assert.equal(retried.status, 202);
    assert.equal(retried.body.data.id, failed.id);
    assert.equal(retried.body.data.status, "pending");
    assert.equal(retried.body.data.attempt_count, 3);
    assert.equal(retried.body.data.finished_at, null);
    assert.ok(retried.body.data.next_attempt_at, "due now");

    const requests = await receiver.waitFor(4);
    assert.equal(requests[3].headers["webhook-id"], eventId);
    assert.equal(requests[3].body, requests[0].body, "the same body");
    new Webhook(subscription.secret, { format: "raw" }).verify(
      requests[3].body,
      requests[3].headers,
    );
    await eventually("the retry succeeded", async () => {
      const row = await storedDelivery(failed.id);
      return row.status === "succeeded" && row;
    });
    const detail = await call(token, "GET", `/${subscription.id}/deliveries/${failed.id}`);
    assert.deepEqual(
      detail.body.data.attempts.map((a: { response_status: number }) => a.response_status),
      [500, 500, 500, 204],
    );
    assert.equal(detail.body.data.attempt_count, 4);

    // A succeeded delivery can be sent again too.
    const again = await call(token, "POST", `/${subscription.id}/deliveries/${failed.id}/retry`);
    assert.equal(again.status, 202);
    const fifth = await receiver.waitFor(5);
    assert.equal(fifth[4].headers["webhook-id"], eventId);
    await eventually("the second retry was recorded", async () => {
      const row = await storedDelivery(failed.id);
      return row.status === "succeeded" && row.attempt_count === 5 && row;
    });
  });
});

Deno.test("a delivery of a disabled subscription is not retried, and nothing changes", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  await withReceiver(receiver, async () => {
    await emit(workspaceId, "contact.created", { id: "c_1" });
    const [delivery] = await settled(subscription.id, 1);
    assert.equal(
      (await call(token, "PATCH", `/${subscription.id}`, { enabled: false })).status,
      200,
    );
    const before = await storedDelivery(delivery.id);
    const refused = await call(
      token,
      "POST",
      `/${subscription.id}/deliveries/${delivery.id}/retry`,
    );
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, "subscription_disabled");
    assert.match(refused.body.message, /enabled/);
    assert.deepEqual(await storedDelivery(delivery.id), before);
  });
});

Deno.test("POST /{id}/test sends webhook.test to this subscription only, even while disabled", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  const other = startReceiver();
  await withReceiver(receiver, async () => {
    try {
      // Another subscription of the same workspace, listening to every CRM event.
      const sibling = await subscribe(token, `${other.origin}/hook`, [
        "contact.created",
        "contact.updated",
        "deal.created",
        "deal.updated",
      ]);
      const sent = await call(token, "POST", `/${subscription.id}/test`);
      assert.equal(sent.status, 202);
      assert.equal(sent.body.data.event_type, "webhook.test");
      assert.equal(sent.body.data.status, "pending");
      assert.equal(sent.body.data.attempt_count, 0);

      const [request] = await receiver.waitFor(1);
      const payload = new Webhook(subscription.secret, { format: "raw" }).verify(
        request.body,
        request.headers,
      ) as Record<string, unknown>;
      assert.equal(request.headers["webhook-id"], sent.body.data.event_id);
      assert.deepEqual(payload, {
        id: sent.body.data.event_id,
        type: "webhook.test",
        timestamp: payload.timestamp,
        workspace_id: workspaceId,
        data: { message: "A test event from WundertreOS, sent because you asked for one." },
      });
      const watched = await eventually("the test delivery succeeded", async () => {
        const answer = await call(
          token,
          "GET",
          `/${subscription.id}/deliveries/${sent.body.data.id}`,
        );
        return answer.body.data.status === "succeeded" && answer.body.data;
      });
      assert.deepEqual(watched.payload, payload);

      // Disabled: its CRM deliveries stop, a test still goes.
      await call(token, "PATCH", `/${subscription.id}`, { enabled: false });
      const whileDisabled = await call(token, "POST", `/${subscription.id}/test`);
      assert.equal(whileDisabled.status, 202);
      const requests = await receiver.waitFor(2);
      assert.equal(requests[1].headers["webhook-id"], whileDisabled.body.data.event_id);
      await eventually("the second test delivery succeeded", async () => {
        const row = await storedDelivery(whileDisabled.body.data.id);
        return row.status === "succeeded" && row;
      });
      const [state] = await sql<{ enabled: boolean; disabled_reason: string }>(
        "select enabled, disabled_reason from public.webhook_subscriptions where id = $1",
        [subscription.id],
      );
      assert.deepEqual(state, { enabled: false, disabled_reason: "manual" }, "still disabled");

      assert.equal(other.requests.length, 0, "the sibling got no test event");
      assert.equal(
        (await sql("select 1 from public.webhook_deliveries where subscription_id = $1", [
          sibling.id,
        ])).length,
        0,
      );
    } finally {
      await other.close();
    }
  });
});

Deno.test("POST /{id}/recover sends every failed delivery since a time again, and only those", async () => {
  let healthy = false;
  const { receiver, token, subscription, workspaceId } = await setUp(() =>
    healthy ? ok() : new Response(null, { status: 500 })
  );
  await withReceiver(receiver, async () => {
    const failedEvents = [
      await emit(workspaceId, "contact.created", { n: 1 }),
      await emit(workspaceId, "deal.created", { n: 2 }),
    ];
    await settled(subscription.id, 2);
    // One failed before the window: recover must leave it.
    const old = await emit(workspaceId, "contact.created", { n: 0 });
    await settled(subscription.id, 3);
    await sql(
      "update public.webhook_deliveries set created_at = now() - interval '2 days' where event_id = $1",
      [old],
    );
    healthy = true;
    const succeeded = await emit(workspaceId, "contact.created", { n: 3 });
    await settled(subscription.id, 4);
    const requestsBefore = receiver.requests.length;

    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const recovered = await call(token, "POST", `/${subscription.id}/recover`, { since });
    assert.equal(recovered.status, 202);
    assert.deepEqual(recovered.body, { data: { recovered: 2 } });

    const requests = await receiver.waitFor(requestsBefore + 2);
    assert.deepEqual(
      requests.slice(requestsBefore).map((r) => r.headers["webhook-id"]).sort(),
      [...failedEvents].sort(),
    );
    await eventually("both recovered deliveries succeeded", async () => {
      const rows = await sql<{ event_id: string; status: string }>(
        "select event_id, status from public.webhook_deliveries where subscription_id = $1",
        [subscription.id],
      );
      const status = Object.fromEntries(rows.map((row) => [row.event_id, row.status]));
      return status[failedEvents[0]] === "succeeded" && status[failedEvents[1]] === "succeeded" &&
        status;
    }).then((status) => {
      assert.equal(status[old], "failed", "older than since: left as it was");
      assert.equal(status[succeeded], "succeeded");
    });
    // Nothing failed is left in the window: recovering again finds none.
    const again = await call(token, "POST", `/${subscription.id}/recover`, { since });
    assert.deepEqual(again.body, { data: { recovered: 0 } });

    await call(token, "PATCH", `/${subscription.id}`, { enabled: false });
    const disabled = await call(token, "POST", `/${subscription.id}/recover`, { since });
    assert.equal(disabled.status, 409);
    assert.equal(disabled.body.error, "subscription_disabled");
  });
});

Deno.test("the delivery routes answer 400 for each bad parameter, and change nothing", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  await withReceiver(receiver, async () => {
    await emit(workspaceId, "contact.created", { id: "c_1" });
    await settled(subscription.id, 1);
    const list = (query: string) => call(token, "GET", `/${subscription.id}/deliveries?${query}`);
    const cases: [string, string][] = [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["status=delivered", "status"],
      ["event_type=contact.deleted", "event_type"],
      ["cursor=not-a-cursor", "cursor"],
      ["enabled=true", "enabled"],
      ["status=failed&status=pending", "status"],
    ];
    for (const [query, field] of cases) {
      const answer = await list(query);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.error, "invalid_request", query);
      assert.deepEqual(answer.body.details.map((d: { field: string }) => d.field), [field], query);
    }

    const before = await sql("select * from public.webhook_deliveries where subscription_id = $1", [
      subscription.id,
    ]);
    const recover = (body: unknown) => call(token, "POST", `/${subscription.id}/recover`, body);
    const bodies: [unknown, string][] = [
      [{}, "since"],
      [{ since: "yesterday" }, "since"],
      [{ since: "2026-12-03" }, "since"],
      [{ since: 1764720000 }, "since"],
      [{ since: new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString() }, "since"],
      [{ since: new Date(Date.now() + 3600 * 1000).toISOString() }, "since"],
      [{ since: "9999-12-31T23:59:59-01:00" }, "since"],
      [{ since: new Date().toISOString(), until: new Date().toISOString() }, "until"],
    ];
    for (const [body, field] of bodies) {
      const answer = await recover(body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.deepEqual(answer.body.details.map((d: { field: string }) => d.field), [field]);
    }
    assert.deepEqual(
      await sql("select * from public.webhook_deliveries where subscription_id = $1", [
        subscription.id,
      ]),
      before,
    );
  });
});

Deno.test("the delivery routes need a credential, their scopes, and the caller's own ids", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  await withReceiver(receiver, async () => {
    await emit(workspaceId, "contact.created", { id: "c_1" });
    const [delivery] = await settled(subscription.id, 1);
    // Another subscription of the same workspace, with a delivery of its own.
    const sibling = await subscribe(token, `${receiver.origin}/sibling`, ["deal.created"]);
    await emit(workspaceId, "deal.created", { id: "d_1" });
    const [siblingDelivery] = await settled(sibling.id, 1);
    await settled(subscription.id, 2); // it listens to deal.created too
    const routes: [string, string, unknown?][] = [
      ["GET", `/${subscription.id}/deliveries`],
      ["GET", `/${subscription.id}/deliveries/${delivery.id}`],
      ["POST", `/${subscription.id}/deliveries/${delivery.id}/retry`],
      ["POST", `/${subscription.id}/test`],
      ["POST", `/${subscription.id}/recover`, { since: new Date().toISOString() }],
    ];
    const writes = (method: string) => method === "POST";
    const stateBefore = await sql(
      "select id, status, attempt_count, next_attempt_at from public.webhook_deliveries where subscription_id = any($1) order by id",
      [[subscription.id, sibling.id]],
    );

    const readOnly = await newToken({ workspaceId, scopes: ["webhooks:read"] });
    const writeOnly = await newToken({ workspaceId, scopes: ["webhooks:write"] });
    const stranger = await newToken();
    for (const [method, path, body] of routes) {
      const anonymous = await call("", method, path, body);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      assert.equal(anonymous.body.error, "unauthorized");

      const noRead = await call(writeOnly.token, method, path, body);
      assert.equal(noRead.status, 403, `${method} ${path} without webhooks:read`);
      assert.equal(noRead.body.missing_scope, "webhooks:read");

      const read = await call(readOnly.token, method, path, body);
      if (writes(method)) {
        assert.equal(read.status, 403, `${method} ${path} without webhooks:write`);
        assert.equal(read.body.missing_scope, "webhooks:write");
      } else assert.equal(read.status, 200, `${method} ${path} with webhooks:read`);

      const foreign = await call(stranger.token, method, path, body);
      assert.equal(foreign.status, 404, `${method} ${path} from another workspace`);
      assert.equal(foreign.body.error, "not_found");
    }

    // The sibling's delivery under this subscription's id, a made-up one, and a malformed one.
    const notThis = [
      `/${subscription.id}/deliveries/${siblingDelivery.id}`,
      `/${subscription.id}/deliveries/${crypto.randomUUID()}`,
      `/${subscription.id}/deliveries/not-a-uuid`,
    ];
    const answers = [];
    for (const path of notThis) {
      answers.push(await call(token, "GET", path), await call(token, "POST", `${path}/retry`));
    }
    for (const answer of answers) {
      assert.equal(answer.status, 404);
      assert.deepEqual(answer.body, {
        error: "not_found",
        message: "This subscription has no delivery with this id.",
      });
    }
    const unknownSubscription = await call(token, "GET", `/${crypto.randomUUID()}/deliveries`);
    assert.equal(unknownSubscription.status, 404);
    assert.equal(
      unknownSubscription.body.message,
      "There is no webhook subscription with this id.",
    );

    assert.deepEqual(
      await sql(
        "select id, status, attempt_count, next_attempt_at from public.webhook_deliveries where subscription_id = any($1) order by id",
        [[subscription.id, sibling.id]],
      ),
      stateBefore,
      "no refused call changed a delivery",
    );
    const tests = await sql(
      "select 1 from public.webhook_events where workspace_id = $1 and type = 'webhook.test'",
      [
        workspaceId,
      ],
    );
    assert.equal(tests.length, 0, "no refused call sent a test event");
  });
});

Deno.test("a retry while an attempt is under way is a 409 and changes nothing, cancelled or not", async () => {
  const { receiver, token, subscription, workspaceId } = await setUp();
  // Nothing is sent meanwhile: the test plays the dispatcher's claim itself.
  await pauseScheduler();
  try {
    await withReceiver(receiver, async () => {
      const eventId = await emit(workspaceId, "contact.created", { id: "c_1" });
      const test = await call(token, "POST", `/${subscription.id}/test`);
      const [delivery] = await sql<{ id: string }>(
        "select id from public.webhook_deliveries where event_id = $1",
        [eventId],
      );
      const ids = [delivery.id, test.body.data.id];
      // What claim_webhook_deliveries does to a row it takes: a lease of 60 s.
      await sql(
        `update public.webhook_deliveries
            set lease_id = gen_random_uuid(), next_attempt_at = now() + interval '60 seconds',
                attempt_count = attempt_count + 1
          where id = any($1::uuid[])`,
        [ids],
      );
      const retry = (id: string) =>
        call(token, "POST", `/${subscription.id}/deliveries/${id}/retry`);
      const rows = () =>
        sql("select * from public.webhook_deliveries where id = any($1::uuid[]) order by id", [
          ids,
        ]);

      const leased = await rows();
      for (const id of ids) {
        const answer = await retry(id);
        assert.equal(answer.status, 409);
        assert.equal(answer.body.error, "delivery_in_flight");
      }
      assert.deepEqual(await rows(), leased);

      // Disabling cancels both but keeps their leases (the attempts are still under way): a
      // retry of the test delivery, which a disabled subscription may still get, is refused too.
      await call(token, "PATCH", `/${subscription.id}`, { enabled: false });
      const cancelled = await rows();
      assert.deepEqual(cancelled.map((row) => row.status), ["cancelled", "cancelled"]);
      assert.equal((await retry(test.body.data.id)).body.error, "delivery_in_flight");
      await call(token, "PATCH", `/${subscription.id}`, { enabled: true });
      assert.equal((await retry(delivery.id)).body.error, "delivery_in_flight");

      // Once the lease has run out, the delivery is no longer in flight.
      await sql(
        "update public.webhook_deliveries set next_attempt_at = now() - interval '1 second' where id = $1",
        [delivery.id],
      );
      const retried = await retry(delivery.id);
      assert.equal(retried.status, 202);
      assert.equal(retried.body.data.status, "pending");
      await resumeScheduler();
      const [request] = await receiver.waitFor(1);
      assert.equal(request.headers["webhook-id"], eventId);
    });
  } finally {
    await resumeScheduler();
  }
});
