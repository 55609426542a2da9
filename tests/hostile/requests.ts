/** Hostile headers, query strings and paths. */
import fc from "fast-check";
import { EVENT_TYPES } from "./oracle.ts";
import { base64url, hostileString } from "./strings.ts";

/** Characters a header value can carry at all: visible Latin-1, space and tab (no CR, LF, NUL). */
const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.constant(0x09) },
).map((code) => String.fromCharCode(code));
export const headerValue = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({ unit: headerChar, maxLength });
/** Up to 32 KiB: well inside what any HTTP server in the path accepts for all headers. */
const hugeHeaderValue = fc.tuple(headerChar, fc.integer({ min: 1_000, max: 32_000 }))
  .map(([char, count]) => char.repeat(count));

/** Placeholders the test replaces with the current context's values when it sends the case. */
export const TOKEN = "{token}";
export const WORKSPACE = "{workspace}";
export const ISSUER = "{issuer}";
export const ANON_KEY = "{anon_key}";
export const SERVICE_KEY = "{service_role_key}";

/** A JWT-looking credential: any header and payload, a signature nobody made with our keys. */
export interface JwtCase {
  header: unknown;
  payload: unknown;
  signature: string;
  format: "jws" | "padded" | "four parts" | "dot first" | "raw header";
}

const jwtLooking: fc.Arbitrary<JwtCase> = fc.record({
  header: fc.oneof(
    fc.record({
      alg: fc.constantFrom(
        "none",
        "None",
        "HS256",
        "ES256",
        "RS256",
        "EdDSA",
        "PS256",
        "HS512",
        "ES512",
        "",
      ),
      kid: fc.oneof(fc.string({ maxLength: 40 }), fc.constant("../../../../dev/null"), fc.uuid()),
      typ: fc.constantFrom("JWT", "at+jwt", ""),
      crit: fc.array(fc.constantFrom("b64", "exp", "x"), { maxLength: 2 }),
      b64: fc.boolean(),
      jku: fc.constantFrom("https://evil.example/jwks.json", "http://127.0.0.1/"),
      jwk: fc.constant({ kty: "oct", k: "AAAA" }),
    }, { requiredKeys: ["alg"] }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  payload: fc.oneof(
    fc.record({
      role: fc.constantFrom("authenticated", "service_role", "anon"),
      sub: fc.oneof(fc.uuid(), hostileString(3)),
      aud: fc.constantFrom<string | string[]>("authenticated", ["authenticated"], "anon"),
      iss: fc.constantFrom(ISSUER, "https://evil.example/auth/v1"),
      exp: fc.oneof(fc.constant(4_102_444_800), fc.integer()),
      workspace_id: fc.constant(WORKSPACE),
      scopes: fc.constant(["webhooks:read", "webhooks:write"]),
    }, { requiredKeys: ["role", "sub"] }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  signature: fc.oneof(
    fc.constant(""),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map(base64url),
    headerValue(20),
  ),
  format: fc.constantFrom<JwtCase["format"]>(
    "jws",
    "jws",
    "jws",
    "padded",
    "four parts",
    "dot first",
    "raw header",
  ),
});

export type AuthCase =
  | { kind: "none" }
  /** TOKEN, ANON_KEY and SERVICE_KEY inside are replaced when sent. */
  | { kind: "value"; value: string }
  /** The real token, broken one way or another. */
  | {
    kind: "mutated";
    how: "flip" | "cut" | "extend" | "case" | "prefix" | "twice" | "basic" | "quoted";
    at: number;
    char: string;
  }
  | { kind: "jwt"; jwt: JwtCase };

export const authorizationCase: fc.Arbitrary<AuthCase> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      fc.constantFrom("Bearer", "bearer", "BEARER", "BeArEr"),
      fc.constantFrom(" ", " ", "  ", "   ", "\t", " \t"),
      fc.constantFrom("", "", " ", "  ", "\t", ",", " x"),
    ).map(([scheme, gap, trail]): AuthCase => ({
      kind: "value",
      value: `${scheme}${gap}${TOKEN}${trail}`,
    })),
  },
  { weight: 1, arbitrary: fc.constant<AuthCase>({ kind: "none" }) },
  { weight: 2, arbitrary: headerValue().map((value): AuthCase => ({ kind: "value", value })) },
  { weight: 1, arbitrary: hugeHeaderValue.map((value): AuthCase => ({ kind: "value", value })) },
  {
    weight: 2,
    arbitrary: headerValue(80).map((value): AuthCase => ({
      kind: "value",
      value: `Bearer ${value}`,
    })),
  },
  {
    weight: 1,
    arbitrary: hugeHeaderValue.map((value): AuthCase => ({
      kind: "value",
      value: `Bearer ${value}`,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      how: fc.constantFrom("flip", "cut", "extend", "case", "prefix", "twice", "basic", "quoted"),
      at: fc.nat(),
      char: headerChar,
    }).map((m): AuthCase => ({ kind: "mutated", ...m })),
  },
  { weight: 3, arbitrary: jwtLooking.map((jwt): AuthCase => ({ kind: "jwt", jwt })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `Bearer ${ANON_KEY}`,
      `Bearer ${SERVICE_KEY}`,
      ANON_KEY,
      "Bearer",
      "Bearer ",
      "Bearer wtos_",
      `Token ${TOKEN}`,
      "Basic Og==",
      "Bearer null",
      "Bearer undefined",
      "Bearer [object Object]",
    ).map((value): AuthCase => ({ kind: "value", value })),
  },
);

export interface AuthValues {
  token: string;
  workspace: string;
  issuer: string;
  anonKey: string;
  serviceKey: string;
}

/** The Authorization header to send for a case, or null for none. */
export function resolveAuthorization(auth: AuthCase, values: AuthValues): string | null {
  const { token } = values;
  if (auth.kind === "none") return null;
  if (auth.kind === "mutated") {
    const at = auth.at % token.length;
    if (auth.how === "basic") return `Basic ${btoa(`${token}:`)}`;
    const mutated = {
      flip: token.slice(0, at) + auth.char + token.slice(at + 1),
      cut: token.slice(0, at),
      extend: token.slice(0, at) + auth.char + token.slice(at),
      case: token.toUpperCase(),
      prefix: "wtos-" + token.slice(5),
      twice: `${token} Bearer ${token}`,
      quoted: `"${token}"`,
    }[auth.how];
    return `Bearer ${mutated}`;
  }
  if (auth.kind === "jwt") {
    const fill = (value: unknown) =>
      JSON.stringify(value ?? null)
        .replaceAll(WORKSPACE, values.workspace)
        .replaceAll(ISSUER, values.issuer);
    const { header, payload, signature, format } = auth.jwt;
    const h = base64url(fill(header));
    const p = base64url(fill(payload));
    const jwt = {
      "jws": `${h}.${p}.${signature}`,
      "padded": `${h}==.${p}=.${signature}`,
      "four parts": `${h}.${p}.${signature}.${h}`,
      "dot first": `.${p}.${signature}`,
      "raw header": `${fill(header)}.${p}.${signature}`,
    }[format];
    return `Bearer ${jwt}`;
  }
  return auth.value
    .replaceAll(TOKEN, token)
    .replaceAll(ANON_KEY, values.anonKey)
    .replaceAll(SERVICE_KEY, values.serviceKey);
}

export const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON; CHARSET=UTF-8",
  'application/json; charset="utf-8"',
  "application/json;charset=UTF-8;foo=bar",
  "application/vnd.api+json",
  "application/merge-patch+json",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "application/jsonx",
  "application/json-seq",
  "text/json",
  "text/plain",
  "text/plain; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "*/*",
  "application/*",
  "",
  " application/json ",
  "application/json, text/plain",
  "application\\json",
];

/** Content types the contract names outright: JSON in UTF-8 (or no charset). */
export const CLEARLY_JSON = new Set([
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON; CHARSET=UTF-8",
]);
/** And the ones that are clearly not JSON. */
export const CLEARLY_NOT_JSON = new Set([
  "text/plain",
  "text/plain; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "",
]);

/** Headers besides Authorization and Content-Type that a hostile client may send. */
export const extraHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.tuple(
      fc.constant("Idempotency-Key"),
      fc.oneof(fc.constantFrom("key-1", "key-2"), headerValue(40), hugeHeaderValue, fc.uuid()),
    ),
    fc.tuple(
      fc.constantFrom("X-Forwarded-For", "X-Real-IP", "Forwarded"),
      fc.oneof(fc.ipV4(), headerValue()),
    ),
    fc.tuple(
      fc.constant("Origin"),
      fc.constantFrom("null", "https://evil.example", "http://127.0.0.1", ""),
    ),
    fc.tuple(
      fc.constantFrom("Accept", "Accept-Language"),
      fc.oneof(
        fc.constantFrom("*/*", "text/html", "application/xml", "application/json;q=0"),
        headerValue(),
      ),
    ),
    fc.tuple(
      fc.constant("Accept-Encoding"),
      fc.constantFrom("gzip", "br", "identity;q=0", "*;q=0"),
    ),
    fc.tuple(
      fc.constant("Content-Encoding"),
      fc.constantFrom("gzip", "br", "deflate", "identity", "x"),
    ),
    fc.tuple(fc.constant("apikey"), fc.oneof(fc.constant(ANON_KEY), headerValue())),
    fc.tuple(
      fc.constantFrom(
        "Cookie",
        "X-Client-Info",
        "Prefer",
        "Range",
        "If-None-Match",
        "X-Request-Id",
        "X-HTTP-Method-Override",
      ),
      fc.oneof(
        headerValue(),
        fc.constantFrom("tx=rollback", "return=minimal", "DELETE", "bytes=0-1"),
      ),
    ),
    fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue()),
  ),
  { maxLength: 4 },
);

/** Percent-encodes the UTF-8 of `text` (lone surrogates become U+FFFD, as any client sends them). */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Query strings: the real parameters with odd values, unknown and repeated keys, junk escapes. */
const PERCENT_JUNK = [
  "%",
  "%G1",
  "%FF",
  "%C0%80",
  "%ED%A0%80",
  "%00",
  "%E2%80%AE",
  "%EF%BB%BF",
  "+",
  "%2B",
  "%26",
  "%3D",
  "%23",
  ";",
];
const queryText = fc.oneof(
  { weight: 3, arbitrary: hostileString(4).map(percentEncode) },
  {
    weight: 2,
    arbitrary: fc.array(fc.constantFrom(...PERCENT_JUNK), { minLength: 1, maxLength: 4 }).map((
      parts,
    ) => parts.join("")),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map(percentEncode) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9._~-]{0,12}$/) },
);

const cursorPart = (digits: number) =>
  fc.integer({ min: 0, max: 10 ** digits - 1 }).map((n) => String(n).padStart(digits, "0"));
/** Cursors of the exact shape the API issues, with any digits: 2026-13-45T99:61:61.123456+99:99. */
export const craftedCursor = fc.record({
  date: fc.tuple(cursorPart(4), cursorPart(2), cursorPart(2)).map((parts) => parts.join("-")),
  time: fc.tuple(cursorPart(2), cursorPart(2), cursorPart(2)).map((parts) => parts.join(":")),
  fraction: fc.option(fc.integer({ min: 1, max: 6 }).chain(cursorPart).map((f) => `.${f}`), {
    nil: "",
  }),
  zone: fc.oneof(
    fc.constant("Z"),
    fc.tuple(fc.constantFrom("+", "-"), cursorPart(2), cursorPart(2)).map(([s, h, m]) =>
      `${s}${h}:${m}`
    ),
  ),
  id: fc.uuid().map((id) => id.toLowerCase()),
}).map(({ date, time, fraction, zone, id }) =>
  base64url(JSON.stringify([`${date}T${time}${fraction}${zone}`, id]))
);

export const REAL_CURSOR = "{real_cursor}";

/** The lists the API pages through, and the query parameters each knows. */
export type ListKind = "subscriptions" | "deliveries";
export const LIST_PARAMETERS: Record<ListKind, string[]> = {
  subscriptions: ["limit", "cursor", "enabled", "event_type"],
  deliveries: ["limit", "cursor", "status", "event_type"],
};
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "cancelled"];
export const DELIVERY_EVENT_TYPES = [...EVENT_TYPES, "webhook.test"];

/**
 * Query strings for GET / (or GET /{id}/deliveries): the list's four parameters with valid and odd
 * values, the other list's, unknown and repeated keys, junk escapes. Cursors are the API's own
 * (REAL_CURSOR), junk, and — unless left out — crafted ones of the exact issued shape with
 * arbitrary digits.
 */
export function queryStrings(
  options: { craftedCursors: boolean; list?: ListKind },
): fc.Arbitrary<string> {
  const list = options.list ?? "subscriptions";
  const eventTypes = list === "deliveries" ? DELIVERY_EVENT_TYPES : EVENT_TYPES;
  const parameterValue: Record<string, fc.Arbitrary<string>> = {
    limit: fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 100 }).map(String) },
      fc.constantFrom(
        "1",
        "20",
        "100",
        "101",
        "0",
        "-1",
        "01",
        "001",
        "0001",
        "1.5",
        "1e2",
        " 1",
        "+1",
        "0x10",
        "%EF%BC%91",
        "",
        "NaN",
        "Infinity",
        "999",
        "1000",
      ),
      fc.integer().map(String),
      queryText,
    ),
    cursor: fc.oneof(
      { weight: 2, arbitrary: fc.constant(REAL_CURSOR) },
      { weight: options.craftedCursors ? 2 : 0, arbitrary: craftedCursor },
      fc.jsonValue({ maxDepth: 2 }).map((v) => base64url(JSON.stringify(v) ?? "")),
      fc.uint8Array({ maxLength: 60 }).map(base64url),
      queryText,
      fc.integer({ min: 150, max: 5_000 }).map((n) => "A".repeat(n)),
    ),
    enabled: fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom("true", "false") },
      fc.constantFrom("true", "false", "TRUE", "False", "1", "0", "", "yes", "true%00", "null"),
      queryText,
    ),
    event_type: fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...eventTypes) },
      fc.mixedCase(fc.constantFrom(...eventTypes)),
      queryText,
    ),
    status: fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...DELIVERY_STATUSES) },
      fc.mixedCase(fc.constantFrom(...DELIVERY_STATUSES)),
      fc.constantFrom("", "delivered", "failed,pending", "pending%00", "null"),
      queryText,
    ),
  };
  const [, , filter] = LIST_PARAMETERS[list];
  const names = LIST_PARAMETERS[list];
  const otherListOnly = list === "deliveries" ? "enabled" : "status";

  /** The four parameters, each present or not, with mostly valid values: one bad one shows. */
  const plausibleQuery: fc.Arbitrary<string> = fc.record({
    limit: fc.option(parameterValue.limit, { freq: 1 }),
    cursor: fc.option(parameterValue.cursor, { freq: 4 }),
    [filter]: fc.option(parameterValue[filter], { freq: 1 }),
    event_type: fc.option(parameterValue.event_type, { freq: 1 }),
  }).map((parameters) =>
    Object.entries(parameters)
      .filter(([, value]) => value !== null)
      .map(([name, value]) => `${name}=${value}`)
      .join("&")
  );

  const junkQuery: fc.Arbitrary<string> = fc.record({
    parameters: fc.array(
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc.constantFrom(...names)
            .chain((name) => parameterValue[name].map((value) => `${name}=${value}`)),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(...names, otherListOnly)
            .chain((name) => parameterValue[name].map((value) => `${name}=${value}`)),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            ...names,
            "__proto__",
            "constructor",
            "select",
            "order",
            "workspace_id",
            "or",
            "apikey",
          ),
        },
        { weight: 1, arbitrary: fc.tuple(queryText, queryText).map(([k, v]) => `${k}=${v}`) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "limit=1&limit=2",
            "event_type[]=deal.created",
            "limit[$gt]=1",
            "=",
            "&",
            "==",
            "%3D=x",
            "__proto__[enabled]=true",
            "constructor[prototype][x]=1",
          ),
        },
      ),
      { maxLength: 5 },
    ),
    separator: fc.constantFrom("&", "&", "&", "&&", ";", "&amp;"),
  }).map(({ parameters, separator }) => parameters.join(separator));

  return fc.oneof(plausibleQuery, junkQuery);
}

/** Path segments: the caller's id, another workspace's, near-ids, dots, escapes, junk. */
export const OWN_ID = "{own_id}";
export const VICTIM_ID = "{victim_id}";
export const OWN_DELIVERY_ID = "{own_delivery_id}";
export const VICTIM_DELIVERY_ID = "{victim_delivery_id}";
const pathSegment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(OWN_ID, VICTIM_ID) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `${OWN_ID}%00`,
      `${OWN_ID}%20`,
      `%20${OWN_ID}`,
      `{${OWN_ID}}`,
      `${VICTIM_ID}%2F..`,
      `${OWN_ID}.json`,
      `${OWN_ID};x=1`,
      `${OWN_ID}%E2%80%AE`,
      "rotate-secret",
      "openapi.json",
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ),
  },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      ".",
      "..",
      "%2e%2e",
      "%2E",
      "%2F",
      "%5C",
      "%00",
      "%ED%A0%80",
      "%FF",
      "*",
      ":id",
      "{id}",
      "%7Bid%7D",
      "~",
      "@",
      "%252F",
    ),
  },
  { weight: 1, arbitrary: hostileString(3).map(percentEncode) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 6_000 }).map((n) => "a".repeat(n)) },
);

export const pathCase = fc.record({
  method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "GET", "PATCH", "DELETE"),
  segments: fc.oneof(
    // The API's own shapes, /{id} and /{id}/rotate-secret, with anything as the id.
    {
      weight: 2,
      arbitrary: fc.tuple(pathSegment, fc.boolean())
        .map(([id, rotate]) => (rotate ? [id, "rotate-secret"] : [id])),
    },
    // The delivery routes, with anything as either id.
    {
      weight: 2,
      arbitrary: fc.tuple(
        pathSegment,
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(OWN_DELIVERY_ID, VICTIM_DELIVERY_ID) },
          pathSegment,
        ),
        fc.constantFrom("list", "one", "retry", "test", "recover"),
      ).map(([id, delivery, shape]) =>
        ({
          list: [id, "deliveries"],
          one: [id, "deliveries", delivery],
          retry: [id, "deliveries", delivery, "retry"],
          test: [id, "test"],
          recover: [id, "recover"],
        })[shape]
      ),
    },
    { weight: 1, arbitrary: fc.array(pathSegment, { minLength: 1, maxLength: 4 }) },
  ),
  trailingSlash: fc.boolean(),
  query: fc.option(fc.constantFrom("?x=1", "?", "?id=" + VICTIM_ID, "#frag"), { nil: "" }),
  body: fc.option(
    fc.constantFrom(
      '{"enabled":false}',
      '{"description":"moved"}',
      "{}",
      '{"target_url":"https://example.com/x","event_types":["deal.created"]}',
      '{"since":"2026-12-01T00:00:00Z"}',
      "garbage",
    ),
    { nil: undefined },
  ),
});
