import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app.ts";
import {
  type AuthDependencies,
  authenticate,
  type Authenticated,
  type Deferred,
  rateLimited,
  rateLimitHeaders,
  requireScope,
  settleDeferred,
} from "./auth.ts";
import type { CreateOutcome, TokenCreateOutcome } from "./store.ts";

/** A create whose authentication rides on its own store call; see `Deferred`. */
export interface DeferredAuthentication extends Deferred {
  /** Applies the store call's verdict: 401, 429 or 403 as the separate check would, or the outcome. */
  settle(result: TokenCreateOutcome): CreateOutcome;
  /** Authenticates the separate way, for a request that ends before its store call. */
  confirm(): Promise<void>;
}

/** Who is calling, the rate-limit count, then webhooks:read: the contract's order. */
function admit(c: Context<AppEnv>, { principal, rateLimit }: Authenticated): void {
  c.set("principal", principal);
  if (rateLimit.exceeded) throw rateLimited(rateLimit);
  // Set now, so every answer from here on carries them, errors included.
  for (const [name, value] of Object.entries(rateLimitHeaders(rateLimit))) c.header(name, value);
  requireScope(principal, "webhooks:read");
}

/**
 * Authenticates every request and checks webhooks:read before routing, so even a 404 or 405 tells
 * an anonymous caller nothing. Authentication and the rate limit cost one database round trip
 * together; a create by a recently seen API token defers both to the create's own round trip.
 */
export function authentication(
  deps: AuthDependencies & { clock: () => Date },
  isCreate: (c: Context<AppEnv>) => boolean,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestClass = c.req.method === "GET" || c.req.method === "HEAD" ? "read" : "write";
    const authorization = c.req.header("authorization");
    const now = deps.clock();
    const result = await authenticate(authorization, deps, now, requestClass, {
      mayDefer: isCreate(c),
    });
    if (!result.deferred) {
      admit(c, result);
      return await next();
    }
    c.set("principal", result.principal);
    c.set("deferredAuthentication", {
      ...result,
      settle(outcome) {
        const settled = settleDeferred(result, outcome, deps, now);
        admit(c, settled);
        requireScope(settled.principal, "webhooks:write");
        // Both checks passed, so the store went on to create.
        return settled.created!;
      },
      async confirm() {
        const confirmed = await authenticate(authorization, deps, now, requestClass);
        if (confirmed.deferred) throw new Error("a confirmation cannot be deferred");
        admit(c, confirmed);
        requireScope(confirmed.principal, "webhooks:write");
      },
    });
    await next();
    // A create that ended before its store call (a 400, 413, 415, a refused target, a failed call),
    // or anything else that answered without settling it: authenticate before that answer goes out.
    // A 401, 429 or 403 from here replaces the answer, as it would have come first.
    const unsettled = takeDeferredAuthentication(c);
    if (!unsettled) return;
    try {
      await unsettled.confirm();
    } catch (error) {
      c.set("errorCause", undefined); // the cause of an answer that no longer goes out
      throw error;
    }
  };
}

/** The request's deferred authentication, handed over once: whoever takes it must settle it. */
export function takeDeferredAuthentication(
  c: Context<AppEnv>,
): DeferredAuthentication | undefined {
  const deferred = c.get("deferredAuthentication");
  c.set("deferredAuthentication", undefined);
  return deferred;
}
