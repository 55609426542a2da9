import ipaddr from "ipaddr.js";
import { invalidRequest } from "./errors.ts";

/** IANA allocates global unicast IPv6 only from here; ipaddr.js calls more of the space unicast. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");

/**
 * Whether `text` is a globally routable unicast address: ipaddr.js's range is "unicast" (none of
 * its special ranges: private, loopback, link-local, CGNAT, multicast, reserved, documentation,
 * IPv4-mapped, NAT64, 6to4, Teredo, ...), and an IPv6 address lies in 2000::/3. Only the strict
 * forms a WHATWG URL host or a DNS answer takes count (dotted-decimal IPv4, RFC 4291 IPv6 without
 * a zone); anything else, 0x7f.1 or 010.0.0.1 included, is not public.
 */
export function isPublicAddress(text: string): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  if (text.includes(":")) {
    // ipaddr.js also reads an embedded IPv4 tail in hex or with leading zeros; no host we see does.
    const tail = text.slice(text.lastIndexOf(":") + 1);
    if (tail.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return false;
    if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return false;
    address = ipaddr.IPv6.parse(text);
    if (!address.match(GLOBAL_UNICAST_V6)) return false;
  } else {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return false;
    address = ipaddr.IPv4.parse(text);
  }
  return address.range() === "unicast";
}

/**
 * Whether `text` is spelled as an IP address, valid or not, so it is judged as an address and
 * never resolved as a name: it has a colon (only an IPv6 literal has one), or its last label is a
 * number as the WHATWG URL parser decides ("ends in a number": digits, or 0x and hex digits),
 * which covers every IPv4 spelling (0x7f.1, 2130706433, 010.0.0.1).
 */
export function isIpLiteral(text: string): boolean {
  if (text.includes(":")) return true;
  const labels = text.split(".");
  if (labels.length > 1 && labels[labels.length - 1] === "") labels.pop();
  return /^(?:[0-9]+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1]);
}

/**
 * Where deliveries may go. The URL we store is called later from inside our network, so in
 * production only public https endpoints are allowed; `deno task start` relaxes this so a
 * developer can point a subscription at a receiver on their laptop.
 */
export type TargetPolicyMode = "strict" | "permissive";

export type TargetRefusal =
  | "scheme_not_allowed"
  | "private_address"
  | "reserved_hostname"
  | "own_host"
  | "unresolvable_host";

export interface Resolver {
  /** The A and AAAA answers for a name; throws when the name cannot be resolved. */
  resolve(hostname: string): Promise<string[]>;
}

export interface TargetPolicy {
  mode: TargetPolicyMode;
  /** The API's own host names, never a valid target. */
  ownHosts: string[];
  resolver: Resolver;
}

const MESSAGES: Record<TargetRefusal, string> = {
  scheme_not_allowed: "target_url must use https.",
  private_address: "target_url must point to a public address.",
  reserved_hostname: "target_url must name a public host (not localhost, .local or .internal).",
  own_host: "target_url must not point at this API.",
  unresolvable_host: "target_url's host could not be resolved.",
};

export function refusalMessage(reason: TargetRefusal): string {
  return MESSAGES[reason];
}

export function bareHost(hostname: string): string {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function isReservedName(host: string): boolean {
  // An empty label ("api.example.com..") is no public name, and would dodge the checks below.
  return host.split(".").includes("") || host === "localhost" || host.endsWith(".localhost") ||
    host.endsWith(".local") ||
    host.endsWith(".internal") || !host.includes(".");
}

/**
 * What can be judged of `url` (already WHATWG-parsed and http(s)) without resolving its host:
 * the scheme, an IP literal, the API's own hosts, reserved names. Null when nothing is refused;
 * a host name must then still resolve to public addresses only.
 */
export function refuseTargetName(url: URL, policy: TargetPolicy): TargetRefusal | null {
  if (policy.mode === "permissive") return null;
  if (url.protocol !== "https:") return "scheme_not_allowed";
  const host = bareHost(url.hostname);
  // An IP literal is judged as an address, never resolved: one that is not a public address in
  // strict form (WHATWG has already made a URL's IPv4 host dotted decimal) is refused.
  const literal = isIpLiteral(host);
  if (literal && !isPublicAddress(host)) return "private_address";
  if (policy.ownHosts.includes(host)) return "own_host";
  if (!literal && isReservedName(host)) return "reserved_hostname";
  return null;
}

/** Why `url` (already WHATWG-parsed and http(s)) may not receive deliveries, or null. */
export async function refuseTarget(url: URL, policy: TargetPolicy): Promise<TargetRefusal | null> {
  const refusal = refuseTargetName(url, policy);
  if (refusal !== null || policy.mode === "permissive") return refusal;
  const host = bareHost(url.hostname);
  if (isIpLiteral(host)) return null;
  let addresses: string[];
  try {
    addresses = await policy.resolver.resolve(host);
  } catch {
    return "unresolvable_host";
  }
  return refuseAddresses(addresses);
}

/**
 * The rule for a name's answers, at create time and at connect time alike: there must be some,
 * and every one must be public (a name with one private answer can be made to deliver there).
 */
export function refuseAddresses(
  addresses: string[],
): "unresolvable_host" | "private_address" | null {
  if (addresses.length === 0) return "unresolvable_host";
  return addresses.every(isPublicAddress) ? null : "private_address";
}

export interface DnsServer {
  hostname: string;
  port: number;
}

/** Deno's resolver, optionally against a given name server (tests run one on loopback). */
export function denoResolver(nameServer?: DnsServer, timeoutMs = 3000): Resolver {
  const options = nameServer
    ? { nameServer: { ipAddr: nameServer.hostname, port: nameServer.port } }
    : {};
  const lookup = async (hostname: string, type: "A" | "AAAA") => {
    try {
      return await Deno.resolveDns(hostname, type, {
        ...options,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // No record of this type is an empty answer, not a failure.
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  };
  return {
    async resolve(hostname) {
      const [v4, v6] = await Promise.all([lookup(hostname, "A"), lookup(hostname, "AAAA")]);
      return [...v4, ...v6];
    },
  };
}

/** Throws the 400 that says why, when a (validated) target URL may not receive deliveries. */
export async function assertDeliverable(targetUrl: string | undefined, policy: TargetPolicy) {
  if (targetUrl === undefined) return;
  const refusal = await refuseTarget(new URL(targetUrl), policy);
  if (refusal === null) return;
  throw invalidRequest("Invalid request body: check target_url.", [
    { field: "target_url", code: refusal, message: refusalMessage(refusal) },
  ]);
}

/**
 * Remembers answers for `ttlMs`, so a burst of creates for one receiver costs one lookup. Safe
 * for the policy: the delivery worker checks the address again when it connects.
 */
export function cachingResolver(resolver: Resolver, ttlMs = 30_000, maxEntries = 10_000): Resolver {
  const answers = new Map<string, { addresses: string[]; until: number }>();
  return {
    async resolve(hostname) {
      const now = Date.now();
      const cached = answers.get(hostname);
      if (cached && cached.until > now) return cached.addresses;
      const addresses = await resolver.resolve(hostname);
      if (answers.size >= maxEntries) answers.clear();
      answers.set(hostname, { addresses, until: now + ttlMs });
      return addresses;
    },
  };
}
