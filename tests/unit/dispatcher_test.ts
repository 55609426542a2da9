/**
 * The dispatcher's parts without the stack: the retry schedule, the signature against the
 * standardwebhooks reference library, the sender's address checks, and the run loop over a fake
 * store and sender (the same interfaces the real ones fill).
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { readDispatcherConfig } from "../../supabase/functions/webhook-dispatcher/config.ts";
import type {
  AttemptRecord,
  ClaimedDelivery,
  ClaimOptions,
  DeliveryStore,
} from "../../supabase/functions/webhook-dispatcher/delivery-store.ts";
import {
  type DispatchSettings,
  runDispatcher,
} from "../../supabase/functions/webhook-dispatcher/dispatcher.ts";
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  parseRetryAfter,
  retryDelayMs,
} from "../../supabase/functions/webhook-dispatcher/retry-schedule.ts";
import {
  type AttemptResponse,
  createSender,
} from "../../supabase/functions/webhook-dispatcher/sender.ts";
import { signatureHeader } from "../../supabase/functions/webhook-dispatcher/signature.ts";
import type { TargetPolicy } from "../../supabase/functions/_shared/target-policy.ts";
import { StoreUnavailableError } from "../../supabase/functions/_shared/errors.ts";
import { connectionCounter } from "../helpers/connection-counter.ts";

Deno.test("unit: the retry schedule is the contract's, with ±20% jitter, and ends after 7 retries", () => {
  assert.deepEqual(DEFAULT_RETRY_SCHEDULE_SECONDS, [5, 300, 1800, 7200, 18000, 36000, 36000]);
  const contract = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];
  contract.forEach((seconds, index) => {
    const attempt = index + 1;
    assert.equal(
      retryDelayMs(attempt, DEFAULT_RETRY_SCHEDULE_SECONDS, () => 0, null),
      seconds * 800,
    );
    assert.equal(
      retryDelayMs(attempt, DEFAULT_RETRY_SCHEDULE_SECONDS, () => 0.999999, null),
      Math.round(seconds * 1000 * (0.8 + 0.4 * 0.999999)),
    );
    assert.equal(
      retryDelayMs(attempt, DEFAULT_RETRY_SCHEDULE_SECONDS, () => 0.5, null),
      seconds * 1000,
    );
  });
  assert.equal(retryDelayMs(8, DEFAULT_RETRY_SCHEDULE_SECONDS, () => 0.5, null), null);
});

Deno.test("unit: Retry-After counts when it asks for longer, up to a day", () => {
  const schedule = DEFAULT_RETRY_SCHEDULE_SECONDS;
  assert.equal(retryDelayMs(1, schedule, () => 0.5, 120), 120_000);
  assert.equal(retryDelayMs(1, schedule, () => 0.5, 2), 5_000, "shorter asks are ignored");
  assert.equal(retryDelayMs(1, schedule, () => 0.5, 10 ** 9), 86_400_000);
  assert.equal(retryDelayMs(8, schedule, () => 0.5, 120), null, "it never adds an attempt");
  const now = new Date("2026-12-03T00:00:00Z");
  assert.equal(parseRetryAfter("120", now), 120);
  assert.equal(parseRetryAfter(" 7 ", now), 7);
  assert.equal(parseRetryAfter("Thu, 03 Dec 2026 00:01:30 GMT", now), 90);
  assert.equal(parseRetryAfter("Wed, 02 Dec 2026 00:00:00 GMT", now), 0);
  for (const garbage of ["soon", "-5", "1.5", ""]) {
    assert.equal(parseRetryAfter(garbage, now), null);
  }
  assert.equal(parseRetryAfter(null, now), null);
});

Deno.test("unit: the signature header is what the standardwebhooks reference library makes", async () => {
  const secrets = ["a".repeat(64), "0123456789abcdef".repeat(4)];
  const body = JSON.stringify({ id: "e", data: { "ünïcode": "✓", n: 1 } });
  const timestamp = 1796258804;
  const header = await signatureHeader(secrets, "msg_1", timestamp, body);
  const reference = secrets.map((secret) =>
    new Webhook(secret, { format: "raw" }).sign("msg_1", new Date(timestamp * 1000), body)
  );
  assert.equal(header, reference.join(" "));
});

Deno.test({
  name: "unit: an answer with no HTTP status, or longer than 64 KiB, is a failed attempt",
  sanitizeResources: false,
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const answers = [
      "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n",
      `HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n${"y".repeat(70_000)}`,
      `HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n${"z".repeat(65_536)}`,
    ];
    (async () => {
      let index = 0;
      for await (const connection of listener) {
        const text = answers[index++];
        (async () => {
          await connection.read(new Uint8Array(65536));
          await connection.write(new TextEncoder().encode(text));
        })().catch(() => {}).finally(() => connection.close());
      }
    })().catch(() => {});
    const send = createSender({
      timeoutMs: 2000,
      policy: {
        mode: "permissive",
        ownHosts: [],
        resolver: { resolve: () => Promise.resolve([]) },
      },
    });
    const url = `http://127.0.0.1:${listener.addr.port}/`;
    try {
      const results = [];
      for (let i = 0; i < answers.length; i++) {
        const { status, errorKind, body } = await send({ url, headers: {}, body: "{}" });
        results.push([status, errorKind, body?.length ?? null]);
      }
      assert.deepEqual(results, [
        [null, "invalid_response", null],
        [null, "invalid_response", null],
        [200, "response_too_large", 1024],
        [200, null, 1024],
      ]);
    } finally {
      listener.close();
    }
  },
});

const strictPolicy = (answers: Record<string, string[]>): TargetPolicy => ({
  mode: "strict",
  ownHosts: ["api.wundertreos.example"],
  resolver: {
    resolve: (name) =>
      answers[name] ? Promise.resolve(answers[name]) : Promise.reject(new Error("NXDOMAIN")),
  },
});

Deno.test({
  name: "unit: the strict sender connects to no address it did not check",
  sanitizeResources: false,
  fn: async () => {
    const listener = connectionCounter();
    const port = listener.port;
    const send = createSender({
      timeoutMs: 2000,
      policy: strictPolicy({
        "rebound.example.com": ["127.0.0.1"],
        "mixed.example.com": ["93.184.215.14", "127.0.0.1"],
        "empty.example.com": [],
      }),
    });
    const attempt = (url: string) => send({ url, headers: {}, body: "{}" });
    try {
      const cases: [string, AttemptResponse["errorKind"]][] = [
        [`https://rebound.example.com:${port}/`, "blocked_address"],
        [`https://mixed.example.com:${port}/`, "blocked_address"],
        [`https://127.0.0.1:${port}/`, "blocked_address"],
        [`https://[::ffff:7f00:1]:${port}/`, "blocked_address"],
        [`http://rebound.example.com:${port}/`, "blocked_address"],
        [`https://localhost:${port}/`, "blocked_address"],
        [`https://api.wundertreos.example:${port}/`, "blocked_address"],
        [`https://unknown.example.com:${port}/`, "dns_failure"],
        [`https://empty.example.com:${port}/`, "dns_failure"],
      ];
      for (const [url, kind] of cases) {
        const result = await attempt(url);
        assert.equal(result.errorKind, kind, url);
        assert.equal(result.status, null, url);
      }
      assert.equal(listener.connections, 0);
    } finally {
      listener.close();
    }
  },
});

function delivery(n: number, attemptNumber = 1): ClaimedDelivery {
  return {
    deliveryId: `d${n}`,
    leaseId: `l${n}`,
    attemptNumber,
    subscriptionId: "s",
    targetUrl: `http://receiver.test/${n}`,
    secrets: ["a".repeat(64)],
    eventId: `e${n}`,
    eventType: "contact.created",
    eventCreatedAt: "2026-12-03T00:00:00Z",
    workspaceId: "w",
    data: { n },
  };
}

class FakeDeliveryStore implements DeliveryStore {
  recorded: AttemptRecord[] = [];
  claims: ClaimOptions[] = [];
  recordFailures = 0;
  refuse = false;
  constructor(public queue: ClaimedDelivery[]) {}
  claim(options: ClaimOptions) {
    this.claims.push(options);
    return Promise.resolve(this.queue.splice(0, options.maxDeliveries));
  }
  record(attempts: AttemptRecord[]) {
    if (this.recordFailures > 0) {
      this.recordFailures--;
      return Promise.reject(new StoreUnavailableError("database away"));
    }
    if (this.refuse) return Promise.reject(new Error("check constraint violated"));
    this.recorded.push(...attempts);
    return Promise.resolve(attempts.length);
  }
  deleteExpired() {
    return Promise.resolve(0);
  }
}

const settings: DispatchSettings = {
  attemptTimeoutMs: 15_000,
  retryScheduleSeconds: [5, 300],
  leaseSeconds: 60,
  failingAfterSeconds: 432_000,
  timeBudgetMs: 25_000,
  maxInFlight: 4,
  batchSize: 4,
  maxPerSubscription: 8,
  pollIntervalMs: 5,
  maxDeliveriesPerRun: 1000,
};

function answer(status: number | null, extra: Partial<AttemptResponse> = {}): AttemptResponse {
  const errorKind = status === null
    ? "timeout"
    : status >= 200 && status < 300
    ? null
    : "http_status";
  return { status, errorKind, body: "", retryAfter: null, durationMs: 3, ...extra };
}

Deno.test("unit: a run records each outcome: success, retry on schedule or Retry-After, last attempt failed, 410 gone, our own crash", async () => {
  const now = new Date("2026-12-03T00:00:00Z");
  const store = new FakeDeliveryStore([
    delivery(1),
    delivery(2),
    delivery(3, 3),
    delivery(4),
    delivery(5),
    delivery(6),
  ]);
  const answers: Record<string, AttemptResponse> = {
    "/1": answer(204),
    "/2": answer(500),
    "/3": answer(500),
    "/4": answer(410),
    "/5": answer(503, { retryAfter: "600" }),
  };
  const sent: string[] = [];
  const summary = await runDispatcher({
    store,
    send: (request) => {
      const path = new URL(request.url).pathname;
      sent.push(path);
      if (!answers[path]) return Promise.reject(new Error("bug"));
      return Promise.resolve(answers[path]);
    },
    settings,
    clock: () => now,
    random: () => 0.5,
    log: () => {},
  });
  const byId = Object.fromEntries(store.recorded.map((r) => [r.delivery_id, r]));
  assert.equal(byId.d1.outcome, "succeeded");
  assert.equal(byId.d2.outcome, "retry");
  assert.equal(byId.d2.next_attempt_at, "2026-12-03T00:00:05.000Z");
  assert.equal(byId.d3.outcome, "failed", "the third attempt of a 2-retry schedule is the last");
  assert.equal(byId.d4.outcome, "gone");
  assert.equal(byId.d5.next_attempt_at, "2026-12-03T00:10:00.000Z");
  assert.deepEqual([byId.d6.outcome, byId.d6.error_kind], ["retry", "internal_error"]);
  assert.equal(byId.d2.lease_id, "l2");
  assert.deepEqual(
    { ...summary, duration_ms: 0 },
    {
      claimed: 6,
      succeeded: 1,
      retried: 3,
      failed: 1,
      gone: 1,
      unrecorded: 0,
      capped: false,
      duration_ms: 0,
    },
  );
  assert.ok(store.claims.every((claim) => claim.maxDeliveries <= settings.maxInFlight));
});

Deno.test("unit: a run claims no more than its cap, and leaves the rest for the next run", async () => {
  const store = new FakeDeliveryStore(Array.from({ length: 10 }, (_, i) => delivery(i + 1)));
  const summary = await runDispatcher({
    store,
    send: () => Promise.resolve(answer(204)),
    settings: { ...settings, maxDeliveriesPerRun: 6 },
    clock: () => new Date(),
    random: () => 0.5,
    log: () => {},
  });
  assert.equal(summary.claimed, 6);
  assert.equal(summary.capped, true, "says more may be due");
  assert.equal(store.recorded.length, 6);
  assert.ok(store.claims.every((claim) => claim.maxDeliveries <= 4));
  assert.equal(store.claims.reduce((sum, claim) => sum + claim.maxDeliveries, 0), 6);
});

Deno.test("unit: slots held by slow receivers do not keep newly due work waiting", async () => {
  // Three of four slots hang; a delivery falls due after the first claim. With fewer than half
  // the slots free, it is still claimed within a poll interval, long before the hang ends.
  const store = new FakeDeliveryStore([delivery(1), delivery(2), delivery(3)]);
  let release: () => void = () => {};
  const hang = new Promise<void>((resolve) => release = resolve);
  const sentAt: Record<string, number> = {};
  const started = performance.now();
  const run = runDispatcher({
    store,
    send: async (request) => {
      const path = new URL(request.url).pathname;
      sentAt[path] = performance.now() - started;
      if (path === "/4") return answer(204);
      if (path === "/1") store.queue.push(delivery(4));
      await hang;
      return answer(204);
    },
    settings: { ...settings, pollIntervalMs: 20 },
    clock: () => new Date(),
    random: () => 0.5,
    log: () => {},
  });
  const deadline = Date.now() + 2_000;
  while (sentAt["/4"] === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  release();
  const summary = await run;
  assert.ok(sentAt["/4"] !== undefined && sentAt["/4"] < 1_000, `sent at ${sentAt["/4"]} ms`);
  assert.equal(summary.claimed, 4);
  assert.equal(summary.succeeded, 4);
});

Deno.test("unit: a backlog of records is sent at most 256 at a time", async () => {
  const many = Array.from({ length: 600 }, (_, i) => delivery(i + 1));
  const store = new FakeDeliveryStore(many);
  const sizes: number[] = [];
  const record = store.record.bind(store);
  store.record = (attempts) => {
    sizes.push(attempts.length);
    return record(attempts);
  };
  const summary = await runDispatcher({
    store,
    send: () => Promise.resolve(answer(204)),
    settings: { ...settings, maxInFlight: 600, batchSize: 600 },
    clock: () => new Date(),
    random: () => 0.5,
    log: () => {},
  });
  assert.equal(summary.succeeded, 600);
  assert.equal(store.recorded.length, 600);
  assert.ok(Math.max(...sizes) <= 256, `record calls of ${sizes.join(", ")}`);
});

Deno.test("unit: records the database could not take are kept and sent with the next flush", async () => {
  const store = new FakeDeliveryStore([delivery(1), delivery(2)]);
  store.recordFailures = 1;
  const summary = await runDispatcher({
    store,
    send: () => Promise.resolve(answer(204)),
    settings,
    clock: () => new Date(),
    random: () => 0.5,
    log: () => {},
  });
  assert.deepEqual(store.recorded.map((r) => r.delivery_id).sort(), ["d1", "d2"]);
  assert.equal(summary.succeeded, 2);
});

Deno.test("unit: a batch the database refuses is dropped, not retried forever, and counted unrecorded", async () => {
  const store = new FakeDeliveryStore([delivery(1), delivery(2)]);
  store.refuse = true;
  const summary = await runDispatcher({
    store,
    send: () => Promise.resolve(answer(204)),
    settings: { ...settings, maxInFlight: 1, batchSize: 1 },
    clock: () => new Date(),
    random: () => 0.5,
    log: () => {},
  });
  assert.equal(summary.unrecorded, 2);
  assert.equal(summary.claimed, 2);
});

Deno.test("unit: a run stops claiming when less than one attempt's time is left of its budget", async () => {
  let now = 0;
  const store = new FakeDeliveryStore(Array.from({ length: 100 }, (_, n) => delivery(n)));
  const claimedAt: number[] = [];
  const claim = store.claim.bind(store);
  store.claim = (options) => {
    claimedAt.push(now);
    return claim(options);
  };
  const summary = await runDispatcher({
    store,
    send: () => {
      now += 5_000; // each attempt takes 5 s of the clock
      return Promise.resolve(answer(204));
    },
    settings: { ...settings, maxInFlight: 1, batchSize: 1 },
    clock: () => new Date(now),
    random: () => 0.5,
    log: () => {},
  });
  // Claims stop once less than 15 s + 1 s is left of the 25 s: those at 0 s (one for the slot,
  // one to wait for it) and 5 s happen, none at 10 s or later, though more is due.
  assert.deepEqual(claimedAt, [0, 0, 5_000]);
  assert.equal(summary.claimed, 3);
  assert.equal(summary.succeeded, 3, "what waited for the slot was sent too");
  assert.equal(store.queue.length, 97);
});

Deno.test("unit: the next batch is claimed while the slots are busy, and waits for a free one", async () => {
  const store = new FakeDeliveryStore(Array.from({ length: 12 }, (_, i) => delivery(i + 1)));
  let release: () => void = () => {};
  const hang = new Promise<void>((resolve) => release = resolve);
  let sending = 0;
  let mostAtOnce = 0;
  const run = runDispatcher({
    store,
    send: async () => {
      mostAtOnce = Math.max(mostAtOnce, ++sending);
      await hang;
      sending--;
      return answer(204);
    },
    settings,
    clock: () => new Date(),
    random: () => 0.5,
    log: () => {},
  });
  const deadline = Date.now() + 2_000;
  while (store.claims.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Four in the slots, four claimed beside them; no more until a slot frees up.
  assert.deepEqual(store.claims.map((claim) => claim.maxDeliveries), [4, 4]);
  assert.equal(store.queue.length, 4);
  release();
  const summary = await run;
  assert.equal(summary.succeeded, 12);
  assert.equal(mostAtOnce, 4, "never more than the four slots in flight");
});

/**
 * A run with one slot, held by a receiver that hangs on /1, and /2 claimed to wait for it; the
 * clock is `clock.now`, moved by the test.
 */
function runWithOneHungSlot(extra: Partial<DispatchSettings>, clock: { now: number }) {
  const store = new FakeDeliveryStore([delivery(1), delivery(2)]);
  let release: () => void = () => {};
  const hang = new Promise<void>((resolve) => release = resolve);
  const sentAt: Record<string, number> = {};
  const run = runDispatcher({
    store,
    send: async (request) => {
      const path = new URL(request.url).pathname;
      sentAt[path] = clock.now;
      if (path === "/1") await hang;
      return answer(204);
    },
    settings: { ...settings, maxInFlight: 1, batchSize: 1, ...extra },
    clock: () => new Date(clock.now),
    random: () => 0.5,
    log: () => {},
  });
  const sent = async (path: string) => {
    const deadline = Date.now() + 2_000;
    while (sentAt[path] === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return sentAt[path];
  };
  return { run, sentAt, sent, release: () => release() };
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 50));

Deno.test("unit: near the end of the budget, what waits for a slot is sent anyway", async () => {
  // The delivery waiting for the hung slot must still go out before the run's budget ends, not
  // after the hang.
  const clock = { now: 0 };
  const { run, sentAt, sent, release } = runWithOneHungSlot({}, clock);
  await pause();
  assert.equal(sentAt["/2"], undefined, "waits while the budget allows");
  clock.now = 11_000; // 14 s left: less than an attempt's 15 s
  assert.equal(await sent("/2"), 11_000);
  release();
  assert.equal((await run).succeeded, 2);
});

Deno.test("unit: what waits for a slot is sent anyway while its lease still covers an attempt", async () => {
  // An 8 s lease and 2 s attempts leave 8 - 2 - 5 = 1 s to wait for a slot; after that the
  // delivery goes out at once, though its one slot is still held and the budget is far off.
  const clock = { now: 0 };
  const { run, sentAt, sent, release } = runWithOneHungSlot(
    { leaseSeconds: 8, attemptTimeoutMs: 2_000 },
    clock,
  );
  await pause();
  clock.now = 999;
  await pause();
  assert.equal(sentAt["/2"], undefined, "waits while the lease allows");
  clock.now = 1_000;
  assert.equal(await sent("/2"), 1_000);
  release();
  assert.equal((await run).succeeded, 2);
});

Deno.test("unit: the dispatcher's settings default to the contract's and refuse a lease shorter than an attempt", () => {
  const env = (values: Record<string, string>) => (name: string) =>
    ({ SUPABASE_URL: "http://x", SUPABASE_SERVICE_ROLE_KEY: "k", ...values })[name];
  const config = readDispatcherConfig(env({}));
  assert.deepEqual(config.settings, {
    attemptTimeoutMs: 15_000,
    retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
    leaseSeconds: 60,
    failingAfterSeconds: 432_000,
    timeBudgetMs: 25_000,
    maxInFlight: 64,
    batchSize: 64,
    maxPerSubscription: 8,
    pollIntervalMs: 250,
    maxDeliveriesPerRun: 4000,
  });
  assert.equal(config.targetPolicy, "strict");
  assert.throws(
    () => readDispatcherConfig(env({ DELIVERY_LEASE_SECONDS: "10" })),
    /webhook-dispatcher cannot start: DELIVERY_LEASE_SECONDS must outlast an attempt/,
  );
  assert.throws(
    () => readDispatcherConfig(env({ DELIVERY_RETRY_SCHEDULE: "5,soon" })),
    /DELIVERY_RETRY_SCHEDULE must be waits in seconds/,
  );
  assert.throws(() => readDispatcherConfig(env({ SUPABASE_URL: "" })), /missing environment/);
});
