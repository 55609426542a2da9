import assert from "node:assert/strict";
import { signJwt } from "../scripts/local-stack/keys.ts";
import { sessionToken } from "./helpers/session.ts";
import { newToken, sql, stack } from "./helpers/stack.ts";
import { call } from "./helpers/subscriptions.ts";

const BODY = { target_url: "https://dashboard.example/hook", event_types: ["deal.created"] };

Deno.test("a dashboard session (ES256, from the project's JWKS) creates and lists in its workspace", async () => {
  const workspaceId = crypto.randomUUID();
  await newToken({ workspaceId }); // makes the workspace exist
  const userId = crypto.randomUUID();
  const jwt = await sessionToken({ workspaceId, userId });
  const createdBySession = await call(jwt, "POST", "", BODY);
  assert.equal(createdBySession.status, 201);
  const [row] = await sql<{ workspace_id: string }>(
    "select workspace_id from public.webhook_subscriptions where id = $1",
    [createdBySession.body.data.id],
  );
  assert.equal(row.workspace_id, workspaceId);
  const list = await call(jwt, "GET");
  assert.deepEqual(list.body.data.map((s: { id: string }) => s.id), [
    createdBySession.body.data.id,
  ]);
});

Deno.test("a session signed with the legacy shared secret (HS256) works too", async () => {
  const { workspaceId } = await newToken();
  const jwt = await sessionToken({ workspaceId, algorithm: "HS256" });
  assert.equal((await call(jwt, "POST", "", BODY)).status, 201);
});

Deno.test("API tokens keep working next to sessions", async () => {
  const { token } = await newToken();
  assert.equal((await call(token, "GET")).status, 200);
});

Deno.test("sessions that are expired, mis-addressed, forged or not a user's get a 401", async () => {
  const { workspaceId } = await newToken();
  const otherKey = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, [
    "sign",
  ]);
  const forgedSecret = btoa(
    String.fromCharCode(...new Uint8Array(await crypto.subtle.exportKey("raw", otherKey))),
  );
  const now = Math.floor(Date.now() / 1000);
  const unsigned = (payload: Record<string, unknown>) =>
    `${btoa(JSON.stringify({ alg: "none", typ: "JWT" }))}.${btoa(JSON.stringify(payload))}.`
      .replaceAll("=", "");
  // Everything a valid session says; only the signature is wrong below.
  const validClaims = {
    role: "authenticated",
    aud: "authenticated",
    iss: `${stack.apiUrl}/auth/v1`,
    sub: crypto.randomUUID(),
    exp: now + 600,
    workspace_id: workspaceId,
    scopes: ["webhooks:read", "webhooks:write"],
  };
  const cases: [string, string][] = [
    ["expired", await sessionToken({ workspaceId, expiresInSeconds: -10 })],
    ["for another audience", await sessionToken({ workspaceId, audience: "anon" })],
    [
      "from another issuer",
      await sessionToken({ workspaceId, issuer: "https://evil.example/auth/v1" }),
    ],
    ["with the anon role", await sessionToken({ workspaceId, role: "anon" })],
    ["the anon key", stack.anonKey],
    ["the service_role key", stack.serviceRoleKey],
    [
      "signed with another secret",
      await signJwt(forgedSecret, validClaims),
    ],
    [
      "unsigned (alg none)",
      unsigned(validClaims),
    ],
    ["garbage with two dots", "a.b.c"],
  ];
  for (const [name, jwt] of cases) {
    const answer = await call(jwt, "POST", "", BODY);
    assert.equal(answer.status, 401, name);
    assert.equal(answer.body.error, "unauthorized", name);
    assert.match(answer.headers.get("www-authenticate") ?? "", /invalid_token/, name);
  }
  const [{ count }] = await sql<{ count: string }>(
    "select count(*) from public.webhook_subscriptions where workspace_id = $1",
    [workspaceId],
  );
  assert.equal(Number(count), 0);
});

Deno.test("a session's scopes and workspace come from its claims", async () => {
  const { workspaceId } = await newToken();
  const readOnly = await sessionToken({ workspaceId, scopes: ["webhooks:read"] });
  assert.equal((await call(readOnly, "GET")).status, 200);
  const denied = await call(readOnly, "POST", "", BODY);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.missing_scope, "webhooks:write");

  const noWorkspace = await sessionToken({ workspaceId: null });
  const nowhere = await call(noWorkspace, "GET");
  assert.equal(nowhere.status, 403);
  assert.equal(nowhere.body.missing_scope, "webhooks:read");

  const noScopes = await sessionToken({ workspaceId, scopes: [] });
  assert.equal((await call(noScopes, "GET")).status, 403);
});

Deno.test("a session whose workspace does not exist gets a 403 on every route and writes nothing", async () => {
  const workspaceId = crypto.randomUUID(); // signed into the claims, but never created
  const jwt = await sessionToken({ workspaceId });
  for (
    const [method, path, body] of [["POST", "", BODY], ["GET", ""], ["GET", `/${workspaceId}`]]
  ) {
    const response = await call(jwt, method as string, path as string, body);
    assert.equal(response.status, 403, `${method} ${path}`);
    assert.equal(response.body.error, "forbidden");
    assert.match(response.body.message, /workspace does not exist/);
    assert.equal(response.headers.get("ratelimit-limit"), method === "GET" ? "600" : "60");
  }
  const [{ count }] = await sql<{ count: string }>(
    "select count(*) from public.webhook_subscriptions where workspace_id = $1",
    [workspaceId],
  );
  assert.equal(Number(count), 0);
  const [{ exists }] = await sql<{ exists: boolean }>(
    "select exists (select from public.workspaces where id = $1)",
    [workspaceId],
  );
  assert.equal(exists, false, "a session cannot bring a workspace into being");
});
