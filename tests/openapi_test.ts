import assert from "node:assert/strict";
import { ROUTES } from "../supabase/functions/api-webhook-subscriptions/app.ts";
import { assertMatchesDocument, OpenApiMismatch } from "./helpers/openapi.ts";
import { CONTRACT_EVENT_TYPES, stack } from "./helpers/stack.ts";

Deno.test("GET /openapi.json is public OpenAPI 3.1 describing every route", async () => {
  const response = await fetch(`${stack.functionUrl}/openapi.json`);
  assert.equal(response.status, 200);
  const document = await response.json();
  assert.equal(document.openapi, "3.1.0");
  const operations = Object.values<Record<string, { operationId: string }>>(document.paths)
    .flatMap((path) => Object.values(path).map((operation) => operation.operationId))
    .sort();
  assert.deepEqual(operations, ROUTES.map((route) => route.spec.operationId).sort());
  const create = document.paths["/api-webhook-subscriptions"].post;
  assert.deepEqual(
    create.requestBody.content["application/json"].schema.properties.event_types.items.enum,
    CONTRACT_EVENT_TYPES,
  );
  assert.equal(create.requestBody.content["application/json"].schema.additionalProperties, false);
  for (const status of ["201", "400", "401", "403", "413", "415", "500", "503"]) {
    assert.ok(create.responses[status], `create documents ${status}`);
  }
});

Deno.test("other methods on /openapi.json are a 405 allowing GET, not the subscription routes' methods", async () => {
  for (const method of ["POST", "PATCH", "DELETE"]) {
    const response = await fetch(`${stack.functionUrl}/openapi.json`, { method });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET");
    assert.equal((await response.json()).error, "method_not_allowed");
  }
});

Deno.test("the response check catches drift: extra fields, wrong types, undocumented statuses", async () => {
  const path = `${stack.functionUrl}/00000000-0000-4000-8000-000000000001`;
  const valid = {
    id: "00000000-0000-4000-8000-000000000001",
    target_url: "https://example.com/x",
    event_types: ["deal.created"],
    enabled: true,
    description: null,
    created_at: "2026-05-17T14:30:00Z",
    disabled_reason: null,
    disabled_at: null,
  };
  const check = (status: number, body: unknown, contentType = "application/json") =>
    assertMatchesDocument(stack.functionUrl, "GET", path, {
      status,
      contentType,
      body: JSON.stringify(body),
    });
  await check(200, { data: valid });
  await assert.rejects(check(200, { data: { ...valid, secret: "0".repeat(64) } }), OpenApiMismatch);
  await assert.rejects(check(200, { data: { ...valid, enabled: "yes" } }), OpenApiMismatch);
  await assert.rejects(
    check(200, { data: { ...valid, disabled_reason: "tired" } }),
    OpenApiMismatch,
  );
  await assert.rejects(
    check(200, { data: { ...valid, created_at: "yesterday" } }),
    OpenApiMismatch,
  );
  await assert.rejects(check(409, { error: "not_found", message: "x" }), OpenApiMismatch);
  await assert.rejects(check(404, { error: "nope", message: "x" }), OpenApiMismatch);
  await assert.rejects(check(200, { data: valid }, "text/html"), OpenApiMismatch);
});
