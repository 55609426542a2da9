/**
 * The delivery benchmark's one receiver, in its own process (`deno serve`): a bare handler
 * answering 204 to every POST, noting when each webhook-id first arrived, and how often each
 * subscription (its path) got each webhook-id. GET /stats, GET /arrivals (webhook-id -> first
 * arrival, ms since the epoch), POST /reset. Paths under /slow/ answer after 500 ms, as a slow
 * receiver would.
 */
const arrivals = new Map<string, number>();
/** "<path> <webhook-id>": one per delivery (fan-out sends one webhook-id to many paths). */
const deliveries = new Set<string>();
let requests = 0;
let repeats = 0;

export default {
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/stats") {
      return Response.json({ requests, unique: deliveries.size, repeats });
    }
    if (request.method === "GET" && path === "/arrivals") {
      return Response.json(Object.fromEntries(arrivals));
    }
    if (request.method === "POST" && path === "/reset") {
      arrivals.clear();
      deliveries.clear();
      requests = 0;
      repeats = 0;
      return new Response(null, { status: 204 });
    }
    const at = Date.now();
    await request.arrayBuffer();
    if (path.startsWith("/slow/")) await new Promise((resolve) => setTimeout(resolve, 500));
    requests++;
    const id = request.headers.get("webhook-id") ?? "";
    const delivery = `${path} ${id}`;
    if (deliveries.has(delivery)) repeats++;
    deliveries.add(delivery);
    if (!arrivals.has(id)) arrivals.set(id, at);
    return new Response(null, { status: 204 });
  },
} satisfies Deno.ServeDefaultExport;
