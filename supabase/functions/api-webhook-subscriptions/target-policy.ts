import { invalidRequest } from "./errors.ts";
import { isIpLiteral, isPublicAddress } from "./ip-address.ts";

export { isPublicAddress };

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

function bareHost(hostname: string): string {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function isReservedName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") ||
    host.endsWith(".internal") || !host.includes(".");
}

/** Why `url` (already WHATWG-parsed and http(s)) may not receive deliveries, or null. */
export async function refuseTarget(url: URL, policy: TargetPolicy): Promise<TargetRefusal | null> {
  if (policy.mode === "permissive") return null;
  if (url.protocol !== "https:") return "scheme_not_allowed";
  const host = bareHost(url.hostname);
  // An IP literal is judged as an address, never resolved: one that is not a public address in
  // strict form (WHATWG has already made a URL's IPv4 host dotted decimal) is refused.
  const literal = isIpLiteral(host);
  if (literal && !isPublicAddress(host)) return "private_address";
  if (policy.ownHosts.includes(host)) return "own_host";
  if (literal) return null;
  if (isReservedName(host)) return "reserved_hostname";
  let addresses: string[];
  try {
    addresses = await policy.resolver.resolve(host);
  } catch {
    return "unresolvable_host";
  }
  if (addresses.length === 0) return "unresolvable_host";
  // Every answer must be public: a name with one private answer can be made to deliver there.
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
