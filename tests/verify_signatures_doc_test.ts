/**
 * docs/verify-signatures.md, the page the create contract links to: its example request is signed
 * as it says, and its TypeScript snippet, run as printed, verifies real deliveries and refuses
 * forged ones.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { freePort } from "../scripts/local-stack/processes.ts";
import { PROJECT_ROOT } from "./helpers/processes.ts";
import { emit, settled, subscribe } from "./helpers/receiver.ts";
import { newToken } from "./helpers/stack.ts";

const page = await Deno.readTextFile(join(PROJECT_ROOT, "docs", "verify-signatures.md"));

function codeBlock(language: string): string {
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(page);
  if (!match) throw new Error(`no ${language} block in docs/verify-signatures.md`);
  return match[1];
}

Deno.test("the page's example request carries the signature its text says, for the contract's secret", () => {
  const example = codeBlock("http");
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(example)![1];
  const body = example.trim().split("\n").at(-1)!;
  const secret = /`([0-9a-f]{64})`/.exec(page)![1];
  const content = `${header("webhook-id")}.${header("webhook-timestamp")}.${body}`;
  assert.equal(
    header("webhook-signature"),
    `v1,${createHmac("sha256", secret).update(content).digest("base64")}`,
  );
  assert.equal(JSON.parse(body).id, header("webhook-id"));
});

Deno.test({
  name:
    "the page's TypeScript receiver, run as printed, verifies a real delivery and refuses a forged one",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "verify-snippet-" });
    const file = join(dir, "receiver.ts");
    await Deno.writeTextFile(file, codeBlock("ts"));
    const port = freePort();
    const { token } = await newToken();
    const subscription = await subscribe(token, `http://127.0.0.1:${port}/webhook`);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--config",
        join(PROJECT_ROOT, "deno.json"),
        file,
      ],
      env: { WUNDERTREOS_WEBHOOK_SECRET: subscription.secret, PORT: String(port), NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let output = "";
    const pumped = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) output += chunk;
    })();
    const errors = new Response(child.stderr).text();
    try {
      const deadline = Date.now() + 20_000;
      while (true) {
        try {
          await (await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" })).body
            ?.cancel();
          break;
        } catch {
          assert.ok(Date.now() < deadline, "the snippet did not start");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const eventId = await emit(subscription.workspaceId, "contact.created", { id: "c_42" });
      const [delivery] = await settled(subscription.id, 1);
      assert.equal(delivery.status, "succeeded");
      assert.equal(delivery.last_response_status, 204);
      assert.match(output, new RegExp(`handled contact.created ${eventId}`));

      // Forged: signed with another key.
      const body = JSON.stringify({ id: crypto.randomUUID(), type: "contact.created", data: {} });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const id = crypto.randomUUID();
      const forged = await fetch(`http://127.0.0.1:${port}/webhook`, {
        method: "POST",
        headers: {
          "webhook-id": id,
          "webhook-timestamp": timestamp,
          "webhook-signature": `v1,${
            createHmac("sha256", "f".repeat(64)).update(`${id}.${timestamp}.${body}`).digest(
              "base64",
            )
          }`,
        },
        body,
      });
      assert.equal(forged.status, 400);
      await forged.body?.cancel();
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await pumped;
      await errors;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
