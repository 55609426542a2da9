/**
 * Runs the integration in Zapier's runtime, one process per invocation (see ./runtime.ts), pointed
 * at `apiUrl`. The process gets a minimal environment and may connect to 127.0.0.1 only.
 */
import { fileURLToPath } from "node:url";
import { type Invocation, type Outcome, RESULT_PREFIX } from "./protocol.ts";

const RUNTIME = fileURLToPath(new URL("./runtime.ts", import.meta.url));
const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));

/** What Deno needs to find its cache; nothing else of the suite's environment. */
const PASSED_THROUGH = ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"];

/** An error the integration raised in Zapier's runtime, with its name and message. */
export class ZapierRuntimeError extends Error {
  constructor(readonly zapierName: string, message: string) {
    super(message);
    this.name = zapierName;
  }
}

export async function invokeZapier<T = unknown>(
  invocation: Invocation,
  apiUrl: string,
): Promise<T> {
  const env: Record<string, string> = { WUNDERTRE_API_URL: apiUrl };
  for (const name of PASSED_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--frozen",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      RUNTIME,
    ],
    cwd: REPOSITORY,
    clearEnv: true,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(invocation)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();

  const lines = new TextDecoder().decode(stdout).split("\n").filter((line) => line !== "");
  const last = lines.at(-1);
  if (code !== 0 || !last?.startsWith(RESULT_PREFIX)) {
    throw new Error(
      `Zapier's runtime exited with ${code} and no result.\nstdout:\n${lines.join("\n")}\n` +
        `stderr:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  // On Zapier every line printed goes to its logs; in test mode the runtime prints nothing itself.
  if (lines.length > 1) {
    throw new Error(`Zapier's runtime printed more than its result:\n${lines.join("\n")}`);
  }
  const outcome = JSON.parse(last.slice(RESULT_PREFIX.length)) as Outcome;
  if (!outcome.ok) throw new ZapierRuntimeError(outcome.error.name, outcome.error.message);
  return outcome.result as T;
}
