import assert from "node:assert/strict";
import { newToken, sql, stack } from "./helpers/stack.ts";
import { curlCommandIn, runCurl } from "./helpers/processes.ts";
import { emit, settled, startReceiver, subscribe } from "./helpers/receiver.ts";

const CONTRACT = new URL("../docs/create-webhook-subscription.md", import.meta.url);
const PUBLIC_URL = "https://api.wundertreos.com/functions/v1/api-webhook-subscriptions";

// Where the published contract sits beside the checkout (the team's machines and CI), the copy in
// docs/ must still match it word for word.
const PUBLISHED = new URL("../../shared/spec/create-webhook-subscription.md", import.meta.url);

/** The curl command exactly as the published contract prints it. */
async function contractCurlExample(): Promise<string> {
  const copy = await Deno.readTextFile(CONTRACT);
  const published = await Deno.readTextFile(PUBLISHED).catch(() => copy);
  assert.equal(copy, published, "docs/create-webhook-subscription.md differs from the contract");
  return curlCommandIn(copy);
}

Deno.test("the contract's curl example, run as written against the stack, answers 201", async () => {
  const { token, workspaceId } = await newToken();
  const example = await contractCurlExample();
  assert.ok(example.includes(PUBLIC_URL) && example.includes("YOUR_ACCESS_TOKEN"));
  const command = example.replace(PUBLIC_URL, stack.functionUrl).replace(
    "YOUR_ACCESS_TOKEN",
    token,
  );

  const { status, body } = await runCurl(command);
  assert.equal(status, "201");
  const { data } = body;
  assert.equal(data.target_url, "https://example.com/wundertre/webhook");
  assert.deepEqual(data.event_types, ["contact.created", "contact.tag_added"]);
  assert.equal(data.description, "Sync new leads to internal CRM");
  assert.equal(data.enabled, true);
  assert.match(data.secret, /^[0-9a-f]{64}$/);

  const rows = await sql<{ id: string }>(
    "select id from public.webhook_subscriptions where workspace_id = $1",
    [workspaceId],
  );
  assert.deepEqual(rows.map((row) => row.id), [data.id]);
});

Deno.test("the README's curl example works as written against the stack", async () => {
  const { token } = await newToken();
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const example = curlCommandIn(readme);
  const localUrl = "http://127.0.0.1:54321/functions/v1/api-webhook-subscriptions";
  assert.ok(example.includes(localUrl) && example.includes("$TOKEN"));
  const { status, body } = await runCurl(
    `TOKEN='${token}'; ${example.replace(localUrl, stack.functionUrl)}`,
  );
  assert.equal(status, "201");
  assert.equal(body.data.description, "Sync new leads to internal CRM");
});

/** The ```sh blocks of docs/api.md between two headings, trimmed. */
async function shellBlocksOfApiDoc(from: string, to: string): Promise<string[]> {
  const reference = await Deno.readTextFile(new URL("../docs/api.md", import.meta.url));
  const section = reference.slice(reference.indexOf(from), reference.indexOf(to));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1].trim());
}

/** "METHOD URL" of a block's curl command, as written. */
function requestLine(block: string): string {
  const [, method, url] = /^curl (?:-X (\w+) )?"([^"]+)"/m.exec(block) ?? [];
  return `${method ?? "GET"} ${url}`;
}

Deno.test("every endpoint example in docs/api.md works as written against the stack", async () => {
  const { token } = await newToken();
  const blocks = await shellBlocksOfApiDoc("## Examples", "## Deliveries: history and control");
  const setup = blocks.shift()!;
  assert.match(
    setup,
    /^BASE=http:\/\/127\.0\.0\.1:54321\/functions\/v1\/api-webhook-subscriptions$/m,
  );
  assert.match(setup, /^TOKEN=\$\(deno task token --scopes webhooks:read,webhooks:write\)$/m);
  assert.deepEqual(blocks.map(requestLine), [
    "GET $BASE?limit=2&event_type=contact.created",
    "GET $BASE/$ID",
    "PATCH $BASE/$ID",
    "POST $BASE/$ID/rotate-secret",
    "DELETE $BASE/$ID",
    "GET $BASE/openapi.json",
  ]);

  const create = await runCurl(
    `curl -X POST '${stack.functionUrl}' -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '{"target_url": "https://example.com/x", "event_types": ["contact.created"]}'`,
  );
  assert.equal(create.status, "201");
  const id = create.body.data.id;
  const variables = `BASE='${stack.functionUrl}'; TOKEN='${token}'; ID='${id}';`;
  const statuses = [];
  for (const block of blocks) {
    const { status, body } = await runCurl(`${variables} ${block}`);
    statuses.push(status);
    if (block.includes("PATCH")) assert.equal(body.data.description, "Paused");
    if (block.includes("limit=2")) {
      assert.deepEqual(body.data.map((s: { id: string }) => s.id), [id]);
    }
  }
  assert.deepEqual(statuses, ["200", "200", "200", "200", "204", "200"]);
});

Deno.test("every delivery example in docs/api.md works as written against the stack", async () => {
  const blocks = await shellBlocksOfApiDoc(
    "## Deliveries: history and control",
    "### What receivers get",
  );
  // The one placeholder, `DELIVERY=<a data[].id from the list>`, is set below instead.
  assert.match(blocks[1], /^DELIVERY=<[^>]+>\n/);
  blocks[1] = blocks[1].replace(/^DELIVERY=.*\n/, "");
  assert.deepEqual(blocks.map(requestLine), [
    "GET $BASE/$ID/deliveries?status=failed&limit=10",
    "GET $BASE/$ID/deliveries/$DELIVERY",
    "POST $BASE/$ID/deliveries/$DELIVERY/retry",
    "POST $BASE/$ID/test",
    "POST $BASE/$ID/recover",
  ]);

  // Two deliveries that failed every attempt, to a receiver that has been down.
  let down = true;
  const receiver = startReceiver(() => new Response(null, { status: down ? 500 : 204 }));
  try {
    const { token, workspaceId } = await newToken();
    const subscription = await subscribe(token, `${receiver.origin}/hook`);
    await emit(workspaceId, "contact.created", { id: "c_1" });
    await emit(workspaceId, "contact.created", { id: "c_2" });
    const failed = await settled(subscription.id, 2);
    assert.deepEqual(failed.map((delivery) => delivery.status), ["failed", "failed"]);
    down = false;

    const variables =
      `BASE='${stack.functionUrl}'; TOKEN='${token}'; ID='${subscription.id}'; DELIVERY='${
        failed[1].id
      }';`;
    const answers = [];
    for (const block of blocks) answers.push(await runCurl(`${variables} ${block}`));
    assert.deepEqual(answers.map((answer) => answer.status), ["200", "200", "202", "202", "202"]);
    const [list, one, retry, test, recover] = answers.map((answer) => answer.body.data);
    assert.deepEqual(list.map((d: { id: string }) => d.id), [failed[1].id, failed[0].id]);
    assert.equal(one.attempts.length, 3);
    assert.equal(retry.status, "pending");
    assert.equal(test.event_type, "webhook.test");
    // The retried one is pending again: only the other was still failed.
    assert.deepEqual(recover, { recovered: 1 });
  } finally {
    await receiver.close();
  }
});
