/**
 * Request bodies for create and update, built as raw JSON text (JSON.stringify drops a literal
 * `__proto__` key and cannot repeat one, escape one or carry trailing junk).
 */
import fc from "fast-check";
import { DNS_NAMES } from "../helpers/dns-records.ts";
import { EVENT_TYPES } from "./oracle.ts";
import {
  hostileString,
  hugeString,
  insertAt,
  INVALID_UTF8,
  jsonStringLiteral,
  type LiteralStyle,
  literalStyle,
} from "./strings.ts";

/** Targets the strict policy accepts (public IP literals, and names the suite's DNS calls public). */
export const KNOWN_GOOD_TARGETS = [
  "https://example.com/wundertre/webhook",
  `https://${DNS_NAMES.publicV4}/hook`,
  `https://${DNS_NAMES.publicV6}/hook?x=1`,
  "https://8.8.8.8/hook",
  "https://[2606:4700:4700::1111]/hook",
  "https://hooks.example.org/a/b?c=%E2%80%AE#frag",
];
export const KNOWN_GOOD = new Set(KNOWN_GOOD_TARGETS);

export const SPECIAL_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "__defineGetter__",
  "isPrototypeOf",
  "then",
  "length",
  "0",
  "",
  " ",
  "target_url ",
  "Target_url",
  "TARGET_URL",
  "target_url\u0000",
  "target\u200Burl",
  "description\u202E",
  "enabled",
  "secret",
  "id",
  "workspace_id",
  "created_at",
  "previous_secret",
  "$where",
];

/** A JSON value as text, of a wrong type or a hostile shape for any field. */
const rawNumber = fc.constantFrom(
  "1e999",
  "-1e999",
  "-0",
  "1E-400",
  "123456789012345678901234567890",
  "0.1",
  "-1",
  "9007199254740993",
);
const deepValue = fc.tuple(fc.integer({ min: 50, max: 14_000 }), fc.boolean()).map((
  [depth, arrays],
) =>
  arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth)
);
export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(hostileString(), literalStyle).map(([s, style]) =>
      jsonStringLiteral(s, style)
    ),
  },
  { weight: 1, arbitrary: hugeString.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: rawNumber },
  { weight: 1, arbitrary: deepValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom("null", "true", "false", "[]", "{}", '""', '" "', "[null]"),
  },
);

const TARGET_TRICKS = [
  "http://example.com/hook",
  "javascript:alert(1)",
  "file:///etc/passwd",
  "data:text/plain,x",
  "ftp://example.com/",
  "wss://example.com/",
  "https://",
  "https:///x",
  "//example.com/x",
  "example.com/x",
  "https://user:pass@example.com/",
  "https://@example.com/",
  "https://example.com:0/",
  "https://example.com:65536/",
  "HTTPS://EXAMPLE.COM:443/x",
  "https://%31%32%37.0.0.1/",
  "https://0x7f.1/",
  "https://[::1]/",
  "https://[fe80::1%25eth0]/",
  "https://localhost./",
  "https://exa\u200Bmple.com/",
  "https://exa\u202Emple.com/",
  "https://ex\u00ADample.com/",
  "https://例え.テスト/",
  "https://example.com/\u202Etxt.exe",
  "https://example.com/%00",
  "https://example.com\\@evil.example/",
  "https://evil.example#@example.com/",
  "https://example.com/" + "a".repeat(2029),
  "https://example.com/" + "a".repeat(2028),
  "https://example.com/" + "é".repeat(1000),
  `https://${DNS_NAMES.loopback}/`,
  `https://${DNS_NAMES.mixed}/`,
  `https://${DNS_NAMES.nxdomain}/`,
];

/** target_url values: the good ones, the good ones with junk inside, tricks, random web URLs. */
export const targetUrlValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...KNOWN_GOOD_TARGETS) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom(...KNOWN_GOOD_TARGETS), hostileString(3), fc.nat())
      .map(([url, junk, at]) => insertAt(url, junk, at)),
  },
  { weight: 2, arbitrary: fc.constantFrom(...TARGET_TRICKS) },
  {
    weight: 1,
    arbitrary: fc.webUrl({
      validSchemes: ["https"],
      withQueryParameters: true,
      withFragments: true,
    }),
  },
  { weight: 1, arbitrary: hugeString.map((s) => `https://example.com/${s}`) },
);

const eventTypeItem: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...EVENT_TYPES), literalStyle).map(([t, style]) =>
      jsonStringLiteral(t, style)
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...EVENT_TYPES), hostileString(2), fc.nat())
      .map(([t, junk, at]) => JSON.stringify(insertAt(t, junk, at))),
  },
  {
    weight: 1,
    arbitrary: fc.mixedCase(fc.constantFrom(...EVENT_TYPES)).map((t) => JSON.stringify(t)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '"*"',
      '"contact.*"',
      '""',
      '"deal.deleted"',
      '"contact"',
      "null",
      "1",
    ),
  },
  { weight: 1, arbitrary: hostileValue },
);

export const eventTypesValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(eventTypeItem, { maxLength: 9 }).map((items) => `[${items.join(",")}]`),
  },
  { weight: 1, arbitrary: hostileValue },
);

/** Descriptions that are legal (bidi, zero-width, astral, 500 code points) and illegal. */
export const descriptionValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(hostileString(), literalStyle).map(([s, style]) =>
      jsonStringLiteral(s, style)
    ),
  },
  { weight: 2, arbitrary: hugeString.map((s) => JSON.stringify(s)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "null",
      '"Sync new leads"',
      '"\\u0000"',
      '"\\ud800"',
      '"\\udfff\\ud800"',
    ),
  },
  { weight: 1, arbitrary: hostileValue },
);

const enabledValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("true", "false", '"true"', '"false"', "1", "0", "null", "[true]", '"\\u0000"'),
  hostileValue,
);

const VALUE_FOR: Record<string, fc.Arbitrary<string>> = {
  target_url: targetUrlValue.chain((url) =>
    literalStyle.map((style) => jsonStringLiteral(url, style))
  ),
  event_types: eventTypesValue,
  description: descriptionValue,
  enabled: enabledValue,
};

type Mutation =
  | { op: "set"; field: string; value: string }
  | { op: "add"; key: string; value: string; first: boolean }
  | { op: "remove"; field: string }
  | { op: "repeat"; field: string; value: string }
  | { op: "escapeKeys" };

/** Objects that would change the body if a key such as __proto__ were merged, not rejected. */
const SMUGGLED = [
  "{}",
  '{"enabled":false,"description":"smuggled"}',
  '{"target_url":"https://127.0.0.1/","event_types":["deal.created"]}',
  '{"prototype":{"enabled":false}}',
  '{"__proto__":{"description":"deeper"}}',
];

const anyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype") },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_KEYS) },
  { weight: 1, arbitrary: hostileString(3) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
);

function mutation(fields: string[]): fc.Arbitrary<Mutation> {
  const field = fc.constantFrom(...fields);
  return fc.oneof(
    {
      weight: 4,
      arbitrary: field.chain((f) =>
        VALUE_FOR[f].map((value): Mutation => ({ op: "set", field: f, value }))
      ),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        key: anyKey,
        value: fc.oneof(hostileValue, fc.constantFrom(...SMUGGLED)),
        first: fc.boolean(),
      })
        .map((m): Mutation => ({ op: "add", ...m })),
    },
    { weight: 1, arbitrary: field.map((f): Mutation => ({ op: "remove", field: f })) },
    {
      weight: 1,
      arbitrary: field.chain((f) =>
        VALUE_FOR[f].map((value): Mutation => ({ op: "repeat", field: f, value }))
      ),
    },
    { weight: 1, arbitrary: fc.constant<Mutation>({ op: "escapeKeys" }) },
  );
}

export interface BodyCase {
  /** What was done to the valid body, for the counterexample. */
  mutations: Mutation[];
  text: string;
  /** Bytes never valid as UTF-8, spliced in after encoding; -1 when none. */
  invalidUtf8At: number;
  invalidUtf8: number[];
  /** A short account of a body too big to print. */
  label?: string;
}

const PRINTED_CHARACTERS = 1500;

/** Makes fast-check print a body case briefly: huge strings and arrays stay readable. */
function printable(body: BodyCase): BodyCase {
  return Object.assign(body, {
    [fc.toStringMethod]: () => {
      const text = body.label ??
        (body.text.length > PRINTED_CHARACTERS
          ? `${JSON.stringify(body.text.slice(0, PRINTED_CHARACTERS))}… (${body.text.length} chars)`
          : JSON.stringify(body.text));
      const utf8 = body.invalidUtf8At < 0
        ? ""
        : ` with bytes [${body.invalidUtf8.map((b) => b.toString(16))}] at ${body.invalidUtf8At}`;
      return `body ${text}${utf8}`;
    },
  });
}

export function bodyBytes(body: BodyCase): Uint8Array {
  const bytes = new TextEncoder().encode(body.text);
  if (body.invalidUtf8At < 0) return bytes;
  const at = body.invalidUtf8At % (bytes.length + 1);
  return new Uint8Array([...bytes.slice(0, at), ...body.invalidUtf8, ...bytes.slice(at)]);
}

function render(entries: [string, string][], keyStyle: LiteralStyle): string {
  return `{${
    entries.map(([key, value]) => `${jsonStringLiteral(key, keyStyle)}:${value}`).join(",")
  }}`;
}

/** A valid body for `kind` with up to three mutations, wrapped in odd whitespace or junk. */
export function nearValidBody(kind: "create" | "update"): fc.Arbitrary<BodyCase> {
  const fields = kind === "create"
    ? ["target_url", "event_types", "description"]
    : ["target_url", "event_types", "description", "enabled"];
  const base = fc.record({
    target_url: fc.constantFrom(...KNOWN_GOOD_TARGETS).map((url) => JSON.stringify(url)),
    event_types: fc.subarray(EVENT_TYPES, { minLength: 1 }).map((types) => JSON.stringify(types)),
    description: fc.oneof(
      fc.constant("null"),
      fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)),
    ),
    enabled: fc.boolean().map(String),
  }, { requiredKeys: kind === "create" ? ["target_url", "event_types"] : [] })
    .filter((body) => Object.keys(body).length > 0)
    .map((body) => {
      if (kind === "create") delete body.enabled;
      return body;
    });
  return fc.record({
    base,
    mutations: fc.array(mutation(fields), { maxLength: 3 }),
    lead: fc.constantFrom("", "", "", " ", "\n\t", "\uFEFF", "\r\n"),
    trail: fc.constantFrom("", "", "", "", " ", "\n", ",", "}", "x", "\u0000", "\uFEFF", "//"),
    invalidUtf8At: fc.oneof({ weight: 9, arbitrary: fc.constant(-1) }, {
      weight: 1,
      arbitrary: fc.nat(),
    }),
    invalidUtf8: fc.constantFrom(...INVALID_UTF8),
  }).map(({ base, mutations, lead, trail, invalidUtf8At, invalidUtf8 }) => {
    let entries = Object.entries(base) as [string, string][];
    let keyStyle: LiteralStyle = "plain";
    for (const m of mutations) {
      if (m.op === "set") {
        entries = entries.some(([key]) => key === m.field)
          ? entries.map(([key, value]) => [key, key === m.field ? m.value : value])
          : [...entries, [m.field, m.value]];
      } else if (m.op === "add") {
        entries = m.first ? [[m.key, m.value], ...entries] : [...entries, [m.key, m.value]];
      } else if (m.op === "remove") entries = entries.filter(([key]) => key !== m.field);
      else if (m.op === "repeat") entries = [...entries, [m.field, m.value]];
      else keyStyle = "escaped";
    }
    return printable({
      mutations,
      text: lead + render(entries, keyStyle) + trail,
      invalidUtf8At,
      invalidUtf8,
    });
  });
}

/** Any JSON value at all as the body. */
export const randomJsonBody: fc.Arbitrary<BodyCase> = fc.jsonValue({ maxDepth: 5 }).map((value) =>
  printable({ mutations: [], text: JSON.stringify(value), invalidUtf8At: -1, invalidUtf8: [] })
);

/** 10,000-item (and other big) arrays and objects, in event_types, description or the body. */
export const bigBody = (kind: "create" | "update"): fc.Arbitrary<BodyCase> =>
  fc.record({
    count: fc.oneof(fc.constantFrom(9_999, 10_000, 10_001), fc.integer({ min: 1, max: 10_000 })),
    item: fc.constantFrom(
      '"contact.created"',
      '"deal.created"',
      "1",
      "null",
      '""',
      '"x"',
      "[]",
      "{}",
      '"\\u0000"',
      '"\\ud800"',
      '"\\u202e"',
      "0",
    ),
    where: fc.constantFrom("event_types", "description", "unknown keys", "body array", "nested"),
  }).map(({ count, item, where }) => {
    const items = Array(count).fill(item).join(",");
    const target = JSON.stringify(KNOWN_GOOD_TARGETS[0]);
    const prefix = kind === "create" ? `"target_url":${target},` : "";
    let text: string;
    if (where === "event_types") text = `{${prefix}"event_types":[${items}]}`;
    else if (where === "description") {
      text = `{${prefix}"event_types":["deal.created"],"description":[${items}]}`;
    } else if (where === "unknown keys") {
      const keys = Array.from({ length: count }, (_, i) => `"k${i}":${item}`).join(",");
      text = `{${prefix}"event_types":["deal.created"],${keys}}`;
    } else if (where === "body array") text = `[${items}]`;
    else text = `{${prefix}"event_types":[${"[".repeat(count)}${"]".repeat(count)}]}`;
    const label = where === "nested"
      ? `event_types nested ${count} deep (${text.length} bytes)`
      : `${where}: ${count} × ${item} (${text.length} bytes)`;
    return printable({ mutations: [], text, invalidUtf8At: -1, invalidUtf8: [], label });
  });
