import type { DnsServer, TargetPolicyMode } from "./target-policy.ts";

/** What every function of the project reads: the platform's variables and the target policy. */
export interface PlatformConfig {
  supabaseUrl: string;
  serviceRoleKey: string;
  /** strict (default): public https targets only. permissive: anything http(s), for local work. */
  targetPolicy: TargetPolicyMode;
  /** A name server for target checks, host:port; the platform's resolver when unset. */
  targetDnsServer?: DnsServer;
  /** Host names of this API, refused as targets (besides SUPABASE_URL's). */
  ownHosts: string[];
}

export interface FunctionConfig extends PlatformConfig {
  /** The legacy shared JWT secret, for projects whose sessions are still signed with HS256. */
  legacyJwtSecret?: string;
  /** Browser origins allowed to call the API (the dashboard's); none by default. */
  corsAllowedOrigins: string[];
  maxSubscriptionsPerWorkspace: number;
  /** Per credential and minute. */
  readsPerMinute: number;
  writesPerMinute: number;
}

const REQUIRED = ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"] as const;

export type Env = (name: string) => string | undefined;

export function startupError(message: string, functionName = "api-webhook-subscriptions"): Error {
  return new Error(`${functionName} cannot start: ${message}`);
}

function parseOrigins(value: string | undefined): string[] {
  const origins = (value ?? "").split(",").map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw startupError(
        `CORS_ALLOWED_ORIGINS holds '${origin}', which is not an origin like https://app.example.com.`,
      );
    }
  }
  return origins;
}

export function positiveInteger(
  env: Env,
  name: string,
  fallback: number,
  functionName?: string,
): number {
  const value = env(name);
  if (!value) return fallback;
  if (!/^[1-9][0-9]{0,8}$/.test(value)) {
    throw startupError(`${name} must be a positive whole number.`, functionName);
  }
  return Number(value);
}

function parseDnsServer(value: string | undefined, functionName?: string): DnsServer | undefined {
  if (!value) return undefined;
  const match = /^([0-9.]+|\[[0-9a-f:]+\]):(\d{1,5})$/i.exec(value);
  if (!match) {
    throw startupError("TARGET_DNS_SERVER must be ip:port, e.g. 127.0.0.1:5353.", functionName);
  }
  return { hostname: match[1].replace(/^\[|\]$/g, ""), port: Number(match[2]) };
}

/**
 * Reads what the Supabase platform injects, and the target policy; a missing variable stops the
 * function at start-up.
 */
export function readPlatformConfig(
  env: Env,
  functionName = "api-webhook-subscriptions",
): PlatformConfig {
  const fail = (message: string) => startupError(message, functionName);
  const missing = REQUIRED.filter((name) => !env(name));
  if (missing.length > 0) {
    throw fail(
      `missing environment variable ${
        missing.join(", ")
      }. The Supabase platform sets it for deployed functions; locally, 'deno task start' does.`,
    );
  }
  const supabaseUrl = env("SUPABASE_URL")!;
  if (!URL.canParse(supabaseUrl)) throw fail("SUPABASE_URL is not a valid URL.");
  const targetPolicy = env("TARGET_URL_POLICY") || "strict";
  if (targetPolicy !== "strict" && targetPolicy !== "permissive") {
    throw fail("TARGET_URL_POLICY must be strict or permissive.");
  }
  return {
    supabaseUrl,
    serviceRoleKey: env("SUPABASE_SERVICE_ROLE_KEY")!,
    targetPolicy,
    targetDnsServer: parseDnsServer(env("TARGET_DNS_SERVER"), functionName),
    ownHosts: [
      new URL(supabaseUrl).hostname,
      ...(env("OWN_HOSTS") ?? "").split(",").map((host) => host.trim().toLowerCase()).filter(
        Boolean,
      ),
    ],
  };
}

/** The API function's configuration. */
export function readConfig(env: Env): FunctionConfig {
  return {
    ...readPlatformConfig(env),
    legacyJwtSecret: env("JWT_SECRET") || undefined,
    corsAllowedOrigins: parseOrigins(env("CORS_ALLOWED_ORIGINS")),
    maxSubscriptionsPerWorkspace: positiveInteger(env, "MAX_SUBSCRIPTIONS_PER_WORKSPACE", 100),
    readsPerMinute: positiveInteger(env, "RATE_LIMIT_READS_PER_MINUTE", 600),
    writesPerMinute: positiveInteger(env, "RATE_LIMIT_WRITES_PER_MINUTE", 60),
  };
}
