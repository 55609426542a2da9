import type { JWTPayload } from "jose";
import { StoreUnavailableError } from "../_shared/errors.ts";
import { isUuid } from "../_shared/uuid.ts";

/**
 * Dashboard users call the API with their Supabase Auth access token. The project's Custom Access
 * Token Hook adds two claims to it, and this is all the API reads from a session:
 *   workspace_id  the workspace the user is acting in (uuid)
 *   scopes        the API scopes the user has there, e.g. ["webhooks:read", "webhooks:write"]
 */
export interface SessionClaims {
  userId: string;
  workspaceId: string | null;
  scopes: string[];
}

export type SessionVerifier = (token: string, now: Date) => Promise<SessionClaims | null>;

export interface SessionVerifierOptions {
  supabaseUrl: string;
  /** The project's legacy shared JWT secret, where the project still signs with HS256. */
  legacyJwtSecret?: string;
}

const ASYMMETRIC_ALGORITHMS = ["ES256", "RS256", "EdDSA"];
const CALLER_FAULTS = new Set([
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JWT_EXPIRED",
  "ERR_JWT_INVALID",
  "ERR_JWS_INVALID",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
]);

function claimsOf(payload: JWTPayload): SessionClaims | null {
  if (payload.role !== "authenticated" || typeof payload.sub !== "string") return null;
  const workspaceId = typeof payload.workspace_id === "string" && isUuid(payload.workspace_id)
    ? payload.workspace_id.toLowerCase()
    : null;
  const scopes = Array.isArray(payload.scopes)
    ? payload.scopes.filter((scope): scope is string => typeof scope === "string")
    : [];
  return { userId: payload.sub, workspaceId, scopes };
}

/** Verifies signature, expiry, audience and issuer locally; the JWKS is fetched once and cached. */
export function createSessionVerifier(options: SessionVerifierOptions): SessionVerifier {
  const issuer = `${options.supabaseUrl.replace(/\/+$/, "")}/auth/v1`;
  // jose is loaded on the first session, not at cold start: API-token callers never need it. It
  // caches the key set and refetches at most every 30 s, when a token names an unknown key.
  let loaded: Promise<
    { jose: typeof import("jose"); jwks: ReturnType<typeof import("jose").createRemoteJWKSet> }
  >;
  const load = () =>
    loaded ??= import("jose").then((jose) => ({
      jose,
      jwks: jose.createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)),
    }));
  const legacyKey = options.legacyJwtSecret
    ? new TextEncoder().encode(options.legacyJwtSecret)
    : null;

  return async (token, now) => {
    const { jose, jwks } = await load();
    let alg: string | undefined;
    try {
      ({ alg } = jose.decodeProtectedHeader(token));
    } catch {
      return null;
    }
    const common = {
      audience: "authenticated",
      issuer,
      currentDate: now,
      requiredClaims: ["exp", "sub"],
    };
    try {
      if (alg === "HS256") {
        if (!legacyKey) return null;
        return claimsOf(
          (await jose.jwtVerify(token, legacyKey, { ...common, algorithms: ["HS256"] })).payload,
        );
      }
      return claimsOf(
        (await jose.jwtVerify(token, jwks, { ...common, algorithms: ASYMMETRIC_ALGORITHMS }))
          .payload,
      );
    } catch (error) {
      if (CALLER_FAULTS.has((error as { code?: string }).code ?? "")) return null;
      // The key set could not be fetched or read: not the caller's fault, so a 503, not a 401.
      throw new StoreUnavailableError(`session keys: ${(error as Error).name}`);
    }
  };
}
