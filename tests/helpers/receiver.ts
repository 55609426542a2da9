/** Webhook receivers on loopback for the delivery tests, and the way to point a subscription at one. */
import { join } from "node:path";
import { PROJECT_ROOT } from "./processes.ts";
import { apiFetch, controlStack, sql, stack } from "./stack.ts";

export interface ReceivedRequest {
  /** performance.now() when the request arrived. */
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type Respond = (request: ReceivedRequest, index: number) => Response | Promise<Response>;

export interface Receiver {
  /** http(s)://127.0.0.1:<port> */
  origin: string;
  requests: ReceivedRequest[];
  /** Waits until `count` requests (matching `path`, when given) have arrived. */
  waitFor(
    count: number,
    options?: { path?: string; timeoutMs?: number },
  ): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

const FIXTURES = join(PROJECT_ROOT, "tests", "fixtures");

export function startReceiver(
  respond: Respond = () => new Response(null, { status: 204 }),
  options: { tls?: boolean } = {},
): Receiver {
  const requests: ReceivedRequest[] = [];
  const controller = new AbortController();
  const tls = options.tls
    ? {
      cert: Deno.readTextFileSync(join(FIXTURES, "self-signed.crt")),
      key: Deno.readTextFileSync(join(FIXTURES, "self-signed.key")),
    }
    : {};
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen: () => {},
    ...tls,
  }, async (request) => {
    const received: ReceivedRequest = {
      at: performance.now(),
      method: request.method,
      path: new URL(request.url).pathname,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    };
    requests.push(received);
    // A handler that never answers must not keep the server from closing.
    const closed = new Promise<Response>((resolve) =>
      controller.signal.addEventListener(
        "abort",
        () => resolve(new Response(null, { status: 503 })),
      )
    );
    return await Promise.race([respond(received, requests.length - 1), closed]);
  });
  return {
    origin: `${options.tls ? "https" : "http"}://127.0.0.1:${server.addr.port}`,
    requests,
    async waitFor(count, { path, timeoutMs = 15_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const matching = () => requests.filter((r) => path === undefined || r.path === path);
      while (matching().length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `receiver got ${matching().length} of ${count} requests in ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return matching();
    },
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

/** Waits until `check` holds, polling; for what the dispatcher writes to the database. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Subscribed {
  id: string;
  secret: string;
  workspaceId: string;
}

/**
 * A subscription, made through the API, that delivers to `targetUrl` on loopback. The test
 * stack's API checks targets as in production, where loopback is refused, so it is created for a
 * public name and then pointed at the receiver in the database (the test stack's dispatcher may
 * reach loopback; the rebinding test runs a strict one).
 */
export async function subscribe(
  token: string,
  targetUrl: string,
  eventTypes: string[] = ["contact.created"],
): Promise<Subscribed> {
  const response = await apiFetch(stack.functionUrl, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      target_url: `https://receiver-${crypto.randomUUID()}.example.com/hook`,
      event_types: eventTypes,
    }),
  });
  if (response.status !== 201) throw new Error(`create answered ${response.status}`);
  const { data } = await response.json();
  const [row] = await sql<{ workspace_id: string }>(
    "update public.webhook_subscriptions set target_url = $2 where id = $1 returning workspace_id",
    [data.id, targetUrl],
  );
  return { id: data.id, secret: data.secret, workspaceId: row.workspace_id };
}

/** Emits as the CRM does, in a transaction of its own; returns the event id. */
export async function emit(
  workspaceId: string,
  type: string,
  data: Record<string, unknown>,
  eventId?: string,
): Promise<string> {
  const [row] = await sql<{ id: string }>(
    "select public.emit_webhook_event($1, $2, $3::jsonb, $4) as id",
    [workspaceId, type, JSON.stringify(data), eventId ?? null],
  );
  return row.id;
}

export interface DeliveryRow {
  id: string;
  status: string;
  attempt_count: number;
  last_response_status: number | null;
  subscription_id: string;
  event_id: string;
}

export function deliveriesOf(subscriptionId: string): Promise<DeliveryRow[]> {
  return sql<DeliveryRow & Record<string, unknown>>(
    "select id, status, attempt_count, last_response_status, subscription_id, event_id from public.webhook_deliveries where subscription_id = $1 order by created_at, id",
    [subscriptionId],
  );
}

export interface AttemptRow {
  attempt_number: number;
  response_status: number | null;
  error_kind: string | null;
  response_body: string | null;
  duration_ms: number;
  started_at: Date;
}

export function attemptsOf(deliveryId: string): Promise<AttemptRow[]> {
  return sql<AttemptRow & Record<string, unknown>>(
    "select attempt_number, response_status, error_kind, response_body, duration_ms, started_at from public.webhook_delivery_attempts where delivery_id = $1 order by attempt_number",
    [deliveryId],
  );
}

/** Waits until every delivery of the subscription has finished, and returns them. */
export function settled(subscriptionId: string, count: number, timeoutMs = 20_000) {
  return eventually(`${count} finished deliveries for ${subscriptionId}`, async () => {
    const rows = await deliveriesOf(subscriptionId);
    return rows.length === count && rows.every((row) => row.status !== "pending") && rows;
  }, timeoutMs);
}

/** Takes the scheduled dispatcher off (and waits out its run), so a test can run its own. */
export function pauseScheduler() {
  return controlStack("scheduler/pause");
}

export function resumeScheduler() {
  return controlStack("scheduler/resume");
}
