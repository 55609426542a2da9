/** Dashboard sessions as Supabase Auth (plus the project's Custom Access Token Hook) issues them. */
import { importJWK, SignJWT } from "jose";
import { stack } from "./stack.ts";

export interface SessionOptions {
  workspaceId?: string | null;
  scopes?: string[];
  userId?: string;
  expiresInSeconds?: number;
  audience?: string;
  issuer?: string;
  role?: string;
  /** "ES256" signs with the key published in the stack's JWKS; "HS256" with the legacy secret. */
  algorithm?: "ES256" | "HS256";
  extraClaims?: Record<string, unknown>;
}

export async function sessionToken(options: SessionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    role: options.role ?? "authenticated",
    scopes: options.scopes ?? ["webhooks:read", "webhooks:write"],
    ...options.extraClaims,
  };
  if (options.workspaceId !== null) {
    claims.workspace_id = options.workspaceId ?? crypto.randomUUID();
  }
  const jwt = new SignJWT(claims)
    .setSubject(options.userId ?? crypto.randomUUID())
    .setAudience(options.audience ?? "authenticated")
    .setIssuer(options.issuer ?? `${stack.apiUrl}/auth/v1`)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 600));
  if ((options.algorithm ?? "ES256") === "HS256") {
    return await jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(stack.jwtSecret));
  }
  const jwk = JSON.parse(Deno.env.get("WUNDERTRE_TEST_SESSION_KEY") ?? "null");
  if (!jwk) throw new Error("WUNDERTRE_TEST_SESSION_KEY is not set: run with 'deno task test'");
  return await jwt.setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" })
    .sign(await importJWK(jwk, "ES256"));
}
