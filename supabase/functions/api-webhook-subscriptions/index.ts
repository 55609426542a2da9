import { createSupabaseAuthStore } from "../_shared/auth-store.ts";
import { readConfig } from "../_shared/config.ts";
import { jsonLog } from "../_shared/log.ts";
import { cryptoRandom } from "../_shared/random.ts";
import { createSupabaseSubscriptionStore } from "../_shared/subscription-store.ts";
import { createServiceClient } from "../_shared/supabase-client.ts";
import { cachingResolver, denoResolver } from "../_shared/target-policy.ts";
import { createApp } from "./app.ts";
import { createSupabaseDeliveryHistoryStore } from "./delivery-history-store.ts";
import { createSessionVerifier } from "./session.ts";

// One client per isolate, built once at start-up; a missing variable fails here, not per request.
const config = readConfig((name) => Deno.env.get(name));
const client = createServiceClient(config);

const app = createApp({
  auth: createSupabaseAuthStore(client),
  subscriptions: createSupabaseSubscriptionStore(client),
  deliveries: createSupabaseDeliveryHistoryStore(client),
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
