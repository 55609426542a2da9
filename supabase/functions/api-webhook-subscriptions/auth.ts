import type { MiddlewareHandler } from "hono";
import type { RateLimitCount, RateLimitRule, RequestClass } from "../_shared/auth-store.ts";
import { ApiError } from "../_shared/errors.ts";
import { API_TOKEN_PREFIX, hashApiToken, isWellFormedApiToken, type Scope } from "./api-token.ts";
import type { AppDependencies, AppEnv, Principal, RateLimits } from "./app-env.ts";

type AuthDependencies = Pick<AppDependencies, "auth" | "verifySession" | "rateLimits" | "clock">;

export interface RateLimitStatus {
  requestClass: RequestClass;
  limit: number;
  remaining: number;
  resetSeconds: number;
  windowSeconds: number;
  exceeded: boolean;
}

interface Authenticated {
  principal: Principal;
  rateLimit: RateLimitStatus;
}

function ruleFor(requestClass: RequestClass, limits: RateLimits): RateLimitRule {
  return {
    requestClass,
    maxHits: requestClass === "read" ? limits.readsPerWindow : limits.writesPerWindow,
    windowSeconds: limits.windowSeconds,
  };
}

function statusOf(rule: RateLimitRule, count: RateLimitCount): RateLimitStatus {
  return {
    requestClass: rule.requestClass,
    limit: rule.maxHits,
    remaining: Math.max(0, rule.maxHits - count.hits),
    resetSeconds: Math.max(0, count.resetSeconds),
    windowSeconds: rule.windowSeconds,
    exceeded: count.hits > rule.maxHits,
  };
}

const REALM = 'Bearer realm="wundertreos"';

function unauthorized(message: string, tokenWasGiven: boolean): ApiError {
  // RFC 6750: no error attribute when no credentials were sent at all.
  const challenge = tokenWasGiven ? `${REALM}, error="invalid_token"` : REALM;
  return new ApiError(401, "unauthorized", message, {}, { "WWW-Authenticate": challenge });
}

const invalidCredential = () =>
  unauthorized("The access token is invalid, expired or revoked.", true);

async function apiTokenPrincipal(
  token: string,
  deps: AuthDependencies,
  now: Date,
  rule: RateLimitRule,
): Promise<Authenticated> {
  if (!isWellFormedApiToken(token)) throw invalidCredential();
  const found = await deps.auth.authenticateApiToken(await hashApiToken(token), rule);
  if (!found || found.count === null || found.token.revokedAt !== null) throw invalidCredential();
  const { token: record, count } = found;
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
    throw invalidCredential();
  }
  return {
    principal: {
      kind: "api_token",
      id: record.id,
      workspaceId: record.workspaceId,
      scopes: new Set(record.scopes),
    },
    rateLimit: statusOf(rule, count),
  };
}

async function sessionPrincipal(
  token: string,
  deps: AuthDependencies,
  now: Date,
  rule: RateLimitRule,
): Promise<Authenticated> {
  const claims = await deps.verifySession(token, now);
  if (!claims) throw invalidCredential();
  const { workspaceExists, count } = await deps.auth.authenticateSession(
    claims.workspaceId,
    claims.userId,
    rule,
  );
  const rateLimit = statusOf(rule, count);
  if (claims.workspaceId && !workspaceExists && !rateLimit.exceeded) {
    throw new ApiError(
      403,
      "forbidden",
      "This session's workspace does not exist.",
      {},
      rateLimitHeaders(rateLimit),
    );
  }
  // A session without a workspace can act nowhere: it gets no scopes, hence a 403.
  return {
    principal: {
      kind: "session",
      id: claims.userId,
      workspaceId: claims.workspaceId ?? "",
      scopes: new Set(claims.workspaceId ? claims.scopes : []),
    },
    rateLimit,
  };
}

/**
 * Resolves `Authorization: Bearer <credential>` to a workspace and scopes, and counts the request
 * against the credential's rate limit for its class, in one database round trip. Unknown, expired
 * and revoked credentials all get the same answer, so nothing tells them apart.
 */
async function authenticate(
  authorization: string | undefined,
  deps: AuthDependencies,
  requestClass: RequestClass,
): Promise<Authenticated> {
  if (!authorization) {
    throw unauthorized("Send an API access token as 'Authorization: Bearer <token>'.", false);
  }
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) {
    throw unauthorized("The Authorization header must have the form 'Bearer <token>'.", true);
  }
  const credential = match[1];
  const rule = ruleFor(requestClass, deps.rateLimits);
  const now = deps.clock();
  if (credential.startsWith(API_TOKEN_PREFIX)) {
    return await apiTokenPrincipal(credential, deps, now, rule);
  }
  if (credential.split(".").length === 3) {
    return await sessionPrincipal(credential, deps, now, rule);
  }
  throw invalidCredential();
}

/**
 * Every request, before routing: who is calling (401), the rate limit (429), then webhooks:read
 * (403). Even a 404 or 405 tells an anonymous caller nothing, and nothing the caller controls (the
 * body, a target's DNS lookup) runs before the credential is confirmed.
 */
export function authentication(deps: AuthDependencies): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestClass = c.req.method === "GET" || c.req.method === "HEAD" ? "read" : "write";
    const { principal, rateLimit } = await authenticate(
      c.req.header("authorization"),
      deps,
      requestClass,
    );
    c.set("principal", principal);
    if (rateLimit.exceeded) throw rateLimited(rateLimit);
    // Set now, so every answer from here on carries them, errors included.
    for (const [name, value] of Object.entries(rateLimitHeaders(rateLimit))) c.header(name, value);
    requireScope(principal, "webhooks:read");
    await next();
  };
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.scopes.has(scope)) return;
  throw new ApiError(
    403,
    "forbidden",
    `This credential lacks the ${scope} scope.`,
    { missing_scope: scope },
    { "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"` },
  );
}

/** The IETF RateLimit fields (structured and the widely read older trio) for a response. */
function rateLimitHeaders(status: RateLimitStatus): Record<string, string> {
  const policy = `"${status.requestClass}"`;
  return {
    "RateLimit-Policy": `${policy};q=${status.limit};w=${status.windowSeconds}`,
    "RateLimit": `${policy};r=${status.remaining};t=${status.resetSeconds}`,
    "RateLimit-Limit": String(status.limit),
    "RateLimit-Remaining": String(status.remaining),
    "RateLimit-Reset": String(status.resetSeconds),
  };
}

function rateLimited(status: RateLimitStatus): ApiError {
  return new ApiError(
    429,
    "rate_limited",
    `Too many ${status.requestClass} requests for this credential; retry in ${status.resetSeconds} s.`,
    {},
    { "Retry-After": String(Math.max(1, status.resetSeconds)), ...rateLimitHeaders(status) },
  );
}
