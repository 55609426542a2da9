/**
 * Zapier's REST Hook trigger, end to end: the integration in tests/zapier/app.ts runs in Zapier's
 * own runtime (zapier-platform-core's app tester, one process per invocation: tests/zapier/invoke.ts)
 * against the test stack.
 */
import assert from "node:assert/strict";
import {
  apiFetch,
  newToken,
  sql,
  stack,
  subscriptionCount,
  type SubscriptionRow,
} from "./helpers/stack.ts";
import {
  App,
  NEW_CONTACT_EVENT,
  SAMPLE_CONTACT_CREATED,
  type SubscribeData,
  SUBSCRIPTION_DESCRIPTION,
} from "./zapier/app.ts";
import { invokeZapier, ZapierRuntimeError } from "./zapier/invoke.ts";
import { Webhook } from "standardwebhooks";
import { emit, settled, startReceiver } from "./helpers/receiver.ts";

const METHODS = {
  connectionTest: "authentication.test",
  subscribe: "triggers.new_contact.operation.performSubscribe",
  unsubscribe: "triggers.new_contact.operation.performUnsubscribe",
  perform: "triggers.new_contact.operation.perform",
  performList: "triggers.new_contact.operation.performList",
} as const;

/** Runs one method of the integration in Zapier's runtime, against the stack unless told. */
function zapierRun<T = unknown>(
  method: keyof typeof METHODS,
  bundle: Record<string, unknown>,
  apiUrl = stack.functionUrl,
): Promise<T> {
  return invokeZapier<T>({ method: METHODS[method], bundle }, apiUrl);
}

/** A hook URL shaped like the ones Zapier hands to performSubscribe as bundle.targetUrl. */
const zapierHookUrl = () =>
  `https://hooks.zapier.com/hooks/standard/1234567/${crypto.randomUUID().replaceAll("-", "")}/`;

/** The error an invocation failed with. */
async function failureOf(call: Promise<unknown>): Promise<ZapierRuntimeError> {
  const error = await call.then(
    (result) => assert.fail(`expected the call to fail, got ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ZapierRuntimeError, String(error));
  return error;
}

/** How z.request reports a 4xx/5xx answer: a ResponseError whose message is JSON. */
async function responseErrorOf(call: Promise<unknown>) {
  const error = await failureOf(call);
  assert.equal(error.name, "ResponseError", error.message);
  const { status, content, request } = JSON.parse(error.message);
  return { status: status as number, body: JSON.parse(content), url: request.url as string };
}

const rowsOf = (workspaceId: string) =>
  sql<SubscriptionRow>(
    `select id, target_url, event_types, description, secret, enabled, created_at
       from public.webhook_subscriptions where workspace_id = $1`,
    [workspaceId],
  );

Deno.test("the integration is valid for Zapier and built for the installed zapier-platform-core", async () => {
  const validation = await invokeZapier<{ errors: unknown[]; platformVersion: string }>(
    { command: "validate" },
    stack.functionUrl,
  );
  assert.deepEqual(validation.errors, []);
  assert.equal(App.platformVersion, validation.platformVersion);
});

Deno.test("the connection test passes with a valid token and fails with a bad one", async () => {
  const { token } = await newToken();
  const page = await zapierRun("connectionTest", { authData: { api_token: token } });
  assert.deepEqual(page, { data: [], has_more: false, next_cursor: null });

  // Whitespace around a pasted token does not matter.
  await zapierRun("connectionTest", { authData: { api_token: ` ${token}\n` } });

  for (const api_token of [`wtos_${"A".repeat(43)}`, "not-a-token", ""]) {
    const failure = await responseErrorOf(zapierRun("connectionTest", { authData: { api_token } }));
    assert.equal(failure.status, 401, api_token);
    assert.equal(failure.body.error, "unauthorized");
  }

  const { token: writeOnly } = await newToken({ scopes: ["webhooks:write"] });
  const failure = await responseErrorOf(
    zapierRun("connectionTest", { authData: { api_token: writeOnly } }),
  );
  assert.equal(failure.status, 403);
  assert.deepEqual([failure.body.error, failure.body.missing_scope], [
    "forbidden",
    "webhooks:read",
  ]);
});

Deno.test("subscribe, then unsubscribe with the stored subscribe response, end to end", async () => {
  const { token, workspaceId } = await newToken();
  const targetUrl = zapierHookUrl();
  const authData = { api_token: token };

  // The Zap is turned on.
  const subscribeData = await zapierRun<SubscribeData>("subscribe", {
    authData,
    targetUrl,
    inputData: {},
  });
  const rows = await rowsOf(workspaceId);
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.deepEqual(row, {
    id: subscribeData.data.id,
    target_url: targetUrl,
    event_types: [NEW_CONTACT_EVENT],
    description: SUBSCRIPTION_DESCRIPTION,
    secret: subscribeData.data.secret,
    enabled: true,
    created_at: row.created_at,
  });
  // What Zapier stores as bundle.subscribeData: the 201 body as it is, the id at data.id.
  assert.deepEqual(
    subscribeData,
    {
      data: {
        id: row.id,
        target_url: targetUrl,
        event_types: [NEW_CONTACT_EVENT],
        secret: row.secret,
        enabled: true,
        description: SUBSCRIPTION_DESCRIPTION,
        created_at: row.created_at.toISOString().replace(/\.\d{3}Z$/, "Z"),
      },
    } satisfies SubscribeData,
  );

  // The Zap is turned off: Zapier hands the stored subscribe response back as subscribeData.
  const unsubscribed = await zapierRun("unsubscribe", { authData, targetUrl, subscribeData });
  assert.deepEqual(unsubscribed, { id: row.id });
  assert.equal(await subscriptionCount(workspaceId), 0);
  const gone = await apiFetch(`${stack.functionUrl}/${row.id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(gone.status, 404);
  assert.equal((await gone.json()).error, "not_found");

  // Unsubscribing again: the API answers 404, and z.request (throwForStatus, on by default) turns
  // it into an error.
  const again = await responseErrorOf(zapierRun("unsubscribe", { authData, subscribeData }));
  assert.equal(again.status, 404);
  assert.equal(again.body.error, "not_found");
  assert.equal(again.url, `${stack.functionUrl}/${row.id}`);
});

Deno.test("a token without webhooks:write connects but can neither subscribe nor unsubscribe", async () => {
  const { token: writer, workspaceId } = await newToken();
  const { token: reader } = await newToken({ workspaceId, scopes: ["webhooks:read"] });

  // The connection test needs webhooks:read only, so it cannot tell.
  await zapierRun("connectionTest", { authData: { api_token: reader } });

  const refused = await responseErrorOf(
    zapierRun("subscribe", { authData: { api_token: reader }, targetUrl: zapierHookUrl() }),
  );
  assert.equal(refused.status, 403);
  assert.deepEqual(
    [refused.body.error, refused.body.missing_scope],
    ["forbidden", "webhooks:write"],
  );
  assert.equal(await subscriptionCount(workspaceId), 0);

  const subscribeData = await zapierRun("subscribe", {
    authData: { api_token: writer },
    targetUrl: zapierHookUrl(),
  });
  const notDeleted = await responseErrorOf(
    zapierRun("unsubscribe", { authData: { api_token: reader }, subscribeData }),
  );
  assert.equal(notDeleted.status, 403);
  assert.equal(notDeleted.body.missing_scope, "webhooks:write");
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("another workspace's connection cannot unsubscribe a subscription", async () => {
  const owner = await newToken();
  const stranger = await newToken();
  const subscribeData = await zapierRun("subscribe", {
    authData: { api_token: owner.token },
    targetUrl: zapierHookUrl(),
  });
  const failure = await responseErrorOf(
    zapierRun("unsubscribe", { authData: { api_token: stranger.token }, subscribeData }),
  );
  assert.equal(failure.status, 404);
  assert.equal(await subscriptionCount(owner.workspaceId), 1);
});

Deno.test("unsubscribe takes the id from data.id and refuses subscribe data without one", async () => {
  const { token, workspaceId } = await newToken();
  const subscribeData = await zapierRun<SubscribeData>("subscribe", {
    authData: { api_token: token },
    targetUrl: zapierHookUrl(),
  });
  // `{ id }` at the top level, as zapier-platform-core's Bundle type suggests, is not this API's.
  for (const wrong of [{ id: subscribeData.data.id }, {}, { data: { id: "" } }]) {
    const error = await failureOf(
      zapierRun("unsubscribe", { authData: { api_token: token }, subscribeData: wrong }),
    );
    assert.equal(error.name, "AppError", JSON.stringify(wrong));
    assert.equal(JSON.parse(error.message).code, "missing_subscription_id");
  }
  assert.equal(await subscriptionCount(workspaceId), 1);
});

Deno.test("a contact created reaches the Zap: subscribe through the app, a signed delivery, perform makes the item; a 410 from Zapier disables", async () => {
  // The receiver stands in for hooks.zapier.com: Zapier answers 410 once the Zap is gone.
  let zapTurnedOff = false;
  const zapier = startReceiver(() =>
    zapTurnedOff ? new Response(null, { status: 410 }) : Response.json({ status: "success" })
  );
  try {
    const { token, workspaceId } = await newToken();
    const authData = { api_token: token };
    const targetUrl = zapierHookUrl();
    const subscribeData = await zapierRun<SubscribeData>("subscribe", {
      authData,
      targetUrl,
      inputData: {},
    });
    // hooks.zapier.com is this receiver here (the test API refuses loopback targets).
    await sql("update public.webhook_subscriptions set target_url = $2 where id = $1", [
      subscribeData.data.id,
      `${zapier.origin}/hooks/standard/1/abc/`,
    ]);

    const contact = { id: crypto.randomUUID(), email: "grace@example.com", tags: ["vip"] };
    const eventId = await emit(workspaceId, NEW_CONTACT_EVENT, contact);
    const [delivery] = await zapier.waitFor(1);
    const verified = new Webhook(subscribeData.data.secret, { format: "raw" }).verify(
      delivery.body,
      delivery.headers,
    );
    const items = await zapierRun<unknown[]>("perform", {
      authData,
      cleanedRequest: JSON.parse(delivery.body),
      rawRequest: { method: "POST", content: delivery.body, headers: delivery.headers },
    });
    assert.deepEqual(items, [verified]);
    assert.deepEqual(items, [{
      id: eventId,
      type: NEW_CONTACT_EVENT,
      timestamp: (items[0] as { timestamp: string }).timestamp,
      workspace_id: workspaceId,
      data: contact,
    }]);
    assert.deepEqual(
      Object.keys(items[0] as object),
      Object.keys(SAMPLE_CONTACT_CREATED),
      "the sample has a real delivery's shape",
    );

    // The Zap turned off through the app: the subscription is gone, nothing more is sent.
    await zapierRun("unsubscribe", { authData, targetUrl, subscribeData });
    assert.equal(await subscriptionCount(workspaceId), 0);
    await emit(workspaceId, NEW_CONTACT_EVENT, { id: "after unsubscribe" });

    // A Zap deleted on Zapier's side: its hook answers 410, and the subscription is disabled.
    const second = await zapierRun<SubscribeData>("subscribe", {
      authData,
      targetUrl: zapierHookUrl(),
      inputData: {},
    });
    await sql("update public.webhook_subscriptions set target_url = $2 where id = $1", [
      second.data.id,
      `${zapier.origin}/hooks/standard/1/def/`,
    ]);
    zapTurnedOff = true;
    await emit(workspaceId, NEW_CONTACT_EVENT, { id: "zap deleted" });
    await settled(second.data.id, 1);
    const [row] = await sql<{ enabled: boolean; disabled_reason: string }>(
      "select enabled, disabled_reason from public.webhook_subscriptions where id = $1",
      [second.data.id],
    );
    assert.deepEqual({ ...row }, { enabled: false, disabled_reason: "target_gone" });
    assert.deepEqual(zapier.requests.map((r) => r.path), [
      "/hooks/standard/1/abc/",
      "/hooks/standard/1/def/",
    ]);
  } finally {
    await zapier.close();
  }
});

Deno.test("perform passes a delivery through as one result; performList gives the sample", async () => {
  const delivery = {
    id: crypto.randomUUID(),
    type: NEW_CONTACT_EVENT,
    timestamp: "2026-11-27T09:15:00.000Z",
    workspace_id: crypto.randomUUID(),
    data: { id: crypto.randomUUID(), email: "grace@example.com", tags: ["vip", "lead"] },
  };
  const results = await zapierRun("perform", {
    cleanedRequest: delivery,
    rawRequest: { method: "POST", content: JSON.stringify(delivery), headers: {} },
  });
  assert.deepEqual(results, [delivery]);

  // Zapier's output checks are on (tests/zapier/test-mode.ts): a delivery that is not a JSON
  // object fails the run.
  const check = await failureOf(zapierRun("perform", { cleanedRequest: "not an object" }));
  assert.equal(check.name, "CheckError");
  assert.match(check.message, /expected only objects/);

  assert.deepEqual(await zapierRun("performList", {}), [SAMPLE_CONTACT_CREATED]);
  assert.deepEqual(App.triggers.new_contact.operation.sample, SAMPLE_CONTACT_CREATED);
});

Deno.test("the token goes to the WundertreOS API only, and subscribe sends the contract's body", async () => {
  const seen: { method: string; path: string; headers: Headers; body: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    seen.push({
      method: request.method,
      path: new URL(request.url).pathname,
      headers: request.headers,
      body: await request.text(),
    });
    return Response.json({ data: { id: crypto.randomUUID() } }, { status: 201 });
  });
  try {
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const apiUrl = `${origin}/functions/v1/api-webhook-subscriptions`;
    const authData = { api_token: `wtos_${"B".repeat(43)}` };
    const targetUrl = zapierHookUrl();
    await zapierRun("subscribe", { authData, targetUrl }, apiUrl);
    assert.equal(seen.length, 1);
    const [subscribe] = seen;
    assert.equal(subscribe.method, "POST");
    assert.equal(subscribe.path, "/functions/v1/api-webhook-subscriptions");
    assert.equal(subscribe.headers.get("authorization"), `Bearer ${authData.api_token}`);
    assert.match(subscribe.headers.get("content-type") ?? "", /^application\/json\b/);
    assert.deepEqual(JSON.parse(subscribe.body), {
      target_url: targetUrl,
      event_types: [NEW_CONTACT_EVENT],
      description: SUBSCRIPTION_DESCRIPTION,
    });

    // Any other URL the integration might request never gets the token.
    for (const path of ["/elsewhere", "/functions/v1/api-webhook-subscriptions-other"]) {
      await invokeZapier({
        request: { url: `${origin}${path}`, method: "POST" },
        bundle: { authData },
      }, apiUrl);
      assert.equal(seen.at(-1)?.path, path);
      assert.equal(seen.at(-1)?.headers.get("authorization"), null, path);
    }
    assert.equal(seen.length, 3);
  } finally {
    await server.shutdown();
  }
});
