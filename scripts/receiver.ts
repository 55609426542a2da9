/**
 * deno task receiver [--port 8787] [--secret <subscription secret>]
 *
 * A webhook receiver for trying deliveries on this machine: prints every request it gets, and
 * with --secret says whether its Standard Webhooks signature verifies. Answers 204.
 */
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "8787" }, secret: { type: "string" } },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("error: --port must be a port number");
  Deno.exit(2);
}
const webhook = values.secret ? new Webhook(values.secret, { format: "raw" }) : null;

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => {
    console.log(`Receiver listening on http://127.0.0.1:${port}/webhook`);
    console.log("Subscribe that URL (deno task start allows loopback targets), then emit.");
  },
}, async (request) => {
  const body = await request.text();
  const headers = Object.fromEntries(request.headers);
  let verdict = "";
  if (webhook) {
    try {
      webhook.verify(body, headers);
      verdict = " signature: valid";
    } catch (error) {
      verdict = ` signature: INVALID (${(error as Error).message})`;
    }
  }
  console.log(
    `${new Date().toISOString()} ${request.method} ${new URL(request.url).pathname}` +
      ` webhook-id=${headers["webhook-id"]}${verdict}\n${body}\n`,
  );
  return new Response(null, { status: 204 });
});
