/**
 * The delivery benchmark's "minimal loop": the least a durable dispatcher of our schema must do.
 * Claim a batch of due deliveries in one statement, POST them with plain fetch, mark the batch
 * done in one statement; no signing, no target checks, no attempt records, no retries. It talks
 * to PostgREST through the gateway, as the dispatcher does. Input: a MinimalLoopSpec as JSON on
 * stdin; output: one JSON line when nothing is due any more.
 */
export interface MinimalLoopSpec {
  restUrl: string;
  serviceRoleKey: string;
  batch: number;
}

const spec: MinimalLoopSpec = JSON.parse(await new Response(Deno.stdin.readable).text());
const headers = {
  apikey: spec.serviceRoleKey,
  Authorization: `Bearer ${spec.serviceRoleKey}`,
  "Content-Type": "application/json",
};

async function rpc<T>(name: string, args: unknown): Promise<T | null> {
  const response = await fetch(`${spec.restUrl}/rpc/${name}`, {
    method: "POST",
    headers,
    body: JSON.stringify(args),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${name}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

type Claimed = { delivery_id: string; event_id: string; target_url: string; body: unknown };

let deliveries = 0;
let failed = 0;
let roundTrips = 0;
const started = performance.now();
while (true) {
  const batch = await rpc<Claimed[]>("bench_minimal_claim", { max_deliveries: spec.batch }) ?? [];
  roundTrips++;
  if (batch.length === 0) break;
  await Promise.all(batch.map(async (delivery) => {
    const response = await fetch(delivery.target_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "webhook-id": delivery.event_id },
      body: JSON.stringify(delivery.body),
    });
    await response.body?.cancel();
    if (!response.ok) failed++;
  }));
  await rpc("bench_minimal_done", { ids: batch.map((delivery) => delivery.delivery_id) });
  roundTrips++;
  deliveries += batch.length;
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ deliveries, failed, seconds, roundTrips }));
