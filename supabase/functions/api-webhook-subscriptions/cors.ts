import type { MiddlewareHandler } from "hono";

export const CORS_ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
export const CORS_ALLOWED_HEADERS =
  "authorization, content-type, apikey, x-client-info, idempotency-key";
const EXPOSED_HEADERS = [
  "Location",
  "X-Request-Id",
  "Retry-After",
  "WWW-Authenticate",
  "Idempotent-Replayed",
  "RateLimit",
  "RateLimit-Policy",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
].join(", ");

/**
 * CORS for the dashboard: only the configured origins (none by default). A preflight never needs
 * a credential; a disallowed origin gets no CORS headers at all, so the browser blocks it.
 */
export function cors(allowedOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(allowedOrigins);
  return async (c, next) => {
    const origin = c.req.header("origin");
    const isAllowed = origin !== undefined && allowed.has(origin);
    if (c.req.method === "OPTIONS") {
      const headers: Record<string, string> = { Vary: "Origin", Allow: CORS_ALLOWED_METHODS };
      if (isAllowed) {
        Object.assign(headers, {
          "Access-Control-Allow-Origin": origin,
          "Access-Control-Allow-Methods": CORS_ALLOWED_METHODS,
          "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
          "Access-Control-Max-Age": "600",
        });
      }
      return c.body(null, 204, headers);
    }
    // Set before the response exists, so every answer (errors too) carries them at no copy.
    c.header("Vary", "Origin", { append: true });
    if (isAllowed) {
      c.header("Access-Control-Allow-Origin", origin);
      c.header("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    }
    await next();
  };
}
