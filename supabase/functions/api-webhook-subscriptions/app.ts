import { Hono } from "hono";
import { authenticate, type Principal, requireScope } from "./auth.ts";
import { ApiError, errorBody, StoreUnavailableError } from "./errors.ts";
import type { RandomSource } from "./random.ts";
import { createSubscription } from "./routes/create-subscription.ts";
import type { SubscriptionStore } from "./store.ts";

export const FUNCTION_NAME = "api-webhook-subscriptions";
export const RETRY_AFTER_SECONDS = 5;

export type LogEntry = Record<string, string | number | boolean | null | undefined>;

export interface AppDependencies {
  store: SubscriptionStore;
  clock: () => Date;
  random: RandomSource;
  log: (entry: LogEntry) => void;
}

export type AppEnv = {
  Variables: { requestId: string; principal: Principal; errorCause?: string };
};

export const jsonLog = (entry: LogEntry) => console.log(JSON.stringify(entry));

function methodNotAllowed(allowed: string[]) {
  return () => {
    throw new ApiError(
      405,
      "method_not_allowed",
      `This URL accepts ${allowed.join(", ")}.`,
      {},
      { Allow: allowed.join(", ") },
    );
  };
}

/** Builds the whole API; every dependency comes in, so tests can hand in real or fake ones. */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  // Supabase routes /functions/v1/<name>/... to the function as /<name>/...
  const app = new Hono<AppEnv>({ strict: false }).basePath(`/${FUNCTION_NAME}`);

  app.use(async (c, next) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    c.header("X-Request-Id", requestId);
    // Unset when authentication itself failed.
    const principal = c.get("principal") as Principal | undefined;
    deps.log({
      level: c.res.status >= 500 ? "error" : "info",
      request_id: requestId,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      workspace_id: principal?.workspaceId,
      token_id: principal?.tokenId,
      cause: c.get("errorCause"),
    });
  });

  // The contract: every request authenticates and checks webhooks:read before anything else, so
  // even a 404 or 405 tells an anonymous caller nothing.
  app.use(async (c, next) => {
    const principal = await authenticate(c.req.header("authorization"), deps.store, deps.clock());
    c.set("principal", principal);
    requireScope(principal, "webhooks:read");
    await next();
  });

  app.post("/", createSubscription(deps));
  app.all("/", methodNotAllowed(["POST"]));

  app.notFound((c) =>
    c.json(errorBody("not_found", "There is no resource at this URL."), 404, {
      "X-Request-Id": c.get("requestId") ?? "",
    })
  );

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message, error.extra), error.status as 400, {
        ...error.headers,
      });
    }
    const requestId = c.get("requestId");
    if (error instanceof StoreUnavailableError) {
      c.set("errorCause", error.message);
      return c.json(
        errorBody(
          "service_unavailable",
          "The database is temporarily unreachable. Retry shortly.",
          { request_id: requestId },
        ),
        503,
        { "Retry-After": String(RETRY_AFTER_SECONDS) },
      );
    }
    c.set("errorCause", `${error.name}: ${error.message}`);
    return c.json(
      errorBody(
        "internal_error",
        "Something went wrong on our side. Quote the request id if it persists.",
        {
          request_id: requestId,
        },
      ),
      500,
    );
  });

  return app;
}
