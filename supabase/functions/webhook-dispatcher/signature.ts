import { Buffer } from "node:buffer";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 10_000;

/** A subscription's secret as an HMAC key: its 64 characters as bytes (docs/verify-signatures.md). */
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
  }
  return key;
}

/**
 * The Standard Webhooks `webhook-signature` header: `v1,<base64 HMAC-SHA256>` of
 * `<webhook-id>.<webhook-timestamp>.<body>` under each secret, space-separated, in the order given
 * (the current secret first, then a rotated-away one still in its grace period).
 */
export async function signatureHeader(
  secrets: string[],
  webhookId: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const content = encoder.encode(`${webhookId}.${timestamp}.${body}`);
  const signatures = await Promise.all(secrets.map(async (secret) => {
    const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), content);
    return `v1,${Buffer.from(mac).toString("base64")}`;
  }));
  return signatures.join(" ");
}
