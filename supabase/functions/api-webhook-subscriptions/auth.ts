import { API_TOKEN_PREFIX, hashApiToken, isWellFormedApiToken, type Scope } from "./api-token.ts";
import { ApiError } from "./errors.ts";
import type { SessionVerifier } from "./session.ts";
import type { SubscriptionStore } from "./store.ts";

/** Who is calling: an API access token, or a dashboard user's Supabase Auth session. */
export interface Principal {
  kind: "api_token" | "session";
  /** The API token's id, or the user's id for a session. */
  id: string;
  workspaceId: string;
  scopes: ReadonlySet<string>;
}

export interface AuthDependencies {
  store: SubscriptionStore;
  verifySession: SessionVerifier;
}

const REALM = 'Bearer realm="wundertreos"';

function unauthorized(message: string, tokenWasGiven: boolean): ApiError {
  // RFC 6750: no error attribute when no credentials were sent at all.
  const challenge = tokenWasGiven ? `${REALM}, error="invalid_token"` : REALM;
  return new ApiError(401, "unauthorized", message, {}, { "WWW-Authenticate": challenge });
}

const invalidCredential = () =>
  unauthorized("The access token is invalid, expired or revoked.", true);

async function apiTokenPrincipal(token: string, deps: AuthDependencies, now: Date) {
  if (!isWellFormedApiToken(token)) throw invalidCredential();
  const record = await deps.store.findApiTokenByHash(await hashApiToken(token));
  if (!record || record.revokedAt !== null) throw invalidCredential();
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
    throw invalidCredential();
  }
  return {
    kind: "api_token" as const,
    id: record.id,
    workspaceId: record.workspaceId,
    scopes: new Set(record.scopes),
  };
}

async function sessionPrincipal(token: string, deps: AuthDependencies, now: Date) {
  const claims = await deps.verifySession(token, now);
  if (!claims) throw invalidCredential();
  // A session without a workspace can act nowhere: it gets no scopes, hence a 403.
  return {
    kind: "session" as const,
    id: claims.userId,
    workspaceId: claims.workspaceId ?? "",
    scopes: new Set(claims.workspaceId ? claims.scopes : []),
  };
}

/**
 * Resolves `Authorization: Bearer <credential>` to a workspace and scopes. Unknown, expired and
 * revoked credentials all get the same answer, so nothing tells them apart.
 */
export async function authenticate(
  authorization: string | undefined,
  deps: AuthDependencies,
  now: Date,
): Promise<Principal> {
  if (!authorization) {
    throw unauthorized("Send an API access token as 'Authorization: Bearer <token>'.", false);
  }
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) {
    throw unauthorized("The Authorization header must have the form 'Bearer <token>'.", true);
  }
  const credential = match[1];
  if (credential.startsWith(API_TOKEN_PREFIX)) {
    return await apiTokenPrincipal(credential, deps, now);
  }
  if (credential.split(".").length === 3) return await sessionPrincipal(credential, deps, now);
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
