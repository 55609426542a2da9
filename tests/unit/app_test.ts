import assert from "node:assert/strict";
import { StoreUnavailableError } from "../../supabase/functions/_shared/errors.ts";
import type { LogEntry } from "../../supabase/functions/_shared/log.ts";
import { cryptoRandom } from "../../supabase/functions/_shared/random.ts";
import {
  generateApiToken,
  hashApiToken,
} from "../../supabase/functions/api-webhook-subscriptions/api-token.ts";
import { createApp } from "../../supabase/functions/api-webhook-subscriptions/app.ts";
import { FakeStore } from "./fake_store.ts";

const NOW = new Date("2026-05-17T14:30:00.456Z");
const WORKSPACE = "11111111-1111-4111-8111-111111111111";

async function setup(options: { expiresAt?: Date } = {}) {
  const store = new FakeStore(() => NOW);
  const token = generateApiToken(cryptoRandom);
  store.tokens.set(await hashApiToken(token), {
    id: "22222222-2222-4222-8222-222222222222",
    workspaceId: WORKSPACE,
    scopes: ["webhooks:read", "webhooks:write"],
    expiresAt: options.expiresAt ?? null,
    revokedAt: null,
  });
  const logs: LogEntry[] = [];
  const resolved: string[] = [];
  const app = createApp({
    auth: store,
    subscriptions: store,
    deliveries: store,
    verifySession: () => Promise.resolve(null),
    corsAllowedOrigins: [],
    // A fake resolver behind the same interface; the integration tests use a real DNS server.
    targetPolicy: {
      mode: "strict",
      ownHosts: [],
      resolver: {
        resolve: (hostname) => {
          resolved.push(hostname);
          return Promise.resolve(["93.184.215.14"]);
        },
      },
    },
    rateLimits: { readsPerWindow: 100, writesPerWindow: 3, windowSeconds: 60 },
    maxSubscriptionsPerWorkspace: 100,
    clock: () => NOW,
    random: (length) => new Uint8Array(length).fill(0xab),
    log: (entry) => logs.push(entry),
  });
  const post = (body: unknown) =>
    app.request("/api-webhook-subscriptions", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  return { app, store, token, logs, post, resolved };
}

const EXAMPLE = {
  target_url: "https://example.com/wundertre/webhook",
  event_types: ["contact.created", "contact.tag_added"],
  description: "Sync new leads to internal CRM",
};

Deno.test("unit: the secret comes from the injected random source and created_at from the store", async () => {
  const { post, store } = await setup();
  const response = await post(EXAMPLE);
  assert.equal(response.status, 201);
  const { data } = await response.json();
  assert.equal(data.secret, "ab".repeat(32));
  assert.equal(data.created_at, "2026-05-17T14:30:00Z");
  assert.equal(store.subscriptions[0].secret, "ab".repeat(32));
  assert.equal(store.subscriptions[0].workspaceId, WORKSPACE);
});

Deno.test("unit: expiry is judged by the injected clock", async () => {
  const atNow = await setup({ expiresAt: NOW });
  assert.equal((await atNow.post(EXAMPLE)).status, 401);
  const later = await setup({ expiresAt: new Date(NOW.getTime() + 1000) });
  assert.equal((await later.post(EXAMPLE)).status, 201);
});

Deno.test("unit: an unexpected failure is a JSON 500 with a request id, logged without secrets", async () => {
  const { post, store, logs, token } = await setup();
  store.failInsertWith = new Error("boom at insert");
  const response = await post(EXAMPLE);
  assert.equal(response.status, 500);
  const body = await response.json();
  assert.deepEqual(Object.keys(body).sort(), ["error", "message", "request_id"]);
  assert.equal(body.error, "internal_error");
  assert.equal(body.request_id, response.headers.get("x-request-id"));
  assert.ok(!JSON.stringify(body).includes("boom"), "no internals in the response");

  assert.equal(logs.length, 1);
  const line = JSON.stringify(logs[0]);
  assert.equal(logs[0].request_id, body.request_id);
  assert.equal(logs[0].status, 500);
  assert.match(String(logs[0].cause), /boom at insert/);
  assert.ok(!line.includes(token) && !line.includes("ab".repeat(32)));
});

Deno.test("unit: an unreachable database is a 503 with Retry-After and nothing stored", async () => {
  for (const failure of ["lookup", "insert"] as const) {
    const { post, store } = await setup();
    const error = new StoreUnavailableError("status 0");
    if (failure === "lookup") store.failLookupWith = error;
    else store.failInsertWith = error;
    const response = await post(EXAMPLE);
    assert.equal(response.status, 503, failure);
    assert.equal(response.headers.get("retry-after"), "5");
    const body = await response.json();
    assert.equal(body.error, "service_unavailable");
    assert.equal(body.request_id, response.headers.get("x-request-id"));
    assert.equal(store.subscriptions.length, 0);
  }
});

Deno.test("unit: one log line per request with route, status, workspace and token id", async () => {
  const { post, logs, token } = await setup();
  await post(EXAMPLE);
  await post({ target_url: "x" });
  assert.equal(logs.length, 2);
  assert.equal(logs[0].status, 201);
  assert.equal(logs[1].status, 400);
  for (const entry of logs) {
    assert.equal(entry.method, "POST");
    assert.equal(entry.route, "/api-webhook-subscriptions");
    assert.equal(entry.workspace_id, WORKSPACE);
    assert.equal(entry.token_id, "22222222-2222-4222-8222-222222222222");
    assert.equal(entry.user_id, undefined);
    assert.equal(typeof entry.duration_ms, "number");
    assert.ok(!JSON.stringify(entry).includes(token));
  }
});

// Every request authenticates, and counts, before anything it sent is looked at.

const tokenOf = (store: FakeStore) => [...store.tokens.values()][0];

Deno.test("unit: a create is one authentication and one create, every time", async () => {
  const { post, store } = await setup();
  assert.equal((await post(EXAMPLE)).status, 201);
  assert.deepEqual(store.calls, { authenticateApiToken: 1, createSubscription: 1 });
  const second = await post(EXAMPLE);
  assert.equal(second.status, 201);
  assert.equal(second.headers.get("ratelimit-remaining"), "1");
  assert.deepEqual(store.calls, { authenticateApiToken: 2, createSubscription: 2 });
});

Deno.test("unit: a dead credential gets its 401 before its body is parsed or its target looked up", async () => {
  const { app, post, store, token, resolved } = await setup();
  assert.equal((await post(EXAMPLE)).status, 201);
  tokenOf(store).revokedAt = NOW;
  assert.equal((await post({ ...EXAMPLE, target_url: "https://fresh.example.com/x" })).status, 401);
  const broken = await app.request("/api-webhook-subscriptions", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: "{not json",
  });
  assert.equal(broken.status, 401);
  assert.deepEqual(resolved, ["example.com"], "only the live token's target was looked up");
  assert.equal(store.subscriptions.length, 1);
});

Deno.test("unit: a throttled token's creates get 429 without a DNS lookup", async () => {
  const { post, resolved } = await setup(); // 3 writes a minute
  const statuses = [];
  for (let i = 0; i < 8; i++) {
    const response = await post({ ...EXAMPLE, target_url: `https://h${i}.example.com/hook` });
    statuses.push(response.status);
  }
  assert.deepEqual(statuses, [201, 201, 201, 429, 429, 429, 429, 429]);
  assert.deepEqual(resolved, ["h0.example.com", "h1.example.com", "h2.example.com"]);
});

Deno.test("unit: a create that fails in the store was still authenticated and counted", async () => {
  const { post, store } = await setup();
  store.failInsertWith = new Error("deadlock detected");
  const failed = await post(EXAMPLE);
  assert.equal(failed.status, 500);
  assert.equal(failed.headers.get("ratelimit-remaining"), "2");
  assert.deepEqual(store.calls, { authenticateApiToken: 1, createSubscription: 1 });
});

Deno.test("unit: recover reaches back exactly 30 days by the app's clock, and forward only past a clock's skew", async () => {
  const { app, post, store, token } = await setup();
  const { data } = await (await post(EXAMPLE)).json();
  const recover = (since: string) =>
    app.request(`/api-webhook-subscriptions/${data.id}/recover`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ since }),
    });
  const thirtyDaysAgo = new Date(NOW.getTime() - 30 * 24 * 3600 * 1000);
  const atTheLimit = await recover(thirtyDaysAgo.toISOString());
  assert.equal(atTheLimit.status, 202);
  assert.deepEqual(await atTheLimit.json(), { data: { recovered: 0 } });
  // The same instant written with an offset is the same instant.
  assert.equal((await recover("2026-04-17T16:30:00.456+02:00")).status, 202);

  store.hits.clear(); // this setup allows 3 writes a minute
  const tooOld = await recover(new Date(thirtyDaysAgo.getTime() - 1).toISOString());
  assert.equal(tooOld.status, 400);
  assert.deepEqual(await tooOld.json(), {
    error: "invalid_request",
    message: "Invalid request body: check since.",
    details: [{ field: "since", message: "since must be at most 30 days ago." }],
  });
  store.hits.clear();
  const fiveMinutesAhead = new Date(NOW.getTime() + 5 * 60 * 1000);
  assert.equal((await recover(fiveMinutesAhead.toISOString())).status, 202, "a clock ahead");
  const future = await recover(new Date(fiveMinutesAhead.getTime() + 1).toISOString());
  assert.equal(future.status, 400);
  assert.equal((await future.json()).details[0].message, "since must not be in the future.");
  assert.deepEqual(store.recoveries, [
    { subscriptionId: data.id, since: thirtyDaysAgo },
    { subscriptionId: data.id, since: thirtyDaysAgo },
    { subscriptionId: data.id, since: fiveMinutesAhead },
  ]);
});
