/**
 * deno task bench --deliveries [--rounds 3] [--per-round 20000] [--subscriptions 100] [--json]
 * deno task bench --deliveries --latency-only RATE   only the latency part, at RATE events/s
 * deno task bench --deliveries --statements   also where Postgres spends its time, per variant
 * deno task bench --deliveries --slow-backlog N   only what N deliveries due for one slow receiver
 *                                                  (500 ms an answer, at its bound of 8) cost
 *
 * The delivery path, on its own stack, with one receiver for all (a bare Deno.serve answering
 * 204, in its own process). Each round runs every variant on the same number of deliveries, in
 * an order that rotates from round to round so that drift hits them equally:
 *   sender        a bare loop POSTing pre-signed bodies at the dispatcher's concurrency, no database
 *   minimal       claim a batch in one statement, POST with fetch, mark the batch done in one
 *                 statement: the least a durable dispatcher of our schema must do
 *   dispatcher    the real webhook-dispatcher, runs called back to back as pg_cron would
 *   dispatcher-x2, dispatcher-x4   two and four of them at once
 *   fanout-minimal, fanout-dispatcher   the same two with one event per 1,000 subscriptions
 * Durable variants start from a queue of due deliveries (one burst of emits) and end when none is
 * pending. Then: end-to-end latency at half the dispatcher's rate through the local stack's own
 * scheduling (emit -> NOTIFY -> dispatcher -> receiver), with the CPU each part of the path spent
 * per event (from /proc), and a 50,000-event burst drained the same way while the API answers
 * creates (its p99 then against idle).
 */
import pg from "pg";
import { join } from "node:path";
import { signatureHeader } from "../../supabase/functions/webhook-dispatcher/signature.ts";
import { PROJECT_ROOT } from "../local-stack/postgres.ts";
import { freePort, type ManagedProcess, spawnManaged } from "../local-stack/processes.ts";
import { type Stack, startStack } from "../local-stack/stack.ts";
import { issueApiToken, serviceClient } from "../local-stack/api-tokens.ts";
import { runChild } from "./child.ts";

export interface DeliveryBenchOptions {
  rounds: number;
  perRound: number;
  subscriptions: number;
  json: boolean;
  burst: number;
  latencySeconds: number;
  /** Measure only the latency, at this rate (events/s), skipping everything else. */
  latencyOnlyRate: number | null;
  /** Record each variant's statements with pg_stat_statements (nested ones too) and report them. */
  statements: boolean;
  /**
   * Measure only what a slow receiver's backlog of this many deliveries costs everyone else,
   * skipping everything else.
   */
  slowBacklog: number | null;
}

/** One statement's share of a variant's deliveries, from pg_stat_statements. */
export interface StatementCost {
  /** False for a statement run inside a function, whose time its caller's includes. */
  toplevel: boolean;
  callsPerDelivery: number;
  /** Execution and planning, microseconds per delivery. */
  execUs: number;
  planUs: number;
  query: string;
}

const STATEMENT_SETTINGS = [
  "shared_preload_libraries=pg_stat_statements",
  "pg_stat_statements.track=all",
  "pg_stat_statements.track_planning=on",
];

const RECEIVER_ENTRY = join(PROJECT_ROOT, "scripts/bench/receiver.ts");
const SENDER_ENTRY = join(PROJECT_ROOT, "scripts/bench/sender.ts");
const MINIMAL_ENTRY = join(PROJECT_ROOT, "scripts/bench/minimal-loop.ts");
const DISPATCHER_ENTRY = join(PROJECT_ROOT, "supabase/functions/webhook-dispatcher/index.ts");
const FANOUT_SUBSCRIPTIONS = 1000;
/** --slow-backlog: how long each phase emits, and the backlog of the phase it is compared with. */
const SLOW_RECEIVER_SECONDS = 15;
const SLOW_RECEIVER_BASELINE = 1000;
/** The dispatcher's defaults, so the minimal loop and the sender work at the same concurrency. */
const IN_FLIGHT = 64;
const SECRET = "8f3c2a1d9e7b4f6a5c2d1e0f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";

// The minimal loop's two statements, installed on the benchmark's own throw-away stack only.
const MINIMAL_LOOP_SQL = `
create or replace function public.bench_minimal_claim(max_deliveries integer)
returns table (delivery_id uuid, event_id uuid, target_url text, body jsonb)
language sql volatile set search_path = '' as $$
  with claimed as (
    update public.webhook_deliveries as d
       set lease_id = gen_random_uuid(),
           next_attempt_at = now() + interval '60 seconds',
           attempt_count = d.attempt_count + 1
     where d.id in (select q.id from public.webhook_deliveries as q
                     where q.status = 'pending' and q.next_attempt_at <= now()
                     order by q.next_attempt_at, q.id
                     limit max_deliveries
                       for update skip locked)
    returning d.id, d.event_id, d.subscription_id
  )
  select c.id, c.event_id, s.target_url,
         jsonb_build_object('id', e.id, 'type', e.type, 'timestamp', e.created_at,
                            'workspace_id', e.workspace_id, 'data', e.data)
    from claimed as c
    join public.webhook_subscriptions as s on s.id = c.subscription_id
    join public.webhook_events as e on e.id = c.event_id
$$;
create or replace function public.bench_minimal_done(ids uuid[])
returns void language sql set search_path = '' as $$
  update public.webhook_deliveries
     set status = 'succeeded', finished_at = now(), lease_id = null, last_response_status = 204
   where id = any (ids)
$$;
grant execute on function public.bench_minimal_claim(integer), public.bench_minimal_done(uuid[])
  to service_role;
notify pgrst, 'reload schema';
`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const percentile = (values: number[], fraction: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
};
const round2 = (value: number) => Math.round(value * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A process's CPU time so far, in ms (utime + stime from /proc, 100 Hz ticks); 0 if gone. */
function cpuMs(pid: string | number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU time of every Postgres process so far, in ms. */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/comm`).trim() !== "postgres") continue;
    } catch {
      continue;
    }
    total += cpuMs(entry.name);
  }
  return total;
}

/** Busy CPU time of the whole machine so far, in ms, all cores together (/proc/stat, 100 Hz ticks). */
function machineBusyMs(): number {
  // user nice system idle iowait irq softirq steal: all but idle and iowait
  const ticks = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/)
    .slice(1, 9).map(Number);
  return ticks.reduce((sum, value, i) => i === 3 || i === 4 ? sum : sum + value, 0) * 10;
}

/** Where the CPU goes while events are emitted and delivered, by part of the path. */
const CPU_PARTS = [
  "emits (Postgres)",
  "claims and records (Postgres)",
  "Postgres, other",
  "dispatcher",
  "PostgREST",
  "receiver",
  "benchmark (gateway, scheduler, emitting client)",
] as const;
type CpuPart = typeof CPU_PARTS[number];
const EMITS_APPLICATION = "bench emits";

/** Each process's CPU time so far, in ms, with the part of the path it belongs to. */
async function cpuByProcess(
  db: pg.Client,
  receiverPid: number,
): Promise<Map<number, { part: CpuPart; ms: number }>> {
  const { rows } = await db.query<{ pid: number; part: CpuPart }>(
    `select pid,
            case when application_name = $1 then 'emits (Postgres)'
                 when usename = 'authenticator' then 'claims and records (Postgres)' end as part
       from pg_stat_activity
      where application_name = $1 or usename = 'authenticator'`,
    [EMITS_APPLICATION],
  );
  const backends = new Map(rows.map((row) => [row.pid, row.part]));
  const processes = new Map<number, { part: CpuPart; ms: number }>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    let part: CpuPart | undefined;
    try {
      const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
      if (comm === "postgres") part = backends.get(pid) ?? "Postgres, other";
      else if (comm.startsWith("postgrest")) part = "PostgREST";
      else if (pid === receiverPid) part = "receiver";
      else if (pid === Deno.pid) part = "benchmark (gateway, scheduler, emitting client)";
      else if (Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("webhook-dispatcher")) {
        part = "dispatcher";
      }
    } catch {
      continue;
    }
    if (part) processes.set(pid, { part, ms: cpuMs(pid) });
  }
  return processes;
}

/** CPU ms per event by part between two snapshots (a process new since the first counts whole). */
function cpuPerEvent(
  before: Map<number, { part: CpuPart; ms: number }>,
  after: Map<number, { part: CpuPart; ms: number }>,
  events: number,
): Record<CpuPart, number> {
  const parts = Object.fromEntries(CPU_PARTS.map((part) => [part, 0])) as Record<CpuPart, number>;
  for (const [pid, { part, ms }] of after) parts[part] += ms - (before.get(pid)?.ms ?? 0);
  for (const part of CPU_PARTS) parts[part] = Math.round((parts[part] / events) * 1000) / 1000;
  return parts;
}

interface VariantResult {
  deliveries: number;
  seconds: number;
  perSecond: number;
  /** Requests through the gateway to PostgREST, per delivery. */
  roundTrips: number | null;
  /** Postgres CPU per delivery, in ms. */
  postgresCpuMs: number | null;
  /** The dispatchers' own CPU per delivery, in ms (what bounds a run on an edge function). */
  dispatcherCpuMs: number | null;
  /** The whole machine's busy CPU per delivery, in ms (every process, the kernel's too). */
  machineCpuMs: number;
  /** webhook-ids the receiver got more than once. */
  repeats: number;
  /** The dispatchers' warning and error lines during the round. */
  warnings: string[];
  /** With --statements: the costliest statements, most first. */
  statements?: StatementCost[];
}

export async function runDeliveryBench(options: DeliveryBenchOptions): Promise<void> {
  const progress = (line: string) => options.json ? console.error(line) : console.log(line);
  let restRequests = 0;
  const stack: Stack = await startStack({
    stateDir: await Deno.makeTempDir({ prefix: "wundertreos-bench-deliveries-" }),
    ports: {},
    fresh: true,
    ephemeral: true,
    postgresSettings: options.statements ? STATEMENT_SETTINGS : [],
    targetPolicy: "permissive",
    functionEnv: {
      MAX_SUBSCRIPTIONS_PER_WORKSPACE: "999999999",
      RATE_LIMIT_READS_PER_MINUTE: "999999999",
      RATE_LIMIT_WRITES_PER_MINUTE: "999999999",
    },
    onRestRequest: () => restRequests++,
  });
  const receiverPort = freePort();
  const receiver: ManagedProcess = spawnManaged({
    name: "bench receiver",
    command: Deno.execPath(),
    args: ["serve", "--allow-net", "--port", String(receiverPort), RECEIVER_ENTRY],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    onLine: () => {},
  });
  const origin = `http://127.0.0.1:${receiverPort}`;
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  const dispatchers: { origin: string; process: ManagedProcess }[] = [];
  // The dispatchers' warnings and errors (a failed claim or record), shown with the round they
  // happened in: a slow round with none is the machine, one with some is ours.
  const dispatcherWarnings: string[] = [];
  try {
    await db.connect();
    await db.query(MINIMAL_LOOP_SQL);
    if (options.statements) await db.query("create extension if not exists pg_stat_statements");
    /** The top statements since the last reset, per delivery; the benchmark's own are left out. */
    const statementCosts = async (deliveries: number): Promise<StatementCost[]> => {
      const { rows } = await db.query<
        { toplevel: boolean; calls: string; exec: number; plan: number; query: string }
      >(
        `select toplevel, calls, total_exec_time as exec, total_plan_time as plan,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query
           from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())
            and query not like '%pg_stat_statements%'
            and query not like 'select count(*) from public.webhook_deliveries where status%'
          order by total_exec_time + total_plan_time desc
          limit 12`,
      );
      return rows.map((row) => ({
        toplevel: row.toplevel,
        callsPerDelivery: Math.round(Number(row.calls) / deliveries * 1000) / 1000,
        execUs: Math.round(row.exec * 1000 / deliveries * 10) / 10,
        planUs: Math.round(row.plan * 1000 / deliveries * 10) / 10,
        query: row.query,
      }));
    };
    while (true) {
      try {
        await (await fetch(`${origin}/stats`)).body?.cancel();
        break;
      } catch {
        await sleep(50);
      }
    }
    const receiverStats = async () =>
      await (await fetch(`${origin}/stats`)).json() as {
        requests: number;
        unique: number;
        repeats: number;
      };
    const resetReceiver = async () =>
      await (await fetch(`${origin}/reset`, { method: "POST" })).body?.cancel();

    // Subscribers: one workspace each (a tenant base), and one workspace of 1,000 (fan-out).
    const { rows: tenants } = await db.query<{ id: string }>(
      `with w as (insert into public.workspaces (name)
                  select 'bench ' || n from generate_series(1, $1::int) n returning id)
       insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       select w.id, $2 || '/s/' || row_number() over (), '{contact.created}', $3 from w
       returning workspace_id as id`,
      [options.subscriptions, origin, SECRET],
    );
    const { rows: [fanout] } = await db.query<{ id: string }>(
      "insert into public.workspaces (name) values ('bench fan-out') returning id",
    );
    await db.query(
      `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
       select $1, $2 || '/f/' || n, '{deal.created}', $3 from generate_series(1, $4::int) n`,
      [fanout.id, origin, SECRET, FANOUT_SUBSCRIPTIONS],
    );
    const tenantIds = tenants.map((row) => row.id);

    const pending = async () => {
      const { rows: [{ count }] } = await db.query<{ count: string }>(
        "select count(*) from public.webhook_deliveries where status = 'pending'",
      );
      return Number(count);
    };
    const clearQueue = () =>
      db.query(
        "truncate public.webhook_delivery_attempts, public.webhook_deliveries, public.webhook_events",
      );
    /** `total` deliveries due at once: one statement, as an import's burst would commit. */
    const fillQueue = async (fanOut: boolean, total: number) => {
      if (fanOut) {
        await db.query(
          `select public.emit_webhook_event($1, 'deal.created',
                    jsonb_build_object('id', 'd_' || n, 'amount', n, 'stage', 'won'))
             from generate_series(1, $2::int) n`,
          [fanout.id, Math.ceil(total / FANOUT_SUBSCRIPTIONS)],
        );
      } else {
        await db.query(
          `select public.emit_webhook_event(w, 'contact.created',
                    jsonb_build_object('id', 'c_' || n, 'name', 'Ada Lovelace',
                                       'email', 'ada@example.com'))
             from unnest($1::uuid[]) w, generate_series(1, $2::int) n`,
          [tenantIds, Math.ceil(total / tenantIds.length)],
        );
      }
      return await pending();
    };

    const startDispatcher = async () => {
      const port = freePort();
      const process = spawnManaged({
        name: "bench dispatcher",
        command: Deno.execPath(),
        args: ["run", "--allow-net", "--allow-env", "--allow-sys", "--no-prompt", DISPATCHER_ENTRY],
        cwd: PROJECT_ROOT,
        env: {
          SUPABASE_URL: stack.apiUrl,
          SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
          TARGET_URL_POLICY: "permissive",
          DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
          NO_COLOR: "1",
        },
        onLine: (line) => {
          if (/"level":"(warn|error)"/.test(line)) dispatcherWarnings.push(line);
        },
      });
      const dispatcherOrigin = `http://127.0.0.1:${port}`;
      while (true) {
        try {
          await (await fetch(dispatcherOrigin)).body?.cancel();
          break;
        } catch {
          await sleep(50);
        }
      }
      dispatchers.push({ origin: dispatcherOrigin, process });
    };
    while (dispatchers.length < 4) await startDispatcher();

    /** Runs `count` dispatchers back to back (as pg_cron would) until nothing is pending. */
    const drainWithDispatchers = async (count: number) => {
      let done = false;
      const loops = dispatchers.slice(0, count).map(async ({ origin }) => {
        while (!done) {
          const response = await fetch(origin, {
            method: "POST",
            headers: { Authorization: `Bearer ${stack.serviceRoleKey}` },
          });
          const body = await response.json();
          if (response.status !== 200) throw new Error(`dispatcher: ${JSON.stringify(body)}`);
          if (body.data.claimed === 0) await sleep(20);
        }
      });
      while (await pending() > 0) await sleep(25);
      done = true;
      await Promise.all(loops);
    };

    const signedRequests = async () => {
      const requests = [];
      for (let n = 0; n < 100; n++) {
        const id = crypto.randomUUID();
        const body = JSON.stringify({
          id,
          type: "contact.created",
          timestamp: new Date().toISOString(),
          workspace_id: tenantIds[0],
          data: { id: `c_${n}`, name: "Ada Lovelace", email: "ada@example.com" },
        });
        const timestamp = Math.floor(Date.now() / 1000);
        requests.push({
          body,
          headers: {
            "Content-Type": "application/json",
            "User-Agent": "WundertreOS-Webhooks/1.0",
            "webhook-timestamp": String(timestamp),
            "webhook-signature": await signatureHeader([SECRET], id, timestamp, body),
          },
        });
      }
      return requests;
    };
    const presigned = await signedRequests();

    const measure = async (variant: string): Promise<VariantResult> => {
      await clearQueue();
      await resetReceiver();
      const fanOut = variant.startsWith("fanout");
      if (variant === "sender") {
        // The sender's own start-up is in its machine CPU: about 0.01 ms a delivery.
        const machineBefore = machineBusyMs();
        const result = await runChild<{ deliveries: number; failed: number; seconds: number }>(
          SENDER_ENTRY,
          { origin, count: options.perRound, concurrency: IN_FLIGHT, requests: presigned },
          ["--allow-net"],
        );
        if (result.failed > 0) throw new Error(`sender: ${result.failed} failed`);
        return {
          deliveries: result.deliveries,
          seconds: result.seconds,
          perSecond: result.deliveries / result.seconds,
          roundTrips: null,
          postgresCpuMs: null,
          dispatcherCpuMs: null,
          machineCpuMs: (machineBusyMs() - machineBefore) / result.deliveries,
          repeats: (await receiverStats()).repeats,
          warnings: [],
        };
      }
      const queued = await fillQueue(fanOut, options.perRound);
      if (options.statements) await db.query("select pg_stat_statements_reset()");
      const warningsBefore = dispatcherWarnings.length;
      const restBefore = restRequests;
      const cpuBefore = postgresCpuMs();
      const machineBefore = machineBusyMs();
      const dispatcherCpu = () => dispatchers.reduce((sum, d) => sum + cpuMs(d.process.pid), 0);
      const dispatcherCpuBefore = dispatcherCpu();
      const started = performance.now();
      if (variant.endsWith("minimal")) {
        const loop = runChild(MINIMAL_ENTRY, {
          restUrl: `${stack.apiUrl}/rest/v1`,
          serviceRoleKey: stack.serviceRoleKey,
          batch: IN_FLIGHT,
        }, ["--allow-net"]);
        while (await pending() > 0) await sleep(25);
        await loop;
      } else {
        const count = variant === "dispatcher-x4" ? 4 : variant === "dispatcher-x2" ? 2 : 1;
        await drainWithDispatchers(count);
      }
      const seconds = (performance.now() - started) / 1000;
      // The benchmark's own polling runs on Postgres too; its share is small and left in.
      const cpu = postgresCpuMs() - cpuBefore;
      const machineCpu = machineBusyMs() - machineBefore;
      const statements = options.statements ? await statementCosts(queued) : undefined;
      const stats = await receiverStats();
      const { rows: [{ succeeded }] } = await db.query<{ succeeded: string }>(
        "select count(*) as succeeded from public.webhook_deliveries where status = 'succeeded'",
      );
      if (Number(succeeded) !== queued || stats.unique !== queued) {
        throw new Error(
          `${variant}: ${queued} queued, ${succeeded} succeeded, ${stats.unique} received`,
        );
      }
      return {
        deliveries: queued,
        seconds,
        perSecond: queued / seconds,
        roundTrips: (restRequests - restBefore) / queued,
        postgresCpuMs: cpu / queued,
        dispatcherCpuMs: variant.endsWith("minimal")
          ? null
          : (dispatcherCpu() - dispatcherCpuBefore) / queued,
        machineCpuMs: machineCpu / queued,
        repeats: stats.repeats,
        warnings: dispatcherWarnings.slice(warningsBefore),
        statements,
      };
    };

    // Latency: the local stack's own path (emit -> NOTIFY -> scheduler -> dispatcher), one event
    // per tenant in turn, each in its own transaction. Split at the attempt's start (recorded by
    // the dispatcher): waiting to be claimed, then signing and sending.
    const measureLatency = async (rate: number) => {
      await clearQueue();
      await resetReceiver();
      stack.scheduler.resume();
      progress(`latency: ${rate} events/s for ${options.latencySeconds} s…`);
      const committedAt = new Map<string, number>();
      const pool = new pg.Pool({
        connectionString: stack.databaseUrl,
        max: 8,
        application_name: EMITS_APPLICATION,
      });
      // All 8 connections open before the clock starts, so that their backends are counted.
      await Promise.all(Array.from({ length: 8 }, () => pool.query("select pg_sleep(0.05)")));
      const total = rate * options.latencySeconds;
      const cpuBefore = await cpuByProcess(db, receiver.pid);
      const machineBefore = machineBusyMs();
      const startedAt = performance.now();
      const inFlight = new Set<Promise<void>>();
      for (let n = 0; n < total; n++) {
        const due = startedAt + (n * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const emitted = pool.query<{ id: string }>(
          `select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', $2::int)) as id`,
          [tenantIds[n % tenantIds.length], n],
        ).then(({ rows: [row] }) => {
          committedAt.set(row.id, Date.now());
        });
        const tracked = emitted.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        if (inFlight.size >= 64) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const emitSeconds = (performance.now() - startedAt) / 1000;
      const deadline = Date.now() + 60_000;
      while ((await receiverStats()).unique < total && Date.now() < deadline) await sleep(100);
      const cpuSeconds = (performance.now() - startedAt) / 1000;
      const cpu = cpuPerEvent(cpuBefore, await cpuByProcess(db, receiver.pid), total);
      const machineCpu = machineBusyMs() - machineBefore;
      const arrivals = await (await fetch(`${origin}/arrivals`)).json() as Record<string, number>;
      const { rows: starts } = await db.query<{ event_id: string; started: string }>(
        `select d.event_id, extract(epoch from min(a.started_at)) * 1000 as started
           from public.webhook_deliveries as d
           join public.webhook_delivery_attempts as a on a.delivery_id = d.id
          group by d.event_id`,
      );
      const attemptStarted = new Map(starts.map((row) => [row.event_id, Number(row.started)]));
      const latencies: number[] = [];
      const waits: number[] = [];
      const sends: number[] = [];
      for (const [id, at] of committedAt) {
        const arrived = arrivals[id] ?? Infinity;
        latencies.push(arrived - at);
        const started = attemptStarted.get(id);
        if (started === undefined) continue;
        waits.push(started - at);
        sends.push(arrived - started);
      }
      await pool.end();
      return {
        rate,
        events: total,
        emitSeconds: round2(emitSeconds),
        delivered: latencies.filter(Number.isFinite).length,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        maxMs: percentile(latencies, 1),
        untilClaimedP50Ms: Math.round(percentile(waits, 0.5)),
        untilClaimedP99Ms: Math.round(percentile(waits, 0.99)),
        sendingP50Ms: Math.round(percentile(sends, 0.5)),
        sendingP99Ms: Math.round(percentile(sends, 0.99)),
        /** From the first emit until the last arrival (or the 60 s wait's end). */
        cpuSeconds: round2(cpuSeconds),
        cpuMsPerEvent: cpu,
        machineCpuMsPerEvent: Math.round((machineCpu / total) * 1000) / 1000,
        machineBusyPercent: Math.round(machineCpu / cpuSeconds / 10),
      };
    };
    type Latency = Awaited<ReturnType<typeof measureLatency>>;
    const cpuLine = (latency: Latency) => {
      const cores = navigator.hardwareConcurrency;
      const parts = CPU_PARTS.map((part) => `${part} ${latency.cpuMsPerEvent[part].toFixed(3)}`);
      const carried = Math.round((cores * 1000) / latency.machineCpuMsPerEvent);
      return `CPU per event at ${latency.rate}/s: ${parts.join(", ")} ms; the machine ${
        latency.machineCpuMsPerEvent.toFixed(3)
      } ms an event (so its ${cores} cores carry at most ${carried} events a second), ${latency.machineBusyPercent}% busy over ${latency.cpuSeconds} s`;
    };
    const latencyLine = (latency: Latency) =>
      `latency at ${latency.rate} events/s, ${latency.events} events: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms (${latency.delivered} delivered); commit to attempt start p50 ${latency.untilClaimedP50Ms} ms, p99 ${latency.untilClaimedP99Ms} ms; attempt start to arrival p50 ${latency.sendingP50Ms} ms, p99 ${latency.sendingP99Ms} ms`;

    // The stack's own scheduler stays off while the variants run; the latency part uses it.
    await stack.scheduler.pause();
    const variants = [
      "sender",
      "minimal",
      "dispatcher",
      "dispatcher-x2",
      "dispatcher-x4",
      "fanout-minimal",
      "fanout-dispatcher",
    ];
    const results: Record<string, VariantResult[]> = Object.fromEntries(
      variants.map((variant) => [variant, []]),
    );
    // A slow receiver (500 ms an answer, so always at its bound of 8 in flight) with `due`
    // deliveries waiting, while the tenants get one event every 100 ms through the stack's own
    // scheduling: Postgres CPU, and the tenants' latency. Its attempts finishing wake a claim each,
    // so what a claim reads of the backlog is paid many times a second.
    const measureSlowReceiver = async (slowWorkspaceId: string, due: number) => {
      await clearQueue();
      await resetReceiver();
      await db.query(
        `select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n))
           from generate_series(1, $2::int) n`,
        [slowWorkspaceId, due],
      );
      await db.query("analyze public.webhook_deliveries, public.webhook_events");
      stack.scheduler.resume();
      const committedAt = new Map<string, number>();
      const postgresBefore = postgresCpuMs();
      const startedAt = performance.now();
      for (let n = 0; performance.now() - startedAt < SLOW_RECEIVER_SECONDS * 1000; n++) {
        const { rows: [row] } = await db.query<{ id: string }>(
          `select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', $2::int)) as id`,
          [tenantIds[n % tenantIds.length], n],
        );
        committedAt.set(row.id, Date.now());
        await sleep(100);
      }
      const seconds = (performance.now() - startedAt) / 1000;
      const postgresCorePercent = Math.round((postgresCpuMs() - postgresBefore) / seconds / 10);
      await sleep(2000);
      await stack.scheduler.pause();
      const arrivals = await (await fetch(`${origin}/arrivals`)).json() as Record<string, number>;
      const latencies = [...committedAt].map(([id, at]) => (arrivals[id] ?? Infinity) - at);
      const { rows: [{ sent }] } = await db.query<{ sent: number }>(
        `select count(*)::int as sent from public.webhook_delivery_attempts as a
           join public.webhook_deliveries as d on d.id = a.delivery_id
           join public.webhook_subscriptions as s on s.id = d.subscription_id
          where s.workspace_id = $1`,
        [slowWorkspaceId],
      );
      return {
        due,
        postgresCorePercent,
        slowReceiverAnswered: sent,
        othersDelivered: latencies.filter(Number.isFinite).length,
        othersEmitted: latencies.length,
        othersP50Ms: percentile(latencies, 0.5),
        othersP99Ms: percentile(latencies, 0.99),
      };
    };
    if (options.slowBacklog !== null) {
      // Only this mode has the slow subscription, so the default run stays as it was.
      const { rows: [slowWorkspace] } = await db.query<{ id: string }>(
        "insert into public.workspaces (name) values ('bench slow receiver') returning id",
      );
      await db.query(
        `insert into public.webhook_subscriptions (workspace_id, target_url, event_types, secret)
         values ($1, $2 || '/slow/1', '{contact.created}', $3)`,
        [slowWorkspace.id, origin, SECRET],
      );
      progress(`a slow receiver with ${SLOW_RECEIVER_BASELINE} due, then ${options.slowBacklog}…`);
      const baseline = await measureSlowReceiver(slowWorkspace.id, SLOW_RECEIVER_BASELINE);
      const backlog = await measureSlowReceiver(slowWorkspace.id, options.slowBacklog);
      const ratio = round2(backlog.postgresCorePercent / Math.max(1, baseline.postgresCorePercent));
      if (options.json) {
        console.log(JSON.stringify({ slowReceiver: { baseline, backlog, postgresRatio: ratio } }));
      } else {
        for (const phase of [baseline, backlog]) {
          console.log(
            `slow receiver, ${phase.due} due: Postgres ${phase.postgresCorePercent}% of a core; the others' latency p50 ${phase.othersP50Ms} ms, p99 ${phase.othersP99Ms} ms (${phase.othersDelivered}/${phase.othersEmitted} delivered); the slow receiver answered ${phase.slowReceiverAnswered}`,
          );
        }
        console.log(
          `Postgres CPU with ${backlog.due} due / with ${baseline.due} due: ${ratio}`,
        );
      }
      return;
    }
    if (options.latencyOnlyRate !== null) {
      const latency = await measureLatency(options.latencyOnlyRate);
      console.log(
        options.json ? JSON.stringify({ latency }) : `${latencyLine(latency)}\n${cpuLine(latency)}`,
      );
      return;
    }
    progress("warming up…");
    for (const variant of variants) {
      const saved = options.perRound;
      options.perRound = 2000;
      await measure(variant);
      options.perRound = saved;
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      for (const variant of order) {
        const result = await measure(variant);
        results[variant].push(result);
        progress(
          `round ${round + 1} ${variant.padEnd(17)} ${result.perSecond.toFixed(0).padStart(6)}/s` +
            (result.roundTrips === null ? "" : `, ${result.roundTrips.toFixed(3)} round trips` +
              ` and ${result.postgresCpuMs!.toFixed(3)} ms Postgres CPU per delivery`) +
            (result.dispatcherCpuMs === null
              ? ""
              : `, ${result.dispatcherCpuMs.toFixed(3)} ms dispatcher CPU`) +
            (result.repeats ? `, ${result.repeats} repeated webhook-ids` : "") +
            (result.warnings.length
              ? `, ${result.warnings.length} dispatcher warnings, first: ${result.warnings[0]}`
              : ""),
        );
        for (const statement of result.statements ?? []) {
          progress(
            `    ${statement.toplevel ? "top" : "   "} ${
              statement.callsPerDelivery.toFixed(3).padStart(7)
            } calls ${statement.execUs.toFixed(1).padStart(6)} µs exec ${
              statement.planUs.toFixed(1).padStart(5)
            } µs plan  ${statement.query}`,
          );
        }
      }
    }

    const ratio = (a: string, b: string) => {
      const rounds = results[a].map((r, i) => r.perSecond / results[b][i].perSecond);
      return { median: round2(median(rounds)), rounds: rounds.map(round2) };
    };
    const ratios = {
      "dispatcher/minimal": ratio("dispatcher", "minimal"),
      "minimal/sender": ratio("minimal", "sender"),
      "dispatcher/sender": ratio("dispatcher", "sender"),
      "dispatcher-x2/dispatcher": ratio("dispatcher-x2", "dispatcher"),
      "dispatcher-x4/dispatcher": ratio("dispatcher-x4", "dispatcher"),
      "fanout-dispatcher/fanout-minimal": ratio("fanout-dispatcher", "fanout-minimal"),
    };
    const summary = Object.fromEntries(variants.map((variant) => {
      const list = results[variant];
      const of = (pick: (r: VariantResult) => number | null) => {
        const values = list.map(pick).filter((v): v is number => v !== null);
        return values.length ? Math.round(median(values) * 1000) / 1000 : null;
      };
      return [variant, {
        perSecond: Math.round(median(list.map((r) => r.perSecond))),
        roundTripsPerDelivery: of((r) => r.roundTrips),
        postgresCpuMsPerDelivery: of((r) => r.postgresCpuMs),
        dispatcherCpuMsPerDelivery: of((r) => r.dispatcherCpuMs),
        machineCpuMsPerDelivery: of((r) => r.machineCpuMs),
        repeatedWebhookIds: list.reduce((sum, r) => sum + r.repeats, 0),
        dispatcherWarnings: list.flatMap((r) => r.warnings),
        rounds: list.map((r) => Math.round(r.perSecond)),
        ...(options.statements ? { statements: list.map((r) => r.statements) } : {}),
      }];
    }));

    const latency = await measureLatency(Math.max(1, Math.round(summary.dispatcher.perSecond / 2)));

    // The burst: 50,000 events at once, drained by the stack's scheduled dispatcher, while the
    // API answers creates; their p99 then, against idle.
    const token = (await issueApiToken(serviceClient(stack.apiUrl, stack.serviceRoleKey), {
      workspaceId: crypto.randomUUID(),
      scopes: ["webhooks:read", "webhooks:write"],
    })).token;
    const createLatencies = async (until: () => boolean, minimum: number) => {
      const times: number[] = [];
      await Promise.all([0, 1].map(async () => {
        while (times.length < minimum || !until()) {
          const sent = performance.now();
          const response = await fetch(stack.functionUrl, {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: JSON.stringify({
              target_url: `https://example.com/bench/${times.length}`,
              event_types: ["contact.created"],
            }),
          });
          await response.body?.cancel();
          if (response.status !== 201) throw new Error(`create answered ${response.status}`);
          times.push(performance.now() - sent);
        }
      }));
      return times;
    };
    await clearQueue();
    await resetReceiver();
    const idle = await createLatencies(() => true, 300);
    progress(`burst: ${options.burst} events…`);
    const burstStarted = performance.now();
    await db.query(
      `select public.emit_webhook_event(w, 'contact.created', jsonb_build_object('n', n))
         from unnest($1::uuid[]) w, generate_series(1, $2::int) n`,
      [tenantIds, Math.ceil(options.burst / tenantIds.length)],
    );
    const emittedIn = (performance.now() - burstStarted) / 1000;
    const burstTotal = Math.ceil(options.burst / tenantIds.length) * tenantIds.length;
    let drained = false;
    const during = createLatencies(() => drained, 50);
    const drainDeadline = Date.now() + 600_000;
    while (await pending() > 0 && Date.now() < drainDeadline) await sleep(200);
    drained = true;
    const drainSeconds = (performance.now() - burstStarted) / 1000;
    const duringBurst = await during;
    const burstStats = await receiverStats();
    const { rows: [{ succeeded }] } = await db.query<{ succeeded: string }>(
      "select count(*) as succeeded from public.webhook_deliveries where status = 'succeeded'",
    );
    const burst = {
      events: burstTotal,
      emitSeconds: round2(emittedIn),
      drainSeconds: round2(drainSeconds),
      perSecond: Math.round(burstTotal / drainSeconds),
      succeeded: Number(succeeded),
      received: burstStats.unique,
      repeatedWebhookIds: burstStats.repeats,
      createP99IdleMs: round2(percentile(idle, 0.99)),
      createP99DuringMs: round2(percentile(duringBurst, 0.99)),
      createsDuring: duringBurst.length,
    };

    const goals = {
      "dispatcher/minimal >= 0.8": ratios["dispatcher/minimal"].median >= 0.8,
      "dispatcher-x2/dispatcher >= 0.95": ratios["dispatcher-x2/dispatcher"].median >= 0.95,
      "dispatcher-x4/dispatcher >= 0.95": ratios["dispatcher-x4/dispatcher"].median >= 0.95,
      "no webhook-id twice": variants.every((v) => summary[v].repeatedWebhookIds === 0) &&
        burst.repeatedWebhookIds === 0,
      "latency p50 <= 250 ms": latency.p50Ms <= 250,
      "latency p99 <= 1000 ms": latency.p99Ms <= 1000,
      "fan-out dispatcher/minimal >= 0.8": ratios["fanout-dispatcher/fanout-minimal"].median >=
        0.8,
      "burst: nothing lost": burst.succeeded === burstTotal && burst.received === burstTotal,
      "burst: create p99 <= 3x idle": burst.createP99DuringMs <= 3 * burst.createP99IdleMs,
    };
    const report = {
      load: {
        rounds: options.rounds,
        deliveriesPerVariant: options.perRound,
        subscriptions: options.subscriptions,
        fanOutSubscriptions: FANOUT_SUBSCRIPTIONS,
        inFlight: IN_FLIGHT,
        cores: navigator.hardwareConcurrency,
      },
      variants: summary,
      ratios,
      latency,
      burst,
      goals,
    };
    if (options.json) {
      console.log(JSON.stringify(report));
      return;
    }
    const cell = (value: number | null, digits: number) =>
      value === null ? "-".padStart(10) : value.toFixed(digits).padStart(10);
    console.log(`
WundertreOS delivery benchmark: ${options.rounds} rounds of ${options.perRound} deliveries per variant, ${options.subscriptions} subscriptions (fan-out: ${FANOUT_SUBSCRIPTIONS}), ${IN_FLIGHT} in flight, ${navigator.hardwareConcurrency} cores; medians

variant              per second  round trips  PG CPU ms  disp. CPU ms  machine CPU ms  (per delivery)
${
      variants.map((variant) => {
        const s = summary[variant];
        return `${variant.padEnd(20)} ${String(s.perSecond).padStart(10)} ${
          cell(s.roundTripsPerDelivery, 3)
        }  ${cell(s.postgresCpuMsPerDelivery, 3)}  ${cell(s.dispatcherCpuMsPerDelivery, 3)}  ${
          cell(s.machineCpuMsPerDelivery, 3).padStart(14)
        }   rounds: ${s.rounds.join(", ")}`;
      }).join("\n")
    }

ratios (median of the rounds' own)
${
      Object.entries(ratios).map(([name, r]) =>
        `  ${name.padEnd(34)} ${r.median.toFixed(2)}  (rounds: ${r.rounds.join(", ")})`
      ).join("\n")
    }

${latencyLine(latency)} (half the dispatcher's rate)
${cpuLine(latency)}; a delivery of the dispatcher variant took ${
      summary.dispatcher.machineCpuMsPerDelivery?.toFixed(3)
    } ms of the machine
burst: ${burst.events} events emitted in ${burst.emitSeconds} s, drained in ${burst.drainSeconds} s (${burst.perSecond}/s), ${burst.succeeded} succeeded, ${burst.received} received, ${burst.repeatedWebhookIds} repeated; create p99 ${burst.createP99IdleMs} ms idle, ${burst.createP99DuringMs} ms during (${burst.createsDuring} creates)

goals
${Object.entries(goals).map(([name, met]) => `  ${met ? "met    " : "NOT met"} ${name}`).join("\n")}
`);
  } finally {
    await db.end().catch(() => {});
    for (const { process } of dispatchers) await process.stop();
    await receiver.stop();
    await stack.stop();
  }
}
