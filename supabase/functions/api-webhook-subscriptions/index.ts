import { createApp, jsonLog } from "./app.ts";
import { readConfig } from "./config.ts";
import { cryptoRandom } from "./random.ts";
import { createSessionVerifier } from "./session.ts";
import { createSupabaseStore } from "./store.ts";
import { cachingResolver, denoResolver } from "./target-policy.ts";
import { createServiceClient } from "./supabase-client.ts";

// One client per isolate, built once at start-up; a missing variable fails here, not per request.
const config = readConfig((name) => Deno.env.get(name));

const app = createApp({
  store: createSupabaseStore(createServiceClient(config)),
  verifySession: createSessionVerifier(config),
  clock: () => new Date(),
  random: cryptoRandom,
  log: jsonLog,
  corsAllowedOrigins: config.corsAllowedOrigins,
  rateLimits: {
    readsPerWindow: config.readsPerMinute,
    writesPerWindow: config.writesPerMinute,
    windowSeconds: 60,
  },
  maxSubscriptionsPerWorkspace: config.maxSubscriptionsPerWorkspace,
  targetPolicy: {
    mode: config.targetPolicy,
    ownHosts: config.ownHosts,
    resolver: cachingResolver(denoResolver(config.targetDnsServer)),
  },
});

Deno.serve(app.fetch);
