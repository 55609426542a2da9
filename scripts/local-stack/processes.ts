/** A child process the stack started and must stop again. */
export interface ManagedProcess {
  name: string;
  pid: number;
  status: Promise<Deno.CommandStatus>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Receives every output line; the stack writes them to a log file or the console. */
  onLine: (line: string) => void;
  stopSignal?: Deno.Signal;
}

async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  if (pending) onLine(pending);
}

export function spawnManaged(options: SpawnOptions): ManagedProcess {
  const child = new Deno.Command(options.command, {
    args: options.args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all([
    pumpLines(child.stdout, options.onLine),
    pumpLines(child.stderr, options.onLine),
  ]).catch(() => {});
  const status = child.status.then(async (status) => {
    await output;
    return status;
  });
  let exited = false;
  status.then(() => exited = true);

  return {
    name: options.name,
    pid: child.pid,
    status,
    async stop() {
      if (exited) return;
      try {
        child.kill(options.stopSignal ?? "SIGTERM");
      } catch {
        // Already gone.
      }
      const timeout = new Promise<"timeout">((resolve) => {
        const timer = setTimeout(() => resolve("timeout"), 15_000);
        status.finally(() => clearTimeout(timer));
      });
      if (await Promise.race([status, timeout]) === "timeout") {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await status;
      }
    },
  };
}

/**
 * A port nothing listens on now. `taken` holds ports already promised to something that has not
 * bound them yet (the OS would happily hand the same one out again).
 */
// Below Linux's ephemeral range (32768-60999), so a port we pick is never also the source port of
// an outgoing connection: a client polling a not-yet-listening port could otherwise connect to itself.
const PORT_RANGE = { first: 20_000, last: 31_999 };
// Ports handed to another process to bind later come from their own range, which freePort never
// uses, so no process's freePort can take one in the meantime.
const RESERVED_RANGE = { first: 32_000, last: 32_767 };
// Never the same port twice from one process, even if the first has not been bound yet.
const issued = new Set<number>();

function pick(range: { first: number; last: number }, taken: Set<number>): number {
  while (true) {
    const port = range.first + Math.floor(Math.random() * (range.last - range.first + 1));
    if (taken.has(port) || issued.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue; // in use
    }
    taken.add(port);
    issued.add(port);
    return port;
  }
}

/** A port free now, for this process or a child it starts at once. */
export function freePort(taken: Set<number> = new Set()): number {
  return pick(PORT_RANGE, taken);
}

/** A port free now that another process will bind later (the browser test's page server). */
export function reservedPort(): number {
  return pick(RESERVED_RANGE, new Set());
}

export function isAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  process: ManagedProcess,
  timeoutMs = 30_000,
): Promise<void> {
  let exited = false;
  process.status.then(() => exited = true);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what} exited before it became ready (see its log above)`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
}
