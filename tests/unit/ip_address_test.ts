import assert from "node:assert/strict";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { isIpLiteral, isPublicAddress } from "../../supabase/functions/_shared/target-policy.ts";

// The target policy classifies addresses with ipaddr.js. These tests hold its use to a table of
// its own: every range below is not public, and an IPv6 address must also lie in 2000::/3. The
// oracle is plain arithmetic over that table, so a change in the library, or in how the policy
// calls it, shows here range by range.

/** IPv4 ranges that are not public (ipaddr.js 2.5.0's special ranges, entry for entry). */
const NOT_PUBLIC_V4: readonly string[] = [
  "0.0.0.0/8", // unspecified, "this network"
  "255.255.255.255/32", // broadcast
  "224.0.0.0/4", // multicast
  "169.254.0.0/16", // link-local
  "127.0.0.0/8", // loopback
  "100.64.0.0/10", // carrier-grade NAT
  "10.0.0.0/8", // private
  "172.16.0.0/12", // private
  "192.168.0.0/16", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // TEST-NET-1
  "192.88.99.0/24", // 6to4 relay anycast
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // TEST-NET-2
  "203.0.113.0/24", // TEST-NET-3
  "240.0.0.0/4", // reserved
  "192.175.48.0/24", // AS112
  "192.31.196.0/24", // AS112
  "192.52.193.0/24", // AMT
];

/** IANA allocates global unicast IPv6 only from here. */
const GLOBAL_UNICAST_V6 = "2000::/3";

/** IPv6 ranges that are not public (ipaddr.js 2.5.0's special ranges, entry for entry). */
const NOT_PUBLIC_V6: readonly string[] = [
  "::/128", // unspecified
  "fe80::/10", // link-local
  "ff00::/8", // multicast
  "::1/128", // loopback
  "fc00::/7", // unique local
  "::ffff:0:0/96", // IPv4-mapped
  "fec0::/10", // site-local (deprecated)
  "100::/64", // discard
  "::ffff:0:0:0/96", // SIIT (RFC 6145)
  "64:ff9b::/96", // NAT64
  "64:ff9b:1::/48", // local-use NAT64
  "2002::/16", // 6to4
  "2001::/32", // Teredo
  "2001:2::/48", // benchmarking
  "2001:3::/32", // AMT
  "2001:4:112::/48", // AS112
  "2620:4f:8000::/48", // AS112
  "2001:10::/28", // ORCHID (deprecated)
  "2001:20::/28", // ORCHIDv2
  "2001:30::/28", // drone remote ID
  "5f00::/16", // SRv6 SIDs
  "2001::/23", // IETF protocol assignments
  "2001:db8::/32", // documentation
  "3fff::/20", // documentation
];

// Addresses as numbers, and the text forms a DNS answer or a URL may use. ----------------------

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

function toBigInt(bytes: ArrayLike<number>): bigint {
  return Array.from(bytes).reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
}

function toBytes(value: bigint, length: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    out.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  return out;
}

interface Range {
  cidr: string;
  first: bigint;
  last: bigint;
  v6: boolean;
}

function range(cidr: string): Range {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  const bytes = network.toByteArray();
  const width = BigInt(bytes.length * 8);
  const host = (1n << (width - BigInt(bits))) - 1n;
  const first = toBigInt(bytes) & ~host;
  return { cidr, first, last: first | host, v6: bytes.length === 16 };
}

const dotted = (bytes: number[]) => bytes.join(".");

const V4_RANGES = NOT_PUBLIC_V4.map(range);
const V6_RANGES = NOT_PUBLIC_V6.map(range);
const GLOBAL_V6 = range(GLOBAL_UNICAST_V6);
const within = (value: bigint, r: Range) => value >= r.first && value <= r.last;

/** The table's verdict on an address given as a number. */
function tablePublic(value: bigint, v6: boolean): boolean {
  if (v6 && !within(value, GLOBAL_V6)) return false;
  return !(v6 ? V6_RANGES : V4_RANGES).some((r) => within(value, r));
}

type V6Form = "compressed" | "expanded" | "padded" | "upper" | "any zero run" | "ipv4 tail";
const V6_FORMS: V6Form[] = [
  "compressed",
  "expanded",
  "padded",
  "upper",
  "any zero run",
  "ipv4 tail",
];

/** Groups joined, with the zero run starting at `run` (an index into `groups`) as `::`. */
function joinGroups(groups: string[], run: number | null, tail: string | null): string {
  const pieces = tail === null ? groups : [...groups, tail];
  if (run === null) return pieces.join(":");
  let end = run;
  while (end < groups.length && /^0+$/.test(groups[end])) end++;
  return `${pieces.slice(0, run).join(":")}::${pieces.slice(end).join(":")}`;
}

function zeroRunStarts(groups: number[]): number[] {
  return groups.flatMap((group, i) => group === 0 && (i === 0 || groups[i - 1] !== 0) ? [i] : []);
}

/** One IPv6 address in one valid text form; `pick` chooses among the zero runs. */
function formatV6(value: bigint, form: V6Form, pick = 0): string {
  const bytes = toBytes(value, 16);
  const address = ipaddr.fromByteArray(bytes) as ipaddr.IPv6;
  const groups = address.parts;
  switch (form) {
    case "compressed":
      return address.toString();
    case "expanded":
      return address.toNormalizedString();
    case "padded":
      return groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
    case "upper":
      return address.toString().toUpperCase();
    case "any zero run": {
      const runs = zeroRunStarts(groups);
      const run = runs.length === 0 ? null : runs[pick % runs.length];
      return joinGroups(groups.map((g) => g.toString(16)), run, null);
    }
    case "ipv4 tail": {
      const head = groups.slice(0, 6);
      const runs = zeroRunStarts(head);
      const run = runs.length === 0 ? null : runs[pick % runs.length];
      return joinGroups(head.map((g) => g.toString(16)), run, dotted(bytes.slice(12)));
    }
  }
}

const formatV4 = (value: bigint) => dotted(toBytes(value, 4));

// (a) The ranges, and explicit cases at both edges of each. -------------------------------------

Deno.test("unit: the table holds every special range of the ipaddr.js in use", () => {
  const table = (ranges: unknown) =>
    Object.values(ranges as Record<string, unknown[]>).flatMap((entry) =>
      (Array.isArray(entry[0]) ? entry : [entry]).map((subnet) => {
        const [address, bits] = subnet as [ipaddr.IPv4 | ipaddr.IPv6, number];
        return `${address.toString()}/${bits}`;
      })
    ).sort();
  const prototype = (kind: unknown) =>
    (kind as { prototype: { SpecialRanges: unknown } }).prototype;
  assert.deepEqual([...NOT_PUBLIC_V4].sort(), table(prototype(ipaddr.IPv4).SpecialRanges));
  assert.deepEqual([...NOT_PUBLIC_V6].sort(), table(prototype(ipaddr.IPv6).SpecialRanges));
});

/** [address, public?]: the first and last address inside each range, and the first outside. */
const EDGES: [string, boolean][] = [
  ["8.8.8.8", true],
  ["1.1.1.1", true],
  // 0.0.0.0/8 "this network"
  ["0.0.0.0", false],
  ["0.255.255.255", false],
  ["1.0.0.0", true],
  // 10.0.0.0/8
  ["9.255.255.255", true],
  ["10.0.0.0", false],
  ["10.255.255.255", false],
  ["11.0.0.0", true],
  // 100.64.0.0/10 carrier-grade NAT
  ["100.63.255.255", true],
  ["100.64.0.0", false],
  ["100.127.255.255", false],
  ["100.128.0.0", true],
  // 127.0.0.0/8 loopback
  ["126.255.255.255", true],
  ["127.0.0.0", false],
  ["127.255.255.255", false],
  ["128.0.0.0", true],
  // 169.254.0.0/16 link-local
  ["169.253.255.255", true],
  ["169.254.0.0", false],
  ["169.254.255.255", false],
  ["169.255.0.0", true],
  // 172.16.0.0/12
  ["172.15.255.255", true],
  ["172.16.0.0", false],
  ["172.31.255.255", false],
  ["172.32.0.0", true],
  // 192.0.0.0/24 IETF protocol assignments
  ["191.255.255.255", true],
  ["192.0.0.0", false],
  ["192.0.0.255", false],
  ["192.0.1.0", true],
  // 192.0.2.0/24 TEST-NET-1
  ["192.0.1.255", true],
  ["192.0.2.0", false],
  ["192.0.2.255", false],
  ["192.0.3.0", true],
  // 192.31.196.0/24 AS112
  ["192.31.195.255", true],
  ["192.31.196.0", false],
  ["192.31.196.255", false],
  ["192.31.197.0", true],
  // 192.52.193.0/24 AMT
  ["192.52.192.255", true],
  ["192.52.193.0", false],
  ["192.52.193.255", false],
  ["192.52.194.0", true],
  // 192.88.99.0/24 6to4 relay anycast
  ["192.88.98.255", true],
  ["192.88.99.0", false],
  ["192.88.99.255", false],
  ["192.88.100.0", true],
  // 192.168.0.0/16
  ["192.167.255.255", true],
  ["192.168.0.0", false],
  ["192.168.255.255", false],
  ["192.169.0.0", true],
  // 192.175.48.0/24 AS112
  ["192.175.47.255", true],
  ["192.175.48.0", false],
  ["192.175.48.255", false],
  ["192.175.49.0", true],
  // 198.18.0.0/15 benchmarking
  ["198.17.255.255", true],
  ["198.18.0.0", false],
  ["198.19.255.255", false],
  ["198.20.0.0", true],
  // 198.51.100.0/24 TEST-NET-2
  ["198.51.99.255", true],
  ["198.51.100.0", false],
  ["198.51.100.255", false],
  ["198.51.101.0", true],
  // 203.0.113.0/24 TEST-NET-3
  ["203.0.112.255", true],
  ["203.0.113.0", false],
  ["203.0.113.255", false],
  ["203.0.114.0", true],
  // 224.0.0.0/4 multicast, 240.0.0.0/4 reserved, 255.255.255.255 broadcast: up to the top
  ["223.255.255.255", true],
  ["224.0.0.0", false],
  ["239.255.255.255", false],
  ["240.0.0.0", false],
  ["255.255.255.254", false],
  ["255.255.255.255", false],

  ["2606:4700:4700::1111", true],
  ["2a00:1450:4001:80b::200e", true],
  ["2001:4860:4860::8888", true],
  // outside 2000::/3: unspecified, loopback, mapped, compatible, NAT64, discard, ULA, …
  ["::", false],
  ["::1", false],
  ["::ffff:8.8.8.8", false],
  ["::ffff:0:808:808", false],
  ["::8.8.8.8", false],
  ["64:ff9b::808:808", false],
  ["64:ff9b:1::808:808", false],
  ["100::", false],
  ["100::ffff:ffff:ffff:ffff", false],
  ["1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["4000::", false],
  ["5f00::1", false],
  ["fc00::", false],
  ["fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["fe80::", false],
  ["febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["fec0::1", false],
  ["ff02::1", false],
  ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  // 2000::/3 itself
  ["2000::", true],
  ["3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
  // 2001::/23 IETF protocol assignments (Teredo, benchmarking, AMT, AS112, ORCHIDs inside it)
  ["2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
  ["2001::", false],
  ["2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["2001:1::", false],
  ["2001:2::", false],
  ["2001:2:0:ffff:ffff:ffff:ffff:ffff", false],
  ["2001:2:1::", false],
  ["2001:10::", false],
  ["2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["2001:20::", false],
  ["2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["2001:200::", true],
  // 2001:db8::/32 documentation
  ["2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true],
  ["2001:db8::", false],
  ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["2001:db9::", true],
  // 2002::/16 6to4
  ["2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
  ["2002::", false],
  ["2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["2003::", true],
  // 2620:4f:8000::/48 AS112
  ["2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", true],
  ["2620:4f:8000::", false],
  ["2620:4f:8000:ffff:ffff:ffff:ffff:ffff", false],
  ["2620:4f:8001::", true],
  // 3fff::/20 documentation
  ["3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
  ["3fff::", false],
  ["3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", false],
  ["3fff:1000::", true],
];

/** The address as a number, read by hand (no library), for the table's verdict. */
function valueOf(text: string): { value: bigint; v6: boolean } {
  if (!text.includes(":")) return { value: toBigInt(text.split(".").map(Number)), v6: false };
  const [head, tail = ""] = text.split("::");
  const groups = (part: string) =>
    part === "" ? [] : part.split(":").flatMap((group) =>
      group.includes(".")
        ? (() => {
          const [a, b, c, d] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        })()
        : [parseInt(group, 16)]
    );
  const before = groups(head);
  const after = text.includes("::") ? groups(tail) : [];
  const all = [...before, ...new Array(8 - before.length - after.length).fill(0), ...after];
  return { value: all.reduce((n, g) => (n << 16n) | BigInt(g), 0n), v6: true };
}

const tableSays = (text: string) => {
  const { value, v6 } = valueOf(text);
  return tablePublic(value, v6);
};

Deno.test("unit: the target policy classifies both edges of every range", () => {
  for (const [address, expected] of EDGES) {
    assert.equal(isPublicAddress(address), expected, address);
    assert.equal(tableSays(address), expected, `table: ${address}`);
    assert.ok(isIpLiteral(address), address);
  }
});

const ALL_RANGES = [...V4_RANGES, ...V6_RANGES, GLOBAL_V6];

Deno.test("unit: the target policy agrees with the table just inside and outside every range", () => {
  for (const { cidr, first, last, v6 } of ALL_RANGES) {
    const max = v6 ? V6_MAX : V4_MAX;
    for (const value of [first - 1n, first, first + 1n, last - 1n, last, last + 1n]) {
      if (value < 0n || value > max) continue;
      const forms = v6 ? V6_FORMS.map((form) => formatV6(value, form)) : [formatV4(value)];
      for (const text of forms) {
        assert.equal(isPublicAddress(text), tablePublic(value, v6), `${text} (edge of ${cidr})`);
      }
    }
  }
});

// (b) Against the table on random addresses, biased to the edges of the ranges. -----------------

const NEIGHBOURS = ["11.0.0.0/8", "172.32.0.0/11", "2001:4860::/32", "2a00::/12", "2600::/12"];
const BIASED = [...ALL_RANGES, ...NEIGHBOURS.map(range)];

/** A value in a range or near one of its edges (up to 3 addresses either side). */
const nearRange = (v6: boolean) =>
  fc.tuple(
    fc.constantFrom(...BIASED.filter((r) => r.v6 === v6)),
    fc.constantFrom("inside", "first", "last"),
    fc.integer({ min: -3, max: 3 }),
    fc.bigInt({ min: 0n, max: V6_MAX }),
  ).map(([r, where, delta, random]) => {
    const max = v6 ? V6_MAX : V4_MAX;
    const value = where === "inside"
      ? r.first + random % (r.last - r.first + 1n)
      : (where === "first" ? r.first : r.last) + BigInt(delta);
    return value < 0n ? 0n : value > max ? max : value;
  });

const v4Value = fc.oneof(fc.bigInt({ min: 0n, max: V4_MAX }), nearRange(false));
const sparseGroups = fc.array(fc.tuple(fc.nat(7), fc.nat(0xffff)), { maxLength: 3 });
const v6Value = fc.oneof(
  fc.bigInt({ min: 0n, max: V6_MAX }),
  fc.bigInt({ min: 0x2000n << 112n, max: (0x4000n << 112n) - 1n }),
  // Few non-zero groups, so that zero runs (and where :: goes) vary.
  sparseGroups.map((set) => set.reduce((n, [i, g]) => n | (BigInt(g) << BigInt(16 * i)), 0n)),
  nearRange(true),
);

Deno.test("unit: isPublicAddress matches the table on random IPv4 addresses", () => {
  fc.assert(
    fc.property(v4Value, (value) => {
      const text = formatV4(value);
      assert.equal(isPublicAddress(text), tablePublic(value, false), text);
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("unit: isPublicAddress matches the table on random IPv6 addresses in every text form", () => {
  fc.assert(
    fc.property(v6Value, fc.constantFrom(...V6_FORMS), fc.nat(3), (value, form, pick) => {
      const text = formatV6(value, form, pick);
      assert.equal(valueOf(text).value, value, `the test misread its own address: ${text}`);
      assert.equal(isPublicAddress(text), tablePublic(value, true), text);
    }),
    { numRuns: 20_000 },
  );
});

/** Strings over an address's alphabet, most of them near-misses. */
const addressLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%xX"), maxLength: 45 }),
  fc.string({ unit: fc.constantFrom(..."019af:."), maxLength: 20 }),
  fc.tuple(fc.constantFrom(...EDGES.map(([text]) => text)), fc.nat(40), fc.string({ maxLength: 3 }))
    .map(([text, at, put]) => text.slice(0, at) + put + text.slice(at + put.length)),
);

/** The address WHATWG URL makes of a host, or null when it makes none (a name, or invalid). */
function urlAddress(text: string): string | null {
  try {
    const host = new URL(`https://${text.includes(":") ? `[${text}]` : text}/`).hostname;
    if (host.startsWith("[")) return host.slice(1, -1);
    return /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : null;
  } catch {
    return null;
  }
}

Deno.test("unit: on arbitrary strings, public only where the address the URL parser makes is public", () => {
  fc.assert(
    fc.property(addressLike, (text) => {
      if (isPublicAddress(text)) {
        // What the policy calls public is an address, and the same address a URL would reach.
        const address = urlAddress(text);
        assert.ok(address !== null, `public, but no URL makes it an address: ${text}`);
        assert.equal(tableSays(address), true, text);
        assert.equal(valueOf(address).value, valueOf(text).value, text);
      }
      // Whatever ipaddr.js takes for an address is checked as one, never resolved as a name.
      if (ipaddr.isValid(text)) assert.ok(isIpLiteral(text), `not a literal: ${text}`);
    }),
    { numRuns: 50_000 },
  );
});

// (c) What is not an address. -------------------------------------------------------------------

/** Not addresses in strict form; the comment says when ipaddr.js read one as public. */
const REJECTED = [
  "",
  " ",
  "8.8.8",
  "8.8",
  "8",
  "8.8.8.8.8",
  "8.8.8.8.",
  ".8.8.8.8",
  "8..8.8",
  "256.8.8.8",
  "8.8.8.256",
  "8.8.8.-1",
  "+8.8.8.8",
  " 8.8.8.8",
  "8.8.8.8 ",
  "8.8.8.8\n",
  "8.8.8.8/32",
  "8.8.8.8:443",
  "010.0.0.1", // ipaddr.js: octal, 8.0.0.1, public
  "08.8.8.8",
  "8.8.8.08",
  "00.0.0.0",
  "0x8.8.8.8", // ipaddr.js: public
  "0x08080808", // ipaddr.js: public
  "134744072", // ipaddr.js: 8.8.8.8, public
  "8.526344", // ipaddr.js: 8.8.8.8, public
  "８.8.8.8", // fullwidth digit
  "٨.8.8.8", // Arabic-Indic digit
  "2001:4860::8888%eth0", // ipaddr.js: zone dropped, public
  "2001:4860::8888%1",
  "fe80::1%eth0",
  "[2001:4860::8888]",
  "2001:4860::8888/128",
  ":",
  ":::",
  "::::",
  "1:::2",
  "2001:4860::8888::1",
  ":2001:4860::8888",
  "2001:4860::8888:",
  "2001:4860:0:0:0:0:0:8888:1",
  "2001:4860:0:0:0:0:8888",
  "2001:4860:0:0::0:0:0:8888", // :: standing for no group
  "2001:4860:0:0:0:0:0:8888::",
  "12001:4860::8888",
  "2001:486g::8888",
  "2001:4860::8888 ",
  "２００１:4860::8888",
  "::ffff:8.8.8", // ipaddr.js rejects these too
  "::ffff:8.8.8.8.8",
  "::ffff:256.8.8.8",
  "::ffff:08.8.8.8",
  "2001:4860::08.8.8.8", // ipaddr.js: decimal 8.8.8.8 tail, public
  "2001:4860::0x8.8.8.8", // ipaddr.js: hex tail, public
  "8.8.8.8::",
  "::8.8.8.8:0",
  "2001:4860::8.8.8.8:0",
  "2001:4860:0:0:0:0:0:8.8.8.8",
  "::ffff:8.8.8.8%eth0",
];

Deno.test("unit: the target policy calls everything but strict addresses not public", () => {
  for (const text of REJECTED) assert.equal(isPublicAddress(text), false, JSON.stringify(text));
});

Deno.test("unit: isIpLiteral covers every spelling WHATWG URL takes for an address", () => {
  for (
    const text of [
      "8.8.8.8",
      "127.0.0.1",
      "2130706433",
      "0x7f.1",
      "0X7F.0.0.1",
      "010.0.0.1",
      "1.2.3.4.",
      "0x",
      "example.0x10",
      "example.09",
      "::",
      "2001:4860::8888",
      "fe80::1%eth0",
      "not:a:valid:address",
    ]
  ) {
    assert.ok(isIpLiteral(text), text);
  }
  for (
    const text of [
      "",
      ".",
      "example.com",
      "localhost",
      "foo.1e1",
      "a.09b",
      "0x1g",
      "1.2.3.4x",
      "x1",
    ]
  ) {
    assert.ok(!isIpLiteral(text), text);
  }
  // Hosts WHATWG accepts are literals exactly when it made them an IPv4 or IPv6 address.
  for (
    const url of [
      "https://0x7f.1/",
      "https://2130706433/",
      "https://[::ffff:1.2.3.4]/",
      "https://1.2.3.4./",
      "https://example.com/",
      "https://foo.1e1/",
      "https://xn--nxasmq6b.com/",
    ]
  ) {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    const isAddress = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":");
    assert.equal(isIpLiteral(host), isAddress, url);
  }
});

Deno.test("unit: WHATWG URL hosts and Deno's DNS answers are classified", () => {
  // What new URL(...).hostname gives: dotted decimal, compressed lowercase IPv6 without a tail.
  assert.equal(new URL("https://[::ffff:1.2.3.4]/").hostname, "[::ffff:102:304]");
  assert.equal(isPublicAddress("::ffff:102:304"), false);
  // What a DNS answer may look like (Rust's Ipv6Addr prints mapped addresses with a tail).
  assert.equal(isPublicAddress("::ffff:8.8.8.8"), false);
  assert.equal(isPublicAddress("93.184.215.14"), true);
  assert.equal(isPublicAddress("2001:DB8:0000:0:0:0:0:0001"), false);
  assert.equal(isPublicAddress("2606:4700:4700:0000:0000:0000:0000:1111"), true);
});
