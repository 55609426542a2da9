/**
 * deno task emit --type contact.created --data '{"id": "c_1"}' [--workspace <uuid>] [--id <uuid>]
 *
 * Emits an event on the running stack (or the project in SUPABASE_URL with
 * SUPABASE_SERVICE_ROLE_KEY) through public.emit_webhook_event, as the CRM does inside its own
 * transactions, and prints the event id on stdout. Every enabled subscription of the workspace
 * that lists the type gets a delivery; `deno task start` sends it within a second.
 */
import { parseArgs } from "node:util";
import { DEMO_WORKSPACE_ID, serviceClient } from "./local-stack/api-tokens.ts";
import { targetProject, usageError, UUID } from "./local-stack/cli.ts";

const USAGE =
  `usage: deno task emit --type contact.created --data '{"id": "c_1"}' [--workspace <uuid>] [--id <uuid>]`;
const fail: (message: string) => never = usageError(USAGE);

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    options: {
      type: { type: "string" },
      data: { type: "string" },
      workspace: { type: "string" },
      id: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail((error as Error).message);
}

if (!values.type) fail("--type is required");
if (values.data === undefined) fail("--data is required (a JSON object)");
let data: unknown;
try {
  data = JSON.parse(values.data);
} catch {
  fail("--data is not valid JSON");
}
const workspaceId = values.workspace ?? DEMO_WORKSPACE_ID;
if (!UUID.test(workspaceId)) fail("--workspace must be a UUID");
if (values.id !== undefined && !UUID.test(values.id)) fail("--id must be a UUID");

const { apiUrl, serviceRoleKey } = await targetProject();

const client = serviceClient(apiUrl, serviceRoleKey);
let result;
try {
  result = await client.rpc("emit_webhook_event", {
    p_workspace_id: workspaceId,
    p_type: values.type,
    p_data: data,
    ...(values.id ? { p_event_id: values.id } : {}),
  });
} catch (error) {
  console.error(`error: ${(error as Error).message} (is 'deno task start' running at ${apiUrl}?)`);
  Deno.exit(1);
}
if (result.error) {
  // The database's own words: it names what is wrong (type, object, size, workspace).
  console.error(`error: ${result.error.message}`);
  Deno.exit(1);
}
const eventId = result.data as string;
const { count } = await client.from("webhook_deliveries").select("id", {
  count: "exact",
  head: true,
}).eq("event_id", eventId);
console.error(`event ${eventId} emitted: ${count ?? 0} deliveries queued`);
console.log(eventId);
