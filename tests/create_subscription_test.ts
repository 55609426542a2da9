import assert from "node:assert/strict";
import {
  apiFetch,
  CONTRACT_EVENT_TYPES,
  CONTRACT_EXAMPLE,
  createSubscription,
  errorOf,
  newToken,
  sql,
  stack,
  subscriptionCount,
  type SubscriptionRow,
} from "./helpers/stack.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function storedSubscription(id: string): Promise<SubscriptionRow> {
  const [row] = await sql<SubscriptionRow>(
    "select * from public.webhook_subscriptions where id = $1",
    [id],
  );
  assert.ok(row, `no row stored for ${id}`);
  return row;
}

Deno.test("the contract's example request answers 201 with exactly the documented shape", async () => {
  const { token, workspaceId } = await newToken();
  const before = Date.now();
  const response = await createSubscription(token, CONTRACT_EXAMPLE);
  assert.equal(response.status, 201);
  const body = await response.json();

  assert.deepEqual(Object.keys(body), ["data"]);
  assert.deepEqual(Object.keys(body.data), [
    "id",
    "target_url",
    "event_types",
    "secret",
    "enabled",
    "description",
    "created_at",
  ]);
  const { data } = body;
  assert.match(data.id, UUID);
  assert.equal(data.target_url, CONTRACT_EXAMPLE.target_url);
  assert.deepEqual(data.event_types, CONTRACT_EXAMPLE.event_types);
  assert.match(data.secret, /^[0-9a-f]{64}$/);
  assert.equal(data.enabled, true);
  assert.equal(data.description, CONTRACT_EXAMPLE.description);
  assert.match(data.created_at, RFC3339_UTC_SECONDS);
  const createdAt = Date.parse(data.created_at);
  assert.ok(createdAt >= Math.floor(before / 1000) * 1000 && createdAt <= Date.now());

  assert.equal(
    response.headers.get("location"),
    `/functions/v1/api-webhook-subscriptions/${data.id}`,
  );
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  assert.match(response.headers.get("x-request-id") ?? "", UUID);

  const row = await storedSubscription(data.id);
  assert.equal(row.workspace_id, workspaceId);
  assert.equal(row.target_url, CONTRACT_EXAMPLE.target_url);
  assert.deepEqual(row.event_types, CONTRACT_EXAMPLE.event_types);
  assert.equal(row.description, CONTRACT_EXAMPLE.description);
  assert.equal(row.secret, data.secret, "the stored secret is the one handed out");
  assert.equal(row.enabled, true);
  assert.equal(Math.floor(row.created_at.getTime() / 1000) * 1000, createdAt);
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("description is null when none was given, or when null was sent", async () => {
  const { token } = await newToken();
  for (
    const body of [{ ...CONTRACT_EXAMPLE, description: undefined }, {
      ...CONTRACT_EXAMPLE,
      description: null,
    }]
  ) {
    const response = await createSubscription(token, body);
    assert.equal(response.status, 201);
    const { data } = await response.json();
    assert.equal(data.description, null);
    assert.ok("description" in data);
    assert.equal((await storedSubscription(data.id)).description, null);
  }
});

Deno.test("every supported event type is accepted; duplicates collapse keeping first order", async () => {
  const { token } = await newToken();
  // All seven, starting from the last, to show the caller's order is kept.
  const all = [...CONTRACT_EVENT_TYPES.slice(-1), ...CONTRACT_EVENT_TYPES.slice(0, -1)];
  const response = await createSubscription(token, {
    target_url: "https://example.com/hook",
    event_types: [...all, "contact.created", "deal.updated"],
  });
  assert.equal(response.status, 201);
  const { data } = await response.json();
  assert.deepEqual(data.event_types, all);
  assert.deepEqual((await storedSubscription(data.id)).event_types, all);
});

Deno.test("target_url is stored in its canonical form", async () => {
  const { token } = await newToken();
  const cases: [string, string][] = [
    ["HTTPS://Example.COM:443/Hook?x=1", "https://example.com/Hook?x=1"],
    ["https://receiver.example.org:8443/in#frag", "https://receiver.example.org:8443/in#frag"],
    [
      "https://hooks.zapier.com/hooks/standard/1/abc/",
      "https://hooks.zapier.com/hooks/standard/1/abc/",
    ],
  ];
  for (const [given, stored] of cases) {
    const response = await createSubscription(token, {
      target_url: given,
      event_types: ["deal.created"],
    });
    assert.equal(response.status, 201, given);
    const { data } = await response.json();
    assert.equal(data.target_url, stored);
    assert.equal((await storedSubscription(data.id)).target_url, stored);
  }
});

Deno.test("each subscription gets its own secret", async () => {
  const { token } = await newToken();
  const secrets = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const response = await createSubscription(token, CONTRACT_EXAMPLE);
    secrets.add((await response.json()).data.secret);
  }
  assert.equal(secrets.size, 5);
});

Deno.test("limits are inclusive: 2,048-character URL and 500-character description", async () => {
  const { token } = await newToken();
  const base = "https://example.com/";
  const url = base + "a".repeat(2048 - base.length);
  const response = await createSubscription(token, {
    target_url: url,
    event_types: ["deal.created"],
    description: "é".repeat(500),
  });
  assert.equal(response.status, 201);
  const { data } = await response.json();
  assert.equal(data.target_url.length, 2048);
  assert.equal(data.description, "é".repeat(500));
});

const INVALID_BODIES: [string, unknown, string[]][] = [
  ["target_url missing", { event_types: ["contact.created"] }, ["target_url"]],
  ["target_url not a URL", { target_url: "not a url", event_types: ["contact.created"] }, [
    "target_url",
  ]],
  ["target_url relative", { target_url: "/webhook", event_types: ["contact.created"] }, [
    "target_url",
  ]],
  ["target_url ftp", { target_url: "ftp://example.com/x", event_types: ["contact.created"] }, [
    "target_url",
  ]],
  ["target_url javascript", { target_url: "javascript:alert(1)", event_types: ["deal.created"] }, [
    "target_url",
  ]],
  [
    "target_url with credentials",
    { target_url: "https://user:pw@example.com/x", event_types: ["contact.created"] },
    ["target_url"],
  ],
  [
    "target_url with a newline",
    { target_url: "https://exam\nple.com/x", event_types: ["contact.created"] },
    ["target_url"],
  ],
  [
    "target_url over 2,048 characters",
    { target_url: "https://example.com/" + "a".repeat(2029), event_types: ["contact.created"] },
    ["target_url"],
  ],
  ["target_url a number", { target_url: 42, event_types: ["contact.created"] }, ["target_url"]],
  ["event_types missing", { target_url: "https://example.com/x" }, ["event_types"]],
  ["event_types empty", { target_url: "https://example.com/x", event_types: [] }, ["event_types"]],
  ["event_types a string", { target_url: "https://example.com/x", event_types: "deal.created" }, [
    "event_types",
  ]],
  [
    "an unsupported event type",
    { target_url: "https://example.com/x", event_types: ["contact.created", "contact.deleted"] },
    ["event_types[1]"],
  ],
  [
    "an event type that is not a string",
    { target_url: "https://example.com/x", event_types: [7, "deal.created", null] },
    ["event_types[0]", "event_types[2]"],
  ],
  [
    "description over 500 characters",
    { ...CONTRACT_EXAMPLE, description: "x".repeat(501) },
    ["description"],
  ],
  ["description a number", { ...CONTRACT_EXAMPLE, description: 5 }, ["description"]],
  ["description with NUL", { ...CONTRACT_EXAMPLE, description: "a\u0000b" }, ["description"]],
  ["an unknown field", { ...CONTRACT_EXAMPLE, enabled: false }, ["enabled"]],
  [
    "everything wrong at once",
    { target_url: "nope", event_types: [], description: 1, secret: "mine", __proto__x: 1 },
    ["target_url", "event_types", "description", "secret", "__proto__x"],
  ],
];

for (const [name, body, fields] of INVALID_BODIES) {
  Deno.test(`400 invalid_request names the field: ${name}`, async () => {
    const { token, workspaceId } = await newToken();
    const response = await createSubscription(token, body);
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.error, "invalid_request");
    const details = error.details as { field: string; message: string }[];
    assert.deepEqual(new Set(details.map((detail) => detail.field)), new Set(fields));
    for (const detail of details) assert.ok(detail.message.length > 0);
    for (const field of fields) {
      assert.ok(error.message.includes(field.split(/[.[]/)[0]), error.message);
    }
    assert.equal(await subscriptionCount(workspaceId), 0);
  });
}

const UNREADABLE_BODIES: [string, string | Uint8Array<ArrayBuffer>, RegExp][] = [
  ["malformed JSON", '{"target_url": ', /not valid JSON/],
  ["an empty body", "", /empty/],
  ["a JSON array", "[]", /JSON object/],
  ["a JSON string", '"hello"', /JSON object/],
  ["JSON null", "null", /JSON object/],
  ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /UTF-8/],
];

for (const [name, body, message] of UNREADABLE_BODIES) {
  Deno.test(`400 invalid_request for ${name}`, async () => {
    const { token, workspaceId } = await newToken();
    const response = await apiFetch(stack.functionUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body,
    });
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.error, "invalid_request");
    assert.match(error.message, message);
    assert.equal(await subscriptionCount(workspaceId), 0);
  });
}

Deno.test("415 for a body that is not JSON by Content-Type", async () => {
  const { token, workspaceId } = await newToken();
  const json = JSON.stringify(CONTRACT_EXAMPLE);
  for (
    const contentType of [
      null,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=iso-8859-1",
    ]
  ) {
    const headers = new Headers({ Authorization: `Bearer ${token}` });
    const body = new Blob([json], contentType ? { type: contentType } : {});
    if (contentType) headers.set("Content-Type", contentType);
    const response = await apiFetch(stack.functionUrl, { method: "POST", headers, body });
    assert.equal(response.status, 415, String(contentType));
    assert.equal((await errorOf(response)).error, "unsupported_media_type");
  }
  assert.equal(await subscriptionCount(workspaceId), 0);

  for (const contentType of ["application/json; charset=utf-8", "APPLICATION/JSON"]) {
    const response = await createSubscription(token, CONTRACT_EXAMPLE, {
      headers: { "Content-Type": contentType },
    });
    assert.equal(response.status, 201, contentType);
    await response.body?.cancel();
  }
});

function paddedBody(totalBytes: number): string {
  const json = JSON.stringify(CONTRACT_EXAMPLE);
  return json.slice(0, -1) + " ".repeat(totalBytes - json.length) + "}";
}

Deno.test("413 above 64 KiB with Content-Length; exactly 64 KiB is accepted", async () => {
  const { token, workspaceId } = await newToken();
  const atLimit = await createSubscription(token, paddedBody(65536));
  assert.equal(atLimit.status, 201);
  await atLimit.body?.cancel();

  const over = await createSubscription(token, paddedBody(65537));
  assert.equal(over.status, 413);
  const error = await errorOf(over);
  assert.equal(error.error, "payload_too_large");
  assert.equal(error.max_bytes, 65536);
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("413 above 64 KiB for a chunked body without Content-Length", async () => {
  const { token, workspaceId } = await newToken();
  const bytes = new TextEncoder().encode(paddedBody(200_000));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 8192) {
        controller.enqueue(bytes.slice(offset, offset + 8192));
      }
      controller.close();
    },
  });
  const response = await apiFetch(stack.functionUrl, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: stream,
  });
  assert.equal(response.status, 413);
  assert.equal((await errorOf(response)).error, "payload_too_large");
  assert.equal(await subscriptionCount(workspaceId), 0);
});

Deno.test("a trailing slash on the collection URL works the same", async () => {
  const { token } = await newToken();
  const response = await createSubscription(token, CONTRACT_EXAMPLE, { path: "/" });
  assert.equal(response.status, 201);
  await response.body?.cancel();
});

Deno.test("404 and 405 come only after authentication and webhooks:read", async () => {
  const writeOnly = await newToken({ scopes: ["webhooks:write"] });
  for (const [method, path] of [["PUT", ""], ["DELETE", ""], ["GET", "/nope/deeper"]]) {
    const anonymous = await apiFetch(`${stack.functionUrl}${path}`, { method });
    assert.equal(anonymous.status, 401, `${method} ${path}`);
    assert.equal((await errorOf(anonymous)).error, "unauthorized");
    const noRead = await apiFetch(`${stack.functionUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${writeOnly.token}` },
    });
    assert.equal(noRead.status, 403, `${method} ${path}`);
    assert.equal((await errorOf(noRead)).missing_scope, "webhooks:read");
  }
});

Deno.test("a small hostile body cannot buy a huge error response", async () => {
  const { token, workspaceId } = await newToken();
  const manyBadItems = {
    target_url: "https://example.com/x",
    event_types: Array.from({ length: 6000 }, (_, i) => `bad.${i}`),
  };
  const manyUnknownKeys = Object.fromEntries(
    Array.from({ length: 2000 }, (_, i) => [`k${i}${"x".repeat(i % 50 ? 0 : 500)}`, 1]),
  );
  for (const body of [manyBadItems, { ...CONTRACT_EXAMPLE, ...manyUnknownKeys }]) {
    const response = await createSubscription(token, body);
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.ok(text.length < 8192, `error response of ${text.length} bytes`);
    assert.ok(!text.includes("x".repeat(65)), "long keys are not echoed whole");
    const error = JSON.parse(text);
    assert.equal(error.details.length, 20);
    assert.equal(error.details_truncated, true);
  }
  assert.equal(await subscriptionCount(workspaceId), 0);
});

Deno.test("unknown paths answer a JSON 404", async () => {
  const { token } = await newToken();
  for (const path of ["/nope/deeper", "/a/b/c", "/00000000-0000-4000-8000-000000000000/x"]) {
    const response = await apiFetch(`${stack.functionUrl}${path}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 404, path);
    assert.equal((await errorOf(response)).error, "not_found");
  }
});

Deno.test("other methods on the collection answer a JSON 405 with Allow", async () => {
  const { token, workspaceId } = await newToken();
  for (const method of ["PUT", "PATCH", "DELETE"]) {
    const response = await apiFetch(stack.functionUrl, {
      method,
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET, POST");
    assert.equal((await errorOf(response)).error, "method_not_allowed");
  }
  assert.equal(await subscriptionCount(workspaceId), 0);
});
