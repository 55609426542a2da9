/**
 * One invocation of the integration in Zapier's runtime (zapier-platform-core), in a process of
 * its own, as Zapier runs each invocation in a Lambda of its own. tests/zapier/invoke.ts starts it
 * with a JSON invocation on stdin; it prints one line, RESULT_PREFIX and the JSON outcome.
 *
 * Why a process of its own: the runtime takes over its process. It copies into process.env,
 * replaces the global fetch and patches node:http to log every request, and scans process.env for
 * secrets to scrub from its logs. That scan throws under Deno for any secret-looking variable whose
 * value is not a URL (@zapier/secret-scrubber expects Node's `ERR_INVALID_URL` code on URL errors,
 * which Deno's URL does not set), and the suite's environment has such variables.
 */
import "./test-mode.ts"; // before zapier-platform-core loads
import zapier from "zapier-platform-core";
import { App } from "./app.ts";
import { type Invocation, type Outcome, RESULT_PREFIX } from "./protocol.ts";

type Method = (...args: never[]) => unknown;

// createAppHandler is exported at runtime but missing from the package's type declarations.
const { createAppHandler } = zapier as unknown as {
  createAppHandler(app: object): (event: object) => Promise<{ results: unknown }>;
};

function methodAt(path: string): Method {
  let node: unknown = App;
  for (const key of path.split(".")) node = (node as Record<string, unknown> | undefined)?.[key];
  if (typeof node !== "function") throw new Error(`The app has no method at ${path}`);
  return node as Method;
}

async function run(invocation: Invocation): Promise<unknown> {
  if ("command" in invocation) {
    const { results } = await createAppHandler(App)({ command: "validate", bundle: {} });
    return { errors: results, platformVersion: zapier.version };
  }
  const appTester = zapier.createAppTester(App);
  if ("request" in invocation) {
    const { request } = invocation;
    return await appTester(
      async (z) => ({ status: (await z.request({ ...request })).status }),
      invocation.bundle,
    );
  }
  return await appTester(methodAt(invocation.method) as never, invocation.bundle);
}

if (import.meta.main) {
  const invocation = JSON.parse(await new Response(Deno.stdin.readable).text()) as Invocation;
  let outcome: Outcome;
  try {
    outcome = { ok: true, result: await run(invocation) };
  } catch (error) {
    const { name = "Error", message = String(error) } = error as Partial<Error>;
    outcome = { ok: false, error: { name, message } };
  }
  console.log(RESULT_PREFIX + JSON.stringify(outcome));
  // The runtime may keep sockets or timers alive; the invocation is over.
  Deno.exit(0);
}
