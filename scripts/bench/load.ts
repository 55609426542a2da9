/**
 * The one load generator for every benchmark variant: `count` requests at fixed `concurrency`,
 * each timed from send to the end of its body. Runs in its own process so it does not share an
 * event loop with the stack. Input: a JSON LoadSpec on stdin. Output: one JSON LoadResult line.
 */
export interface LoadSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A body template; `{{n}}` is replaced by the request number so every insert differs. */
  body?: string;
  expectStatus: number;
  concurrency: number;
  count: number;
  /** Bearer tokens to rotate through (request n uses tokens[n % length]), when given. */
  tokens?: string[];
  /** Workspace ids for `{{workspace}}` in the body, rotated the same way. */
  workspaces?: string[];
}

export interface LoadResult {
  requests: number;
  unexpected: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let unexpected = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < spec.count) {
      const n = next++;
      const sent = performance.now();
      const headers = spec.tokens
        ? { ...spec.headers, Authorization: `Bearer ${spec.tokens[n % spec.tokens.length]}` }
        : spec.headers;
      const response = await fetch(spec.url, {
        method: spec.method,
        headers,
        body: spec.body?.replaceAll("{{n}}", String(n)).replaceAll(
          "{{workspace}}",
          spec.workspaces?.[n % spec.workspaces.length] ?? "",
        ),
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status !== spec.expectStatus) unexpected++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    unexpected,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

if (import.meta.main) {
  const spec = JSON.parse(await new Response(Deno.stdin.readable).text()) as LoadSpec;
  console.log(JSON.stringify(await runLoad(spec)));
}
