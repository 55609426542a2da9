/**
 * Deliveries end to end (../shared/spec/deliveries.md): events emitted in the database reach real
 * receivers on loopback through the test stack's scheduled webhook-dispatcher, signed as
 * Standard Webhooks, retried, and recorded. The stack shortens the contract's waits by
 * configuration only (tests/helpers/dispatcher-env.ts): 2 s per attempt, retries after 1 s and 1 s.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import {
  attemptsOf,
  deliveriesOf,
  emit,
  eventually,
  settled,
  startReceiver,
  subscribe,
} from "./helpers/receiver.ts";
import { apiFetch, newToken, sql, stack } from "./helpers/stack.ts";

const json = (status: number, body: unknown = {}) => Response.json(body, { status });

function hmac(secret: string, headers: Record<string, string>, body: string): string {
  const content = `${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`;
  return `v1,${createHmac("sha256", secret).update(content).digest("base64")}`;
}

Deno.test("a delivery is the contract's request, signed so standardwebhooks and a plain HMAC verify it", async () => {
  const receiver = startReceiver();
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    const before = Math.floor(Date.now() / 1000);
    const data = { id: "c_1", email: "ada@example.com", tags: ["lead"], nested: { n: 1.5 } };
    const eventId = await emit(subscription.workspaceId, "contact.created", data);
    const [request] = await receiver.waitFor(1);

    assert.equal(request.method, "POST");
    assert.equal(request.path, "/hook");
    assert.equal(request.headers["content-type"], "application/json");
    assert.match(request.headers["user-agent"], /^WundertreOS-Webhooks\/\d+\.\d+$/);
    assert.equal(request.headers["webhook-id"], eventId);
    const timestamp = Number(request.headers["webhook-timestamp"]);
    assert.ok(timestamp >= before && timestamp <= Math.ceil(Date.now() / 1000), String(timestamp));
    const body = JSON.parse(request.body);
    assert.deepEqual(Object.keys(body), ["id", "type", "timestamp", "workspace_id", "data"]);
    assert.equal(body.id, eventId);
    assert.equal(body.type, "contact.created");
    assert.equal(body.workspace_id, subscription.workspaceId);
    assert.deepEqual(body.data, data);
    assert.ok(Math.abs(Date.parse(body.timestamp) - before * 1000) < 5000, body.timestamp);
    assert.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    // As the contract shows it, and by hand: the key is the secret's 64 characters as bytes.
    const verified = new Webhook(subscription.secret, { format: "raw" }).verify(
      request.body,
      request.headers,
    );
    assert.deepEqual(verified, body);
    assert.equal(
      request.headers["webhook-signature"],
      hmac(subscription.secret, request.headers, request.body),
    );
    assert.throws(() =>
      new Webhook("0".repeat(64), { format: "raw" }).verify(request.body, request.headers)
    );
    assert.throws(() =>
      new Webhook(subscription.secret, { format: "raw" }).verify(
        request.body.replace("c_1", "c_2"),
        request.headers,
      )
    );

    const [delivery] = await settled(subscription.id, 1);
    assert.equal(delivery.status, "succeeded");
    assert.equal(delivery.event_id, eventId);
    const [attempt] = await attemptsOf(delivery.id);
    assert.equal(attempt.attempt_number, 1);
    assert.equal(attempt.response_status, 204);
    assert.equal(attempt.error_kind, null);
  } finally {
    await receiver.close();
  }
});

Deno.test("during a rotation's grace both secrets verify, new first; after it only the new one", async () => {
  const receiver = startReceiver();
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    const rotated = await apiFetch(`${stack.functionUrl}/${subscription.id}/rotate-secret`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(rotated.status, 200);
    const newSecret = (await rotated.json()).data.secret;

    await emit(subscription.workspaceId, "contact.created", { id: "during" });
    const [during] = await receiver.waitFor(1);
    const signatures = during.headers["webhook-signature"].split(" ");
    assert.deepEqual(signatures, [
      hmac(newSecret, during.headers, during.body),
      hmac(subscription.secret, during.headers, during.body),
    ]);
    for (const secret of [newSecret, subscription.secret]) {
      new Webhook(secret, { format: "raw" }).verify(during.body, during.headers);
    }

    await sql(
      "update public.webhook_subscriptions set previous_secret_expires_at = now() - interval '1 second' where id = $1",
      [subscription.id],
    );
    await emit(subscription.workspaceId, "contact.created", { id: "after" });
    const [, after] = await receiver.waitFor(2);
    assert.equal(after.headers["webhook-signature"], hmac(newSecret, after.headers, after.body));
    new Webhook(newSecret, { format: "raw" }).verify(after.body, after.headers);
    assert.throws(() =>
      new Webhook(subscription.secret, { format: "raw" }).verify(after.body, after.headers)
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("503 then 200: the same webhook-id twice, both attempts recorded, then succeeded", async () => {
  const receiver = startReceiver((_request, index) =>
    index === 0 ? json(503, { busy: "try later" }) : new Response("thanks", { status: 200 })
  );
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    const eventId = await emit(subscription.workspaceId, "contact.created", { id: "c_503" });
    const [first, second] = await receiver.waitFor(2);
    assert.equal(first.headers["webhook-id"], eventId);
    assert.equal(second.headers["webhook-id"], eventId);
    assert.equal(first.body, second.body, "every attempt carries the same body");
    const gap = second.at - first.at;
    // The first wait is 1 s ±20% here (5 s in production), counted from the failed answer.
    assert.ok(gap >= 750 && gap < 3000, `retried after ${gap} ms`);

    const [delivery] = await settled(subscription.id, 1);
    assert.equal(delivery.status, "succeeded");
    assert.equal(delivery.attempt_count, 2);
    assert.equal(delivery.last_response_status, 200);
    const attempts = await attemptsOf(delivery.id);
    assert.deepEqual(
      attempts.map(({ attempt_number, response_status, error_kind, response_body }) => ({
        attempt_number,
        response_status,
        error_kind,
        response_body,
      })),
      [
        {
          attempt_number: 1,
          response_status: 503,
          error_kind: "http_status",
          response_body: '{"busy":"try later"}',
        },
        { attempt_number: 2, response_status: 200, error_kind: null, response_body: "thanks" },
      ],
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("a Retry-After longer than the schedule's wait is honoured", async () => {
  const receiver = startReceiver((_request, index) =>
    index === 0
      ? new Response(null, { status: 429, headers: { "Retry-After": "3" } })
      : new Response(null, { status: 204 })
  );
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    await emit(subscription.workspaceId, "contact.created", { id: "c_429" });
    const [first, second] = await receiver.waitFor(2, { timeoutMs: 10_000 });
    const gap = second.at - first.at;
    assert.ok(gap >= 3000 && gap < 5000, `retried after ${gap} ms, asked for 3 s`);
    const [delivery] = await settled(subscription.id, 1);
    assert.equal(delivery.status, "succeeded");
  } finally {
    await receiver.close();
  }
});

Deno.test("a timeout, a reset, a refused connection, a malformed answer, a 302, a 500 and a bad certificate each fail, and the schedule ends in failed", async () => {
  const never = startReceiver(() => new Promise<Response>(() => {}));
  const redirected = startReceiver();
  const redirecting = startReceiver(() =>
    new Response(null, { status: 302, headers: { Location: `${redirected.origin}/elsewhere` } })
  );
  const failing = startReceiver(() => json(500, { error: "boom" }));
  const selfSigned = startReceiver(undefined, { tls: true });
  // Accepts, reads the request, and closes without answering.
  const resetting = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const connection of resetting) {
      connection.read(new Uint8Array(65536)).finally(() => connection.close());
    }
  })().catch(() => {});
  // Answers with something that is not HTTP.
  const garbage = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const connection of garbage) {
      (async () => {
        await connection.read(new Uint8Array(65536));
        await connection.write(new TextEncoder().encode("HTTP/1.1 abc garbage\r\n\r\n"));
      })().catch(() => {}).finally(() => connection.close());
    }
  })().catch(() => {});
  const refusedPort = (() => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    return port;
  })();
  try {
    const { token, workspaceId } = await newToken();
    const targets = {
      timeout: `${never.origin}/hook`,
      connection_reset: `http://127.0.0.1:${resetting.addr.port}/hook`,
      connection_refused: `http://127.0.0.1:${refusedPort}/hook`,
      invalid_response: `http://127.0.0.1:${garbage.addr.port}/hook`,
      redirect: `${redirecting.origin}/hook`,
      http_status: `${failing.origin}/hook`,
      tls_error: `${selfSigned.origin}/hook`,
    };
    const subscriptions = new Map<string, string>();
    for (const [kind, url] of Object.entries(targets)) {
      subscriptions.set(kind, (await subscribe(token, url)).id);
    }
    await emit(workspaceId, "contact.created", { id: "c_fail" });

    for (const [kind, id] of subscriptions) {
      const [delivery] = await settled(id, 1, 30_000);
      assert.equal(delivery.status, "failed", kind);
      assert.equal(delivery.attempt_count, 3, `${kind}: the first attempt and the 2 retries`);
      const attempts = await attemptsOf(delivery.id);
      assert.deepEqual(attempts.map((a) => a.error_kind), [kind, kind, kind], kind);
      const status = { redirect: 302, http_status: 500 }[kind as string] ?? null;
      assert.deepEqual(attempts.map((a) => a.response_status), [status, status, status], kind);
    }
    const timeouts = await attemptsOf((await deliveriesOf(subscriptions.get("timeout")!))[0].id);
    for (const attempt of timeouts) {
      assert.ok(
        attempt.duration_ms >= 1900 && attempt.duration_ms < 3000,
        `${attempt.duration_ms}`,
      );
    }
    assert.equal(redirected.requests.length, 0, "a redirect is never followed");
    assert.equal(selfSigned.requests.length, 0, "no request goes over an unverified connection");
    assert.equal(failing.requests.length, 3);
  } finally {
    resetting.close();
    garbage.close();
    for (const receiver of [never, redirected, redirecting, failing, selfSigned]) {
      await receiver.close();
    }
  }
});

Deno.test("410 Gone disables the subscription as target_gone and cancels what it had pending; PATCH enabled: true clears it", async () => {
  let gone = true;
  const receiver = startReceiver(() => new Response(null, { status: gone ? 410 : 204 }));
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    await sql(
      "select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n)) from generate_series(1, 30) as n",
      [subscription.workspaceId],
    );
    const rows = await settled(subscription.id, 30);
    const failed = rows.filter((row) => row.status === "failed");
    const cancelled = rows.filter((row) => row.status === "cancelled");
    assert.ok(failed.length >= 1, "the 410 attempt is recorded as failed");
    assert.equal(failed.length + cancelled.length, 30, JSON.stringify(rows.map((r) => r.status)));
    assert.ok(cancelled.length >= 30 - 8, "at most the 8 in flight were sent");
    assert.ok(receiver.requests.length <= 8, `${receiver.requests.length} requests`);
    for (const row of failed) assert.equal(row.last_response_status, 410);

    const got = await apiFetch(`${stack.functionUrl}/${subscription.id}`, { headers });
    const { data } = await got.json();
    assert.equal(data.enabled, false);
    assert.equal(data.disabled_reason, "target_gone");
    assert.ok(Math.abs(Date.parse(data.disabled_at) - Date.now()) < 10_000, data.disabled_at);
    const list = await (await apiFetch(stack.functionUrl, { headers })).json();
    assert.equal(list.data[0].disabled_reason, "target_gone");

    // Disabled: a new event makes no delivery for it.
    await emit(subscription.workspaceId, "contact.created", { id: "while disabled" });
    assert.equal((await deliveriesOf(subscription.id)).length, 30);

    gone = false;
    const enabled = await apiFetch(`${stack.functionUrl}/${subscription.id}`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ enabled: true }),
    });
    const { data: again } = await enabled.json();
    assert.deepEqual([again.enabled, again.disabled_reason, again.disabled_at], [true, null, null]);
    const eventId = await emit(subscription.workspaceId, "contact.created", { id: "back" });
    const requests = await receiver.waitFor(receiver.requests.length + 1);
    assert.equal(requests.at(-1)!.headers["webhook-id"], eventId);
  } finally {
    await receiver.close();
  }
});

Deno.test("five days of failures disable a subscription as failing; a success ends the streak", async () => {
  let answer = 500;
  const receiver = startReceiver(() => new Response(null, { status: answer }));
  try {
    const { token, workspaceId } = await newToken();
    const longFailing = await subscribe(token, `${receiver.origin}/long`);
    const recentlyFailing = await subscribe(token, `${receiver.origin}/recent`);
    await sql(
      "update public.webhook_subscriptions set failing_since = now() - interval '5 days 1 minute' where id = $1",
      [longFailing.id],
    );
    await sql(
      "update public.webhook_subscriptions set failing_since = now() - interval '4 days' where id = $1",
      [recentlyFailing.id],
    );
    await emit(workspaceId, "contact.created", { id: "c_1" });
    const [long] = await settled(longFailing.id, 1);
    assert.equal(long.status, "cancelled", "its retry is cancelled with the subscription");
    const [row] = await sql<{ enabled: boolean; disabled_reason: string }>(
      "select enabled, disabled_reason from public.webhook_subscriptions where id = $1",
      [longFailing.id],
    );
    assert.deepEqual({ ...row }, { enabled: false, disabled_reason: "failing" });

    answer = 204;
    const [recent] = await settled(recentlyFailing.id, 1);
    assert.equal(recent.status, "succeeded");
    const [streak] = await sql<{ enabled: boolean; failing_since: Date | null }>(
      "select enabled, failing_since from public.webhook_subscriptions where id = $1",
      [recentlyFailing.id],
    );
    assert.deepEqual({ ...streak }, { enabled: true, failing_since: null });
  } finally {
    await receiver.close();
  }
});

Deno.test("disabled and deleted subscriptions get nothing, and nor does one created after the event", async () => {
  const receiver = startReceiver();
  try {
    const { token, workspaceId } = await newToken();
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const live = await subscribe(token, `${receiver.origin}/live`);
    const liveDeliveries = () => deliveriesOf(live.id);
    const disabled = await subscribe(token, `${receiver.origin}/disabled`);
    const deleted = await subscribe(token, `${receiver.origin}/deleted`);
    const otherType = await subscribe(token, `${receiver.origin}/deals`, ["deal.created"]);
    const otherWorkspace = await subscribe((await newToken()).token, `${receiver.origin}/other`);
    for (
      const [method, id, body] of [
        ["PATCH", disabled.id, { enabled: false }],
        ["DELETE", deleted.id, undefined],
      ] as const
    ) {
      const response = await apiFetch(`${stack.functionUrl}/${id}`, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
      });
      assert.ok(response.ok);
    }
    const eventId = await emit(workspaceId, "contact.created", { id: "c_1" });
    const late = await subscribe(token, `${receiver.origin}/late`);
    await receiver.waitFor(1, { path: "/live" });
    // A second event, delivered to /late: once it is there, the first would have been too.
    await emit(workspaceId, "contact.created", { id: "c_2" });
    await receiver.waitFor(2, { path: "/live" });
    await receiver.waitFor(1, { path: "/late" });
    const paths = receiver.requests.map((r) => `${r.path} ${JSON.parse(r.body).data.id}`).sort();
    assert.deepEqual(paths, ["/late c_2", "/live c_1", "/live c_2"]);
    assert.ok(
      !receiver.requests.some((r) => r.path === "/late" && r.headers["webhook-id"] === eventId),
    );
    assert.equal((await liveDeliveries()).length, 2);
    for (const id of [disabled.id, otherType.id, otherWorkspace.id, late.id]) {
      assert.ok((await deliveriesOf(id)).every((row) => row.event_id !== eventId));
    }
  } finally {
    await receiver.close();
  }
});

Deno.test("the dispatcher answers only the service role, and only POST", async () => {
  const url = stack.apiUrl + "/functions/v1/webhook-dispatcher";
  const { token } = await newToken();
  for (
    const authorization of [undefined, `Bearer ${stack.anonKey}`, `Bearer ${token}`, "Basic x"]
  ) {
    const response = await fetch(url, {
      method: "POST",
      headers: authorization ? { Authorization: authorization } : {},
    });
    assert.equal(response.status, 401, authorization);
    assert.equal((await response.json()).error, "unauthorized");
  }
  const get = await fetch(url, { headers: { Authorization: `Bearer ${stack.serviceRoleKey}` } });
  assert.equal(get.status, 405);
  assert.equal((await get.json()).error, "method_not_allowed");
  const run = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.serviceRoleKey}` },
  });
  assert.equal(run.status, 200);
  const { data } = await run.json();
  assert.deepEqual(Object.keys(data).sort(), [
    "capped",
    "claimed",
    "duration_ms",
    "failed",
    "gone",
    "retried",
    "succeeded",
    "unrecorded",
  ]);
});

Deno.test("a receiver that never answers, drips, or floods costs one failed attempt in its own slot", async () => {
  const encoder = new TextEncoder();
  const slow = startReceiver((request) => {
    if (request.path === "/never") return new Promise<Response>(() => {});
    if (request.path === "/drip") {
      let timer: ReturnType<typeof setInterval>;
      return new Response(
        new ReadableStream({
          start(controller) {
            timer = setInterval(() => controller.enqueue(encoder.encode(".")), 200);
          },
          cancel() {
            clearInterval(timer);
          },
        }),
        { status: 200 },
      );
    }
    // 8 MiB of answer: only the first 64 KiB are read, the first 1 KiB kept.
    return new Response("x".repeat(8 * 1024 * 1024), { status: 200 });
  });
  const healthy = startReceiver();
  try {
    const { token, workspaceId } = await newToken();
    const never = await subscribe(token, `${slow.origin}/never`);
    const drip = await subscribe(token, `${slow.origin}/drip`);
    const flood = await subscribe(token, `${slow.origin}/flood`);
    await sql(
      "select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n)) from generate_series(1, 20) as n",
      [workspaceId],
    );
    const fine = await subscribe((await newToken()).token, `${healthy.origin}/fine`);
    await slow.waitFor(8, { path: "/never" });
    const emitted = performance.now();
    await emit(fine.workspaceId, "contact.created", { id: "fast" });
    const [arrived] = await healthy.waitFor(1);
    assert.ok(arrived.at - emitted < 1000, `arrived after ${arrived.at - emitted} ms`);

    const [flooded] = await eventually("a flooding answer's attempt", async () => {
      const attempts = await attemptsOf((await deliveriesOf(flood.id))[0].id);
      return attempts.length > 0 && attempts;
    });
    assert.equal(flooded.response_status, 200);
    assert.equal(flooded.error_kind, "response_too_large", "a huge answer is a failed attempt");
    assert.equal(flooded.response_body, "x".repeat(1024));
    const [dripped] = await eventually("a dripping answer's attempt", async () => {
      const attempts = await attemptsOf((await deliveriesOf(drip.id))[0].id);
      return attempts.length > 0 && attempts;
    });
    assert.equal(dripped.error_kind, "timeout", "a 200 that never ends is a failure");
    assert.ok(dripped.duration_ms >= 1900 && dripped.duration_ms < 3000, `${dripped.duration_ms}`);
    const neverRows = await deliveriesOf(never.id);
    assert.equal(neverRows.length, 20);
  } finally {
    await sql("delete from public.webhook_subscriptions where target_url like $1", [
      `${slow.origin}/%`,
    ]);
    await slow.close();
    await healthy.close();
  }
});

Deno.test("records are kept 30 days, then removed with their deliveries and attempts", async () => {
  const receiver = startReceiver();
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    const old = await emit(subscription.workspaceId, "contact.created", { id: "old" });
    const recent = await emit(subscription.workspaceId, "contact.created", { id: "recent" });
    await settled(subscription.id, 2);
    await sql(
      "update public.webhook_events set created_at = now() - interval '30 days 1 minute' where id = $1",
      [old],
    );
    const response = await fetch(`${stack.apiUrl}/rest/v1/rpc/delete_expired_webhook_events`, {
      method: "POST",
      headers: {
        apikey: stack.serviceRoleKey,
        Authorization: `Bearer ${stack.serviceRoleKey}`,
        "Content-Type": "application/json",
      },
      body: "{}",
    });
    assert.equal(response.status, 200);
    assert.ok((await response.json()) >= 1);
    const left = await deliveriesOf(subscription.id);
    assert.deepEqual(left.map((row) => row.event_id), [recent]);
    const [{ count }] = await sql<{ count: number }>(
      "select count(*)::int as count from public.webhook_delivery_attempts a join public.webhook_deliveries d on d.id = a.delivery_id where d.event_id = $1",
      [old],
    );
    assert.equal(count, 0);
  } finally {
    await receiver.close();
  }
});

Deno.test("no function log line carries a secret, a token or a payload", async () => {
  const receiver = startReceiver((_r, index) =>
    new Response(null, { status: index === 0 ? 500 : 204 })
  );
  try {
    const { token } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook?key=url-secret-marker`);
    const marker = `payload-marker-${crypto.randomUUID()}`;
    await emit(subscription.workspaceId, "contact.created", { id: marker });
    await receiver.waitFor(2);
    await settled(subscription.id, 1);
    const log = await Deno.readTextFile(`${stack.logDir}/dispatcher.log`) +
      await Deno.readTextFile(`${stack.logDir}/function.log`);
    assert.match(log, /delivery attempt failed/, "the failed attempt is logged");
    for (
      const secret of [
        subscription.secret,
        token,
        marker,
        "url-secret-marker",
        stack.serviceRoleKey,
      ]
    ) {
      assert.ok(!log.includes(secret), "a secret, token, payload or URL in the log");
    }
  } finally {
    await receiver.close();
  }
});
