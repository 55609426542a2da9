import type { SupabaseClient } from "@supabase/supabase-js";
import type { Database, Json } from "../_shared/database.ts";
import { storeFailure } from "../_shared/store-failure.ts";

/** A delivery this dispatcher holds the lease of, with what its request needs. */
export interface ClaimedDelivery {
  deliveryId: string;
  leaseId: string;
  attemptNumber: number;
  subscriptionId: string;
  targetUrl: string;
  /** The current secret, then a rotated-away one still in its grace period. */
  secrets: string[];
  eventId: string;
  eventType: string;
  eventCreatedAt: string;
  workspaceId: string;
  data: Json;
}

export type AttemptOutcome = "succeeded" | "retry" | "failed" | "gone";

/** A finished attempt, as `record_webhook_attempts` takes it. */
export type AttemptRecord = {
  delivery_id: string;
  lease_id: string;
  attempt_number: number;
  started_at: string;
  duration_ms: number;
  response_status: number | null;
  error_kind: string | null;
  response_body: string | null;
  outcome: AttemptOutcome;
  next_attempt_at: string | null;
};

export interface ClaimOptions {
  maxDeliveries: number;
  leaseSeconds: number;
  maxPerSubscription: number;
}

/** The delivery queue. The real one is `createSupabaseDeliveryStore`; each call is one round trip. */
export interface DeliveryStore {
  claim(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Returns how many were recorded: an attempt whose lease was lost is not. */
  record(attempts: AttemptRecord[], failingAfterSeconds: number): Promise<number>;
  /** Removes events older than 30 days (with their deliveries), a batch at a time. */
  deleteExpired(): Promise<number>;
}

export function createSupabaseDeliveryStore(client: SupabaseClient<Database>): DeliveryStore {
  return {
    async claim(options) {
      const { data, error, status } = await client.rpc("claim_webhook_deliveries", {
        max_deliveries: options.maxDeliveries,
        lease_seconds: options.leaseSeconds,
        max_per_subscription: options.maxPerSubscription,
      });
      if (error) throw storeFailure("delivery claim", error, status);
      return data.map((row) => ({
        deliveryId: row.delivery_id,
        leaseId: row.lease_id,
        attemptNumber: row.attempt_number,
        subscriptionId: row.subscription_id,
        targetUrl: row.target_url,
        secrets: row.previous_secret ? [row.secret, row.previous_secret] : [row.secret],
        eventId: row.event_id,
        eventType: row.event_type,
        eventCreatedAt: row.event_created_at,
        workspaceId: row.workspace_id,
        data: row.data,
      }));
    },

    async record(attempts, failingAfterSeconds) {
      const { data, error, status } = await client.rpc("record_webhook_attempts", {
        attempts,
        failing_after_seconds: failingAfterSeconds,
      });
      if (error) throw storeFailure("attempt record", error, status);
      return data;
    },

    async deleteExpired() {
      const { data, error, status } = await client.rpc("delete_expired_webhook_events", {});
      if (error) throw storeFailure("retention", error, status);
      return data;
    },
  };
}
