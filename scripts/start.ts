/**
 * deno task start [--fresh]
 *
 * Brings up the whole local stack on 127.0.0.1 in the foreground: PostgreSQL 17, the Supabase
 * bootstrap, every migration (and the seed on a new database), PostgREST, the function and the
 * gateway on port 54321. Ctrl-C stops everything it started.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DEMO_WORKSPACE_ID, issueApiToken, serviceClient } from "./local-stack/api-tokens.ts";
import { isAlive } from "./local-stack/processes.ts";
import { type Stack, startStack } from "./local-stack/stack.ts";
import { clearState, readState, stateDir, writeState } from "./local-stack/state.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { fresh: { type: "boolean", default: false } },
  strict: true,
});

const portFromEnv = (name: string, fallback: number) => {
  const value = Deno.env.get(name);
  return value ? Number(value) : fallback;
};

// A start that was killed outright cannot have stopped its children; do it now.
const previous = await readState();
for (const pid of previous?.pids ?? []) {
  if (isAlive(pid)) {
    console.log(`stopping process ${pid} left by an earlier run`);
    Deno.kill(pid, "SIGTERM");
  }
}

const dir = stateDir();
console.log(`Starting the local stack (state in ${dir}${values.fresh ? ", starting fresh" : ""})`);
let stack: Stack;
try {
  stack = await startStack({
    stateDir: dir,
    ports: {
      gateway: portFromEnv("WUNDERTRE_API_PORT", 54321),
      postgres: portFromEnv("WUNDERTRE_DB_PORT", 54322),
    },
    fresh: values.fresh,
    ephemeral: false,
    targetPolicy: "permissive",
    corsAllowedOrigins: (Deno.env.get("CORS_ALLOWED_ORIGINS") ?? "").split(",").map((o) => o.trim())
      .filter(Boolean),
    onProgress: (message) => console.log(`  - ${message}`),
    onFunctionLine: (line) => console.log(`[function] ${line}`),
    onDispatcherLine: (line) => console.log(`[dispatcher] ${line}`),
  });
} catch (error) {
  console.error(`\nThe stack did not start: ${(error as Error).message}`);
  console.error(`Service logs are in ${join(dir, "logs")}.`);
  Deno.exit(1);
}

await writeState({
  apiUrl: stack.apiUrl,
  anonKey: stack.anonKey,
  serviceRoleKey: stack.serviceRoleKey,
  pids: stack.pids,
});

const { token } = await issueApiToken(serviceClient(stack.apiUrl, stack.serviceRoleKey), {
  workspaceId: DEMO_WORKSPACE_ID,
  scopes: ["webhooks:read", "webhooks:write"],
  name: "deno task start demo token",
});

console.log(`
WundertreOS webhook API is running.

  Target URLs: PERMISSIVE local policy. http and loopback targets are allowed, so a subscription
  can point at a receiver on this machine. Deployed, the function is strict (public https only).

  API URL           ${stack.apiUrl}
  Function          ${stack.functionUrl}
  Dispatcher        ${stack.dispatcherUrl}
                    runs every 10 s, and at once after each emit
  REST (PostgREST)  ${stack.apiUrl}/rest/v1
  Database          ${stack.databaseUrl}
  anon key          ${stack.anonKey}
  service_role key  ${stack.serviceRoleKey}
  Logs              ${stack.logDir}

Try it (the token below belongs to the demo workspace ${DEMO_WORKSPACE_ID}):

curl -X POST \\
  '${stack.functionUrl}' \\
  -H 'Authorization: Bearer ${token}' \\
  -H 'Content-Type: application/json' \\
  -d '{
"target_url": "https://example.com/wundertre/webhook",
"event_types": ["contact.created", "contact.tag_added"],
"description": "Sync new leads to internal CRM"
}'

Watch a delivery arrive: deno task receiver, subscribe its URL, then
  deno task emit --type contact.created --data '{"id": "c_1"}'

More tokens: deno task token --scopes webhooks:read,webhooks:write
Press Ctrl-C to stop.
`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping…");
  await stack.stop();
  await clearState();
  console.log("Stopped.");
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
