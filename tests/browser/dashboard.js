// The dashboard's side of tests/browser_test.ts: what the WundertreOS dashboard does with
// supabase-js in a browser. index.html loads supabase-js's UMD build first (the global `supabase`).
// Everything returned here crosses page.evaluate, so it is plain JSON-like values only.

const FUNCTION_NAME = "api-webhook-subscriptions";

/** What one functions.invoke call came to, as far as the page itself can tell. */
async function outcome({ data, error, response }) {
  if (!error) return { ok: true, status: response?.status ?? null, data, error: null };
  const context = error.context;
  let detail = null;
  if (context instanceof Response) {
    // FunctionsHttpError: the function answered, with an error status the page can read.
    detail = await context.text().catch((cause) => `unreadable body: ${cause}`);
  } else if (context instanceof Error) {
    // FunctionsFetchError: fetch itself rejected (network failure, or blocked by CORS).
    detail = `${context.name}: ${context.message}`;
  } else if (context !== undefined) {
    detail = String(context);
  }
  return {
    ok: false,
    status: response?.status ?? null,
    data: data ?? null,
    error: { name: error.name, message: error.message, detail },
  };
}

/** Creates a subscription and then lists the workspace's subscriptions, as the signed-in user. */
async function createAndList({ supabaseUrl, anonKey, accessToken, subscription }) {
  const client = globalThis.supabase.createClient(supabaseUrl, anonKey, {
    // The user's Supabase Auth access token, sent as `Authorization: Bearer …` on every call.
    accessToken: () => Promise.resolve(accessToken),
  });
  const create = await outcome(
    await client.functions.invoke(FUNCTION_NAME, { method: "POST", body: subscription }),
  );
  const list = await outcome(await client.functions.invoke(FUNCTION_NAME, { method: "GET" }));
  return { create, list };
}

/** Lists a subscription's deliveries and sends the newest one again, as the signed-in user. */
async function listAndRetryDeliveries({ supabaseUrl, anonKey, accessToken, subscriptionId }) {
  const client = globalThis.supabase.createClient(supabaseUrl, anonKey, {
    accessToken: () => Promise.resolve(accessToken),
  });
  const deliveries = `${FUNCTION_NAME}/${subscriptionId}/deliveries`;
  const list = await outcome(await client.functions.invoke(deliveries, { method: "GET" }));
  const newest = list.data?.data?.[0];
  const retry = newest
    ? await outcome(
      await client.functions.invoke(`${deliveries}/${newest.id}/retry`, { method: "POST" }),
    )
    : null;
  return { list, retry };
}

globalThis.dashboard = {
  supabaseJsLoaded: typeof globalThis.supabase?.createClient === "function",
  createAndList,
  listAndRetryDeliveries,
};
