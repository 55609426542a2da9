import assert from "node:assert/strict";
import { createSupabaseAuthStore } from "../../supabase/functions/_shared/auth-store.ts";
import { StoreUnavailableError } from "../../supabase/functions/_shared/errors.ts";
import { createSupabaseSubscriptionStore } from "../../supabase/functions/_shared/subscription-store.ts";
import { createServiceClient } from "../../supabase/functions/_shared/supabase-client.ts";

const SECRET = "5".repeat(64);
const RULE = { requestClass: "read" as const, maxHits: 10, windowSeconds: 60 };
const HASH = "a".repeat(64);
const NEW_SUBSCRIPTION = {
  workspaceId: "11111111-1111-4111-8111-111111111111",
  targetUrl: "https://example.com/x",
  eventTypes: ["deal.created"],
  description: null,
  secret: SECRET,
};

/** The real supabase-js client and stores over a stubbed transport. */
function storeAnswering(answer: (request: Request) => Promise<Response>, timeoutMs?: number) {
  const client = createServiceClient(
    { supabaseUrl: "http://127.0.0.1:1", serviceRoleKey: "service-role-key" },
    { fetch: (input, init) => answer(new Request(input, init)), timeoutMs },
  );
  return {
    ...createSupabaseAuthStore(client),
    ...createSupabaseSubscriptionStore(client),
  };
}

const postgrestError = (status: number, code: string, details = "") =>
  Promise.resolve(
    Response.json({ code, message: `failure ${code}`, details, hint: null }, { status }),
  );

const UNAVAILABLE: [string, (request: Request) => Promise<Response>][] = [
  ["a refused connection", () => Promise.reject(new TypeError("error sending request: refused"))],
  ["PostgREST without a database (PGRST001)", () => postgrestError(503, "PGRST001")],
  ["PostgREST's schema cache not loaded (PGRST002)", () => postgrestError(503, "PGRST002")],
  ["a pool timeout (PGRST003)", () => postgrestError(504, "PGRST003")],
  [
    "Postgres cancelling at the statement timeout (57014)",
    () => postgrestError(500, "57014"),
  ],
  ["the gateway's 502", () => Promise.resolve(new Response("bad gateway", { status: 502 }))],
  ["a 504 from a proxy", () => Promise.resolve(new Response("", { status: 504 }))],
];

for (const [name, answer] of UNAVAILABLE) {
  Deno.test(`unit: supabase store reports ${name} as unavailable`, async () => {
    const store = storeAnswering(answer);
    await assert.rejects(store.authenticateApiToken(HASH, RULE), StoreUnavailableError);
    await assert.rejects(
      store.createSubscription(NEW_SUBSCRIPTION, { maxSubscriptions: 100 }),
      StoreUnavailableError,
    );
  });
}

Deno.test("unit: supabase store reports a hung database as unavailable after its timeout", async () => {
  const store = storeAnswering(
    (request) =>
      new Promise((_, reject) =>
        request.signal.addEventListener("abort", () => reject(request.signal.reason))
      ),
    50,
  );
  await assert.rejects(store.authenticateApiToken(HASH, RULE), StoreUnavailableError);
});

Deno.test("unit: other database errors are internal, and never carry PostgREST's row details", async () => {
  const store = storeAnswering(() =>
    postgrestError(400, "23514", `Failing row contains (${SECRET}, https://example.com/x).`)
  );
  const error = await store.createSubscription(NEW_SUBSCRIPTION, { maxSubscriptions: 100 }).catch((
    e,
  ) => e);
  assert.ok(error instanceof Error && !(error instanceof StoreUnavailableError));
  assert.match(error.message, /23514/);
  assert.ok(!error.message.includes(SECRET));
});

Deno.test("unit: supabase store authenticates and counts in one RPC, and maps its row", async () => {
  const requests: Request[] = [];
  const store = storeAnswering((request) => {
    requests.push(request);
    return Promise.resolve(Response.json({
      id: "t1",
      workspace_id: "w1",
      scopes: ["webhooks:read"],
      expires_at: "2030-01-01T00:00:00+00:00",
      revoked_at: null,
      hits: 3,
      reset_seconds: 42,
    }));
  });
  assert.deepEqual(await store.authenticateApiToken(HASH, RULE), {
    token: {
      id: "t1",
      workspaceId: "w1",
      scopes: ["webhooks:read"],
      expiresAt: new Date("2030-01-01T00:00:00Z"),
      revokedAt: null,
    },
    count: { hits: 3, resetSeconds: 42 },
  });
  assert.equal(requests.length, 1, "one round trip");
  assert.equal(new URL(requests[0].url).pathname, "/rest/v1/rpc/authenticate_api_token");
  assert.deepEqual(await requests[0].json(), {
    token_hash: HASH,
    request_class: "read",
    max_hits: 10,
    window_seconds: 60,
  });
});
