/**
 * The local stack signs its API keys the way `supabase start` does: HS256 with a shared JWT
 * secret, so the anon and service_role keys below are the well-known local demo keys.
 */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function signJwt(secret: string, payload: Record<string, unknown>): Promise<string> {
  const encoder = new TextEncoder();
  const header = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = base64url(encoder.encode(JSON.stringify(payload)));
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(`${header}.${body}`));
  return `${header}.${body}.${base64url(new Uint8Array(signature))}`;
}

const DEMO_KEY_EXPIRY = 1983812996;

export interface LocalKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

export async function localKeys(jwtSecret = LOCAL_JWT_SECRET): Promise<LocalKeys> {
  return {
    jwtSecret,
    anonKey: await signJwt(jwtSecret, { iss: "supabase-demo", role: "anon", exp: DEMO_KEY_EXPIRY }),
    serviceRoleKey: await signJwt(jwtSecret, {
      iss: "supabase-demo",
      role: "service_role",
      exp: DEMO_KEY_EXPIRY,
    }),
  };
}

export interface SessionSigningKey {
  /** Signs dashboard sessions in tests, as Supabase Auth would. Never leaves the local machine. */
  privateJwk: JsonWebKey & { kid: string; alg: string };
  /** Published at /auth/v1/.well-known/jwks.json, as Supabase Auth publishes its keys. */
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
}

/** A fresh ES256 key per stack, like a project's asymmetric Supabase Auth signing key. */
export async function generateSessionSigningKey(): Promise<SessionSigningKey> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const kid = crypto.randomUUID();
  const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const { x, y, crv, kty } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return {
    privateJwk: { ...privateJwk, kid, alg: "ES256" },
    publicJwk: { kty, crv, x, y, kid, alg: "ES256", use: "sig" },
  };
}
