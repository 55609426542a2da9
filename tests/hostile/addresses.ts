/** IP literals in every spelling a URL accepts, biased toward the ranges a delivery must not reach. */
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { NOT_PUBLIC_V4, NOT_PUBLIC_V6 } from "./oracle.ts";

/** A random address inside `cidr`, from a random 128-bit (or 32-bit) number. */
function inCidr(cidr: string, random: bigint): number[] {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  const bytes = network.toByteArray();
  const width = BigInt(bytes.length * 8);
  const base = bytes.reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  const hostBits = width - BigInt(bits);
  const hostMask = (1n << hostBits) - 1n;
  let value = (base & ~hostMask) | (random & hostMask);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    out.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  return out;
}

const random128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

// The oracle's special ranges, plus their public neighbours, where an off-by-one would show.
export const V4_SPECIAL = [
  ...NOT_PUBLIC_V4,
  "11.0.0.0/8",
  "100.128.0.0/10",
  "172.32.0.0/11",
  "192.169.0.0/16",
  "198.20.0.0/14",
  "223.255.255.0/24",
];

export const V6_SPECIAL = [
  ...NOT_PUBLIC_V6,
  "2001::/32", // Teredo, inside the oracle's 2001::/23
  "2001:4860::/32",
  "2a00::/12",
  "2600::/12",
];

export const v4Octets: fc.Arbitrary<number[]> = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constantFrom(...V4_SPECIAL), random128).map(([cidr, r]) => inCidr(cidr, r)),
  fc.tuple(fc.constantFrom(...V4_SPECIAL), random128).map(([cidr, r]) => inCidr(cidr, r)),
);

export type V4Spelling =
  | "dotted"
  | "hex octets"
  | "octal octets"
  | "decimal"
  | "hex"
  | "two parts"
  | "three parts";

/** The many ways WHATWG URL lets a host spell one IPv4 address. */
export function spellV4(octets: number[], spelling: V4Spelling): string {
  const n = octets.reduce((acc, o) => acc * 256 + o, 0);
  switch (spelling) {
    case "dotted":
      return octets.join(".");
    case "hex octets":
      return octets.map((o) => `0x${o.toString(16)}`).join(".");
    case "octal octets":
      return octets.map((o) => `0${o.toString(8)}`).join(".");
    case "decimal":
      return String(n);
    case "hex":
      return `0x${n.toString(16)}`;
    case "two parts":
      return `${octets[0]}.${n % 2 ** 24}`;
    case "three parts":
      return `${octets[0]}.${octets[1]}.${n % 2 ** 16}`;
  }
}

export const v4Host: fc.Arbitrary<string> = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.tuple(
    v4Octets,
    fc.constantFrom<V4Spelling>(
      "dotted",
      "dotted",
      "hex octets",
      "octal octets",
      "decimal",
      "hex",
      "two parts",
      "three parts",
    ),
  ).map(([octets, spelling]) => spellV4(octets, spelling)),
);

const hex16 = (a: number, b: number) => ((a << 8) | b).toString(16);

/** IPv6 literals that embed an IPv4 address, and addresses from special IPv6 ranges. */
export const v6EmbeddedOrSpecial: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(
    v4Octets,
    fc.constantFrom(
      "mapped",
      "mapped hex",
      "compatible",
      "siit",
      "nat64",
      "nat64 local",
      "6to4",
      "teredo",
    ),
  ).map(([[a, b, c, d], form]) => {
    const v4 = `${a}.${b}.${c}.${d}`;
    switch (form) {
      case "mapped":
        return `::ffff:${v4}`;
      case "mapped hex":
        return `::ffff:${hex16(a, b)}:${hex16(c, d)}`;
      case "compatible":
        return `::${v4}`;
      case "siit":
        return `::ffff:0:${v4}`;
      case "nat64":
        return `64:ff9b::${v4}`;
      case "nat64 local":
        return `64:ff9b:1::${v4}`;
      case "6to4":
        return `2002:${hex16(a, b)}:${hex16(c, d)}::1`;
      default: // Teredo: the client address is stored inverted
        return `2001:0:4136:e378:8000:63bf:${hex16(255 - a, 255 - b)}:${hex16(255 - c, 255 - d)}`;
    }
  }),
  fc.tuple(fc.constantFrom(...V6_SPECIAL), random128, fc.constantFrom("short", "long", "upper"))
    .map(([cidr, r, form]) => {
      const address = ipaddr.fromByteArray(inCidr(cidr, r)) as ipaddr.IPv6;
      if (form === "long") return address.toNormalizedString();
      return form === "upper" ? address.toString().toUpperCase() : address.toString();
    }),
);

/** Any IPv6 address: fast-check's, and uniformly random 128-bit ones. */
export const v6Random: fc.Arbitrary<string> = fc.oneof(
  fc.ipV6(),
  random128.map((r) => ipaddr.fromByteArray(inCidr("::/0", r)).toString()),
  random128.map((r) => ipaddr.fromByteArray(inCidr("2000::/3", r)).toString()),
);

/** Random addresses in 2000::/3, the global unicast block, and in its special-purpose parts. */
export const v6GlobalUnicast: fc.Arbitrary<string> = fc.oneof(
  random128.map((r) => ipaddr.fromByteArray(inCidr("2000::/3", r)).toString()),
  fc.tuple(
    fc.constantFrom(
      "2001::/23",
      "2001:db8::/32",
      "2002::/16",
      "3fff::/20",
      "2001:4860::/32",
      "2a00::/12",
    ),
    random128,
  ).map(([cidr, r]) => ipaddr.fromByteArray(inCidr(cidr, r)).toString()),
);
