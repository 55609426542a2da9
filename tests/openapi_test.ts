import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ROUTES } from "../supabase/functions/api-webhook-subscriptions/app.ts";
import {
  assertMatchesDocument,
  assertMatchesWebhook,
  openApiDocument,
  OpenApiMismatch,
} from "./helpers/openapi.ts";
import { emit, startReceiver, subscribe } from "./helpers/receiver.ts";
import { CONTRACT_EVENT_TYPES, newToken, stack } from "./helpers/stack.ts";
import { call } from "./helpers/subscriptions.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

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

Deno.test("the document is valid OpenAPI 3.1 by the specification's own JSON Schema", async () => {
  const document = await (await fetch(`${stack.functionUrl}/openapi.json`)).json();
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.equal(validator.version, "3.1");
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  // The check itself works: a document with a broken webhook entry is refused.
  const broken = structuredClone(document);
  broken.webhooks["contact.created"].post.responses = "none";
  assert.equal((await new Validator().validate(broken)).valid, false);
});

Deno.test("the webhooks section has one entry per event type, and real deliveries match it", async () => {
  const document = await openApiDocument(stack.functionUrl);
  assert.deepEqual(
    Object.keys(document.webhooks).sort(),
    [...CONTRACT_EVENT_TYPES, "webhook.test"].sort(),
  );
  for (const [type, entry] of Object.entries<Json>(document.webhooks)) {
    const body = entry.post.requestBody.content["application/json"].schema;
    assert.deepEqual(body.properties.type, { type: "string", const: type });
    assert.deepEqual(
      entry.post.parameters.map((p: { name: string }) => p.name),
      ["webhook-id", "webhook-timestamp", "webhook-signature", "User-Agent"],
    );
  }

  const receiver = startReceiver();
  try {
    const { token, workspaceId } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`, ["deal.updated"]);
    await emit(workspaceId, "deal.updated", { id: "d_1", amount: 1200, stage: "won" });
    const test = await call(token, "POST", `/${subscription.id}/test`);
    assert.equal(test.status, 202);
    const requests = await receiver.waitFor(2);
    const types = requests.map((request) => JSON.parse(request.body).type).sort();
    assert.deepEqual(types, ["deal.updated", "webhook.test"]);
    for (const request of requests) assertMatchesWebhook(document, request);

    // The check catches drift: a body of another type, a missing or malformed header.
    const [real] = requests;
    const body = JSON.parse(real.body);
    const drifted = [
      { ...real, body: JSON.stringify({ ...body, type: "deal.deleted" }) },
      { ...real, body: JSON.stringify({ ...body, timestamp: "now" }) },
      { ...real, body: JSON.stringify({ ...body, data: [] }) },
      { ...real, headers: { ...real.headers, "webhook-signature": "v1,abc" } },
      { ...real, headers: { ...real.headers, "webhook-id": undefined as unknown as string } },
      { ...real, headers: { ...real.headers, "content-type": "text/plain" } },
    ];
    for (const request of drifted) {
      assert.throws(() => assertMatchesWebhook(document, request), OpenApiMismatch);
    }
    // Open objects: a field added later does not break a receiver that validates.
    assertMatchesWebhook(document, { ...real, body: JSON.stringify({ ...body, added: 1 }) });
  } finally {
    await receiver.close();
  }
});
