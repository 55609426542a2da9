import { sha256Hex } from "../_shared/digest.ts";
import type { RandomSource } from "../_shared/random.ts";

/**
 * API access tokens are opaque: a recognisable prefix (so secret scanners and humans can tell what
 * leaked) followed by 32 random bytes in base64url. Only the SHA-256 of the whole token is stored;
 * a fast hash is enough because the token carries 256 bits of entropy.
 */
export const API_TOKEN_PREFIX = "wtos_";
const API_TOKEN_PATTERN = /^wtos_[A-Za-z0-9_-]{43}$/;

export function generateApiToken(random: RandomSource): string {
  const bytes = random(32);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const base64url = btoa(binary).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
  return API_TOKEN_PREFIX + base64url;
}

export function isWellFormedApiToken(token: string): boolean {
  return API_TOKEN_PATTERN.test(token);
}

/** The lowercase hex SHA-256 of the token: what the database stores and looks up. */
export function hashApiToken(token: string): Promise<string> {
  return sha256Hex(token);
}

export const SCOPES = ["webhooks:read", "webhooks:write"] as const;
export type Scope = typeof SCOPES[number];
