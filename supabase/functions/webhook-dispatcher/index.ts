import { jsonLog } from "../_shared/log.ts";
import { createServiceClient } from "../_shared/supabase-client.ts";
import { denoResolver } from "../_shared/target-policy.ts";
import { readDispatcherConfig } from "./config.ts";
import { createSupabaseDeliveryStore } from "./delivery-store.ts";
import { createDispatcherHandler } from "./handler.ts";
import { createSender } from "./sender.ts";

const config = readDispatcherConfig((name) => Deno.env.get(name));

Deno.serve(createDispatcherHandler({
  serviceRoleKey: config.serviceRoleKey,
  store: createSupabaseDeliveryStore(createServiceClient(config)),
  send: createSender({
    timeoutMs: config.settings.attemptTimeoutMs,
    // No cache here: the address must be checked on every new connection.
    policy: {
      mode: config.targetPolicy,
      ownHosts: config.ownHosts,
      resolver: denoResolver(config.targetDnsServer),
    },
  }),
  settings: config.settings,
  clock: () => new Date(),
  random: Math.random,
  log: jsonLog,
}));
