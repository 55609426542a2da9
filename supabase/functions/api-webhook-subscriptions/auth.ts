import { hashApiToken, isWellFormedApiToken, type Scope } from "./api-token.ts";
import { ApiError } from "./errors.ts";
import type { SubscriptionStore } from "./store.ts";

export interface Principal {
  tokenId: string;
  workspaceId: string;
  scopes: ReadonlySet<string>;
}

const REALM = 'Bearer realm="wundertreos"';

function unauthorized(message: string, tokenWasGiven: boolean): ApiError {
  // RFC 6750: no error attribute when no credentials were sent at all.
  const challenge = tokenWasGiven ? `${REALM}, error="invalid_token"` : REALM;
  return new ApiError(401, "unauthorized", message, {}, { "WWW-Authenticate": challenge });
}

/**
 * Resolves `Authorization: Bearer <token>` to the workspace and scopes of a live API token.
 * Unknown, expired and revoked tokens get the same answer so nothing tells them apart.
 */
export async function authenticate(
  authorization: string | undefined,
  store: SubscriptionStore,
  now: Date,
): Promise<Principal> {
  if (!authorization) {
    throw unauthorized("Send an API access token as 'Authorization: Bearer <token>'.", false);
  }
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) {
    throw unauthorized("The Authorization header must have the form 'Bearer <token>'.", true);
  }
  const token = match[1];
  const invalid = () => unauthorized("The access token is invalid, expired or revoked.", true);
  if (!isWellFormedApiToken(token)) throw invalid();

  const record = await store.findApiTokenByHash(await hashApiToken(token));
  if (!record || record.revokedAt !== null) throw invalid();
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) throw invalid();

  return { tokenId: record.id, workspaceId: record.workspaceId, scopes: new Set(record.scopes) };
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.scopes.has(scope)) return;
  throw new ApiError(
    403,
    "forbidden",
    `This access token lacks the ${scope} scope.`,
    { missing_scope: scope },
    { "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"` },
  );
}
