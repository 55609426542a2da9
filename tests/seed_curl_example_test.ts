import assert from "node:assert/strict";
import { newToken, sql, stack } from "./helpers/stack.ts";
import { runShell } from "./helpers/processes.ts";

const CONTRACT = new URL("../docs/create-webhook-subscription.md", import.meta.url);
const PUBLIC_URL = "https://api.wundertreos.com/functions/v1/api-webhook-subscriptions";

/** The curl command exactly as the published contract prints it. */
async function contractCurlExample(): Promise<string> {
  const text = await Deno.readTextFile(CONTRACT);
  const start = text.indexOf("curl -X POST");
  const end = text.indexOf("}'", start) + 2;
  assert.ok(start >= 0 && end > start, "the contract's curl example was not found");
  return text.slice(start, end);
}

Deno.test("the contract's curl example, run as written against the stack, answers 201", async () => {
  const { token, workspaceId } = await newToken();
  const example = await contractCurlExample();
  assert.ok(example.includes(PUBLIC_URL) && example.includes("YOUR_ACCESS_TOKEN"));
  const command = example.replace(PUBLIC_URL, stack.functionUrl).replace(
    "YOUR_ACCESS_TOKEN",
    token,
  );

  const { code, stdout } = await runShell(`${command} --silent --write-out '\\n%{http_code}'`);
  assert.equal(code, 0);
  const [body, status] = stdout.trimEnd().split(/\n(?=\d{3}$)/);
  assert.equal(status, "201");
  const { data } = JSON.parse(body);
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
