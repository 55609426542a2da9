import type { AuthStore } from "../_shared/auth-store.ts";
import type { Log } from "../_shared/log.ts";
import type { RandomSource } from "../_shared/random.ts";
import type { SubscriptionStore } from "../_shared/subscription-store.ts";
import type { TargetPolicy } from "../_shared/target-policy.ts";
import type { DeliveryHistoryStore } from "./delivery-history-store.ts";
import type { SessionVerifier } from "./session.ts";

/** Supabase routes /functions/v1/<name>/... to the function as /<name>/... */
export const FUNCTION_NAME = "api-webhook-subscriptions";
export const FUNCTION_PATH = `/functions/v1/${FUNCTION_NAME}`;

/** Who is calling: an API access token, or a dashboard user's Supabase Auth session. */
export interface Principal {
  kind: "api_token" | "session";
  /** The API token's id, or the user's id for a session. */
  id: string;
  workspaceId: string;
  scopes: ReadonlySet<string>;
}

export interface RateLimits {
  readsPerWindow: number;
  writesPerWindow: number;
  windowSeconds: number;
}

/** Everything the app uses from outside; tests hand in real or fake ones. */
export interface AppDependencies {
  auth: AuthStore;
  subscriptions: SubscriptionStore;
  deliveries: DeliveryHistoryStore;
  verifySession: SessionVerifier;
  clock: () => Date;
  random: RandomSource;
  log: Log;
  corsAllowedOrigins: readonly string[];
  targetPolicy: TargetPolicy;
  rateLimits: RateLimits;
  maxSubscriptionsPerWorkspace: number;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    /** Set by authentication before any route runs. */
    principal: Principal;
    /** Why a 500 or 503 happened, for the log line only. */
    errorCause?: string;
  };
};
