import {
  type Env,
  type PlatformConfig,
  positiveInteger,
  readPlatformConfig,
  startupError,
} from "../_shared/config.ts";
import type { DispatchSettings } from "./dispatcher.ts";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "./retry-schedule.ts";

export const FUNCTION_NAME = "webhook-dispatcher";

export interface DispatcherConfig extends PlatformConfig {
  settings: DispatchSettings;
}

function retrySchedule(env: Env): number[] {
  const value = env("DELIVERY_RETRY_SCHEDULE");
  if (!value) return DEFAULT_RETRY_SCHEDULE_SECONDS;
  const steps = value.split(",").map((step) => step.trim());
  if (!steps.every((step) => /^[0-9]{1,7}$/.test(step))) {
    throw startupError(
      "DELIVERY_RETRY_SCHEDULE must be waits in seconds, comma-separated (e.g. 5,300,1800).",
      FUNCTION_NAME,
    );
  }
  return steps.map(Number);
}

/**
 * The dispatcher's configuration. Every default is the contract's; the tests shorten the waits
 * through these same variables, so the code path they run is the deployed one.
 */
export function readDispatcherConfig(env: Env): DispatcherConfig {
  const integer = (name: string, fallback: number) =>
    positiveInteger(env, name, fallback, FUNCTION_NAME);
  const settings: DispatchSettings = {
    attemptTimeoutMs: integer("DELIVERY_ATTEMPT_TIMEOUT_MS", 15_000),
    retryScheduleSeconds: retrySchedule(env),
    leaseSeconds: integer("DELIVERY_LEASE_SECONDS", 60),
    failingAfterSeconds: integer("DELIVERY_FAILING_AFTER_SECONDS", 5 * 24 * 60 * 60),
    timeBudgetMs: integer("DISPATCHER_TIME_BUDGET_MS", 25_000),
    maxInFlight: integer("DISPATCHER_MAX_IN_FLIGHT", 64),
    batchSize: integer("DISPATCHER_BATCH_SIZE", 64),
    maxPerSubscription: integer("DISPATCHER_MAX_PER_SUBSCRIPTION", 8),
    pollIntervalMs: integer("DISPATCHER_POLL_INTERVAL_MS", 250),
    maxDeliveriesPerRun: integer("DISPATCHER_MAX_DELIVERIES_PER_RUN", 4000),
  };
  if (settings.leaseSeconds * 1000 < settings.attemptTimeoutMs + 5_000) {
    throw startupError(
      "DELIVERY_LEASE_SECONDS must outlast an attempt (DELIVERY_ATTEMPT_TIMEOUT_MS) by 5 s, or a delivery could be sent twice at once.",
      FUNCTION_NAME,
    );
  }
  return { ...readPlatformConfig(env, FUNCTION_NAME), settings };
}
