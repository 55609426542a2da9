/**
 * The test stack's dispatcher settings: the contract's behaviour with its waits shortened, so a
 * whole retry schedule fits in a test. Tests that start dispatchers of their own use these too.
 */
export const TEST_DISPATCHER_ENV: Record<string, string> = {
  TARGET_URL_POLICY: "permissive",
  DELIVERY_ATTEMPT_TIMEOUT_MS: "2000",
  DELIVERY_RETRY_SCHEDULE: "1,1",
  DELIVERY_LEASE_SECONDS: "8",
  DISPATCHER_TIME_BUDGET_MS: "8000",
  DISPATCHER_POLL_INTERVAL_MS: "100",
};
