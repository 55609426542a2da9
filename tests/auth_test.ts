import assert from "node:assert/strict";
import { hashApiToken } from "../supabase/functions/api-webhook-subscriptions/api-token.ts";
import {
  apiFetch,
  CONTRACT_EXAMPLE,
  createSubscription,
  errorOf,
  newToken,
  sql,
  stack,
  subscriptionCount,
  totalSubscriptionCount,
} from "./helpers/stack.ts";

async function assertUnauthorized(response: Response, challenge: RegExp) {
  assert.equal(response.status, 401);
  assert.match(response.headers.get("www-authenticate") ?? "", challenge);
  const error = await errorOf(response);
  assert.equal(error.error, "unauthorized");
}

Deno.test("401 without credentials, with a Bearer challenge", async () => {
  const before = await totalSubscriptionCount();
  const response = await apiFetch(stack.functionUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(CONTRACT_EXAMPLE),
  });
  await assertUnauthorized(response, /^Bearer realm="wundertreos"$/);
  assert.equal(await totalSubscriptionCount(), before);
});

Deno.test("401 for malformed Authorization headers and unknown tokens", async () => {
  const { token } = await newToken();
  const before = await totalSubscriptionCount();
  const unknown = "wtos_" + "A".repeat(43);
  for (
    const authorization of [
      "Bearer",
      "Bearer ",
      `Basic ${btoa("user:pass")}`,
      `Token ${token}`,
      "Bearer not-a-token",
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${unknown}`,
      `Bearer ${token} ${token}`,
    ]
  ) {
    const response = await apiFetch(stack.functionUrl, {
      method: "POST",
      headers: { Authorization: authorization, "Content-Type": "application/json" },
      body: JSON.stringify(CONTRACT_EXAMPLE),
    });
    await assertUnauthorized(response, /^Bearer realm="wundertreos", error="invalid_token"$/);
  }
  assert.equal(await totalSubscriptionCount(), before);
});

Deno.test("401 for expired and for revoked tokens; the same answer as an unknown token", async () => {
  const expired = await newToken({ expiresInSeconds: 3600 });
  await sql("update public.api_tokens set expires_at = now() - interval '1 second' where id = $1", [
    expired.tokenId,
  ]);
  const revoked = await newToken();
  await sql("update public.api_tokens set revoked_at = now() where id = $1", [revoked.tokenId]);

  const bodies = [];
  for (const { token, workspaceId } of [expired, revoked]) {
    const response = await createSubscription(token, CONTRACT_EXAMPLE);
    await assertUnauthorized(response, /error="invalid_token"/);
    bodies.push(JSON.stringify(await createSubscription(token, CONTRACT_EXAMPLE).then(errorOf)));
    assert.equal(await subscriptionCount(workspaceId), 0);
  }
  const unknown = await createSubscription("wtos_" + "B".repeat(43), CONTRACT_EXAMPLE);
  bodies.push(JSON.stringify(await errorOf(unknown)));
  assert.equal(new Set(bodies).size, 1, "expired, revoked and unknown are indistinguishable");
});

Deno.test("a token that has not expired yet works; the scheme name is case-insensitive", async () => {
  const { token, workspaceId } = await newToken({ expiresInSeconds: 600 });
  const response = await apiFetch(stack.functionUrl, {
    method: "POST",
    headers: { Authorization: `bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(CONTRACT_EXAMPLE),
  });
  assert.equal(response.status, 201);
  await response.body?.cancel();
  assert.equal(await subscriptionCount(workspaceId), 1);
});

const SCOPE_CASES: [string, ("webhooks:read" | "webhooks:write")[], string][] = [
  ["no scopes", [], "webhooks:read"],
  ["only webhooks:write", ["webhooks:write"], "webhooks:read"],
  ["only webhooks:read", ["webhooks:read"], "webhooks:write"],
];

for (const [name, scopes, missing] of SCOPE_CASES) {
  Deno.test(`403 forbidden naming ${missing} for a token with ${name}`, async () => {
    const { token, workspaceId } = await newToken({ scopes });
    const response = await createSubscription(token, CONTRACT_EXAMPLE);
    assert.equal(response.status, 403);
    assert.match(
      response.headers.get("www-authenticate") ?? "",
      new RegExp(`error="insufficient_scope", scope="${missing}"`),
    );
    const error = await errorOf(response);
    assert.equal(error.error, "forbidden");
    assert.equal(error.missing_scope, missing);
    assert.ok(error.message.includes(missing));
    assert.equal(response.headers.get("ratelimit-limit"), "60", "counted, and says so");
    assert.equal(response.headers.get("ratelimit-remaining"), "59");
    assert.equal(await subscriptionCount(workspaceId), 0);
  });
}

Deno.test("checks run in the contract's order: credentials, read, write, then the body", async () => {
  const badBody = { target_url: "nope", event_types: [] };
  const noCredentials = await createSubscription(null, badBody);
  assert.equal(noCredentials.status, 401);
  await noCredentials.body?.cancel();

  const writeOnly = await newToken({ scopes: ["webhooks:write"] });
  const noRead = await createSubscription(writeOnly.token, badBody);
  assert.equal(noRead.status, 403);
  assert.equal((await errorOf(noRead)).missing_scope, "webhooks:read");

  const readOnly = await newToken({ scopes: ["webhooks:read"] });
  for (
    const [body, headers] of [
      [badBody, {}],
      ["not json", { "Content-Type": "text/plain" }],
      [" ".repeat(70_000), {}],
    ] as const
  ) {
    const response = await createSubscription(readOnly.token, body, { headers });
    assert.equal(response.status, 403);
    assert.equal((await errorOf(response)).missing_scope, "webhooks:write");
  }

  const full = await newToken();
  const invalid = await createSubscription(full.token, badBody);
  assert.equal(invalid.status, 400);
  await invalid.body?.cancel();
});

Deno.test("the database keeps only a SHA-256 hash of each token, never the token", async () => {
  const { token, tokenId } = await newToken();
  const [row] = await sql<Record<string, unknown>>(
    "select * from public.api_tokens where id = $1",
    [tokenId],
  );
  assert.equal(row.token_hash, await hashApiToken(token));
  for (const [column, value] of Object.entries(row)) {
    assert.ok(!String(value).includes(token), `column ${column} holds the token`);
  }
  assert.equal(row.token_prefix, token.slice(0, 9), "only 4 of the 43 random characters");
  assert.match(token, /^wtos_[A-Za-z0-9_-]{43}$/, "prefix plus 256 random bits");
});

// Every request looks its token up in the database, so a change to a token has no grace window.

Deno.test("a token revoked right after it created is refused on its very next create", async () => {
  const { token, tokenId, workspaceId } = await newToken();
  assert.equal((await createSubscription(token, CONTRACT_EXAMPLE)).status, 201);
  await sql("update public.api_tokens set revoked_at = now() where id = $1", [tokenId]);
  for (const body of [CONTRACT_EXAMPLE, { target_url: "nope" }]) {
    const response = await createSubscription(token, body);
    assert.equal(response.status, 401, JSON.stringify(body));
    assert.equal((await errorOf(response)).error, "unauthorized");
  }
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("a token that expires right after it created is refused on its very next create", async () => {
  const { token, tokenId, workspaceId } = await newToken();
  assert.equal((await createSubscription(token, CONTRACT_EXAMPLE)).status, 201);
  await sql("update public.api_tokens set expires_at = now() - interval '1 second' where id = $1", [
    tokenId,
  ]);
  const response = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(response.status, 401);
  await response.body?.cancel();
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("a token whose scopes are narrowed right after it created gets a 403 at once", async () => {
  const { token, tokenId, workspaceId } = await newToken();
  assert.equal((await createSubscription(token, CONTRACT_EXAMPLE)).status, 201);
  await sql("update public.api_tokens set scopes = '{webhooks:read}' where id = $1", [tokenId]);
  for (const body of [CONTRACT_EXAMPLE, { target_url: "nope" }]) {
    const response = await createSubscription(token, body);
    assert.equal(response.status, 403, JSON.stringify(body));
    assert.equal((await errorOf(response)).missing_scope, "webhooks:write");
  }
  await sql("update public.api_tokens set scopes = '{webhooks:write}' where id = $1", [tokenId]);
  const noRead = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(noRead.status, 403);
  assert.equal((await errorOf(noRead)).missing_scope, "webhooks:read");
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("every create is counted once against the write limit, whichever way it ends", async () => {
  const { token } = await newToken();
  const remaining = async (body: unknown, status: number) => {
    const response = await createSubscription(token, body);
    assert.equal(response.status, status);
    await response.body?.cancel();
    return Number(response.headers.get("ratelimit-remaining"));
  };
  const first = await remaining(CONTRACT_EXAMPLE, 201);
  assert.equal(first, 59);
  assert.equal(await remaining(CONTRACT_EXAMPLE, 201), 58);
  assert.equal(await remaining({ target_url: "nope" }, 400), 57);
  assert.equal(
    await remaining({ ...CONTRACT_EXAMPLE, target_url: "https://localhost/x" }, 400),
    56,
  );
  assert.equal(await remaining(CONTRACT_EXAMPLE, 201), 55);
});
