import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, spawnManaged, waitFor } from "../scripts/local-stack/processes.ts";
import { CONTRACT_EXAMPLE, createSubscription, newToken, stack } from "./helpers/stack.ts";
import { PROJECT_ROOT, run } from "./helpers/processes.ts";

const INDEX = join(PROJECT_ROOT, "supabase/functions/api-webhook-subscriptions/index.ts");

Deno.test("the function refuses to start without the variables the platform injects", async () => {
  const result = await run(["run", "--allow-net", "--allow-env", INDEX], {
    SUPABASE_URL: "",
    SUPABASE_SERVICE_ROLE_KEY: "",
  });
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /cannot start: missing environment variable SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY/,
  );
});

Deno.test("503 with Retry-After when the database API cannot be reached", async () => {
  const port = freePort();
  const lines: string[] = [];
  const fn = spawnManaged({
    name: "function",
    command: Deno.execPath(),
    args: ["run", "--allow-net", "--allow-env", INDEX],
    cwd: PROJECT_ROOT,
    env: {
      SUPABASE_URL: `http://127.0.0.1:${freePort()}`,
      SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      NO_COLOR: "1",
    },
    onLine: (line) => lines.push(line),
  });
  try {
    await waitFor("function", async () => {
      const probe = await fetch(`http://127.0.0.1:${port}/`);
      await probe.body?.cancel();
      return true;
    }, fn);
    const token = "wtos_" + "C".repeat(43);
    const response = await fetch(`http://127.0.0.1:${port}/api-webhook-subscriptions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(CONTRACT_EXAMPLE),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    const body = await response.json();
    assert.equal(body.error, "service_unavailable");
    assert.equal(body.request_id, response.headers.get("x-request-id"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const logLine = lines.find((line) => line.includes(body.request_id));
    assert.ok(logLine, "the request is logged");
    assert.equal(JSON.parse(logLine).status, 503);
    assert.ok(!lines.join("\n").includes(token), "the token is not logged");
  } finally {
    await fn.stop();
  }
});

Deno.test("the function's log lines never carry the token or the secret", async () => {
  const { token } = await newToken();
  const response = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(response.status, 201);
  const requestId = response.headers.get("x-request-id")!;
  const { secret } = (await response.json()).data;

  let log = "";
  for (let attempt = 0; attempt < 50 && !log.includes(requestId); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    log = await Deno.readTextFile(join(stack.logDir, "function.log"));
  }
  const line = log.split("\n").find((entry) => entry.includes(requestId));
  assert.ok(line, "the request was logged");
  assert.equal(JSON.parse(line).status, 201);
  assert.ok(!log.includes(token), "token in the function log");
  assert.ok(!log.includes(secret), "secret in the function log");
});
