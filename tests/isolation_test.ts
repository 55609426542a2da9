import assert from "node:assert/strict";
import {
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
  const [aRowBefore] = await sql("select * from public.webhook_subscriptions where id = $1", [
    aSubscription.id,
  ]);

  for (const method of ["GET", "PATCH", "DELETE", "POST", "PUT"]) {
    const response = await fetch(`${stack.functionUrl}/${aSubscription.id}`, {
      method,
      headers: { Authorization: `Bearer ${b.token}`, "Content-Type": "application/json" },
      body: method === "GET" || method === "DELETE"
        ? undefined
        : JSON.stringify({ enabled: false }),
    });
    assert.equal(response.status, 404, method);
    const text = await response.text();
    assert.ok(!text.includes(aSubscription.secret));
    assert.equal(JSON.parse(text).error, "not_found");
  }

  const fromB = await createSubscription(b.token, { ...CONTRACT_EXAMPLE, description: "B's" });
  assert.equal(fromB.status, 201);
  const bSubscription = (await fromB.json()).data;
  const [bRow] = await sql<{ workspace_id: string }>(
    "select workspace_id from public.webhook_subscriptions where id = $1",
    [bSubscription.id],
  );
  assert.equal(bRow.workspace_id, b.workspaceId, "B's create lands in B's workspace");
  assert.notEqual(bSubscription.id, aSubscription.id);

  const [aRowAfter] = await sql("select * from public.webhook_subscriptions where id = $1", [
    aSubscription.id,
  ]);
  assert.deepEqual(aRowAfter, aRowBefore);
  assert.equal(await subscriptionCount(a.workspaceId), 1);
  assert.equal(await subscriptionCount(b.workspaceId), 1);
});

Deno.test("a workspace cannot be chosen through the body", async () => {
  const a = await newToken();
  const b = await newToken();
  const response = await createSubscription(b.token, {
    ...CONTRACT_EXAMPLE,
    workspace_id: a.workspaceId,
  });
  assert.equal(response.status, 400);
  assert.deepEqual(
    ((await errorOf(response)).details as { field: string }[]).map((d) => d.field),
    ["workspace_id"],
  );
  assert.equal(await subscriptionCount(a.workspaceId), 0);
  assert.equal(await subscriptionCount(b.workspaceId), 0);
});
