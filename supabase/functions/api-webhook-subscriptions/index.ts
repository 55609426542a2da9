import { createApp, jsonLog } from "./app.ts";
import { readConfig } from "./config.ts";
import { cryptoRandom } from "./random.ts";
import { createSupabaseStore } from "./store.ts";
import { createServiceClient } from "./supabase-client.ts";

// One client per isolate, built once at start-up; a missing variable fails here, not per request.
const client = createServiceClient(readConfig((name) => Deno.env.get(name)));

const app = createApp({
  store: createSupabaseStore(client),
  clock: () => new Date(),
  random: cryptoRandom,
  log: jsonLog,
});

Deno.serve(app.fetch);
