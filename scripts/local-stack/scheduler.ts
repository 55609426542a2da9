/**
 * The local stand-in for pg_cron + pg_net: calls the webhook-dispatcher function through the
 * gateway on a fixed schedule (every 10 s, like the Supabase cron job), and at once when an emit
 * commits (the local trigger of wake-dispatcher.sql notifies `webhook_events`; Postgres delivers a
 * NOTIFY only on commit). One run at a time: a wake during a run starts another right after it.
 */
import pg from "pg";

export interface SchedulerOptions {
  dispatcherUrl: string;
  serviceRoleKey: string;
  databaseUrl: string;
  intervalMs: number;
  onLine: (line: string) => void;
}

export interface Scheduler {
  /** Stops calling the dispatcher and waits for a run in progress to end. */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  let running: Promise<void> | null = null;
  let again = false;
  let paused = false;
  let stopped = false;
  let listener: pg.Client | null = null;

  const runOnce = async () => {
    try {
      const response = await fetch(options.dispatcherUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${options.serviceRoleKey}` },
        // A run lasts its budget (25 s at most); one that hangs must not stop the schedule.
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      if (!response.ok) options.onLine(`dispatcher answered ${response.status}: ${text}`);
      // A run that stopped at its cap leaves work due: go again at once, as a second cron job
      // or the wake trigger would on Supabase.
      else if (JSON.parse(text)?.data?.capped === true) again = true;
    } catch (error) {
      options.onLine(`dispatcher unreachable: ${(error as Error).message}`);
    }
  };

  const wake = () => {
    if (paused || stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await runOnce();
      } while (again && !paused && !stopped);
      running = null;
    })();
  };

  const interval = setInterval(wake, options.intervalMs);

  // Listens for emits; reconnects when the database restarts.
  const listen = async () => {
    while (!stopped) {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      const ended = new Promise<void>((resolve) => {
        client.on("error", () => resolve());
        client.on("end", () => resolve());
      });
      try {
        await client.connect();
        listener = client;
        client.on("notification", wake);
        await client.query("listen webhook_events");
        wake();
        await ended;
      } catch {
        // Not up yet, or restarting.
      }
      listener = null;
      await client.end().catch(() => {});
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const listening = listen();

  return {
    async pause() {
      paused = true;
      await running;
    },
    resume() {
      paused = false;
      wake();
    },
    async stop() {
      stopped = true;
      clearInterval(interval);
      await listener?.end().catch(() => {});
      await listening;
      await running;
    },
  };
}
