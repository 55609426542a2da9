import { Hono } from "hono";
import type { Principal, RateLimits } from "./auth.ts";
import { authentication, type DeferredAuthentication } from "./auth-middleware.ts";
import { requireScope } from "./auth.ts";
import { cors } from "./cors.ts";
import { ApiError, errorBody, StoreUnavailableError } from "./errors.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import type { RandomSource } from "./random.ts";
import type { Route } from "./route.ts";
import { createSubscription } from "./routes/create-subscription.ts";
import { deleteSubscription } from "./routes/delete-subscription.ts";
import { getSubscription } from "./routes/get-subscription.ts";
import { listSubscriptions } from "./routes/list-subscriptions.ts";
import { rotateSecret } from "./routes/rotate-secret.ts";
import { updateSubscription } from "./routes/update-subscription.ts";
import type { SessionVerifier } from "./session.ts";
import type { TargetPolicy } from "./target-policy.ts";
import type { SubscriptionStore } from "./store.ts";
import { RecentTokens } from "./token-cache.ts";

export const FUNCTION_NAME = "api-webhook-subscriptions";
export const RETRY_AFTER_SECONDS = 5;

export const ROUTES: Route[] = [
  listSubscriptions,
  createSubscription,
  getSubscription,
  updateSubscription,
  deleteSubscription,
  rotateSecret,
];

export type LogEntry = Record<string, string | number | boolean | null | undefined>;

export interface AppDependencies {
  store: SubscriptionStore;
  verifySession: SessionVerifier;
  clock: () => Date;
  random: RandomSource;
  log: (entry: LogEntry) => void;
  corsAllowedOrigins: readonly string[];
  targetPolicy: TargetPolicy;
  rateLimits: RateLimits;
  maxSubscriptionsPerWorkspace: number;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    principal: Principal;
    deferredAuthentication?: DeferredAuthentication;
    errorCause?: string;
  };
};

// How long a token that authenticated stays "recently seen" (see RecentTokens), and how many.
const RECENT_TOKEN_SECONDS = 60;
const RECENT_TOKENS_MAX = 10_000;

export const jsonLog = (entry: LogEntry) => console.log(JSON.stringify(entry));

const honoPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ":$1");

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
    // Headers set before the response exists cost nothing; after, Hono copies the response.
    c.header("X-Request-Id", requestId);
    await next();
    // Unset when authentication itself failed.
    const principal = c.get("principal") as Principal | undefined;
    deps.log({
      level: c.res.status >= 500 ? "error" : "info",
      request_id: requestId,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      workspace_id: principal?.workspaceId || undefined,
      token_id: principal?.kind === "api_token" ? principal.id : undefined,
      user_id: principal?.kind === "session" ? principal.id : undefined,
      cause: c.get("errorCause"),
    });
  });

  app.use(cors(deps.corsAllowedOrigins));

  // Public, and built on first use so it costs nothing at cold start.
  let openApiDocument: unknown;
  app.get("/openapi.json", (c) => {
    openApiDocument ??= buildOpenApiDocument(FUNCTION_NAME, ROUTES.map((route) => route.spec));
    return c.json(openApiDocument);
  });
  // Otherwise /{id} would claim it and answer with /{id}'s methods.
  app.all("/openapi.json", methodNotAllowed(["GET"]));

  const recentTokens = new RecentTokens(RECENT_TOKEN_SECONDS * 1000, RECENT_TOKENS_MAX);
  const collectionPath = `/${FUNCTION_NAME}`;
  app.use(authentication(
    { ...deps, recentTokens },
    // Exactly the path the create route matches; anything else is authenticated the separate way.
    (c) => c.req.method === "POST" && c.req.path === collectionPath,
  ));

  const methodsByPath = new Map<string, string[]>();
  for (const route of ROUTES) {
    const { method, path, scopes } = route.spec;
    const handle = route.handler(deps);
    app.on(method.toUpperCase(), honoPath(path), (c) => {
      for (const scope of scopes) requireScope(c.get("principal"), scope);
      return handle(c);
    });
    methodsByPath.set(path, [...methodsByPath.get(path) ?? [], method.toUpperCase()]);
  }
  for (const [path, methods] of methodsByPath) app.all(honoPath(path), methodNotAllowed(methods));

  app.notFound((c) => c.json(errorBody("not_found", "There is no resource at this URL."), 404));

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
          "A service this API depends on is temporarily unreachable. Retry shortly.",
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
        { request_id: requestId },
      ),
      500,
    );
  });

  return app;
}
