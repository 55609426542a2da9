import { z } from "zod";
import { ERROR_CODES } from "../_shared/errors.ts";
import { FUNCTION_NAME } from "./app-env.ts";
import { DELIVERY_EVENT_TYPES } from "./delivery-schema.ts";
import type { RouteSpec } from "./route.ts";
import {
  WEBHOOK_DESCRIPTIONS,
  WEBHOOK_RESPONSES,
  webhookPayloadSchema,
  webhookRequestHeaders,
} from "./webhooks.ts";

export const errorSchema = z.strictObject({
  error: z.enum(ERROR_CODES),
  message: z.string(),
  details: z
    .array(z.strictObject({ field: z.string(), message: z.string(), code: z.string().optional() }))
    .optional(),
  details_truncated: z.literal(true).optional(),
  missing_scope: z.string().optional(),
  max_bytes: z.number().optional(),
  limit: z.number().optional(),
  request_id: z.string().optional(),
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "invalid_request: the body, query or a header breaks a rule; details names each field.",
  401: "unauthorized: the credential is missing, malformed, unknown, expired or revoked.",
  403: "forbidden: the credential lacks a scope; missing_scope names it.",
  404:
    "not_found: no such subscription in the caller's workspace, or no such delivery of it (or a malformed id).",
  405: "method_not_allowed: see the Allow header.",
  413: "payload_too_large: the body is over 64 KiB.",
  409:
    "idempotency_key_in_use (a create with this Idempotency-Key is still in flight) subscription_disabled (a retry or recover for a disabled subscription: enable it first) or delivery_in_flight (a retry while an attempt is under way: retry once it has ended).",
  415: "unsupported_media_type: the body is not JSON by Content-Type.",
  422:
    "idempotency_key_reused (same key, different body) or subscription_limit_reached (limit names the cap).",
  429: "rate_limited: too many requests for this credential; see Retry-After and RateLimit.",
  500: "internal_error: something unexpected; request_id matches X-Request-Id.",
  503:
    "service_unavailable: the database could not be reached or did not answer in time, so the request may or may not have taken effect; retry after Retry-After seconds, with the same Idempotency-Key on a create.",
};

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** One OpenAPI parameter per property of a params, headers or query schema. */
function parameters(schema: z.ZodObject | undefined, where: "path" | "header" | "query") {
  if (!schema) return [];
  const { properties = {}, required = [] } = jsonSchema(schema, "input");
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.includes(name),
    ...(property.description ? { description: property.description } : {}),
    schema: property,
  }));
}

function operation(spec: RouteSpec) {
  const { request = {} } = spec;
  const params = [
    ...parameters(request.params, "path"),
    ...parameters(request.headers, "header"),
    ...parameters(request.query, "query"),
  ];
  const json = (schema: JsonSchema) => ({ content: { "application/json": { schema } } });
  const errorResponse = (status: number) => ({
    description: ERROR_DESCRIPTIONS[status],
    ...json({ $ref: "#/components/schemas/Error" }),
  });
  const { success } = spec;
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: [{ apiToken: [] }, { dashboardSession: [] }],
    ...(params.length ? { parameters: params } : {}),
    ...(request.body
      ? { requestBody: { required: true, ...json(jsonSchema(request.body, "input")) } }
      : {}),
    responses: {
      [success.status]: {
        description: success.description,
        ...(success.headers
          ? {
            headers: Object.fromEntries(
              Object.entries(success.headers).map((
                [name, description],
              ) => [name, { description, schema: { type: "string" } }]),
            ),
          }
          : {}),
        ...(success.schema ? json(jsonSchema(success.schema, "output")) : {}),
      },
      ...Object.fromEntries(spec.errors.map((status) => [status, errorResponse(status)])),
    },
  };
}

/** One entry of the `webhooks` section: the request a receiver gets for one event type. */
function webhook(type: typeof DELIVERY_EVENT_TYPES[number]) {
  return {
    post: {
      operationId: `receive_${type.replace(".", "_")}`,
      summary: `${type} delivery`,
      description: WEBHOOK_DESCRIPTIONS[type],
      parameters: parameters(webhookRequestHeaders, "header"),
      requestBody: {
        required: true,
        content: {
          "application/json": { schema: jsonSchema(webhookPayloadSchema(type), "output") },
        },
      },
      responses: WEBHOOK_RESPONSES,
    },
  };
}

/**
 * OpenAPI 3.1, generated from the same route specs and zod schemas that validate requests, and
 * from the schemas of the requests receivers get.
 */
export function buildOpenApiDocument(routes: RouteSpec[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const path = `/${FUNCTION_NAME}${spec.path === "/" ? "" : spec.path}`;
    (paths[path] ??= {})[spec.method] = operation(spec);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "WundertreOS webhook subscriptions",
      version: "1.0.0",
      description:
        "Subscribe URLs to WundertreOS CRM events. Every request checks webhooks:read first; writes also need webhooks:write.",
    },
    servers: [{ url: "https://api.wundertreos.com/functions/v1" }],
    components: {
      securitySchemes: {
        apiToken: {
          type: "http",
          scheme: "bearer",
          description: "An API access token (wtos_…) bound to one workspace, with scopes.",
        },
        dashboardSession: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A Supabase Auth access token whose workspace_id and scopes claims come from the project's Custom Access Token Hook.",
        },
      },
      schemas: { Error: jsonSchema(errorSchema, "output") },
    },
    paths,
    webhooks: Object.fromEntries(DELIVERY_EVENT_TYPES.map((type) => [type, webhook(type)])),
  };
}
