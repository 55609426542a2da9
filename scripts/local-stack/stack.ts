import { join } from "node:path";
import { FUNCTION_NAME } from "../../supabase/functions/api-webhook-subscriptions/app-env.ts";
import { FUNCTION_NAME as DISPATCHER_NAME } from "../../supabase/functions/webhook-dispatcher/config.ts";
import { applyMigrations, applySeed, bootstrapPlatform, installLocalWake } from "./database.ts";
import { gatewayHandler } from "./gateway.ts";
import {
  generateSessionSigningKey,
  type LocalKeys,
  localKeys,
  type SessionSigningKey,
} from "./keys.ts";
import {
  clusterDirFor,
  POSTGRES_PASSWORD,
  PROJECT_ROOT,
  type RunningPostgres,
  startPostgres,
} from "./postgres.ts";
import { startPostgrest } from "./postgrest.ts";
import { freePort, type ManagedProcess, spawnManaged, waitFor } from "./processes.ts";
import { type Scheduler, startScheduler } from "./scheduler.ts";

export interface StackPorts {
  gateway: number;
  postgres: number;
}

export interface StackOptions {
  /** Holds the database cluster (`db/`) and the service logs (`logs/`). */
  stateDir: string;
  ports: Partial<StackPorts>;
  fresh: boolean;
  ephemeral: boolean;
  /** More PostgreSQL server settings (`name=value`). */
  postgresSettings?: string[];
  /** The function's target URL policy: strict as deployed, or permissive for local work. */
  targetPolicy: "strict" | "permissive";
  /** A DNS server (host:port) for the function's target checks; the system's when unset. */
  targetDnsServer?: string;
  /** More upstreams behind /functions/v1/<name> (the benchmark's bare frame). */
  extraFunctions?: Record<string, string>;
  /** More environment for the function (limits, say). */
  functionEnv?: Record<string, string>;
  /** Browser origins the function allows (CORS_ALLOWED_ORIGINS); none by default. */
  corsAllowedOrigins?: string[];
  /** Where the function's own log lines go, besides its log file. */
  onFunctionLine?: (line: string) => void;
  /** More environment for the dispatcher (shorter waits in the tests). */
  dispatcherEnv?: Record<string, string>;
  /** How often the dispatcher is called besides after each emit; 10 s, as on Supabase. */
  dispatchIntervalMs?: number;
  onDispatcherLine?: (line: string) => void;
  /** Called for every request the gateway forwards to PostgREST. */
  onRestRequest?: () => void;
  onProgress?: (message: string) => void;
}

export interface Stack extends LocalKeys {
  sessionSigningKey: SessionSigningKey;
  apiUrl: string;
  functionUrl: string;
  dispatcherUrl: string;
  databaseUrl: string;
  /** The local pg_cron: pause it to run dispatchers of your own. */
  scheduler: Scheduler;
  logDir: string;
  ports: StackPorts;
  pids: number[];
  seeded: boolean;
  stop(): Promise<void>;
  faults: {
    stopPostgrest(): Promise<void>;
    startPostgrest(): Promise<void>;
    stopPostgres(): Promise<void>;
    startPostgres(): Promise<void>;
  };
}

async function logWriter(path: string) {
  const file = await Deno.open(path, { create: true, append: true });
  const encoder = new TextEncoder();
  return {
    write: (line: string) => {
      file.writeSync(encoder.encode(line + "\n"));
    },
    close: () => file.close(),
  };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const progress = options.onProgress ?? (() => {});
  const keys = await localKeys();
  const sessionSigningKey = await generateSessionSigningKey();
  const dataDir = await clusterDirFor(options.stateDir);
  const logDir = join(options.stateDir, "logs");
  if (options.fresh) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(logDir, { recursive: true });

  const taken = new Set(Object.values(options.ports).filter((port) => port !== undefined));
  const ports: StackPorts = {
    gateway: options.ports.gateway ?? freePort(taken),
    postgres: options.ports.postgres ?? freePort(taken),
  };
  const logs = {
    postgres: await logWriter(join(logDir, "postgres.log")),
    postgrest: await logWriter(join(logDir, "postgrest.log")),
    function: await logWriter(join(logDir, "function.log")),
    dispatcher: await logWriter(join(logDir, "dispatcher.log")),
  };
  const started: ManagedProcess[] = [];
  let gateway: Deno.HttpServer | undefined;
  let scheduler: Scheduler | undefined;

  const stop = async () => {
    await scheduler?.stop();
    await gateway?.shutdown();
    for (const process of [...started].reverse()) await process.stop();
    for (const log of Object.values(logs)) log.close();
  };

  try {
    progress(`PostgreSQL 17 on 127.0.0.1:${ports.postgres}, data in ${dataDir}`);
    const postgresOptions = {
      dataDir,
      port: ports.postgres,
      ephemeral: options.ephemeral,
      settings: options.postgresSettings,
      onLine: logs.postgres.write,
    };
    const postgres: RunningPostgres = await startPostgres(postgresOptions);
    started.push(postgres.process);

    const client = await postgres.connect();
    try {
      await bootstrapPlatform(client, POSTGRES_PASSWORD);
      const applied = await applyMigrations(client, join(PROJECT_ROOT, "supabase", "migrations"));
      progress(`migrations: ${applied.length} applied now`);
      await installLocalWake(client);
      if (postgres.created) await applySeed(client, join(PROJECT_ROOT, "supabase", "seed.sql"));
    } finally {
      await client.end();
    }

    const postgrestPort = freePort(taken);
    progress(`PostgREST on 127.0.0.1:${postgrestPort}`);
    const postgrestOptions = {
      databaseUrl:
        `postgres://authenticator:${POSTGRES_PASSWORD}@127.0.0.1:${ports.postgres}/postgres`,
      jwtSecret: keys.jwtSecret,
      port: postgrestPort,
      adminPort: freePort(taken),
      onLine: logs.postgrest.write,
    };
    started.push(await startPostgrest(postgrestOptions));

    const apiUrl = `http://127.0.0.1:${ports.gateway}`;
    const functionEnv = {
      SUPABASE_URL: apiUrl,
      SUPABASE_ANON_KEY: keys.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
      TARGET_URL_POLICY: options.targetPolicy,
      TARGET_DNS_SERVER: options.targetDnsServer ?? "",
      NO_COLOR: "1",
    };
    const serveFunction = async (
      name: string,
      env: Record<string, string>,
      onLine: (line: string) => void,
      permissions: string[] = [],
    ) => {
      const port = freePort(taken);
      progress(`function ${name} on 127.0.0.1:${port}`);
      const process = spawnManaged({
        name,
        command: Deno.execPath(),
        args: [
          "run",
          "--allow-net",
          "--allow-env",
          ...permissions,
          "--no-prompt",
          join(PROJECT_ROOT, "supabase", "functions", name, "index.ts"),
        ],
        cwd: PROJECT_ROOT,
        env: { ...functionEnv, ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
        onLine,
      });
      started.push(process);
      const origin = `http://127.0.0.1:${port}`;
      await waitFor(`function ${name}`, async () => {
        const response = await fetch(origin);
        await response.body?.cancel();
        return true;
      }, process);
      return origin;
    };

    const functionOrigin = await serveFunction(FUNCTION_NAME, {
      // Sessions may be signed either way locally: the legacy shared secret (HS256) or the
      // asymmetric key the gateway publishes as Supabase Auth's JWKS.
      JWT_SECRET: keys.jwtSecret,
      CORS_ALLOWED_ORIGINS: (options.corsAllowedOrigins ?? []).join(","),
      ...options.functionEnv,
    }, (line) => {
      logs.function.write(line);
      options.onFunctionLine?.(line);
    });
    const dispatcherOrigin = await serveFunction(DISPATCHER_NAME, {
      ...options.dispatcherEnv,
    }, (line) => {
      logs.dispatcher.write(line);
      options.onDispatcherLine?.(line);
      // node:https reads the system's CA certificates, which Deno counts as system access.
    }, ["--allow-sys"]);

    progress(`gateway on ${apiUrl}`);
    gateway = Deno.serve(
      { hostname: "127.0.0.1", port: ports.gateway, onListen: () => {} },
      gatewayHandler({
        port: ports.gateway,
        postgrestUrl: `http://127.0.0.1:${postgrestPort}`,
        functions: {
          ...options.extraFunctions,
          [FUNCTION_NAME]: functionOrigin,
          [DISPATCHER_NAME]: dispatcherOrigin,
        },
        apiKeys: [keys.anonKey, keys.serviceRoleKey],
        jwks: { keys: [sessionSigningKey.publicJwk] },
        onRestRequest: options.onRestRequest,
      }),
    );

    const dispatcherUrl = `${apiUrl}/functions/v1/${DISPATCHER_NAME}`;
    const dispatchIntervalMs = options.dispatchIntervalMs ?? 10_000;
    progress(
      `${DISPATCHER_NAME} runs every ${dispatchIntervalMs / 1000} s and at once after each emit`,
    );
    scheduler = startScheduler({
      dispatcherUrl,
      serviceRoleKey: keys.serviceRoleKey,
      databaseUrl: postgres.url,
      intervalMs: dispatchIntervalMs,
      onLine: (line) => logs.dispatcher.write(`[scheduler] ${line}`),
    });

    return {
      ...keys,
      sessionSigningKey,
      apiUrl,
      functionUrl: `${apiUrl}/functions/v1/${FUNCTION_NAME}`,
      dispatcherUrl,
      scheduler,
      databaseUrl: postgres.url,
      logDir,
      ports,
      pids: started.map((process) => process.pid),
      seeded: postgres.created,
      stop,
      // For the fault tests: take a part away and bring it back on the same port.
      faults: {
        stopPostgrest: () => started[1].stop(),
        async startPostgrest() {
          started[1] = await startPostgrest(postgrestOptions);
        },
        stopPostgres: () => started[0].stop(),
        async startPostgres() {
          started[0] = (await startPostgres(postgresOptions)).process;
        },
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
