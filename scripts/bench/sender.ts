/**
 * The delivery benchmark's "sender": what sending alone costs. A bare loop POSTs the same signed
 * bodies to the receiver with the dispatcher's concurrency, and no database. Input: a SenderSpec
 * as JSON on stdin; output: one JSON line.
 */
export interface SenderSpec {
  /** The receiver's origin; each request goes to <origin>/s/<n % 100>. */
  origin: string;
  count: number;
  concurrency: number;
  /** Bodies with their headers, signed beforehand; request n sends requests[n % length]. */
  requests: { body: string; headers: Record<string, string> }[];
}

const spec: SenderSpec = JSON.parse(await new Response(Deno.stdin.readable).text());
let next = 0;
let failed = 0;
const started = performance.now();
await Promise.all(Array.from({ length: spec.concurrency }, async () => {
  while (next < spec.count) {
    const n = next++;
    const { body, headers } = spec.requests[n % spec.requests.length];
    const response = await fetch(`${spec.origin}/s/${n % 100}`, {
      method: "POST",
      // A fresh id per request, as every delivery has its own.
      headers: { ...headers, "webhook-id": crypto.randomUUID() },
      body,
    });
    await response.body?.cancel();
    if (response.status !== 204) failed++;
  }
}));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ deliveries: spec.count, failed, seconds }));
