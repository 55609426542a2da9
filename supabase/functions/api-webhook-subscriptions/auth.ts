import { API_TOKEN_PREFIX, hashApiToken, isWellFormedApiToken, type Scope } from "./api-token.ts";
import { ApiError } from "./errors.ts";
import type { SessionVerifier } from "./session.ts";
import type {
  CreateOutcome,
  RateLimitCount,
  RateLimitRule,
  RequestClass,
  SubscriptionStore,
  TokenCreateOutcome,
} from "./store.ts";
import type { RecentTokens } from "./token-cache.ts";

/** Who is calling: an API access token, or a dashboard user's Supabase Auth session. */
export interface Principal {
  kind: "api_token" | "session";
  /** The API token's id, or the user's id for a session. */
  id: string;
  workspaceId: string;
  scopes: ReadonlySet<string>;
}

export interface RateLimits {
  readsPerWindow: number;
  writesPerWindow: number;
  windowSeconds: number;
}

export interface AuthDependencies {
  store: SubscriptionStore;
  verifySession: SessionVerifier;
  rateLimits: RateLimits;
  recentTokens: RecentTokens;
}

export interface RateLimitStatus {
  requestClass: RequestClass;
  limit: number;
  remaining: number;
  resetSeconds: number;
  windowSeconds: number;
  exceeded: boolean;
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

export interface Authenticated {
  deferred?: false;
  principal: Principal;
  rateLimit: RateLimitStatus;
}

/**
 * A recently seen API token on a create: the create's own store call authenticates it
 * (`createSubscriptionWithToken`), so the separate round trip is skipped. `principal` is what the
 * token was recently; nothing is decided on it alone.
 */
export interface Deferred {
  deferred: true;
  principal: Principal;
  tokenHash: string;
  rule: RateLimitRule;
}

const BOTH_SCOPES = ["webhooks:read", "webhooks:write"];

function tokenPrincipal(token: { id: string; workspaceId: string; scopes: readonly string[] }) {
  return {
    kind: "api_token" as const,
    id: token.id,
    workspaceId: token.workspaceId,
    scopes: new Set(token.scopes),
  };
}

async function apiTokenPrincipal(
  token: string,
  deps: AuthDependencies,
  now: Date,
  rule: RateLimitRule,
  mayDefer: boolean,
): Promise<Authenticated | Deferred> {
  if (!isWellFormedApiToken(token)) throw invalidCredential();
  const tokenHash = hashApiToken(token);
  const recent = mayDefer ? deps.recentTokens.get(tokenHash, now) : undefined;
  if (recent && BOTH_SCOPES.every((scope) => recent.scopes.includes(scope))) {
    return { deferred: true, principal: tokenPrincipal(recent), tokenHash, rule };
  }
  const found = await deps.store.authenticateApiToken(tokenHash, rule);
  if (!found || found.count === null || found.token.revokedAt !== null) {
    deps.recentTokens.forget(tokenHash);
    throw invalidCredential();
  }
  const { token: record } = found;
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
    deps.recentTokens.forget(tokenHash);
    throw invalidCredential();
  }
  const rateLimit = statusOf(rule, found.count);
  // A throttled token takes the separate way, so its 429 comes before any other work.
  if (rateLimit.exceeded) deps.recentTokens.forget(tokenHash);
  else deps.recentTokens.remember(tokenHash, record, now);
  return { principal: tokenPrincipal(record), rateLimit };
}

/**
 * The verdict of a deferred create's store call, as `authenticate` would have given it: throws the
 * same 401 for a dead token, and otherwise returns who the token is now and its rate-limit count.
 * The caller admits it (429, then scopes) exactly as for a separate authentication.
 */
export function settleDeferred(
  deferred: Deferred,
  result: TokenCreateOutcome,
  deps: Pick<AuthDependencies, "recentTokens">,
  now: Date,
): Authenticated & { created: CreateOutcome | null } {
  if (result.outcome === "invalid_token") {
    deps.recentTokens.forget(deferred.tokenHash);
    throw invalidCredential();
  }
  if (result.outcome === "checked") {
    deps.recentTokens.remember(deferred.tokenHash, result.token, now);
  } // Throttled or narrowed: its next requests take the separate way, which stops them first.
  else deps.recentTokens.forget(deferred.tokenHash);
  const settled = {
    principal: tokenPrincipal(result.token),
    rateLimit: statusOf(deferred.rule, result.count),
  };
  return { ...settled, created: result.outcome === "checked" ? result.created : null };
}

async function sessionPrincipal(
  token: string,
  deps: AuthDependencies,
  now: Date,
  rule: RateLimitRule,
): Promise<Authenticated> {
  const claims = await deps.verifySession(token, now);
  if (!claims) throw invalidCredential();
  const { workspaceExists, count } = await deps.store.authenticateSession(
    claims.workspaceId,
    `user:${claims.userId}:${rule.requestClass}`,
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
 * against the credential's rate limit for its class. Unknown, expired and revoked credentials all
 * get the same answer, so nothing tells them apart.
 */
export async function authenticate(
  authorization: string | undefined,
  deps: AuthDependencies,
  now: Date,
  requestClass: RequestClass,
  options: { mayDefer?: boolean } = {},
): Promise<Authenticated | Deferred> {
  if (!authorization) {
    throw unauthorized("Send an API access token as 'Authorization: Bearer <token>'.", false);
  }
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) {
    throw unauthorized("The Authorization header must have the form 'Bearer <token>'.", true);
  }
  const credential = match[1];
  const rule = ruleFor(requestClass, deps.rateLimits);
  if (credential.startsWith(API_TOKEN_PREFIX)) {
    return await apiTokenPrincipal(credential, deps, now, rule, options.mayDefer ?? false);
  }
  if (credential.split(".").length === 3) {
    return await sessionPrincipal(credential, deps, now, rule);
  }
  throw invalidCredential();
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
export function rateLimitHeaders(status: RateLimitStatus): Record<string, string> {
  const policy = `"${status.requestClass}"`;
  return {
    "RateLimit-Policy": `${policy};q=${status.limit};w=${status.windowSeconds}`,
    "RateLimit": `${policy};r=${status.remaining};t=${status.resetSeconds}`,
    "RateLimit-Limit": String(status.limit),
    "RateLimit-Remaining": String(status.remaining),
    "RateLimit-Reset": String(status.resetSeconds),
  };
}

export function rateLimited(status: RateLimitStatus): ApiError {
  return new ApiError(
    429,
    "rate_limited",
    `Too many ${status.requestClass} requests for this credential; retry in ${status.resetSeconds} s.`,
    {},
    { "Retry-After": String(Math.max(1, status.resetSeconds)), ...rateLimitHeaders(status) },
  );
}
