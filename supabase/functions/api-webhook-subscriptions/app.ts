import { Hono } from "hono";
import { ApiError, errorBody, StoreUnavailableError } from "../_shared/errors.ts";
import { type AppDependencies, type AppEnv, FUNCTION_NAME } from "./app-env.ts";
import { authentication } from "./auth.ts";
import { cors } from "./cors.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { honoPath, type Route } from "./route.ts";
import { createSubscription } from "./routes/create-subscription.ts";
import { deleteSubscription } from "./routes/delete-subscription.ts";
import { getDelivery } from "./routes/get-delivery.ts";
import { getSubscription } from "./routes/get-subscription.ts";
import { listDeliveries } from "./routes/list-deliveries.ts";
import { listSubscriptions } from "./routes/list-subscriptions.ts";
import { recoverDeliveries } from "./routes/recover-deliveries.ts";
import { retryDelivery } from "./routes/retry-delivery.ts";
import { rotateSecret } from "./routes/rotate-secret.ts";
import { sendTestEvent } from "./routes/send-test-event.ts";
import { updateSubscription } from "./routes/update-subscription.ts";

export const RETRY_AFTER_SECONDS = 5;

export const ROUTES: Route[] = [
  listSubscriptions,
  createSubscription,
  getSubscription,
  updateSubscription,
  deleteSubscription,
  rotateSecret,
  listDeliveries,
  getDelivery,
  retryDelivery,
  sendTestEvent,
  recoverDeliveries,
];

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

/**
 * The whole API, in the order a request meets it: request id and log line, CORS, the public
 * OpenAPI document, authentication (401, 429, webhooks:read), then the route (its scopes, its
 * validated input, its handler). Every dependency comes in, so tests hand in real or fake ones.
 */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false }).basePath(`/${FUNCTION_NAME}`);

  app.use(async (c, next) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    // Headers set before the response exists cost nothing; after, Hono copies the response.
    c.header("X-Request-Id", requestId);
    await next();
    // Unset when authentication itself failed.
    const principal = c.get("principal") as AppEnv["Variables"]["principal"] | undefined;
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
    openApiDocument ??= buildOpenApiDocument(ROUTES.map((route) => route.spec));
    return c.json(openApiDocument);
  });
  // Otherwise /{id} would claim it and answer with /{id}'s methods.
  app.all("/openapi.json", methodNotAllowed(["GET"]));

  app.use(authentication(deps));

  const methodsByPath = new Map<string, string[]>();
  for (const route of ROUTES) {
    route.register(app, deps);
    const { method, path } = route.spec;
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
          // The database may have been reached and the change made before the call failed (a
          // dropped answer), so this promises nothing either way and points to the safe retry.
          "The database did not answer in time or could not be reached, so this request may or may not have taken effect. Retry shortly; send an Idempotency-Key with a create so that a retry cannot make a second subscription.",
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
