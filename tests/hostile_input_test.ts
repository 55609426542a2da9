/**
 * Hostile input against the running stack, property-based with fast-check: random and near-valid
 * JSON bodies (NUL, lone surrogates, bidi and zero-width characters, `__proto__`/`constructor`
 * keys, 10,000-item arrays, deep nesting), random headers, query strings and paths, chunked bodies
 * over the limit, and random IP literals as targets.
 *
 * Every generated request must keep the invariants in tests/hostile/harness.ts (never a 5xx, always
 * the JSON error shape, nothing written on a 4xx, only valid rows after a 2xx); most properties
 * also know what the contract says the answer must be and check that.
 *
 * Each property prints `hostile: <name>: N cases; statuses …` and the file ends with a total.
 * HOSTILE_SEED=<n> replays a run; HOSTILE_RUNS=<factor> scales the number of cases.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { isPublicAddress } from "../supabase/functions/_shared/target-policy.ts";
import { v4Host, v6EmbeddedOrSpecial, v6GlobalUnicast, v6Random } from "./hostile/addresses.ts";
import {
  bigBody,
  bodyBytes,
  type BodyCase,
  KNOWN_GOOD,
  nearValidBody,
  randomJsonBody,
} from "./hostile/bodies.ts";
import { type Answer, Harness, type HarnessOptions, totals } from "./hostile/harness.ts";
import {
  EVENT_TYPES,
  expectedForBody,
  hostAddress,
  MAX_BODY_BYTES,
  notPublicBecause,
} from "./hostile/oracle.ts";
import {
  ANON_KEY,
  authorizationCase,
  CLEARLY_JSON,
  CLEARLY_NOT_JSON,
  CONTENT_TYPES,
  DELIVERY_EVENT_TYPES,
  DELIVERY_STATUSES,
  extraHeaders,
  LIST_PARAMETERS,
  type ListKind,
  OWN_DELIVERY_ID,
  OWN_ID,
  pathCase,
  queryStrings,
  REAL_CURSOR,
  resolveAuthorization,
  VICTIM_DELIVERY_ID,
  VICTIM_ID,
} from "./hostile/requests.ts";
import { hostileValue } from "./hostile/bodies.ts";
import { apiFetch, CONTRACT_EXAMPLE, sql, stack } from "./helpers/stack.ts";

const SEED = Number(Deno.env.get("HOSTILE_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const RUNS_FACTOR = Number(Deno.env.get("HOSTILE_RUNS") ?? "1");
const JSON_HEADERS: [string, string][] = [["Content-Type", "application/json"]];

/** One property as one Deno test, on a fresh token and workspace, with its one-line summary. */
function hostileProperty<T>(
  name: string,
  runs: number,
  options: HarnessOptions,
  arbitrary: fc.Arbitrary<T>,
  predicate: (harness: Harness, value: T) => Promise<void>,
) {
  Deno.test(`hostile input: ${name}`, async () => {
    const harness = new Harness(name, options);
    const numRuns = Math.max(1, Math.round(runs * RUNS_FACTOR));
    try {
      await harness.start();
      await fc.assert(fc.asyncProperty(arbitrary, (value) => predicate(harness, value)), {
        numRuns,
        seed: SEED,
      });
    } catch (error) {
      totals.failed.push(name);
      throw error;
    } finally {
      totals.properties++;
      totals.cases += harness.cases;
      console.log(`${harness.summary()} (seed ${SEED}, ${numRuns} runs asked)`);
      await harness.stop();
    }
  });
}

function errorCodeFor(status: number): string | undefined {
  return {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
  }[status];
}

/** Rate limited or at the workspace cap: acceptable, and the harness has switched tokens. */
const limited = (answer: Answer) =>
  answer.status === 429 ||
  (answer.status === 422 && answer.json?.error === "subscription_limit_reached");

/** The status (and error code) the contract asks for, when it asks for one. */
function assertStatus(answer: Answer & { request: string }, expected: number, why: string) {
  if (limited(answer)) return;
  assert.equal(answer.status, expected, `expected ${expected} (${why}) for ${answer.request}`);
  const code = errorCodeFor(expected);
  if (expected >= 400 && code) assert.equal(answer.json.error, code, answer.request);
}

const dedupe = (items: string[]) => [...new Set(items)];

/** A body sent to create or update: the contract's verdict, and what was stored on success. */
async function sendBody(
  harness: Harness,
  kind: "create" | "update",
  body: BodyCase,
) {
  const bytes = bodyBytes(body);
  const answer = await harness.send((context) => ({
    method: kind === "create" ? "POST" : "PATCH",
    path: kind === "create" ? "" : `/${context.subscriptionId}`,
    headers: JSON_HEADERS,
    body: bytes,
  }));
  const expected = expectedForBody(bytes, kind, KNOWN_GOOD);
  if (expected.status !== null) assertStatus(answer, expected.status, expected.why);
  else {
    assert.ok(
      [kind === "create" ? 201 : 200, 400].includes(answer.status) || limited(answer),
      `expected success or 400 (${expected.why}) for ${answer.request}`,
    );
  }
  if (answer.status === 200 || answer.status === 201) {
    // The body was valid: what comes back, and what was stored, is what was sent.
    const sent = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const data = answer.json.data;
    if (Object.hasOwn(sent, "target_url")) {
      assert.equal(data.target_url, new URL(sent.target_url as string).href, answer.request);
    }
    if (Object.hasOwn(sent, "event_types")) {
      assert.deepEqual(data.event_types, dedupe(sent.event_types as string[]), answer.request);
    }
    if (Object.hasOwn(sent, "description")) {
      assert.equal(data.description, sent.description, answer.request);
    } else if (kind === "create") assert.equal(data.description, null, answer.request);
    if (Object.hasOwn(sent, "enabled")) assert.equal(data.enabled, sent.enabled, answer.request);
    const stored = await harness.row(data.id);
    assert.deepEqual(
      stored,
      {
        target_url: data.target_url,
        event_types: data.event_types,
        description: data.description,
        enabled: data.enabled,
      },
      `the stored row differs from the answer: ${answer.request}`,
    );
  }
}

// Bodies ------------------------------------------------------------------------------------------

hostileProperty(
  "POST / with random JSON bodies",
  150,
  {},
  randomJsonBody,
  (harness, body) => sendBody(harness, "create", body),
);

hostileProperty(
  "POST / with near-valid bodies (hostile strings, __proto__ keys, wrong types)",
  350,
  {},
  nearValidBody("create"),
  (harness, body) => sendBody(harness, "create", body),
);

hostileProperty(
  "PATCH /{id} with random JSON bodies",
  100,
  { withSubscription: true },
  randomJsonBody,
  (harness, body) => sendBody(harness, "update", body),
);

hostileProperty(
  "PATCH /{id} with near-valid bodies",
  250,
  { withSubscription: true },
  nearValidBody("update"),
  (harness, body) => sendBody(harness, "update", body),
);

hostileProperty(
  "POST / and PATCH /{id} with 10,000-item arrays, 10,000 keys and deep nesting",
  60,
  { withSubscription: true },
  fc.constantFrom<"create" | "update">("create", "update")
    .chain((kind) => bigBody(kind).map((body) => ({ kind, body }))),
  async (harness, { kind, body }) => {
    await sendBody(harness, kind, body);
  },
);

// Headers ---------------------------------------------------------------------------------------

/** Whether an Authorization value (as sent) carries the current token in the RFC 6750 form. */
function authVerdict(value: string | null, token: string): "valid" | "invalid" | "unclear" {
  if (value === null || !value.includes(token)) return "invalid";
  return /^bearer +(\S+) *$/i.exec(value)?.[1] === token ? "valid" : "unclear";
}

hostileProperty(
  "random Authorization, Content-Type and other headers on POST / and GET /",
  250,
  {},
  fc.record({
    method: fc.constantFrom("POST", "POST", "GET"),
    auth: authorizationCase,
    contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: null }),
    extra: extraHeaders,
    // Two bodies, so that a reused Idempotency-Key sometimes comes with a different one.
    description: fc.constantFrom(CONTRACT_EXAMPLE.description, "Another body"),
  }),
  async (harness, { method, auth, contentType, extra, description }) => {
    let sent = new Headers();
    let token = "";
    const answer = await harness.send((context) => {
      token = context.token.token;
      const headers: [string, string][] = [];
      const authorization = resolveAuthorization(auth, {
        token: context.token.token,
        workspace: context.token.workspaceId,
        issuer: `${stack.apiUrl}/auth/v1`,
        anonKey: stack.anonKey,
        serviceKey: stack.serviceRoleKey,
      });
      if (authorization !== null) headers.push(["Authorization", authorization]);
      if (contentType !== null) headers.push(["Content-Type", contentType]);
      for (const [name, value] of extra) {
        headers.push([name, value === ANON_KEY ? stack.anonKey : value]);
      }
      sent = new Headers();
      for (const [name, value] of headers) sent.append(name, value);
      return {
        method,
        path: "",
        headers,
        noAuth: true,
        body: method === "POST"
          ? new TextEncoder().encode(JSON.stringify({ ...CONTRACT_EXAMPLE, description }))
          : undefined,
      };
    });
    const verdict = authVerdict(sent.get("authorization"), token);
    if (limited(answer)) return;
    if (verdict === "invalid") {
      assertStatus(answer, 401, "no valid credential");
      assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer\b/, answer.request);
      return;
    }
    const relaxed = extra.some(([name]) => /^(idempotency-key|content-encoding)$/i.test(name));
    if (verdict === "valid" && !relaxed) {
      if (method === "GET") assertStatus(answer, 200, "a valid token lists");
      else if (contentType !== null && CLEARLY_JSON.has(contentType)) {
        assertStatus(answer, 201, "a valid token, JSON and the contract's example");
      } else if (contentType === null || CLEARLY_NOT_JSON.has(contentType)) {
        assertStatus(answer, 415, "the body is not JSON by Content-Type");
      }
    }
    assert.ok(
      [200, 201, 400, 401, 409, 415, 422].includes(answer.status),
      `an unexpected ${answer.status} for ${answer.request}`,
    );
  },
);

// Query strings ---------------------------------------------------------------------------------

/** What the contract says about a list query: 400 for a broken rule, 200, or (cursors) no opinion. */
function expectedForQuery(
  url: string,
  realCursor: string,
  list: ListKind,
): { status: number | null; why: string } {
  const seen = new Set<string>();
  let unclear: string | null = null;
  const eventTypes = list === "deliveries" ? DELIVERY_EVENT_TYPES : EVENT_TYPES;
  for (const [name, value] of new URL(url).searchParams) {
    if (seen.has(name)) return { status: 400, why: `${name} repeated` };
    seen.add(name);
    if (!LIST_PARAMETERS[list].includes(name)) return { status: 400, why: `unknown ${name}` };
    if (name === "limit") {
      if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 100) {
        return { status: 400, why: "limit outside 1-100" };
      }
      if (value.startsWith("0")) unclear = "limit with leading zeros";
    }
    if (name === "enabled" && value !== "true" && value !== "false") {
      return { status: 400, why: "enabled not true|false" };
    }
    if (name === "status" && !DELIVERY_STATUSES.includes(value)) {
      return { status: 400, why: "unknown status" };
    }
    if (name === "event_type" && !eventTypes.includes(value)) {
      return { status: 400, why: "unknown event_type" };
    }
    if (name === "cursor" && value !== realCursor) unclear = "a cursor the API did not issue";
  }
  return unclear ? { status: null, why: unclear } : { status: 200, why: "a valid query" };
}

const realCursors = new Map<string, string>();

async function sendQuery(harness: Harness, query: string, list: ListKind) {
  const context = await harness.fresh();
  const listPath = list === "deliveries" ? `/${context.subscriptionId}/deliveries` : "";
  let realCursor = realCursors.get(`${list}:${context.token.workspaceId}`);
  if (realCursor === undefined) {
    const page = await apiFetch(`${stack.functionUrl}${listPath}?limit=1`, {
      headers: { Authorization: `Bearer ${context.token.token}` },
    });
    context.uses++;
    realCursor = (await page.json()).next_cursor as string;
    realCursors.set(`${list}:${context.token.workspaceId}`, realCursor);
  }
  const cursor = realCursor;
  const path = query === "" ? listPath : `${listPath}?${query.replaceAll(REAL_CURSOR, cursor)}`;
  const answer = await harness.send(() => ({ method: "GET", path }));
  const expected = expectedForQuery(`${stack.functionUrl}${path}`, cursor, list);
  if (expected.status !== null) assertStatus(answer, expected.status, expected.why);
  else {
    assert.ok(
      [200, 400].includes(answer.status) || limited(answer),
      `${expected.why}: ${answer.request}`,
    );
  }
  if (answer.status === 200) {
    const params = new URL(`${stack.functionUrl}${path}`).searchParams;
    const limit = params.has("limit") ? Number(params.get("limit")) : 20;
    const { data, has_more, next_cursor } = answer.json;
    assert.ok(data.length <= limit, answer.request);
    assert.equal(next_cursor === null, !has_more, answer.request);
    for (const item of data) {
      if (params.has("event_type")) {
        const types = list === "deliveries" ? [item.event_type] : item.event_types;
        assert.ok(types.includes(params.get("event_type")), answer.request);
      }
      if (params.has("enabled")) {
        assert.equal(String(item.enabled), params.get("enabled"), answer.request);
      }
      if (params.has("status")) assert.equal(item.status, params.get("status"), answer.request);
    }
  }
}

hostileProperty(
  "GET / with random query strings (limit, cursor, enabled, event_type, junk)",
  250,
  { extraSubscriptions: 3 },
  queryStrings({ craftedCursors: true }),
  (harness, query) => sendQuery(harness, query, "subscriptions"),
);

// The same without crafted cursors, so the rest of the query space is covered even while the
// property above stops at its first failure.
hostileProperty(
  "GET / with random query strings, cursors only as issued or junk",
  200,
  { extraSubscriptions: 3 },
  queryStrings({ craftedCursors: false }),
  (harness, query) => sendQuery(harness, query, "subscriptions"),
);

hostileProperty(
  "GET /{id}/deliveries with random query strings (limit, cursor, status, event_type, junk)",
  200,
  { withSubscription: true, deliveries: 3 },
  queryStrings({ craftedCursors: true, list: "deliveries" }),
  (harness, query) => sendQuery(harness, query, "deliveries"),
);

// Paths -----------------------------------------------------------------------------------------

hostileProperty(
  "random methods, paths and ids (the caller's, another workspace's, near-ids, escapes)",
  250,
  { withSubscription: true },
  pathCase,
  async (harness, { method, segments, trailingSlash, query, body }) => {
    const victim = harness.victim.subscriptionId;
    const victimDelivery = harness.victim.deliveryId;
    // Dot segments ("..", "%2e%2e") are resolved by the client: a path that climbs out of the
    // function reaches the gateway's other routes, not the API under test.
    const probe = new URL(`${stack.functionUrl}/${segments.join("/")}`).pathname;
    fc.pre(probe.startsWith(`${new URL(stack.functionUrl).pathname}`));
    let path = "";
    const answer = await harness.send((context) => {
      const own = context.subscriptionId ?? crypto.randomUUID();
      path = "/" + segments.join("/") + (trailingSlash ? "/" : "") + query;
      path = path.replaceAll(OWN_DELIVERY_ID, context.deliveryId ?? crypto.randomUUID())
        .replaceAll(VICTIM_DELIVERY_ID, victimDelivery)
        .replaceAll(OWN_ID, own).replaceAll(VICTIM_ID, victim);
      // fetch cannot send a body with GET; every other method may carry one.
      const withBody = body !== undefined && method !== "GET";
      return {
        method,
        path,
        headers: withBody ? JSON_HEADERS : [],
        body: withBody ? body : undefined,
      };
    });
    // As the client sends it: "/{victim}/.." resolves to "/", the caller's own list.
    const target = new URL(`${stack.functionUrl}${path}`).pathname;
    if (target.includes(victim) || target.includes(victimDelivery)) {
      assert.ok(
        answer.status < 200 || answer.status > 299,
        `another workspace's subscription answered ${answer.status}: ${answer.request}`,
      );
    }
    assert.ok(
      !answer.text.includes(harness.victim.secret),
      `the victim's secret leaked: ${answer.request}`,
    );
    if (method === "DELETE" && answer.status === 204) {
      harness.context.subscriptionId = null;
      harness.context.deliveryId = null;
    }
  },
);

// Recover bodies --------------------------------------------------------------------------------

const SINCE_SPELLINGS = [
  "Z",
  "millis",
  "micros",
  "+05:30",
  "-08:00",
  "lowercase",
  "space",
  "+0530",
  "no seconds",
  "date only",
] as const;

/** `minutesAgo` before now, written in one of RFC 3339's spellings or a near miss. */
function spellSince(minutesAgo: number, spelling: typeof SINCE_SPELLINGS[number]): string {
  const instant = Date.now() - minutesAgo * 60_000;
  const at = (offsetMinutes: number) =>
    new Date(instant + offsetMinutes * 60_000).toISOString().slice(0, 19);
  return {
    "Z": `${at(0)}Z`,
    "millis": new Date(instant).toISOString(),
    "micros": `${new Date(instant).toISOString().slice(0, 23)}456Z`,
    "+05:30": `${at(330)}+05:30`,
    "-08:00": `${at(-480)}-08:00`,
    "lowercase": `${at(0).replace("T", "t")}z`,
    "space": `${at(0).replace("T", " ")}Z`,
    "+0530": `${at(330)}+0530`,
    "no seconds": `${at(0).slice(0, 16)}Z`,
    "date only": at(0).slice(0, 10),
  }[spelling];
}

const RFC_3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;
const FIVE_MINUTES_MS = 5 * 60 * 1000;

/** The instant an RFC 3339 timestamp (T and Z upper case, seconds required) names, or null. */
function rfc3339Instant(value: string): number | null {
  const parts = RFC_3339.exec(value);
  if (!parts) return null;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const [sign, offsetHours, offsetMinutes] = [parts[7], Number(parts[8]), Number(parts[9])];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 ||
    minute > 59 || second > 59 || (sign && (offsetHours > 23 || offsetMinutes > 59))
  ) return null;
  const offset = sign ? (sign === "+" ? 1 : -1) * (offsetHours * 60 + offsetMinutes) : 0;
  // To the second: the 30-day edge is given a minute's margin anyway.
  return date.getTime() - offset * 60_000;
}

/** The contract's verdict on a recover body: 400 for a broken rule, 202, or no opinion. */
function expectedForRecover(text: string): { status: number | null; why: string } {
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) {
    return { status: 413, why: "over 64 KiB" };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { status: 400, why: "not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { status: 400, why: "not an object" };
  }
  const keys = Object.keys(body);
  if (keys.some((key) => key !== "since")) return { status: 400, why: "an unknown field" };
  const since = (body as { since?: unknown }).since;
  if (typeof since !== "string") return { status: 400, why: "since missing or not a string" };
  const instant = rfc3339Instant(since);
  if (instant === null) return { status: 400, why: "since not RFC 3339" };
  const [earliest, latest] = [Date.now() - THIRTY_DAYS_MS, Date.now() + FIVE_MINUTES_MS];
  if (Math.abs(instant - earliest) < 60_000 || Math.abs(instant - latest) < 60_000) {
    return { status: null, why: "since at an edge of the window" };
  }
  if (instant < earliest) return { status: 400, why: "since more than 30 days back" };
  if (instant > latest) return { status: 400, why: "since in the future" };
  return { status: 202, why: "a valid since" };
}

hostileProperty(
  "POST /{id}/recover with random, hostile and near-valid since values",
  200,
  { withSubscription: true, deliveries: 3 },
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        minutesAgo: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: -1440, max: 34 * 1440 }) },
          fc.constantFrom(0, -3, -8, 30 * 1440 - 5, 30 * 1440 + 5),
          // Far off, where years run past 9999 or before 1 once converted to UTC.
          fc.integer({ min: -5_300_000_000, max: 1_100_000_000 }),
        ),
        spelling: fc.oneof(
          fc.constantFrom(...SINCE_SPELLINGS.slice(0, 5)),
          fc.constantFrom(...SINCE_SPELLINGS),
        ),
        extra: fc.option(fc.constantFrom("until", "__proto__", "Since", "since "), { freq: 6 }),
      }),
    },
    { weight: 2, arbitrary: hostileValue.map((value) => ({ text: `{"since":${value}}` })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "2026-12-03T00:00:00+15:59",
        "2026-12-03T00:00:00+16:00",
        "2026-12-03T00:00:00-23:59",
      ).map((since) => ({ text: JSON.stringify({ since }) })),
    },
    { weight: 1, arbitrary: randomJsonBody.map((body) => ({ text: body.text })) },
  ),
  async (harness, body) => {
    // A since relative to now is written when it is sent.
    const text = "text" in body ? body.text : JSON.stringify({
      since: spellSince(body.minutesAgo, body.spelling),
      ...(body.extra === null ? {} : { [body.extra]: 1 }),
    });
    const answer = await harness.send((context) => ({
      method: "POST",
      path: `/${context.subscriptionId}/recover`,
      headers: JSON_HEADERS,
      body: text,
    }));
    const expected = expectedForRecover(text);
    if (expected.status !== null) assertStatus(answer, expected.status, expected.why);
    else {
      assert.ok([202, 400].includes(answer.status) || limited(answer), answer.request);
    }
    if (answer.status === 202) {
      assert.ok(Number.isInteger(answer.json.data.recovered), answer.request);
      // In UTC, to the millisecond: Postgres refuses offsets past ±15:59 that RFC 3339 allows.
      const since = new Date(Date.parse((JSON.parse(text) as { since: string }).since));
      const left = await sql(
        "select 1 from public.webhook_deliveries where subscription_id = $1 and status = 'failed' and created_at >= $2",
        [harness.context.subscriptionId, since.toISOString()],
      );
      assert.equal(left.length, 0, `failed deliveries left in the window: ${answer.request}`);
    }
  },
);

// Chunked bodies --------------------------------------------------------------------------------

hostileProperty(
  "chunked bodies (no Content-Length) around and over 64 KiB",
  50,
  { withSubscription: true },
  fc.record({
    kind: fc.constantFrom<"create" | "update">("create", "update"),
    size: fc.oneof(
      fc.constantFrom(
        MAX_BODY_BYTES - 1,
        MAX_BODY_BYTES,
        MAX_BODY_BYTES + 1,
        MAX_BODY_BYTES + 1000,
      ),
      fc.integer({ min: MAX_BODY_BYTES + 1, max: 1_048_576 }),
      fc.integer({ min: 60_000, max: MAX_BODY_BYTES }),
    ),
    chunk: fc.integer({ min: 256, max: 70_000 }),
    shape: fc.constantFrom("padded JSON", "padded JSON", "garbage", "NULs"),
    contentType: fc.constantFrom(
      "application/json",
      "application/json",
      "application/json",
      "text/plain",
    ),
  }),
  async (harness, { kind, size, chunk, shape, contentType }) => {
    const json = kind === "create"
      ? JSON.stringify(CONTRACT_EXAMPLE).slice(0, -1)
      : '{"description":"padded"';
    let bytes: Uint8Array;
    if (shape === "padded JSON") {
      bytes = new TextEncoder().encode(
        json + " ".repeat(Math.max(0, size - json.length - 1)) + "}",
      );
    } else if (shape === "garbage") {
      bytes = new Uint8Array(size).map((_, i) => 33 + (i * 7919) % 90);
    } else bytes = new Uint8Array(size);
    const answer = await harness.send((context) => ({
      method: kind === "create" ? "POST" : "PATCH",
      path: kind === "create" ? "" : `/${context.subscriptionId}`,
      headers: [["Content-Type", contentType]],
      body: () => {
        let offset = 0;
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            if (offset >= bytes.length) return controller.close();
            controller.enqueue(bytes.slice(offset, offset + chunk));
            offset += chunk;
          },
        });
      },
    }));
    if (contentType !== "application/json") return assertStatus(answer, 415, "not JSON");
    if (bytes.length > MAX_BODY_BYTES) return assertStatus(answer, 413, "over 64 KiB");
    if (shape !== "padded JSON") return assertStatus(answer, 400, "not JSON");
    assertStatus(answer, kind === "create" ? 201 : 200, "valid JSON within 64 KiB");
  },
);

// Target addresses ------------------------------------------------------------------------------

const disagreements = new Map<string, number>();

/** A literal as target: refused as private_address unless it is public by our own ranges. */
async function sendTarget(harness: Harness, host: string) {
  const targetUrl = `https://${host}/hook`;
  const address = URL.canParse(targetUrl) ? hostAddress(new URL(targetUrl)) : null;
  const because = address === null ? null : notPublicBecause(address);
  if (address !== null && (because === null) !== isPublicAddress(address)) {
    const key = `${because ?? "public"} but isPublicAddress says ${isPublicAddress(address)}`;
    disagreements.set(key, (disagreements.get(key) ?? 0) + 1);
  }
  const answer = await harness.send(() => ({
    method: "POST",
    path: "",
    headers: JSON_HEADERS,
    body: JSON.stringify({ target_url: targetUrl, event_types: ["deal.created"] }),
  }));
  if (limited(answer)) return;
  if (!URL.canParse(targetUrl)) return assertStatus(answer, 400, "not a URL");
  assert.ok(address !== null, `not an IP literal after parsing: ${targetUrl}`);
  if (because !== null) {
    assertStatus(answer, 400, `${address} is ${because}`);
    assert.deepEqual(
      answer.json.details.map((d: { field: string; code: string }) => [d.field, d.code]),
      [["target_url", "private_address"]],
      answer.request,
    );
  } else {
    assertStatus(answer, 201, `${address} is public`);
    assert.ok(
      isPublicAddress(address),
      `accepted though the policy calls it not public: ${address}`,
    );
  }
}

hostileProperty(
  "IPv4 literals in every spelling as https targets",
  200,
  {},
  v4Host,
  sendTarget,
);

hostileProperty(
  "IPv6 literals embedding IPv4 (mapped, NAT64, 6to4, Teredo) and special IPv6 ranges as targets",
  200,
  {},
  v6EmbeddedOrSpecial.map((address) => `[${address}]`),
  sendTarget,
);

hostileProperty(
  "random IPv6 literals as targets",
  100,
  {},
  v6Random.map((address) => `[${address}]`),
  sendTarget,
);

// Random IPv6 inside 2000::/3 only, so the global unicast block is covered even while the
// property above stops at its first failure.
hostileProperty(
  "random IPv6 literals in 2000::/3 as targets",
  100,
  {},
  v6GlobalUnicast.map((address) => `[${address}]`),
  sendTarget,
);

Deno.test("hostile input: totals", () => {
  const seen = [...disagreements].map(([key, count]) => `${key} ×${count}`).join("; ");
  console.log(
    `hostile: ${totals.cases} generated cases in ${totals.properties} properties, ${totals.failed.length} failed${
      totals.failed.length ? ` (${totals.failed.join("; ")})` : ""
    }; target oracle vs isPublicAddress disagreements: ${seen || "none"}`,
  );
});
