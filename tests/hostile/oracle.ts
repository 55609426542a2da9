/**
 * What the contract (docs/api.md's "Create: the body" and "Errors", docs/security.md's strict
 * target policy) says about a request, written down independently of the function's code, so the
 * properties can say more than "no 5xx": a body that breaks a rule is refused, a body that keeps
 * them all is accepted.
 */
import ipaddr from "ipaddr.js";

import { CONTRACT_EVENT_TYPES } from "../helpers/stack.ts";

export const EVENT_TYPES = CONTRACT_EVENT_TYPES;
export const MAX_BODY_BYTES = 65_536;
const CREATE_FIELDS = ["target_url", "event_types", "description"];
const UPDATE_FIELDS = [...CREATE_FIELDS, "enabled"];
// deno-lint-ignore no-control-regex -- control characters are what the rule is about
const URL_FORBIDDEN = /[\u0000-\u0020\u007f-\u009f]/;

/**
 * Ranges a delivery must never go to: RFC 6890's special-purpose registries (IPv4 and IPv6),
 * multicast, the deprecated site-local fec0::/10, and for IPv6 everything outside 2000::/3, the
 * only block IANA allocates for global unicast.
 */
export const NOT_PUBLIC_V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.31.196.0/24",
  "192.52.193.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "192.175.48.0/24",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
];
export const NOT_PUBLIC_V6 = [
  "::/96", // unspecified, loopback, IPv4-compatible
  "::ffff:0:0/96", // IPv4-mapped
  "::ffff:0:0:0/96", // SIIT
  "64:ff9b::/96", // NAT64
  "64:ff9b:1::/48", // local-use NAT64
  "100::/64", // discard
  "2001::/23", // IETF protocol assignments (Teredo 2001::/32 among them)
  "2001:db8::/32", // documentation
  "2002::/16", // 6to4
  "3fff::/20", // documentation (RFC 9637)
  "5f00::/16", // SRv6 SIDs
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated, still private)
  "ff00::/8", // multicast
];
const GLOBAL_UNICAST_V6 = "2000::/3";

const cidrs = (list: string[]) => list.map((cidr) => ipaddr.parseCIDR(cidr));
const V4_RANGES = cidrs(NOT_PUBLIC_V4);
const V6_RANGES = cidrs(NOT_PUBLIC_V6);
const GLOBAL_V6 = ipaddr.parseCIDR(GLOBAL_UNICAST_V6);

/** Why an IP literal (bare, no brackets) is not a public address, or null when it is. */
export function notPublicBecause(address: string): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") {
    const range = V4_RANGES.find(([net, bits]) => parsed.match(net, bits));
    return range ? `in ${range[0]}/${range[1]}` : null;
  }
  const v6 = parsed as ipaddr.IPv6;
  if (!v6.match(GLOBAL_V6)) return "outside 2000::/3 (not global unicast)";
  const range = V6_RANGES.find(([net, bits]) => v6.match(net, bits));
  return range ? `in ${range[0]}/${range[1]}` : null;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The IP literal a URL's host is, without brackets, or null for a name. */
export function hostAddress(url: URL): string | null {
  // WHATWG URL has already turned every IPv4 spelling (0x7f.1, 2130706433, …) into dotted decimal.
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return ipaddr.isValid(host) ? host : null;
}

/** Why the strict policy must refuse this target_url value, or null if no rule forbids it. */
export function targetUrlRefusal(value: unknown): string | null {
  if (typeof value !== "string") return "target_url is not a string";
  if (value.length > 2048) return "target_url is over 2,048 characters";
  if (URL_FORBIDDEN.test(value)) return "target_url has a space or control character";
  if (!URL.canParse(value)) return "target_url is not an absolute URL";
  const url = new URL(value);
  if (url.protocol !== "https:") return "target_url is not https";
  if (url.username !== "" || url.password !== "") return "target_url has user:password@";
  if (url.href.length > 2048) return "target_url is over 2,048 characters once canonical";
  const address = hostAddress(url);
  if (address !== null) {
    const because = notPublicBecause(address);
    return because ? `target_url's address is ${because}` : null;
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (
    host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") ||
    host.endsWith(".internal") || !host.includes(".")
  ) {
    return "target_url names a local host";
  }
  return null;
}

function descriptionRefusal(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== "string") return "description is not a string or null";
  if (value.includes("\u0000")) return "description has a NUL";
  if (!value.isWellFormed()) return "description has a lone surrogate";
  if ([...value].length > 500) return "description is over 500 code points";
  return null;
}

function eventTypesRefusal(value: unknown): string | null {
  if (!Array.isArray(value)) return "event_types is not an array";
  if (value.length === 0) return "event_types is empty";
  const bad = value.find((item) => typeof item !== "string" || !EVENT_TYPES.includes(item));
  return bad === undefined ? null : `event_types has ${JSON.stringify(bad)?.slice(0, 60)}`;
}

/** Why a parsed body must be refused with a 400, or null when no rule of the contract forbids it. */
export function bodyRefusal(body: unknown, kind: "create" | "update"): string | null {
  if (!isPlainObject(body)) return "the body is not an object";
  const keys = Object.keys(body);
  const allowed = kind === "create" ? CREATE_FIELDS : UPDATE_FIELDS;
  const unknown = keys.find((key) => !allowed.includes(key));
  if (unknown !== undefined) return `unknown field ${JSON.stringify(unknown).slice(0, 60)}`;
  if (kind === "create" && !keys.includes("target_url")) return "target_url is missing";
  if (kind === "create" && !keys.includes("event_types")) return "event_types is missing";
  if (keys.length === 0) return "no field to change";
  if (keys.includes("target_url")) {
    const refusal = targetUrlRefusal(body.target_url);
    if (refusal) return refusal;
  }
  if (keys.includes("event_types")) {
    const refusal = eventTypesRefusal(body.event_types);
    if (refusal) return refusal;
  }
  if (keys.includes("description")) {
    const refusal = descriptionRefusal(body.description);
    if (refusal) return refusal;
  }
  if (keys.includes("enabled") && typeof body.enabled !== "boolean") return "enabled not boolean";
  return null;
}

export type Expected =
  | { status: number; why: string }
  | { status: null; why: string };

/**
 * What a body must get from create or update (with a valid token and a JSON content type):
 * a 413 over 64 KiB, a 400 when it is not UTF-8 JSON or breaks a rule, the success status when it
 * keeps every rule and its target_url (if any) is one known to be deliverable, else no opinion.
 */
export function expectedForBody(
  bytes: Uint8Array,
  kind: "create" | "update",
  knownGoodTargets: ReadonlySet<string>,
): Expected {
  if (bytes.length > MAX_BODY_BYTES) return { status: 413, why: "over 64 KiB" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { status: 400, why: "not UTF-8" };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { status: 400, why: "not JSON" };
  }
  const refusal = bodyRefusal(body, kind);
  if (refusal) return { status: 400, why: refusal };
  const target = (body as Record<string, unknown>).target_url;
  if (target === undefined || knownGoodTargets.has(target as string)) {
    return { status: kind === "create" ? 201 : 200, why: "keeps every rule" };
  }
  return { status: null, why: "target not known to be deliverable" };
}

/** Why a stored row breaks the contract's rules, or null. */
export function rowProblem(row: Record<string, unknown>): string | null {
  const target = row.target_url;
  if (typeof target !== "string") return "target_url is not text";
  const refusal = targetUrlRefusal(target);
  if (refusal) return refusal;
  if (new URL(target).href !== target) return "target_url is not in canonical form";
  const events = row.event_types;
  const eventsRefusal = eventTypesRefusal(events);
  if (eventsRefusal) return eventsRefusal;
  if (new Set(events as string[]).size !== (events as string[]).length) {
    return "event_types has duplicates";
  }
  const description = descriptionRefusal(row.description);
  if (description) return description;
  if (typeof row.secret !== "string" || !/^[0-9a-f]{64}$/.test(row.secret)) return "bad secret";
  if (typeof row.enabled !== "boolean") return "enabled is not boolean";
  return null;
}
