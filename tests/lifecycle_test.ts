import assert from "node:assert/strict";
import { newToken, sql } from "./helpers/stack.ts";
import { call, created } from "./helpers/subscriptions.ts";

/** The subscription as GET shows it: no secret, and why it is disabled (never, when just made). */
const withoutSecret = ({ secret: _, ...rest }: Record<string, unknown>) => ({
  ...rest,
  disabled_reason: null,
  disabled_at: null,
});

Deno.test("GET /{id} returns the subscription without its secret", async () => {
  const { token } = await newToken();
  const subscription = await created(token);
  const got = await call(token, "GET", `/${subscription.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, { data: withoutSecret(subscription) });
  assert.ok(!got.text.includes(subscription.secret));
  // Ids are case-insensitive, as UUIDs are.
  assert.equal((await call(token, "GET", `/${subscription.id.toUpperCase()}`)).status, 200);
});

Deno.test("malformed, unknown and deleted ids all answer the same 404", async () => {
  const { token } = await newToken();
  const subscription = await created(token);
  assert.equal((await call(token, "DELETE", `/${subscription.id}`)).status, 204);
  const answers = [];
  for (
    const id of ["not-a-uuid", "12345", crypto.randomUUID(), subscription.id, "%00", "'%20or%201=1"]
  ) {
    for (
      const [method, suffix] of [["GET", ""], ["PATCH", ""], ["DELETE", ""], [
        "POST",
        "/rotate-secret",
      ]]
    ) {
      const answer = await call(
        token,
        method,
        `/${id}${suffix}`,
        method === "PATCH" ? { enabled: false } : undefined,
      );
      assert.equal(answer.status, 404, `${method} ${id}${suffix}`);
      answers.push(JSON.stringify(answer.body));
    }
  }
  assert.equal(new Set(answers).size, 1);
  assert.equal(JSON.parse(answers[0]).error, "not_found");
});

Deno.test("GET / lists the workspace's subscriptions newest first, without secrets", async () => {
  const { token } = await newToken();
  const ids = [];
  const secrets = [];
  for (let i = 0; i < 3; i++) {
    const subscription = await created(token, { description: `#${i}` });
    ids.push(subscription.id);
    secrets.push(subscription.secret);
  }
  const list = await call(token, "GET");
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((s: { id: string }) => s.id), ids.toReversed());
  assert.equal(list.body.has_more, false);
  assert.equal(list.body.next_cursor, null);
  for (const secret of secrets) assert.ok(!list.text.includes(secret));
});

Deno.test("cursor pagination walks every subscription exactly once, even with equal timestamps", async () => {
  const { token, workspaceId } = await newToken();
  for (let i = 0; i < 7; i++) await created(token, { description: `#${i}` });
  // Give three rows the very same created_at, so only the id breaks the tie.
  await sql(
    `update public.webhook_subscriptions set created_at = '2026-01-01T00:00:00.123456Z'
      where id in (select id from public.webhook_subscriptions where workspace_id = $1 limit 3)`,
    [workspaceId],
  );
  const expected = (await sql<{ id: string }>(
    `select id from public.webhook_subscriptions where workspace_id = $1
      order by created_at desc, id desc`,
    [workspaceId],
  )).map((row) => row.id);

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await call(token, "GET", query);
    assert.equal(page.status, 200);
    assert.ok(page.body.data.length <= 2);
    seen.push(...page.body.data.map((s: { id: string }) => s.id));
    assert.equal(page.body.has_more, page.body.next_cursor !== null);
    cursor = page.body.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  assert.deepEqual(seen, expected);
  assert.equal(pages, 4);
});

Deno.test("list filters: enabled and event_type; limit defaults to 20 and caps at 100", async () => {
  const { token } = await newToken();
  const deals = await created(token, { event_types: ["deal.created", "deal.updated"] });
  const contacts = await created(token, { event_types: ["contact.created"] });
  assert.equal((await call(token, "PATCH", `/${contacts.id}`, { enabled: false })).status, 200);

  const ids = async (query: string) =>
    (await call(token, "GET", query)).body.data.map((s: { id: string }) => s.id);
  assert.deepEqual(await ids("?enabled=true"), [deals.id]);
  assert.deepEqual(await ids("?enabled=false"), [contacts.id]);
  assert.deepEqual(await ids("?event_type=deal.updated"), [deals.id]);
  assert.deepEqual(await ids("?event_type=contact.created&enabled=false"), [contacts.id]);
  assert.deepEqual(await ids("?event_type=contact.note_added"), []);

  for (let i = 0; i < 21; i++) await created(token);
  const firstPage = await call(token, "GET");
  assert.equal(firstPage.body.data.length, 20);
  assert.equal(firstPage.body.has_more, true);
  assert.equal((await call(token, "GET", "?limit=100")).body.data.length, 23);
});

const BAD_QUERIES: [string, string][] = [
  ["?limit=0", "limit"],
  ["?limit=101", "limit"],
  ["?limit=-1", "limit"],
  ["?limit=2.5", "limit"],
  ["?limit=abc", "limit"],
  ["?limit=", "limit"],
  ["?limit=1&limit=2", "limit"],
  ["?enabled=yes", "enabled"],
  ["?event_type=contact.deleted", "event_type"],
  ["?cursor=not-a-cursor", "cursor"],
  ["?cursor=" + btoa('["2026-01-01T00:00:00Z\\",id.gt.0","x"]'), "cursor"],
  ["?cursor=" + btoa('["2026-01-01T00:00:00Z","00000000-0000-0000-0000-00000000000)"]'), "cursor"],
  ["?sort=asc", "sort"],
];

for (const [query, field] of BAD_QUERIES) {
  Deno.test(`GET / refuses ${query} with a 400 naming ${field}`, async () => {
    const { token } = await newToken();
    const answer = await call(token, "GET", query);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, "invalid_request");
    assert.ok(answer.body.details.some((d: { field: string }) => d.field === field), answer.text);
  });
}

Deno.test("PATCH changes each field with create's rules and returns the subscription", async () => {
  const { token } = await newToken();
  const subscription = await created(token);
  const patched = await call(token, "PATCH", `/${subscription.id}`, {
    target_url: "HTTPS://Receiver.Example.com/new",
    event_types: ["deal.updated", "deal.updated", "contact.enriched"],
    description: null,
    enabled: false,
  });
  assert.equal(patched.status, 200);
  const { disabled_at } = patched.body.data;
  assert.deepEqual(patched.body.data, {
    ...withoutSecret(subscription),
    target_url: "https://receiver.example.com/new",
    event_types: ["deal.updated", "contact.enriched"],
    description: null,
    enabled: false,
    disabled_reason: "manual",
    disabled_at,
  });
  assert.ok(Math.abs(Date.parse(disabled_at) - Date.now()) < 5000, disabled_at);
  assert.ok(!patched.text.includes(subscription.secret));

  const renamed = await call(token, "PATCH", `/${subscription.id}`, { description: "Renamed" });
  assert.equal(renamed.body.data.description, "Renamed");
  assert.equal(renamed.body.data.enabled, false, "fields not sent stay as they were");
  assert.equal(renamed.body.data.disabled_at, disabled_at);

  const enabledAgain = await call(token, "PATCH", `/${subscription.id}`, { enabled: true });
  assert.equal(enabledAgain.body.data.disabled_reason, null, "enabling clears the reason");
  assert.equal(enabledAgain.body.data.disabled_at, null);
  assert.equal(
    (await call(token, "PATCH", `/${subscription.id}`, { enabled: false })).status,
    200,
  );

  const [row] = await sql<Record<string, unknown>>(
    "select * from public.webhook_subscriptions where id = $1",
    [subscription.id],
  );
  assert.equal(row.target_url, "https://receiver.example.com/new");
  assert.deepEqual(row.event_types, ["deal.updated", "contact.enriched"]);
  assert.equal(row.description, "Renamed");
  assert.equal(row.enabled, false);
  assert.equal(row.secret, subscription.secret, "PATCH never touches the secret");
  assert.ok((row.updated_at as Date).getTime() > (row.created_at as Date).getTime());
});

const BAD_PATCHES: [string, unknown, string[]][] = [
  ["an empty object", {}, ["body"]],
  ["an unknown field", { secret: "0".repeat(64) }, ["secret"]],
  ["id", { id: crypto.randomUUID() }, ["id"]],
  ["a bad URL", { target_url: "ftp://x" }, ["target_url"]],
  ["empty event_types", { event_types: [] }, ["event_types"]],
  ["a bad event type", { event_types: ["deal.deleted"] }, ["event_types[0]"]],
  ["enabled as a string", { enabled: "false" }, ["enabled"]],
  ["a long description", { description: "x".repeat(501) }, ["description"]],
];

for (const [name, body, fields] of BAD_PATCHES) {
  Deno.test(`PATCH refuses ${name} with a 400 and changes nothing`, async () => {
    const { token } = await newToken();
    const subscription = await created(token);
    const [before] = await sql("select * from public.webhook_subscriptions where id = $1", [
      subscription.id,
    ]);
    const answer = await call(token, "PATCH", `/${subscription.id}`, body);
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.body.details.map((d: { field: string }) => d.field), fields);
    const [after] = await sql("select * from public.webhook_subscriptions where id = $1", [
      subscription.id,
    ]);
    assert.deepEqual(after, before);
  });
}

Deno.test("DELETE answers 204; afterwards GET and a second DELETE are 404", async () => {
  const { token, workspaceId } = await newToken();
  const subscription = await created(token);
  const keep = await created(token);
  const deleted = await call(token, "DELETE", `/${subscription.id}`);
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, "");
  assert.equal((await call(token, "GET", `/${subscription.id}`)).status, 404);
  assert.equal((await call(token, "DELETE", `/${subscription.id}`)).status, 404);
  const rows = await sql<{ id: string }>(
    "select id from public.webhook_subscriptions where workspace_id = $1",
    [workspaceId],
  );
  assert.deepEqual(rows.map((row) => row.id), [keep.id]);
});

Deno.test("rotate-secret returns a new secret once and keeps the previous one for 24 hours", async () => {
  const { token } = await newToken();
  const subscription = await created(token);
  const before = Date.now();
  const rotated = await call(token, "POST", `/${subscription.id}/rotate-secret`);
  assert.equal(rotated.status, 200);
  assert.equal(rotated.headers.get("cache-control"), "no-store");
  const { secret, previous_secret_expires_at, ...rest } = rotated.body.data;
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.notEqual(secret, subscription.secret);
  assert.deepEqual(rest, withoutSecret(subscription));
  const expiresAt = Date.parse(previous_secret_expires_at);
  assert.ok(Math.abs(expiresAt - (before + 24 * 3600 * 1000)) < 5000, previous_secret_expires_at);
  assert.ok(!rotated.text.includes(subscription.secret), "the old secret is not sent back");

  const [row] = await sql<Record<string, unknown>>(
    "select secret, previous_secret, previous_secret_expires_at from public.webhook_subscriptions where id = $1",
    [subscription.id],
  );
  assert.equal(row.secret, secret);
  assert.equal(row.previous_secret, subscription.secret);
  assert.equal(
    Math.floor((row.previous_secret_expires_at as Date).getTime() / 1000) * 1000,
    expiresAt,
  );

  for (const [method, path] of [["GET", `/${subscription.id}`], ["GET", ""]]) {
    const answer = await call(token, method, path);
    assert.ok(!answer.text.includes(secret) && !answer.text.includes(subscription.secret));
  }
});

Deno.test("webhooks:read lists and gets; every change needs webhooks:write", async () => {
  const writer = await newToken();
  const subscription = await created(writer.token);
  const reader = await newToken({ workspaceId: writer.workspaceId, scopes: ["webhooks:read"] });
  assert.equal((await call(reader.token, "GET")).status, 200);
  assert.equal((await call(reader.token, "GET", `/${subscription.id}`)).status, 200);
  for (
    const [method, path, body] of [
      ["POST", "", { target_url: "https://example.com/x", event_types: ["deal.created"] }],
      ["PATCH", `/${subscription.id}`, { enabled: false }],
      ["DELETE", `/${subscription.id}`, undefined],
      ["POST", `/${subscription.id}/rotate-secret`, undefined],
    ] as const
  ) {
    const answer = await call(reader.token, method, path, body);
    assert.equal(answer.status, 403, `${method} ${path}`);
    assert.equal(answer.body.missing_scope, "webhooks:write");
  }
  const [row] = await sql<Record<string, unknown>>(
    "select enabled, secret from public.webhook_subscriptions where id = $1",
    [subscription.id],
  );
  assert.deepEqual(row, { enabled: true, secret: subscription.secret });

  const writeOnly = await newToken({ workspaceId: writer.workspaceId, scopes: ["webhooks:write"] });
  for (const [method, path] of [["GET", ""], ["DELETE", `/${subscription.id}`]]) {
    const answer = await call(writeOnly.token, method, path);
    assert.equal(answer.status, 403);
    assert.equal(answer.body.missing_scope, "webhooks:read");
  }
});

Deno.test("405 with Allow on each resource path", async () => {
  const { token } = await newToken();
  const subscription = await created(token);
  for (
    const [method, path, allow] of [
      ["PUT", `/${subscription.id}`, "GET, PATCH, DELETE"],
      ["POST", `/${subscription.id}`, "GET, PATCH, DELETE"],
      ["GET", `/${subscription.id}/rotate-secret`, "POST"],
    ]
  ) {
    const answer = await call(token, method, path);
    assert.equal(answer.status, 405, `${method} ${path}`);
    assert.equal(answer.headers.get("allow"), allow);
  }
});

Deno.test("a cursor with an impossible date is a 400, not a 500 (found by the hostile suite)", async () => {
  const { token } = await newToken();
  for (
    const createdAt of [
      "0000-00-00T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-01-01T24:00:00Z",
      // Offsets Postgres refuses (it writes and reads at most ±15:59).
      "2026-01-01T00:00:00+16:00",
      "2026-01-01T00:00:00+05:60",
    ]
  ) {
    const cursor = btoa(JSON.stringify([createdAt, "00000000-0000-1000-8000-000000000000"]))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const answer = await call(token, "GET", `?cursor=${cursor}`);
    assert.equal(answer.status, 400, createdAt);
    assert.equal(answer.body.details[0].field, "cursor");
  }
  // A database whose time zone is not UTC writes offsets; its cursors page like any other.
  const offset = btoa(JSON.stringify(["2026-01-01T05:00:00.123456+05:00", crypto.randomUUID()]))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  assert.equal((await call(token, "GET", `?cursor=${offset}`)).status, 200);
});

Deno.test("query parameters named like Object's own properties are unknown, not repeated", async () => {
  const { token } = await newToken();
  for (const name of ["toString", "__proto__", "constructor", "hasOwnProperty"]) {
    const answer = await call(token, "GET", `?${name}=1`);
    assert.equal(answer.status, 400, name);
    assert.deepEqual(answer.body.details, [
      { field: name, message: `${name} is not a known parameter.` },
    ]);
  }
});
