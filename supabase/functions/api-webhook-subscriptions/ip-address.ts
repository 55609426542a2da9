/**
 * IP literals for the target policy, without a dependency (ipaddr.js cost ~49 ms of cold start).
 *
 * Parsing is strict: an IPv4 address is a dotted quad of decimal octets without leading zeros, an
 * IPv6 address is any RFC 4291 text form (full, compressed, any case, with a dotted IPv4 tail)
 * without a zone. That covers a WHATWG-parsed URL host (always canonical) and Deno.resolveDns
 * answers. Everything else (0x7f.1, 010.0.0.1, 2130706433, fe80::1%eth0) is not an address here:
 * it is never public, and `isIpLiteral` sends it down the address path so it is refused there
 * instead of being looked up as a name.
 */

/** ipaddr.js 2.5.0's IPv4 special ranges (everything it does not call "unicast"). */
export const NOT_PUBLIC_V4: readonly string[] = [
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

/** IANA allocates global unicast IPv6 only from here; everything outside it is refused. */
export const GLOBAL_UNICAST_V6 = "2000::/3";

/**
 * ipaddr.js 2.5.0's IPv6 special ranges. Those outside 2000::/3 are refused by that rule anyway
 * and are listed so this table mirrors ipaddr.js's entry for entry.
 */
export const NOT_PUBLIC_V6: readonly string[] = [
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

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(text: string): number[] | null {
  return DOTTED_QUAD.test(text) ? text.split(".").map(Number) : null;
}

/** The 16-bit groups of one side of `::`, an IPv4 tail allowed as its last piece if `last`. */
function parseGroups(text: string, last: boolean): number[] | null {
  if (text === "") return [];
  const pieces = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (last && i === pieces.length - 1 && piece.includes(".")) {
      const v4 = parseV4(piece);
      if (v4 === null) return null;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseV6(text: string): number[] | null {
  const gap = text.indexOf("::");
  if (gap === -1) {
    const groups = parseGroups(text, true);
    return groups !== null && groups.length === 8 ? groups : null;
  }
  if (text.indexOf("::", gap + 1) !== -1) return null;
  const head = parseGroups(text.slice(0, gap), false);
  const tail = parseGroups(text.slice(gap + 2), true);
  // `::` stands for at least one group of zeros.
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * The address's bytes in network order (4 for IPv4, 16 for IPv6), or null when `text` is not an
 * address in a strict form (see the module comment). No brackets, no zone.
 */
export function parseIpAddress(text: string): Uint8Array | null {
  if (text.includes(":")) {
    const groups = parseV6(text);
    if (groups === null) return null;
    const bytes = new Uint8Array(16);
    groups.forEach((group, i) => {
      bytes[2 * i] = group >> 8;
      bytes[2 * i + 1] = group & 0xff;
    });
    return bytes;
  }
  const octets = parseV4(text);
  return octets === null ? null : Uint8Array.from(octets);
}

type Cidr = { network: Uint8Array; bits: number };

function parseCidr(cidr: string): Cidr {
  const [address, bits] = cidr.split("/");
  return { network: parseIpAddress(address)!, bits: Number(bits) };
}

function inCidr(address: Uint8Array, { network, bits }: Cidr): boolean {
  if (address.length !== network.length) return false;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== network[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole] & mask) === (network[whole] & mask);
}

const V4_RANGES = NOT_PUBLIC_V4.map(parseCidr);
const V6_RANGES = NOT_PUBLIC_V6.map(parseCidr);
const GLOBAL_V6 = parseCidr(GLOBAL_UNICAST_V6);

/**
 * Whether `text` is spelled as an IP address, valid or not, so a caller checks it as an address
 * and never resolves it as a name: it has a colon (only an IPv6 literal has one), or its last
 * label is a number as the WHATWG URL parser decides ("ends in a number": digits, or 0x and hex
 * digits), which covers every IPv4 spelling (0x7f.1, 2130706433, 010.0.0.1). A superset of
 * ipaddr.js's isValid; `parseIpAddress` says which of these are addresses in a strict form.
 */
export function isIpLiteral(text: string): boolean {
  if (text.includes(":")) return true;
  const labels = text.split(".");
  if (labels.length > 1 && labels[labels.length - 1] === "") labels.pop();
  return /^(?:[0-9]+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1]);
}

/**
 * Whether `text` is a globally routable unicast address: a strict-form address (see
 * `parseIpAddress`) outside every special range ipaddr.js 2.5.0 knows, and for IPv6 inside
 * 2000::/3. Anything that does not parse is not public.
 */
export function isPublicAddress(text: string): boolean {
  const address = parseIpAddress(text);
  if (address === null) return false;
  if (address.length === 16 && !inCidr(address, GLOBAL_V6)) return false;
  return !(address.length === 4 ? V4_RANGES : V6_RANGES).some((range) => inCidr(address, range));
}
