/**
 * One delivery attempt over HTTP: a POST to the target, with the target policy applied to the
 * address actually connected to. `node:http(s)` takes a `lookup` function: ours resolves the name,
 * checks every answer and hands back only checked addresses, so nothing resolves the name a second
 * time between the check and the connect (DNS rebinding). Redirects are never followed (node's
 * client has no such feature), certificates are verified, and the response read is capped.
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { AttemptErrorKind } from "../_shared/attempt-error-kinds.ts";
import {
  bareHost,
  refuseAddresses,
  refuseTargetName,
  type TargetPolicy,
} from "../_shared/target-policy.ts";

export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface AttemptResponse {
  /** Null when no response came. */
  status: number | null;
  /** Null for a 2xx. */
  errorKind: AttemptErrorKind | null;
  /** The first `keepBytes` of the response body, decoded as UTF-8. */
  body: string | null;
  /** Retry-After, as sent, on a 429 or 503. */
  retryAfter: string | null;
  durationMs: number;
}

export type Sender = (request: AttemptRequest) => Promise<AttemptResponse>;

export interface SenderOptions {
  policy: TargetPolicy;
  /** For the whole attempt: connect, send, and read the response. */
  timeoutMs: number;
  /** Read at most this much of a response; the rest is dropped with the connection. */
  maxResponseBytes?: number;
  keepBytes?: number;
}

class BlockedAddressError extends Error {
  readonly code = "EBLOCKEDADDRESS";
}

class DnsFailureError extends Error {
  readonly code = "EDNSFAILURE";
}

const TLS_ERROR = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

function errorKindOf(error: unknown): AttemptErrorKind {
  const code = String((error as { code?: unknown })?.code ?? "");
  if (error instanceof BlockedAddressError) return "blocked_address";
  if (error instanceof DnsFailureError || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return "dns_failure";
  }
  if (code === "ECONNREFUSED") return "connection_refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection_reset";
  if (TLS_ERROR.test(code) || /certificate|tls|ssl/i.test(String((error as Error)?.message))) {
    return "tls_error";
  }
  if (code.startsWith("HPE_")) return "invalid_response";
  return "connection_failed";
}

/**
 * The strict policy's `lookup`: every answer for the name must be a public address, as when the
 * subscription was made; then exactly those addresses are connected to.
 */
function checkedLookup(policy: TargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    policy.resolver.resolve(hostname).then(
      (addresses) => {
        const refusal = refuseAddresses(addresses);
        if (refusal === "unresolvable_host") {
          return callback(new DnsFailureError("no address for the host"), "", 4);
        }
        if (refusal === "private_address") {
          return callback(
            new BlockedAddressError("the host resolves to a non-public address"),
            "",
            4,
          );
        }
        const answers = addresses.map((address) => ({
          address,
          family: address.includes(":") ? 6 : 4,
        }));
        if (options.all) {
          (callback as unknown as (e: null, a: typeof answers) => void)(null, answers);
        } else callback(null, answers[0].address, answers[0].family);
      },
      () => callback(new DnsFailureError("the host could not be resolved"), "", 4),
    );
  };
}

export function createSender(options: SenderOptions): Sender {
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
  const keepBytes = options.keepBytes ?? 1024;
  const strict = options.policy.mode === "strict";
  const lookup = strict ? checkedLookup(options.policy) : undefined;
  // Connections are reused per host; each new one goes through `lookup` again.
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  const decoder = new TextDecoder();

  return (request) => {
    const started = performance.now();
    const finish = (
      status: number | null,
      errorKind: AttemptErrorKind | null,
      body: string | null = null,
      retryAfter: string | null = null,
    ): AttemptResponse => ({
      status,
      errorKind,
      body,
      retryAfter,
      durationMs: Math.round(performance.now() - started),
    });

    const url = new URL(request.url);
    if (strict && refuseTargetName(url, options.policy) !== null) {
      return Promise.resolve(finish(null, "blocked_address"));
    }
    const transport = url.protocol === "https:" ? https : http;
    const body = new TextEncoder().encode(request.body);

    return new Promise<AttemptResponse>((resolve, reject) => {
      let settled = false;
      let outgoing: http.ClientRequest | undefined;
      const timer = setTimeout(() => {
        settle(finish(null, "timeout"));
        outgoing?.destroy();
      }, options.timeoutMs);
      const settle = (result: AttemptResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };

      const onResponse = (response: http.IncomingMessage) => {
        const status = response.statusCode ?? 0;
        // node accepts any three digits; HTTP has no status outside 100-599.
        if (status < 100 || status > 599) {
          settle(finish(null, "invalid_response"));
          response.destroy();
          return;
        }
        const chunks: Uint8Array[] = [];
        let kept = 0;
        let read = 0;
        const done = (tooLarge = false) => {
          // Postgres text holds no NUL; the kept body is for people to read anyway.
          const text = decoder.decode(concat(chunks, kept)).replaceAll("\u0000", "\ufffd");
          const retryAfter = status === 429 || status === 503
            ? String(response.headers["retry-after"] ?? "") || null
            : null;
          const kind = tooLarge
            ? "response_too_large"
            : status >= 200 && status < 300
            ? null
            : status >= 300 && status < 400
            ? "redirect"
            : "http_status";
          settle(finish(status, kind, text, retryAfter));
        };
        response.on("data", (chunk: Uint8Array) => {
          read += chunk.byteLength;
          if (kept < keepBytes) {
            const part = chunk.subarray(0, keepBytes - kept);
            chunks.push(part);
            kept += part.byteLength;
          }
          if (read > maxResponseBytes) {
            // A failed attempt, whatever the status: the rest is not read.
            done(true);
            response.destroy();
          }
        });
        response.on("end", () => done());
        response.on("error", (error) => settle(finish(status, errorKindOf(error))));
      };

      try {
        outgoing = transport.request({
          protocol: url.protocol,
          hostname: bareHost(url.hostname),
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: "POST",
          headers: { ...request.headers, "Content-Length": String(body.byteLength) },
          agent: agents[url.protocol as "http:" | "https:"],
          lookup,
        }, onResponse);
      } catch (error) {
        // Not the receiver's doing (a missing permission, a bug of ours): the caller records it.
        clearTimeout(timer);
        return reject(error);
      }
      outgoing.on("error", (error) => settle(finish(null, errorKindOf(error))));
      outgoing.end(body);
    });
  };
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
