/**
 * deno task token --scopes webhooks:read,webhooks:write [--workspace <uuid>] [--expires-in <seconds>]
 *
 * Issues an API access token against the running stack (or the project in SUPABASE_URL with
 * SUPABASE_SERVICE_ROLE_KEY) and prints only the token on stdout.
 */
import { parseArgs } from "node:util";
import { type Scope, SCOPES } from "../supabase/functions/api-webhook-subscriptions/api-token.ts";
import { DEMO_WORKSPACE_ID, issueApiToken, serviceClient } from "./local-stack/api-tokens.ts";
import { targetProject, usageError, UUID } from "./local-stack/cli.ts";

const USAGE =
  "usage: deno task token --scopes webhooks:read,webhooks:write [--workspace <uuid>] [--expires-in <seconds>] [--name <label>]";
const fail: (message: string) => never = usageError(USAGE);

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    options: {
      scopes: { type: "string" },
      workspace: { type: "string" },
      "expires-in": { type: "string" },
      name: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail((error as Error).message);
}

if (!values.scopes) fail("--scopes is required");
const scopes = [...new Set(values.scopes.split(",").map((scope) => scope.trim()))];
const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
if (unknown.length > 0 || scopes.length === 0) {
  fail(`unknown scope ${unknown.join(", ")}; known scopes: ${SCOPES.join(", ")}`);
}
const workspaceId = values.workspace ?? DEMO_WORKSPACE_ID;
if (!UUID.test(workspaceId)) fail("--workspace must be a UUID");
let expiresInSeconds: number | undefined;
if (values["expires-in"] !== undefined) {
  expiresInSeconds = Number(values["expires-in"]);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0) {
    fail("--expires-in must be a whole number of seconds greater than 0");
  }
}

const { apiUrl, serviceRoleKey } = await targetProject();

try {
  const { token, workspaceCreated } = await issueApiToken(serviceClient(apiUrl, serviceRoleKey), {
    workspaceId,
    scopes: scopes as Scope[],
    expiresInSeconds,
    name: values.name ?? "deno task token",
  });
  if (workspaceCreated) console.error(`note: created workspace ${workspaceId}`);
  console.log(token);
} catch (error) {
  console.error(`error: ${(error as Error).message} (is 'deno task start' running at ${apiUrl}?)`);
  Deno.exit(1);
}
