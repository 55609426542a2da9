/**
 * Runs generated hostile requests against the stack and checks the invariants every one of them
 * must keep, whatever it sent:
 *
 * - never a 5xx; always an X-Request-Id; never the caller's token echoed back; a 401 always with
 *   its `WWW-Authenticate: Bearer` challenge;
 * - every non-2xx answer is JSON, `{"error": string, "message": string, ...}`, with a JSON
 *   content type (and not a large one: a small hostile request must not buy a huge answer);
 * - on any 4xx the database is exactly as before: the same number of subscriptions in total, and
 *   the same rows, byte for byte, in the caller's workspace and in a "victim" workspace whose
 *   subscription and delivery ids the generators also aim at (their stored Idempotency-Keys,
 *   events and deliveries too);
 * - after any 2xx every row in the caller's workspace still keeps the contract's rules.
 *
 * The scheduled dispatcher is paused while a property runs, so that only the requests change
 * deliveries; what they queued (test events, retries) is cancelled when the property ends.
 *
 * The API has per-token rate limits and a per-workspace cap, so tokens (and their workspaces) are
 * replaced every ROTATE_AFTER requests, and a 429 `rate_limited` (or a 422
 * `subscription_limit_reached`) is an acceptable 4xx that switches to a fresh token at once.
 */
import assert from "node:assert/strict";
import pg from "pg";
import { pauseScheduler, resumeScheduler } from "../helpers/receiver.ts";
import { apiFetch, newToken, stack, type TestToken } from "../helpers/stack.ts";
import { created } from "../helpers/subscriptions.ts";
import { rowProblem } from "./oracle.ts";

/** Below the suite's per-workspace cap (30) and far below the per-token rate limits. */
export const ROTATE_AFTER = 25;
/** Bigger than any legitimate error answer of this API (at most 20 details of a line each). */
export const MAX_ERROR_BYTES = 16 * 1024;

export interface HostileRequest {
  method: string;
  /** Appended to the function URL as is: "", "/<id>", "?limit=1", already encoded as wanted. */
  path: string;
  /** Sent in this order with Headers.append; without an Authorization, the current token's. */
  headers?: [string, string][];
  /** A string (UTF-8), raw bytes (no Content-Type added), or a stream (chunked, no length). */
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  /** Leave Authorization out entirely instead of adding the current token's. */
  noAuth?: boolean;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

export interface Context {
  token: TestToken;
  /** A subscription of the current workspace, for PATCH/DELETE/rotate cases; null once deleted. */
  subscriptionId: string | null;
  /** The newest delivery of that subscription. */
  deliveryId: string | null;
  /** Requests made with the current token, setup included. */
  uses: number;
}

export interface HarnessOptions {
  /** Whether each fresh workspace gets a subscription to aim PATCH/DELETE/rotate at. */
  withSubscription?: boolean;
  /** Deliveries that subscription gets (default 1), as failed ones, for the delivery routes. */
  deliveries?: number;
  /** Extra subscriptions created in each fresh workspace (lists have something to page). */
  extraSubscriptions?: number;
}

type Snapshot = {
  total: number;
  rows: unknown[];
  keys: unknown[];
  events: unknown[];
  deliveries: unknown[];
};

function preview(value: string, max = 300): string {
  const shown = JSON.stringify(value.length > max ? value.slice(0, max) : value);
  return value.length > max ? `${shown}… (${value.length} chars)` : shown;
}

/** A readable, token-free account of one request, for failure messages. */
export function describeRequest(request: HostileRequest, token?: string): string {
  const redact = (value: string) => token ? value.replaceAll(token, "<token>") : value;
  const headers = (request.headers ?? []).map(([name, value]) =>
    `${name}: ${preview(redact(value), 120)}`
  );
  let body = "";
  if (typeof request.body === "string") body = ` body=${preview(request.body)}`;
  else if (request.body instanceof Uint8Array) {
    body = ` body=bytes(${request.body.length}) ${
      preview(new TextDecoder().decode(request.body.slice(0, 300)))
    }`;
  } else if (request.body) body = " body=<chunked stream>";
  return `${request.method} ${preview(redact(request.path), 400)} [${headers.join("; ")}]${body}`;
}

export class Harness {
  /** Requests sent by the property (fast-check's runs and shrinks), setup not included. */
  cases = 0;
  readonly statuses = new Map<number, number>();
  readonly errorCodes = new Map<string, number>();
  rotations = 0;
  context!: Context;
  /** Another workspace and its subscription, which no request of the property may touch. */
  victim!: { token: TestToken; subscriptionId: string; secret: string; deliveryId: string };
  private db!: pg.Client;
  private readonly workspaces: string[] = [];

  constructor(readonly name: string, readonly options: HarnessOptions = {}) {}

  async start(): Promise<void> {
    await pauseScheduler();
    this.db = new pg.Client({ connectionString: stack.databaseUrl });
    await this.db.connect();
    const victimToken = await newToken();
    const victim = await created(victimToken.token);
    this.workspaces.push(victimToken.workspaceId);
    const [deliveryId] = await this.deliver(victimToken.workspaceId, 1);
    this.victim = {
      token: victimToken,
      subscriptionId: victim.id,
      secret: victim.secret,
      deliveryId,
    };
    await this.rotate();
    this.rotations = 0;
  }

  async stop(): Promise<void> {
    try {
      if (this.db) {
        await this.db.query(
          `update public.webhook_deliveries d set status = 'cancelled', finished_at = now()
             from public.webhook_subscriptions s
            where s.id = d.subscription_id and s.workspace_id = any($1::uuid[])
              and d.status = 'pending'`,
          [this.workspaces],
        );
        await this.db.end();
      }
    } finally {
      await resumeScheduler();
    }
  }

  /** `count` contact.created events in the workspace, their deliveries marked failed; newest first. */
  private async deliver(workspaceId: string, count: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `with emitted as (
         select public.emit_webhook_event($1, 'contact.created', jsonb_build_object('n', n)) as id
           from generate_series(1, $2::int) n)
       update public.webhook_deliveries d
          set status = 'failed', finished_at = now(), attempt_count = 8
         from emitted where d.event_id = emitted.id
       returning d.id`,
      [workspaceId, count],
    );
    const ids = rows.map((row) => row.id);
    const { rows: ordered } = await this.db.query<{ id: string }>(
      "select id from public.webhook_deliveries where id = any($1::uuid[]) order by created_at desc, id desc",
      [ids],
    );
    return ordered.map((row) => row.id);
  }

  /** A fresh token in a fresh workspace, with a subscription when the property needs one. */
  async rotate(): Promise<void> {
    const token = await newToken();
    this.workspaces.push(token.workspaceId);
    this.context = { token, subscriptionId: null, deliveryId: null, uses: 0 };
    this.rotations++;
    if (this.options.withSubscription) await this.ensureSubscription();
    for (let i = 0; i < (this.options.extraSubscriptions ?? 0); i++) {
      await created(token.token, { event_types: i % 2 ? ["deal.created"] : ["contact.created"] });
      this.context.uses++;
    }
  }

  async ensureSubscription(): Promise<void> {
    if (this.context.subscriptionId !== null) return;
    this.context.subscriptionId = (await created(this.context.token.token)).id;
    this.context.uses++;
    const deliveries = await this.deliver(
      this.context.token.workspaceId,
      this.options.deliveries ?? 1,
    );
    this.context.deliveryId = deliveries[0] ?? null;
  }

  /** The current context, replaced first when its token has been used enough. */
  async fresh(): Promise<Context> {
    if (this.context.uses >= ROTATE_AFTER) await this.rotate();
    if (this.options.withSubscription) await this.ensureSubscription();
    return this.context;
  }

  private async snapshot(): Promise<Snapshot> {
    const { rows } = await this.db.query<Snapshot>(
      `select (select count(*) from public.webhook_subscriptions)::int as total,
              coalesce((select json_agg(s order by s.workspace_id, s.id)
                          from public.webhook_subscriptions s
                         where s.workspace_id = any($1::uuid[])), '[]'::json) as rows,
              coalesce((select json_agg(k order by k.workspace_id, k.key)
                          from public.idempotency_keys k
                         where k.workspace_id = any($1::uuid[])), '[]'::json) as keys,
              coalesce((select json_agg(e order by e.id)
                          from public.webhook_events e
                         where e.workspace_id = any($1::uuid[])), '[]'::json) as events,
              coalesce((select json_agg(d order by d.id)
                          from public.webhook_deliveries d
                          join public.webhook_subscriptions s on s.id = d.subscription_id
                         where s.workspace_id = any($1::uuid[])), '[]'::json) as deliveries`,
      [[this.context.token.workspaceId, this.victim.token.workspaceId]],
    );
    return rows[0];
  }

  /**
   * Sends one generated request (built from the current context) and checks the invariants.
   * Returns the answer for the property's own, case-specific expectations.
   */
  async send(build: (context: Context) => HostileRequest): Promise<Answer & { request: string }> {
    const context = await this.fresh();
    const request = build(context);
    const token = context.token.token;
    const headers = new Headers();
    for (const [name, value] of request.headers ?? []) headers.append(name, value);
    if (!request.noAuth && !headers.has("authorization")) {
      headers.set("Authorization", `Bearer ${token}`);
    }
    const init: RequestInit & { duplex?: "half" } = { method: request.method, headers };
    if (typeof request.body === "function") {
      init.body = request.body();
      init.duplex = "half";
    } else if (request.body !== undefined) {
      init.body = request.body as BodyInit;
    }

    const before = await this.snapshot();
    this.cases++;
    context.uses++;
    const described = describeRequest(request, token);
    let response: Response;
    try {
      response = await apiFetch(`${stack.functionUrl}${request.path}`, init);
    } catch (error) {
      throw new Error(`${described}\n  -> ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    const status = response.status;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    const where = `${described}\n  -> ${status} ${preview(text, 500)}`;

    assert.ok(status < 500, `a ${status} for ${where}`);
    assert.ok(response.headers.get("x-request-id"), `no X-Request-Id: ${where}`);
    assert.ok(!text.includes(token), `the token is echoed: ${where}`);
    if (status === 401) {
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer\b/, where);
    }
    let json: unknown = null;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        assert.fail(`a body that is not JSON for ${where}`);
      }
    }
    if (status < 200 || status > 299) {
      const contentType = response.headers.get("content-type") ?? "";
      assert.match(contentType, /^application\/json\b/, `content type ${contentType}: ${where}`);
      const error = json as { error?: unknown; message?: unknown } | null;
      assert.ok(
        error !== null && typeof error === "object" && !Array.isArray(error) &&
          typeof error.error === "string" && typeof error.message === "string",
        `not the JSON error shape: ${where}`,
      );
      assert.ok(text.length <= MAX_ERROR_BYTES, `a ${text.length}-byte error answer: ${where}`);
      this.errorCodes.set(
        error.error as string,
        (this.errorCodes.get(error.error as string) ?? 0) + 1,
      );
      if (status === 429) assert.equal(error.error, "rate_limited", where);
    }
    if (status >= 400 && status < 500) {
      const after = await this.snapshot();
      assert.equal(after.total, before.total, `the subscription count changed on a ${where}`);
      assert.deepEqual(after.rows, before.rows, `rows changed on a ${where}`);
      assert.deepEqual(after.keys, before.keys, `idempotency keys changed on a ${where}`);
      assert.deepEqual(after.events, before.events, `events changed on a ${where}`);
      assert.deepEqual(after.deliveries, before.deliveries, `deliveries changed on a ${where}`);
    } else if (status >= 200 && status < 300) {
      const after = await this.snapshot();
      for (const row of after.rows as Record<string, unknown>[]) {
        if (row.workspace_id !== context.token.workspaceId) continue;
        const problem = rowProblem(row);
        assert.equal(problem, null, `a stored row breaks the rules (${problem}) after ${where}`);
      }
      const victimRows = (after.rows as Record<string, unknown>[])
        .filter((row) => row.workspace_id === this.victim.token.workspaceId);
      const victimBefore = (before.rows as Record<string, unknown>[])
        .filter((row) => row.workspace_id === this.victim.token.workspaceId);
      assert.deepEqual(victimRows, victimBefore, `another workspace's row changed: ${where}`);
      const victims = (snapshot: Snapshot) => ({
        events: (snapshot.events as Record<string, unknown>[])
          .filter((event) => event.workspace_id === this.victim.token.workspaceId),
        deliveries: (snapshot.deliveries as Record<string, unknown>[])
          .filter((delivery) => delivery.subscription_id === this.victim.subscriptionId),
      });
      assert.deepEqual(
        victims(after),
        victims(before),
        `another workspace's events or deliveries changed: ${where}`,
      );
    }
    if (this.isLimited(status, json)) await this.rotate();
    return { status, headers: response.headers, text, json, request: where };
  }

  /** The editable fields of a stored subscription, as the database holds them. */
  async row(id: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.db.query(
      `select target_url, event_types, description, enabled
         from public.webhook_subscriptions where id = $1`,
      [id],
    );
    return rows[0];
  }

  /** A rate limit or the workspace cap: an acceptable 4xx that says nothing about the request. */
  isLimited(status: number, json: unknown): boolean {
    const code = (json as { error?: unknown } | null)?.error;
    return status === 429 || (status === 422 && code === "subscription_limit_reached");
  }

  /** `hostile: <name>: N cases; statuses …; errors …; N token rotations`, one per property. */
  summary(): string {
    const statuses = [...this.statuses.entries()].sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`).join(" ");
    const codes = [...this.errorCodes.entries()].sort(([, a], [, b]) => b - a)
      .map(([code, count]) => `${code}×${count}`).join(" ");
    return `hostile: ${this.name}: ${this.cases} cases; statuses ${statuses || "-"}; errors ${
      codes || "-"
    }; ${this.rotations} token rotations`;
  }
}

/** The aggregate line printed at the end of the file. */
export const totals = { properties: 0, cases: 0, failed: [] as string[] };
