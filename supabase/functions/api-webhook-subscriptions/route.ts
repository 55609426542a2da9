import type { Context } from "hono";
import type { z } from "zod";
import type { Scope } from "./api-token.ts";
import type { AppDependencies, AppEnv } from "./app.ts";
import { subscriptionNotFound } from "./errors.ts";

export type HttpMethod = "get" | "post" | "patch" | "delete";

/**
 * One operation of the API. The same zod schemas validate requests, type the handlers and
 * generate the OpenAPI document, so the document cannot drift from the code.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** Relative to the function, OpenAPI style: "/", "/{id}", "/{id}/rotate-secret". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Scopes beyond webhooks:read, which every authenticated request needs. */
  scopes: Scope[];
  /** No credential at all (the OpenAPI document itself). */
  public?: boolean;
  pathId?: boolean;
  query?: z.ZodType;
  body?: z.ZodType;
  success: {
    status: 200 | 201 | 204;
    description: string;
    schema?: z.ZodType;
    headers?: Record<string, string>;
  };
  errors: number[];
}

export interface Route {
  spec: RouteSpec;
  handler: (deps: AppDependencies) => (c: Context<AppEnv>) => Promise<Response> | Response;
}

export const FUNCTION_PATH = "/functions/v1/api-webhook-subscriptions";

/** Errors every authenticated operation can answer. */
export const AUTHENTICATED_ERRORS = [401, 403, 429, 500, 503];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `{id}` of the path, or the same 404 an unknown id gets. */
export function subscriptionIdOf(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!UUID.test(id)) throw subscriptionNotFound();
  return id.toLowerCase();
}
