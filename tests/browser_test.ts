/**
 * The dashboard in a real browser: headless Chromium (driven by playwright-core) loads
 * tests/browser/index.html, which calls the function with supabase-js's `functions.invoke`. Served
 * from the origin the function allows (`deno task test` sets CORS_ALLOWED_ORIGINS to
 * http://127.0.0.1:<WUNDERTRE_TEST_PAGE_PORT>), the page creates and lists subscriptions; served
 * from any other origin (http://localhost:<same port>), the browser itself blocks the calls because
 * the function's preflight answer carries no CORS headers.
 *
 * Needs Chromium at /usr/bin/chromium (Debian's `chromium` package); nothing is downloaded.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { sessionToken } from "./helpers/session.ts";
import { emit, eventually as poll, settled, startReceiver, subscribe } from "./helpers/receiver.ts";
import { sql, stack, subscriptionCount } from "./helpers/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox", // the suite may run as root, where Chromium's sandbox refuses to start
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUPABASE_UMD = new URL(
  "../node_modules/@supabase/supabase-js/dist/umd/supabase.js",
  import.meta.url,
);

/** What the page serves: the dashboard page, its script, and supabase-js's browser build. */
const PAGE_ASSETS: Record<string, { file: URL; type: string }> = {
  "/": { file: new URL("./browser/index.html", import.meta.url), type: "text/html; charset=utf-8" },
  "/dashboard.js": {
    file: new URL("./browser/dashboard.js", import.meta.url),
    type: "text/javascript; charset=utf-8",
  },
  "/supabase.js": { file: SUPABASE_UMD, type: "text/javascript; charset=utf-8" },
};

function pagePort(): number {
  const port = Number(Deno.env.get("WUNDERTRE_TEST_PAGE_PORT"));
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error("WUNDERTRE_TEST_PAGE_PORT is not set: run the suite with 'deno task test'");
  }
  return port;
}

/** The allowed origin, and the same page under a name the function does not allow. */
const ALLOWED_ORIGIN = () => `http://127.0.0.1:${pagePort()}`;
const DISALLOWED_ORIGIN = () => `http://localhost:${pagePort()}`;

// --- what tests/browser/dashboard.js hands back through page.evaluate --------------------------

interface InvokeOutcome {
  ok: boolean;
  /** The HTTP status, when the page could read the response at all. */
  status: number | null;
  data: unknown;
  error: { name: string; message: string; detail: string | null } | null;
}

interface CreateAndListResult {
  create: InvokeOutcome;
  list: InvokeOutcome;
}

interface CreateAndListConfig {
  supabaseUrl: string;
  anonKey: string;
  accessToken: string;
  subscription: { target_url: string; event_types: string[]; description?: string };
}

interface ListAndRetryConfig {
  supabaseUrl: string;
  anonKey: string;
  accessToken: string;
  subscriptionId: string;
}

interface DashboardGlobals {
  dashboard: {
    supabaseJsLoaded: boolean;
    createAndList(config: CreateAndListConfig): Promise<CreateAndListResult>;
    listAndRetryDeliveries(
      config: ListAndRetryConfig,
    ): Promise<{ list: InvokeOutcome; retry: InvokeOutcome | null }>;
  };
}

// --- what the browser saw on the wire, from the DevTools protocol -------------------------------

interface WireResponse {
  /** "Preflight" for the browser's own OPTIONS request, "Fetch" for the page's request. */
  type: string;
  method: string;
  status: number;
  headers: Record<string, string>;
}

interface WireFailure {
  method: string;
  errorText: string;
  corsError: string | null;
}

interface BrowserLog {
  /** Responses the browser received from the function's URL (preflights included). */
  responses: WireResponse[];
  /** Requests to the function's URL that failed inside the browser. */
  failures: WireFailure[];
  /** Console errors, including the browser's own CORS messages. */
  consoleErrors: string[];
  pageErrors: string[];
}

/**
 * DevTools events reach this process over a socket, possibly after the page has already seen the
 * failure they describe: wait (a bounded time) until they are all in before comparing.
 */
async function eventually(ready: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function startPageServer(port: number): Deno.HttpServer {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
    const asset = PAGE_ASSETS[new URL(request.url).pathname];
    if (!asset || request.method !== "GET") return new Response("not found", { status: 404 });
    return new Response(await Deno.readFile(asset.file), {
      headers: { "content-type": asset.type, "cache-control": "no-store" },
    });
  });
}

/**
 * Serves the page on 127.0.0.1:<page port>, opens it in headless Chromium at `origin`, runs `use`,
 * and closes the browser and the server whatever happens.
 *
 * No page.route() here: with request interception on, Playwright answers CORS preflights itself
 * (allowing everything), which would hide exactly what this test is about.
 */
async function withDashboard(
  origin: string,
  use: (page: Page, log: BrowserLog) => Promise<void>,
): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's 'chromium' package`);
  }
  const server = startPageServer(pagePort());
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 15_000,
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const log: BrowserLog = { responses: [], failures: [], consoleErrors: [], pageErrors: [] };
      page.on("console", (message) => {
        if (message.type() === "error") log.consoleErrors.push(message.text());
      });
      page.on("pageerror", (error) => log.pageErrors.push(String(error)));

      // Playwright does not report CORS preflights; the DevTools protocol does.
      const methods = new Map<string, string>();
      const cdp = await context.newCDPSession(page);
      cdp.on("Network.requestWillBeSent", (event) => {
        if (event.request.url.startsWith(stack.functionUrl)) {
          methods.set(`${event.requestId}:${event.type}`, event.request.method);
        }
      });
      cdp.on("Network.responseReceived", (event) => {
        if (!event.response.url.startsWith(stack.functionUrl)) return;
        log.responses.push({
          type: event.type,
          method: methods.get(`${event.requestId}:${event.type}`) ?? "?",
          status: event.response.status,
          headers: lowerCaseKeys(event.response.headers),
        });
      });
      cdp.on("Network.loadingFailed", (event) => {
        const method = methods.get(`${event.requestId}:${event.type}`);
        if (method === undefined) return;
        log.failures.push({
          method,
          errorText: event.errorText,
          corsError: event.corsErrorStatus?.corsError ?? null,
        });
      });
      await cdp.send("Network.enable");

      const response = await page.goto(`${origin}/`);
      assert.equal(response?.status(), 200, `the page did not load from ${origin}`);
      assert.equal(new URL(page.url()).origin, origin);
      await use(page, log);
    } finally {
      await browser.close();
    }
  } finally {
    await server.shutdown();
  }
}

/** A workspace of its own (so no other test's rows show up) and a dashboard session in it. */
async function newWorkspaceSession(): Promise<{ workspaceId: string; jwt: string }> {
  const workspaceId = crypto.randomUUID();
  await sql("insert into public.workspaces (id, name) values ($1, $2)", [
    workspaceId,
    "Browser test",
  ]);
  const jwt = await sessionToken({ workspaceId, scopes: ["webhooks:read", "webhooks:write"] });
  return { workspaceId, jwt };
}

function createAndListInPage(page: Page, config: CreateAndListConfig) {
  return page.evaluate(
    (config) => (globalThis as unknown as DashboardGlobals).dashboard.createAndList(config),
    config,
  );
}

function supabaseJsLoaded(page: Page): Promise<boolean> {
  return page.evaluate(() =>
    (globalThis as unknown as Partial<DashboardGlobals>).dashboard?.supabaseJsLoaded === true
  );
}

Deno.test("a page on the allowed origin creates and lists subscriptions with supabase-js", async () => {
  const origin = ALLOWED_ORIGIN();
  const { workspaceId, jwt } = await newWorkspaceSession();
  const subscription = {
    target_url: "https://example.com/wundertre/browser",
    event_types: ["contact.created", "contact.tag_added"],
    description: "Created from the dashboard in a browser",
  };

  await withDashboard(origin, async (page, log) => {
    assert.equal(await supabaseJsLoaded(page), true, "supabase-js did not load in the page");
    const { create, list } = await createAndListInPage(page, {
      supabaseUrl: stack.apiUrl,
      anonKey: stack.anonKey,
      accessToken: jwt,
      subscription,
    });

    assert.equal(create.error, null, `create failed: ${JSON.stringify(create.error)}`);
    assert.equal(create.status, 201);
    const created = (create.data as { data: Record<string, unknown> }).data;
    assert.match(String(created.id), UUID);
    assert.match(String(created.secret), /^[0-9a-f]{64}$/);
    assert.equal(created.target_url, subscription.target_url);
    assert.deepEqual(created.event_types, subscription.event_types);
    assert.equal(created.description, subscription.description);

    assert.equal(list.error, null, `list failed: ${JSON.stringify(list.error)}`);
    assert.equal(list.status, 200);
    const listed = list.data as { data: Array<Record<string, unknown>>; has_more: boolean };
    assert.deepEqual(
      listed.data.map((item) => item.id),
      [created.id],
      "the workspace's list is exactly the new subscription",
    );
    assert.equal(listed.data[0].target_url, subscription.target_url);
    assert.equal(listed.has_more, false);

    const [row] = await sql<{ workspace_id: string; target_url: string; secret: string }>(
      "select workspace_id, target_url, secret from public.webhook_subscriptions where id = $1",
      [created.id],
    );
    assert.ok(row, "no row stored for the subscription the page created");
    assert.equal(row.workspace_id, workspaceId, "stored in the session's workspace");
    assert.equal(row.target_url, subscription.target_url);
    assert.equal(row.secret, created.secret);
    assert.equal(await subscriptionCount(workspaceId), 1);

    // The browser saw the function allow this origin, on the preflight and on the answers.
    const preflights = log.responses.filter((r) => r.type === "Preflight");
    assert.ok(preflights.length >= 1, "the browser sent no preflight");
    for (const preflight of preflights) {
      assert.equal(preflight.headers["access-control-allow-origin"], origin);
    }
    const answers = log.responses.filter((r) => r.type !== "Preflight");
    assert.deepEqual(answers.map((r) => `${r.method} ${r.status}`), ["POST 201", "GET 200"]);
    for (const answer of answers) {
      assert.equal(answer.headers["access-control-allow-origin"], origin);
    }
    assert.deepEqual(log.failures, []);
    assert.deepEqual(log.consoleErrors, []);
    assert.deepEqual(log.pageErrors, []);
  });
});

Deno.test("the same page on a disallowed origin is blocked by the browser", async () => {
  const origin = DISALLOWED_ORIGIN();
  const { workspaceId, jwt } = await newWorkspaceSession();

  await withDashboard(origin, async (page, log) => {
    // The page itself works here; only its calls to the function are cross-origin and refused.
    assert.equal(await supabaseJsLoaded(page), true, "supabase-js did not load in the page");
    const { create, list } = await createAndListInPage(page, {
      supabaseUrl: stack.apiUrl,
      anonKey: stack.anonKey,
      accessToken: jwt,
      subscription: {
        target_url: "https://example.com/wundertre/blocked",
        event_types: ["contact.created"],
      },
    });

    for (const [name, outcome] of [["create", create], ["list", list]] as const) {
      assert.equal(outcome.ok, false, `${name} went through from ${origin}`);
      assert.equal(outcome.status, null, `the page could read the ${name} response`);
      assert.equal(outcome.data, null);
      assert.equal(outcome.error?.name, "FunctionsFetchError", `${name}: a network-level failure`);
      assert.equal(outcome.error?.detail, "TypeError: Failed to fetch");
    }

    assert.equal(await subscriptionCount(workspaceId), 0, "nothing was written");

    // On the wire: the function answered the preflights without any CORS header, so the browser
    // never sent the POST or the GET.
    const preflights = log.responses.filter((r) => r.type === "Preflight");
    assert.ok(preflights.length >= 1, "the browser sent no preflight");
    for (const preflight of preflights) {
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers["access-control-allow-origin"], undefined);
      assert.equal(preflight.headers["access-control-allow-headers"], undefined);
    }
    assert.deepEqual(log.responses.filter((r) => r.type !== "Preflight"), []);
    const corsMessageCount = () =>
      log.consoleErrors.filter((text) => text.includes("blocked by CORS policy")).length;
    await eventually(() => log.failures.length >= 2 && corsMessageCount() >= 2);
    assert.deepEqual(log.failures, [
      {
        method: "POST",
        errorText: "net::ERR_FAILED",
        corsError: "PreflightMissingAllowOriginHeader",
      },
      {
        method: "GET",
        errorText: "net::ERR_FAILED",
        corsError: "PreflightMissingAllowOriginHeader",
      },
    ]);
    const corsMessages = log.consoleErrors.filter((text) =>
      text.includes("blocked by CORS policy")
    );
    assert.equal(corsMessages.length, 2, log.consoleErrors.join("\n"));
    for (const text of corsMessages) {
      assert.ok(text.includes(`from origin '${origin}'`), text);
      assert.ok(text.includes("No 'Access-Control-Allow-Origin' header is present"), text);
    }
    assert.deepEqual(log.pageErrors, []);
  });
});

Deno.test("the dashboard lists a subscription's deliveries and retries one, signed in with a session", async () => {
  const origin = ALLOWED_ORIGIN();
  const { workspaceId, jwt } = await newWorkspaceSession();
  const receiver = startReceiver();
  try {
    const subscription = await subscribe(jwt, `${receiver.origin}/hook`);
    const eventId = await emit(workspaceId, "contact.created", { id: "c_browser" });
    const [delivery] = await settled(subscription.id, 1);
    assert.equal(delivery.status, "succeeded");

    await withDashboard(origin, async (page, log) => {
      const { list, retry } = await page.evaluate(
        (config) =>
          (globalThis as unknown as DashboardGlobals).dashboard.listAndRetryDeliveries(config),
        {
          supabaseUrl: stack.apiUrl,
          anonKey: stack.anonKey,
          accessToken: jwt,
          subscriptionId: subscription.id,
        },
      );
      assert.equal(list.error, null, `list failed: ${JSON.stringify(list.error)}`);
      assert.equal(list.status, 200);
      const listed = (list.data as { data: Array<Record<string, unknown>> }).data;
      assert.deepEqual(listed.map((item) => [item.id, item.event_id, item.status]), [
        [delivery.id, eventId, "succeeded"],
      ]);

      assert.ok(retry, "the page found a delivery to retry");
      assert.equal(retry.error, null, `retry failed: ${JSON.stringify(retry.error)}`);
      assert.equal(retry.status, 202);
      const retried = (retry.data as { data: Record<string, unknown> }).data;
      assert.equal(retried.id, delivery.id);
      assert.equal(retried.status, "pending");

      const requests = await receiver.waitFor(2);
      assert.deepEqual(requests.map((r) => r.headers["webhook-id"]), [eventId, eventId]);
      await poll("the retry was recorded", async () => {
        const [row] = await sql<{ status: string; attempt_count: number }>(
          "select status, attempt_count from public.webhook_deliveries where id = $1",
          [delivery.id],
        );
        return row.status === "succeeded" && row.attempt_count === 2 && row;
      });

      const answers = log.responses.filter((r) => r.type !== "Preflight");
      assert.deepEqual(answers.map((r) => `${r.method} ${r.status}`), ["GET 200", "POST 202"]);
      for (const answer of answers) {
        assert.equal(answer.headers["access-control-allow-origin"], origin);
      }
      assert.deepEqual(log.failures, []);
      assert.deepEqual(log.consoleErrors, []);
      assert.deepEqual(log.pageErrors, []);
    });
  } finally {
    await receiver.close();
  }
});
