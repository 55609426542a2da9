/**
 * deno task test [deno test arguments]
 *
 * Starts a throw-away stack on free ports, runs every test against it, stops it, and ends with
 * `tests: N passed, N failed` counted from the test run's JUnit report.
 */
import { join } from "node:path";
import { DNS_RECORDS } from "../tests/helpers/dns-records.ts";
import { TEST_DISPATCHER_ENV } from "../tests/helpers/dispatcher-env.ts";
import { startDnsServer } from "./local-stack/dns-server.ts";
import { reservedPort } from "./local-stack/processes.ts";
import { startStack } from "./local-stack/stack.ts";

const stateDir = await Deno.makeTempDir({ prefix: "wundertreos-test-" });
console.log(`Starting a throw-away stack in ${stateDir}`);
// The browser test serves its page here; the function allows exactly this origin.
const pagePort = reservedPort();
const pageOrigin = `http://127.0.0.1:${pagePort}`;
// Target URLs are checked as in production (strict), against a DNS server whose answers the
// tests choose.
const dns = await startDnsServer(DNS_RECORDS);
const stack = await startStack({
  stateDir,
  ports: {},
  fresh: true,
  ephemeral: true,
  corsAllowedOrigins: [pageOrigin],
  targetPolicy: "strict",
  targetDnsServer: `127.0.0.1:${dns.port}`,
  // Small enough that the cap is reachable in a test, large enough for every other test.
  functionEnv: { MAX_SUBSCRIPTIONS_PER_WORKSPACE: "30" },
  // The suite's receivers listen on loopback, which the strict policy refuses; the rebinding test
  // runs a strict dispatcher of its own. The contract's waits, shortened by configuration only.
  dispatcherEnv: TEST_DISPATCHER_ENV,
  dispatchIntervalMs: 300,
});

// The fault tests take parts of the stack away through this; it listens on loopback only.
const control = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  async (request) => {
    const actions: Record<string, () => Promise<void>> = {
      "/postgrest/stop": stack.faults.stopPostgrest,
      "/postgrest/start": stack.faults.startPostgrest,
      "/postgres/stop": stack.faults.stopPostgres,
      "/postgres/start": stack.faults.startPostgres,
      "/scheduler/pause": stack.scheduler.pause,
      "/scheduler/resume": () => Promise.resolve(stack.scheduler.resume()),
    };
    const action = request.method === "POST" ? actions[new URL(request.url).pathname] : undefined;
    if (!action) return new Response("not found", { status: 404 });
    await action();
    return new Response(null, { status: 204 });
  },
);

let interrupted = false;
const onSignal = () => {
  interrupted = true;
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

const junitPath = join(stateDir, "junit.xml");
const testArgs = Deno.args.length > 0 ? Deno.args : ["tests/"];
let code = 1;
try {
  const run = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", `--junit-path=${junitPath}`, ...testArgs],
    env: {
      SUPABASE_URL: stack.apiUrl,
      SUPABASE_ANON_KEY: stack.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
      SUPABASE_JWT_SECRET: stack.jwtSecret,
      WUNDERTRE_TEST_DATABASE_URL: stack.databaseUrl,
      WUNDERTRE_TEST_LOG_DIR: stack.logDir,
      WUNDERTRE_TEST_DISPATCHER_URL: stack.dispatcherUrl,
      WUNDERTRE_TEST_SESSION_KEY: JSON.stringify(stack.sessionSigningKey.privateJwk),
      WUNDERTRE_TEST_PAGE_PORT: String(pagePort),
      WUNDERTRE_TEST_DNS_SERVER: `127.0.0.1:${dns.port}`,
      WUNDERTRE_TEST_CONTROL_URL: `http://127.0.0.1:${control.addr.port}`,
    },
    stdin: "null",
  }).spawn();
  code = (await run.status).code;
} finally {
  await control.shutdown();
  await stack.stop();
  await dns.close();
}

let passed = 0;
let failed = 0;
try {
  const report = await Deno.readTextFile(junitPath);
  for (const testcase of report.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (/<(failure|error)\b/.test(testcase[1] ?? "")) failed++;
    else passed++;
  }
} catch {
  console.error("no test report was written (did a test file fail to type-check?)");
}
// A run that failed without a failing test case (type errors, a crash) still failed.
if (code !== 0 && failed === 0) failed = 1;

if (code === 0) await Deno.remove(stateDir, { recursive: true }).catch(() => {});
else console.log(`Service logs kept in ${join(stateDir, "logs")}`);
if (interrupted && code === 0) code = 130;
console.log(`tests: ${passed} passed, ${failed} failed`);
Deno.exit(code);
