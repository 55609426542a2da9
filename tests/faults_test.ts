import assert from "node:assert/strict";
import { CONTRACT_EXAMPLE, newToken, subscriptionCount } from "./helpers/stack.ts";
import { call } from "./helpers/subscriptions.ts";

async function fault(
  action: "postgrest/stop" | "postgrest/start" | "postgres/stop" | "postgres/start",
) {
  const url = Deno.env.get("WUNDERTRE_TEST_CONTROL_URL");
  if (!url) throw new Error("WUNDERTRE_TEST_CONTROL_URL is not set: run with 'deno task test'");
  const response = await fetch(`${url}/${action}`, { method: "POST" });
  await response.body?.cancel();
  assert.equal(response.status, 204, action);
}

/** Polls until `probe` is true; the API must recover by itself, with no restart of the function. */
async function eventually(what: string, probe: () => Promise<boolean>, seconds = 45) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${seconds} s`);
}

Deno.test("PostgREST stopped mid-run: 503 with Retry-After, nothing written; recovery by itself", async () => {
  const { token, workspaceId } = await newToken();
  assert.equal((await call(token, "GET")).status, 200);
  await fault("postgrest/stop");
  try {
    for (const [method, body] of [["GET", undefined], ["POST", CONTRACT_EXAMPLE]] as const) {
      const answer = await call(token, method, "", body);
      assert.equal(answer.status, 503, method);
      assert.equal(answer.body.error, "service_unavailable");
      assert.equal(answer.headers.get("retry-after"), "5");
    }
  } finally {
    await fault("postgrest/start");
  }
  await eventually(
    "the API answering again",
    async () => (await call(token, "GET")).status === 200,
  );
  assert.equal(await subscriptionCount(workspaceId), 0);
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
});

Deno.test("Postgres down and restarted: 503s while it is down, then recovery by itself", async () => {
  const { token, workspaceId } = await newToken();
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
  await fault("postgres/stop");
  try {
    for (const [method, body] of [["GET", undefined], ["POST", CONTRACT_EXAMPLE]] as const) {
      const answer = await call(token, method, "", body);
      assert.equal(answer.status, 503, method);
      assert.equal(answer.body.error, "service_unavailable");
    }
  } finally {
    await fault("postgres/start");
  }
  await eventually(
    "the API answering again",
    async () => (await call(token, "GET")).status === 200,
  );
  assert.equal((await call(token, "POST", "", CONTRACT_EXAMPLE)).status, 201);
  assert.equal(await subscriptionCount(workspaceId), 2, "the data survived the restart");
});
