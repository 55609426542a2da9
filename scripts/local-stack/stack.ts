import { join } from "node:path";
import { FUNCTION_NAME } from "../../supabase/functions/api-webhook-subscriptions/app-env.ts";
import { applyMigrations, applySeed, bootstrapPlatform } from "./database.ts";
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
  onProgress?: (message: string) => void;
}

export interface Stack extends LocalKeys {
  sessionSigningKey: SessionSigningKey;
  apiUrl: string;
  functionUrl: string;
  databaseUrl: string;
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
  };
  const started: ManagedProcess[] = [];
  let gateway: Deno.HttpServer | undefined;

  const stop = async () => {
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
      onLine: logs.postgres.write,
    };
    const postgres: RunningPostgres = await startPostgres(postgresOptions);
    started.push(postgres.process);

    const client = await postgres.connect();
    try {
      await bootstrapPlatform(client, POSTGRES_PASSWORD);
      const applied = await applyMigrations(client, join(PROJECT_ROOT, "supabase", "migrations"));
      progress(`migrations: ${applied.length} applied now`);
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
    const functionPort = freePort(taken);
    progress(`function ${FUNCTION_NAME} on 127.0.0.1:${functionPort}`);
    const fn = spawnManaged({
      name: "function",
      command: Deno.execPath(),
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--no-prompt",
        join(PROJECT_ROOT, "supabase", "functions", FUNCTION_NAME, "index.ts"),
      ],
      cwd: PROJECT_ROOT,
      env: {
        SUPABASE_URL: apiUrl,
        SUPABASE_ANON_KEY: keys.anonKey,
        SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
        // Sessions may be signed either way locally: the legacy shared secret (HS256) or the
        // asymmetric key the gateway publishes as Supabase Auth's JWKS.
        JWT_SECRET: keys.jwtSecret,
        CORS_ALLOWED_ORIGINS: (options.corsAllowedOrigins ?? []).join(","),
        TARGET_URL_POLICY: options.targetPolicy,
        TARGET_DNS_SERVER: options.targetDnsServer ?? "",
        ...options.functionEnv,
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${functionPort}`,
        NO_COLOR: "1",
      },
      onLine: (line) => {
        logs.function.write(line);
        options.onFunctionLine?.(line);
      },
    });
    started.push(fn);
    const functionOrigin = `http://127.0.0.1:${functionPort}`;
    await waitFor(`function ${FUNCTION_NAME}`, async () => {
      const response = await fetch(functionOrigin);
      await response.body?.cancel();
      return true;
    }, fn);

    progress(`gateway on ${apiUrl}`);
    gateway = Deno.serve(
      { hostname: "127.0.0.1", port: ports.gateway, onListen: () => {} },
      gatewayHandler({
        port: ports.gateway,
        postgrestUrl: `http://127.0.0.1:${postgrestPort}`,
        functions: { ...options.extraFunctions, [FUNCTION_NAME]: functionOrigin },
        apiKeys: [keys.anonKey, keys.serviceRoleKey],
        jwks: { keys: [sessionSigningKey.publicJwk] },
      }),
    );

    return {
      ...keys,
      sessionSigningKey,
      apiUrl,
      functionUrl: `${apiUrl}/functions/v1/${FUNCTION_NAME}`,
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
