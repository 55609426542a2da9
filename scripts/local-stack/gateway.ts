/**
 * A small stand-in for Supabase's API gateway (Kong): the same public paths, the same apikey check
 * on the REST API, and the same path the function sees (`/functions/v1` stripped).
 */
export interface GatewayOptions {
  port: number;
  postgrestUrl: string;
  functions: Record<string, string>;
  apiKeys: string[];
  /** Supabase Auth's published session keys. */
  jwks: { keys: JsonWebKey[] };
  /** Called for every request forwarded to PostgREST (the benchmark counts round trips). */
  onRestRequest?: () => void;
}

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "content-length",
];

// Kong buffers bodies that declare their length; larger ones are refused at the edge.
const MAX_BUFFERED_BODY_BYTES = 10 * 1024 * 1024;

function json(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

async function forward(request: Request, target: string): Promise<Response> {
  const headers = new Headers(request.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers,
    redirect: "manual",
  };
  if (request.body) {
    const declared = request.headers.get("content-length");
    if (declared !== null) {
      if (Number(declared) > MAX_BUFFERED_BODY_BYTES) {
        return json(413, { message: "Request size limit exceeded" });
      }
      init.body = await request.arrayBuffer();
    } else {
      init.body = request.body;
      init.duplex = "half";
    }
  }
  let upstream: Response;
  try {
    upstream = await fetch(target, init);
  } catch {
    return json(502, { message: "An invalid response was received from the upstream server" });
  }
  const responseHeaders = new Headers(upstream.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}

export function gatewayHandler(options: GatewayOptions): (request: Request) => Promise<Response> {
  const apiKeys = new Set(options.apiKeys);
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;

    if (path === "/rest/v1" || path.startsWith("/rest/v1/")) {
      const apiKey = request.headers.get("apikey") ?? url.searchParams.get("apikey");
      if (!apiKey) return json(401, { message: "No API key found in request" });
      if (!apiKeys.has(apiKey)) return json(401, { message: "Invalid API key" });
      const rest = path.slice("/rest/v1".length) || "/";
      options.onRestRequest?.();
      return await forward(request, `${options.postgrestUrl}${rest}${url.search}`);
    }

    if (path === "/auth/v1/.well-known/jwks.json" && request.method === "GET") {
      return Response.json(options.jwks, { headers: { "Cache-Control": "public, max-age=600" } });
    }

    const functionMatch = /^\/functions\/v1\/([^/]+)(\/.*)?$/.exec(path);
    if (functionMatch) {
      const upstream = options.functions[functionMatch[1]];
      if (!upstream) {
        return json(404, { code: "NOT_FOUND", message: "Requested function was not found" });
      }
      return await forward(
        request,
        `${upstream}${path.slice("/functions/v1".length)}${url.search}`,
      );
    }

    return json(404, { message: "no Route matched with those values" });
  };
}
