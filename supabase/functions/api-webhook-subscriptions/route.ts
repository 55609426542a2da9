import type { Context, Hono } from "hono";
import type { z } from "zod";
import { deliveryNotFound, subscriptionNotFound } from "../_shared/errors.ts";
import type { Scope } from "./api-token.ts";
import type { AppDependencies, AppEnv } from "./app-env.ts";
import { requireScope } from "./auth.ts";
import { readJsonBody } from "./body.ts";
import { validateBody, validateHeaders, validateQuery } from "./validation.ts";

export type HttpMethod = "get" | "post" | "patch" | "delete";

/**
 * One operation of the API. Its schemas validate the request before the handler runs, type the
 * handler's input, and generate the OpenAPI document, so the three cannot drift apart.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** Relative to the function, OpenAPI style: "/", "/{id}", "/{id}/rotate-secret". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Scopes beyond webhooks:read, which every request needs. */
  scopes: Scope[];
  request?: {
    /** Path parameters; one that fails is the same 404 as an unknown id of its kind. */
    params?: z.ZodObject;
    /** Request headers by canonical name; headers not named here are not looked at. */
    headers?: z.ZodObject;
    query?: z.ZodObject;
    /** A JSON body: 415, 413 and 400 for what is not JSON, too large or not an object. */
    body?: z.ZodType;
  };
  success: {
    status: 200 | 201 | 202 | 204;
    description: string;
    schema?: z.ZodType;
    headers?: Record<string, string>;
  };
  errors: number[];
}

type Output<T> = T extends z.ZodType ? z.output<T> : undefined;
type Request = NonNullable<RouteSpec["request"]>;

/** What a handler receives: each part of the request its spec names, validated and typed. */
export type RouteInput<R extends Request> = {
  params: Output<R["params"]>;
  headers: Output<R["headers"]>;
  query: Output<R["query"]>;
  body: Output<R["body"]>;
};

export interface Route {
  spec: RouteSpec;
  register(app: Hono<AppEnv>, deps: AppDependencies): void;
}

/** Errors every operation can answer: authentication, rate limit, scopes, and ours. */
export const AUTHENTICATED_ERRORS = [401, 403, 429, 500, 503];

export const honoPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ":$1");

/**
 * Defines a route: its spec and its handler. When a request matches, the route's scopes are
 * checked (after authentication and webhooks:read), then its params, headers, query and body, in
 * that order; the handler runs only on valid input.
 */
export function defineRoute<const R extends Request = Record<never, never>>(
  spec: RouteSpec & { request?: R },
  handler: (
    deps: AppDependencies,
  ) => (c: Context<AppEnv>, input: RouteInput<R>) => Promise<Response> | Response,
): Route {
  const { params, headers, query, body } = spec.request ?? {};
  return {
    spec,
    register(app, deps) {
      const handle = handler(deps);
      app.on(spec.method.toUpperCase(), honoPath(spec.path), async (c) => {
        for (const scope of spec.scopes) requireScope(c.get("principal"), scope);
        let validParams;
        if (params) {
          const result = params.safeParse(c.req.param());
          if (!result.success) {
            const failed = result.error.issues.map((issue) => issue.path[0]);
            throw failed.includes("id") ? subscriptionNotFound() : deliveryNotFound();
          }
          validParams = result.data;
        }
        const input = {
          params: validParams,
          headers: headers ? validateHeaders(headers, (name) => c.req.header(name)) : undefined,
          query: query ? validateQuery(query, c.req.url) : undefined,
          body: body ? validateBody(body, await readJsonBody(c.req.raw)) : undefined,
        } as RouteInput<R>;
        return await handle(c, input);
      });
    },
  };
}
