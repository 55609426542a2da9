import assert from "node:assert/strict";
import { newToken, stack } from "./helpers/stack.ts";

const ALLOWED_ORIGIN = `http://127.0.0.1:${Deno.env.get("WUNDERTRE_TEST_PAGE_PORT")}`;
const DISALLOWED_ORIGIN = "https://evil.example";

async function preflight(origin: string, method = "POST") {
  const response = await fetch(stack.functionUrl, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization, content-type, apikey, x-client-info",
    },
  });
  await response.body?.cancel();
  return response;
}

const corsHeaders = (headers: Headers) =>
  [...headers.keys()].filter((name) => name.startsWith("access-control-"));

Deno.test("a preflight from an allowed origin answers with the API's methods and headers", async () => {
  const response = await preflight(ALLOWED_ORIGIN);
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN);
  assert.equal(
    response.headers.get("access-control-allow-methods"),
    "GET, POST, PATCH, DELETE, OPTIONS",
  );
  assert.equal(
    response.headers.get("access-control-allow-headers"),
    "authorization, content-type, apikey, x-client-info, idempotency-key",
  );
  assert.ok(response.headers.get("vary")?.includes("Origin"));
  for (
    const path of [
      "/00000000-0000-4000-8000-000000000000",
      "/00000000-0000-4000-8000-000000000000/rotate-secret",
    ]
  ) {
    const other = await fetch(`${stack.functionUrl}${path}`, {
      method: "OPTIONS",
      headers: { Origin: ALLOWED_ORIGIN, "Access-Control-Request-Method": "PATCH" },
    });
    await other.body?.cancel();
    assert.equal(other.status, 204, "preflights need no credential on any path");
    assert.equal(other.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN);
  }
});

Deno.test("a disallowed origin gets no CORS headers at all", async () => {
  for (
    const origin of [
      DISALLOWED_ORIGIN,
      "null",
      ALLOWED_ORIGIN + "0",
      "http://localhost:" + ALLOWED_ORIGIN.split(":")[2],
    ]
  ) {
    const response = await preflight(origin);
    assert.deepEqual(corsHeaders(response.headers), [], origin);
  }
  const { token } = await newToken();
  const response = await fetch(stack.functionUrl, {
    headers: { Origin: DISALLOWED_ORIGIN, Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200, "the server still answers; the browser withholds it");
  await response.body?.cancel();
  assert.deepEqual(corsHeaders(response.headers), []);
});

Deno.test("responses to an allowed origin, errors included, carry CORS headers", async () => {
  const { token } = await newToken();
  for (const authorization of [`Bearer ${token}`, "Bearer wrong"]) {
    const response = await fetch(stack.functionUrl, {
      headers: { Origin: ALLOWED_ORIGIN, Authorization: authorization },
    });
    await response.body?.cancel();
    assert.equal(response.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN);
    assert.match(response.headers.get("access-control-expose-headers") ?? "", /X-Request-Id/);
  }
});
