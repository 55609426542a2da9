import assert from "node:assert/strict";
import {
  apiFetch,
  CONTRACT_EXAMPLE,
  createSubscription,
  errorOf,
  newToken,
  sql,
  stack,
  subscriptionCount,
} from "./helpers/stack.ts";

Deno.test("a token of workspace B never sees or changes workspace A's subscriptions", async () => {
  const a = await newToken();
  const b = await newToken();
  const created = await createSubscription(a.token, CONTRACT_EXAMPLE);
  assert.equal(created.status, 201);
  const aSubscription = (await created.json()).data;
  const aRowBefore = await sql("select * from public.webhook_subscriptions where id = $1", [
    aSubscription.id,
  ]);

  const call = async (token: string, method: string, suffix = "", body?: unknown) => {
    const response = await apiFetch(`${stack.functionUrl}/${aSubscription.id}${suffix}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(!text.includes(aSubscription.secret), "A's secret leaked");
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  const unknownId = crypto.randomUUID();
  const notFoundForUnknown = await apiFetch(`${stack.functionUrl}/${unknownId}`, {
    headers: { Authorization: `Bearer ${b.token}` },
  });
  const unknownBody = await errorOf(notFoundForUnknown);
  for (
    const [method, suffix, body] of [
      ["GET", "", undefined],
      ["PATCH", "", { enabled: false, target_url: "https://attacker.example/x" }],
      ["DELETE", "", undefined],
      ["POST", "/rotate-secret", undefined],
    ] as const
  ) {
    const answer = await call(b.token, method, suffix, body);
    assert.equal(answer.status, 404, `${method}${suffix}`);
    assert.deepEqual(answer.body, unknownBody, "the same answer as for an id that exists nowhere");
  }

  const list = await apiFetch(stack.functionUrl, {
    headers: { Authorization: `Bearer ${b.token}` },
  });
  assert.deepEqual((await list.json()).data, [], "B's list does not include A's subscription");

  const aRowAfter = await sql("select * from public.webhook_subscriptions where id = $1", [
    aSubscription.id,
  ]);
  assert.deepEqual(aRowAfter, aRowBefore, "A's row is untouched");
  const own = await call(a.token, "GET");
  assert.equal(own.status, 200, "A still sees its subscription");
  assert.equal(await subscriptionCount(b.workspaceId), 0);
});

Deno.test("B's create lands in B's workspace; a workspace cannot be chosen through the body", async () => {
  const a = await newToken();
  const b = await newToken();
  const fromB = await createSubscription(b.token, CONTRACT_EXAMPLE);
  assert.equal(fromB.status, 201);
  const [row] = await sql<{ workspace_id: string }>(
    "select workspace_id from public.webhook_subscriptions where id = $1",
    [(await fromB.json()).data.id],
  );
  assert.equal(row.workspace_id, b.workspaceId);

  const smuggled = await createSubscription(b.token, {
    ...CONTRACT_EXAMPLE,
    workspace_id: a.workspaceId,
  });
  assert.equal(smuggled.status, 400);
  assert.deepEqual(
    ((await errorOf(smuggled)).details as { field: string }[]).map((d) => d.field),
    ["workspace_id"],
  );
  assert.equal(await subscriptionCount(a.workspaceId), 0);
  assert.equal(await subscriptionCount(b.workspaceId), 1);
});
