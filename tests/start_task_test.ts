import assert from "node:assert/strict";
import { join } from "node:path";
import pg from "pg";
import { freePort, isAlive } from "../scripts/local-stack/processes.ts";
import { DEMO_WORKSPACE_ID } from "../scripts/local-stack/api-tokens.ts";
import { curlCommandIn, PROJECT_ROOT, run, runCurl } from "./helpers/processes.ts";

interface StartedStack {
  child: Deno.ChildProcess;
  banner: string;
  output: Promise<string>;
}

/** Runs `deno task start` as a person would and waits for its ready banner. */
async function startTask(env: Record<string, string>, args: string[] = []): Promise<StartedStack> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", ...args],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const banner = Promise.withResolvers<string>();
  const output = (async () => {
    const stderr = new Response(child.stderr).text();
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (text.includes("Press Ctrl-C to stop.")) banner.resolve(text);
    }
    return text + (await stderr);
  })();
  child.status.then(async () => {
    banner.reject(new Error(`deno task start exited before it was ready:\n${await output}`));
  });
  const timer = setTimeout(
    () => banner.reject(new Error(`no ready banner in 60 s:\n${text}`)),
    60_000,
  );
  try {
    return { child, banner: await banner.promise, output };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The README's first delivery: a receiver one command starts, a subscription to it, an emit, and
 * the signed delivery printed by the receiver within a second.
 */
async function watchFirstDelivery(banner: string, env: Record<string, string>): Promise<string> {
  assert.match(banner, /runs every 10 s, and at once after each emit/);
  const port = freePort();
  const created = await runCurl(
    curlCommandIn(banner).replace(
      "https://example.com/wundertre/webhook",
      `http://127.0.0.1:${port}/webhook`,
    ),
  );
  assert.equal(created.status, "201");
  const receiver = new Deno.Command(Deno.execPath(), {
    args: ["task", "receiver", "--port", String(port), "--secret", created.body.data.secret],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let printed = "";
  const reading = (async () => {
    for await (const chunk of receiver.stdout.pipeThrough(new TextDecoderStream())) {
      printed += chunk;
    }
  })();
  try {
    const deadline = Date.now() + 20_000;
    while (!printed.includes("Receiver listening")) {
      assert.ok(Date.now() < deadline, `the receiver did not start: ${printed}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // As a person runs it: no SUPABASE_URL (this suite's own stack) in the environment.
    const emitted = await run(
      ["task", "emit", "--type", "contact.created", "--data", '{"id": "c_1"}'],
      { ...env, SUPABASE_URL: "", SUPABASE_SERVICE_ROLE_KEY: "" },
    );
    assert.equal(emitted.code, 0, emitted.stderr);
    const eventId = emitted.stdout.trim();
    const sent = Date.now();
    while (!printed.includes(`webhook-id=${eventId} signature: valid`)) {
      assert.ok(Date.now() - sent < 1000, `no verified delivery within 1 s:\n${printed}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(printed, /"data":\{"id":"c_1"\}/);
    return String(created.body.data.id);
  } finally {
    receiver.kill("SIGTERM");
    await receiver.status;
    await reading;
  }
}

Deno.test({
  name:
    "deno task start: ready banner with a working curl, Ctrl-C stops everything, restart keeps data",
  // The timers and streams above belong to child processes that this test awaits itself.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stateDir = await Deno.makeTempDir({ prefix: "wundertreos-start-" });
    const apiPort = freePort();
    const dbPort = freePort();
    const env = {
      WUNDERTRE_LOCAL_DIR: stateDir,
      WUNDERTRE_API_PORT: String(apiPort),
      WUNDERTRE_DB_PORT: String(dbPort),
    };
    const createdIds: string[] = [];

    for (const round of [1, 2]) {
      const started = await startTask(env);
      assert.ok(
        started.banner.includes(
          `http://127.0.0.1:${apiPort}/functions/v1/api-webhook-subscriptions`,
        ),
      );
      const { status, body } = await runCurl(curlCommandIn(started.banner));
      assert.equal(status, "201", `round ${round}`);
      const { data } = body;
      assert.match(started.banner, /PERMISSIVE local policy/);
      // Locally a receiver on this machine is a valid target (the deployed policy refuses it).
      const local = await runCurl(
        curlCommandIn(started.banner).replace(
          "https://example.com/wundertre/webhook",
          "http://127.0.0.1:9999/receiver",
        ),
      );
      assert.equal(local.status, "201");
      createdIds.push(String(data.id), String(local.body.data.id));

      if (round === 1) createdIds.push(await watchFirstDelivery(started.banner, env));

      const state = JSON.parse(await Deno.readTextFile(join(stateDir, "stack.json")));
      assert.equal(state.pids.length, 4, "postgres, postgrest and the two functions");
      for (const pid of state.pids) assert.ok(isAlive(pid));

      if (round === 2) {
        const client = new pg.Client({
          connectionString: `postgres://postgres:postgres@127.0.0.1:${dbPort}/postgres`,
        });
        await client.connect();
        const { rows } = await client.query(
          "select id from public.webhook_subscriptions where workspace_id = $1 order by created_at",
          [DEMO_WORKSPACE_ID],
        );
        await client.end();
        assert.deepEqual(rows.map((row) => row.id), createdIds, "data survives a restart");
      }

      started.child.kill("SIGINT");
      const exit = await started.child.status;
      const output = await started.output;
      assert.equal(exit.code, 0, output);
      assert.match(output, /Stopped\./);
      for (const pid of state.pids) assert.ok(!isAlive(pid), `process ${pid} is still running`);
      await assert.rejects(Deno.stat(join(stateDir, "stack.json")));
      const listener = Deno.listen({ hostname: "127.0.0.1", port: apiPort });
      listener.close();
    }

    const fresh = await startTask(env, ["--fresh"]);
    try {
      assert.match(fresh.banner, /starting fresh/);
      const client = new pg.Client({
        connectionString: `postgres://postgres:postgres@127.0.0.1:${dbPort}/postgres`,
      });
      await client.connect();
      const { rows } = await client.query(
        "select count(*)::int as count from public.webhook_subscriptions",
      );
      await client.end();
      assert.equal(rows[0].count, 0, "--fresh starts over");
    } finally {
      fresh.child.kill("SIGINT");
      await fresh.child.status;
      await fresh.output;
    }
    await Deno.remove(stateDir, { recursive: true });
  },
});
