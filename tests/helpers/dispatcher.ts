/** webhook-dispatcher processes of a test's own, beside the test stack's scheduled one. */
import { join } from "node:path";
import { freePort } from "../../scripts/local-stack/processes.ts";
import type { RunSummary } from "../../supabase/functions/webhook-dispatcher/dispatcher.ts";
import { TEST_DISPATCHER_ENV } from "./dispatcher-env.ts";
import { PROJECT_ROOT } from "./processes.ts";
import { stack } from "./stack.ts";

export interface OwnDispatcher {
  /** One run, as pg_cron would start it. */
  run(): Promise<RunSummary>;
  kill(signal: Deno.Signal): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** The real function, as its own process, with the test stack's settings and `env` on top. */
export async function startDispatcher(env: Record<string, string> = {}): Promise<OwnDispatcher> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-sys",
      "--no-prompt",
      join(PROJECT_ROOT, "supabase", "functions", "webhook-dispatcher", "index.ts"),
    ],
    env: {
      SUPABASE_URL: stack.apiUrl,
      SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
      ...TEST_DISPATCHER_ENV,
      ...env,
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const pump = (stream: ReadableStream<Uint8Array>) =>
    (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
    })().catch(() => {});
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (true) {
    if (exited) throw new Error(`the dispatcher exited at start:\n${text}`);
    if (Date.now() > deadline) throw new Error(`the dispatcher did not listen:\n${text}`);
    try {
      await (await fetch(origin)).body?.cancel();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    async run() {
      const response = await fetch(origin, {
        method: "POST",
        headers: { Authorization: `Bearer ${stack.serviceRoleKey}` },
      });
      const body = await response.json();
      if (response.status !== 200) throw new Error(`dispatcher answered ${response.status}`);
      return body.data;
    },
    async kill(signal) {
      if (!exited) child.kill(signal);
      await status;
      await pumped;
    },
    output: () => text,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await status;
      await pumped;
    },
  };
}
