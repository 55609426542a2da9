/**
 * Every response the suite receives through `apiFetch` is checked against the OpenAPI document the
 * function serves, so the document cannot drift from the code.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { ValidateFunction } from "ajv";

// deno-lint-ignore no-explicit-any
type Json = any;

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);

const FUNCTION_PREFIX = "/functions/v1";
let documentPromise: Promise<Json> | undefined;
const validators = new WeakMap<object, ValidateFunction>();

export function openApiDocument(functionUrl: string): Promise<Json> {
  documentPromise ??= fetch(`${functionUrl}/openapi.json`).then((response) => response.json());
  return documentPromise;
}

function inlineRefs(schema: Json, document: Json): Json {
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(item, document));
  if (schema && typeof schema === "object") {
    if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
      const target = schema.$ref.slice(2).split("/").reduce(
        (node: Json, key: string) => node[key],
        document,
      );
      return inlineRefs(target, document);
    }
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inlineRefs(v, document)]));
  }
  return schema;
}

function validatorFor(schema: Json, document: Json): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(inlineRefs(schema, document));
    validators.set(schema, validate);
  }
  return validate;
}

function findOperation(document: Json, method: string, path: string): Json | null {
  for (const [template, operations] of Object.entries<Json>(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}/?$`);
    if (pattern.test(path)) return operations[method.toLowerCase()] ?? null;
  }
  return null;
}

export class OpenApiMismatch extends Error {
  override name = "OpenApiMismatch";
}

/** Throws when a response is not what the document says this operation can answer. */
export async function assertMatchesDocument(
  functionUrl: string,
  method: string,
  url: string,
  response: { status: number; contentType: string | null; body: string },
) {
  const path = new URL(url).pathname;
  if (!path.startsWith(FUNCTION_PREFIX) || method === "OPTIONS" || method === "HEAD") return;
  const functionPath = path.slice(FUNCTION_PREFIX.length);
  if (/^\/api-webhook-subscriptions\/openapi\.json\/?$/.test(functionPath)) return;

  const document = await openApiDocument(functionUrl);
  const operation = findOperation(document, method, functionPath);
  const where = `${method} ${functionPath} -> ${response.status}`;
  let schema: Json;
  if (operation) {
    const documented = operation.responses[String(response.status)];
    if (!documented) throw new OpenApiMismatch(`${where}: status not documented`);
    schema = documented.content?.["application/json"]?.schema;
    if (!schema) {
      if (response.body !== "") throw new OpenApiMismatch(`${where}: undocumented body`);
      return;
    }
  } else {
    // Paths and methods the API does not have: only the shared error answers are possible.
    if (![401, 403, 404, 405].includes(response.status)) {
      throw new OpenApiMismatch(`${where}: an unknown route answered ${response.status}`);
    }
    schema = document.components.schemas.Error;
  }
  if (!response.contentType?.startsWith("application/json")) {
    throw new OpenApiMismatch(`${where}: content type ${response.contentType}`);
  }
  const validate = validatorFor(schema, document);
  if (!validate(JSON.parse(response.body))) {
    throw new OpenApiMismatch(
      `${where}: ${ajv.errorsText(validate.errors)}\n${response.body.slice(0, 500)}`,
    );
  }
}

/**
 * Throws when a request a receiver got is not what the document's `webhooks` entry for its event
 * type describes: every header parameter (present when required, matching its schema) and the
 * JSON body.
 */
export function assertMatchesWebhook(
  document: Json,
  request: { headers: Record<string, string>; body: string },
) {
  const body = JSON.parse(request.body);
  const operation = document.webhooks?.[body.type]?.post;
  if (!operation) throw new OpenApiMismatch(`no webhooks entry for type ${body.type}`);
  const problems: string[] = [];
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== "header") continue;
    const value = request.headers[parameter.name.toLowerCase()];
    if (value === undefined) {
      if (parameter.required) problems.push(`header ${parameter.name} missing`);
      continue;
    }
    const validate = validatorFor(parameter.schema, document);
    if (!validate(value)) {
      problems.push(`header ${parameter.name}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  const content = operation.requestBody.content;
  const contentType = request.headers["content-type"] ?? "";
  if (!Object.keys(content).some((type) => contentType.startsWith(type))) {
    problems.push(`content type ${contentType}`);
  } else {
    const validate = validatorFor(content["application/json"].schema, document);
    if (!validate(body)) problems.push(`body: ${ajv.errorsText(validate.errors)}`);
  }
  if (problems.length) {
    throw new OpenApiMismatch(`webhooks.${body.type}: ${problems.join("; ")}`);
  }
}
