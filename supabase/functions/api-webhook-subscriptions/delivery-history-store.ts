import type { SupabaseClient } from "@supabase/supabase-js";
import type { Database, DeliveryDetailJson, DeliveryRow } from "../_shared/database.ts";
import { storeFailure } from "../_shared/store-failure.ts";
import type { ListPosition } from "../_shared/subscription-store.ts";
import type { WebhookEvent } from "../_shared/webhook-payload.ts";

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = typeof DELIVERY_STATUSES[number];

export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  lastResponseStatus: number | null;
  /** While pending: when the next attempt is due (during an attempt, when its lease ends). */
  nextAttemptAt: string | null;
  /** As the database gives it, to the microsecond: the list's sort key. */
  createdAt: string;
  finishedAt: string | null;
}

export interface AttemptRecord {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  responseStatus: number | null;
  errorKind: string | null;
  responseBody: string | null;
}

export interface DeliveryDetail extends DeliveryRecord {
  event: WebhookEvent;
  attempts: AttemptRecord[];
}

export interface DeliveryQuery {
  limit: number;
  after?: ListPosition;
  status?: DeliveryStatus;
  eventType?: string;
}

export type RetryOutcome =
  | { outcome: "retried"; delivery: DeliveryDetail }
  | { outcome: "in_flight"; delivery: DeliveryDetail }
  | { outcome: "not_found" }
  | { outcome: "subscription_disabled" };

export type RecoverOutcome =
  | { outcome: "recovered"; count: number }
  | { outcome: "not_found" }
  | { outcome: "subscription_disabled" };

/**
 * A subscription's deliveries, for the API. The real one is `createSupabaseDeliveryHistoryStore`.
 * Every operation is scoped to a workspace and a subscription: anything else finds nothing.
 */
export interface DeliveryHistoryStore {
  /** Null when the subscription is not the workspace's. */
  listDeliveries(
    workspaceId: string,
    subscriptionId: string,
    query: DeliveryQuery,
  ): Promise<{ records: DeliveryRecord[]; hasMore: boolean } | null>;
  getDelivery(
    workspaceId: string,
    subscriptionId: string,
    deliveryId: string,
  ): Promise<DeliveryDetail | null>;
  /** Due now, with the same webhook-id; a delivery with an attempt under way is left alone. */
  retryDelivery(
    workspaceId: string,
    subscriptionId: string,
    deliveryId: string,
  ): Promise<RetryOutcome>;
  /** A webhook.test event with `data` for this subscription only; null when it is not found. */
  sendTestEvent(
    workspaceId: string,
    subscriptionId: string,
    data: Record<string, unknown>,
  ): Promise<DeliveryDetail | null>;
  /** Every failed delivery created at or after `since`, due now. */
  recoverDeliveries(
    workspaceId: string,
    subscriptionId: string,
    since: Date,
  ): Promise<RecoverOutcome>;
}

function toRecord(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status as DeliveryStatus,
    attemptCount: row.attempt_count,
    lastResponseStatus: row.last_response_status,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

function toDetail(json: DeliveryDetailJson): DeliveryDetail {
  return {
    ...toRecord(json),
    event: {
      id: json.event_id,
      type: json.event_type,
      createdAt: json.event_created_at,
      workspaceId: json.workspace_id,
      data: json.data,
    },
    attempts: json.attempts.map((attempt) => ({
      attemptNumber: attempt.attempt_number,
      startedAt: attempt.started_at,
      durationMs: attempt.duration_ms,
      responseStatus: attempt.response_status,
      errorKind: attempt.error_kind,
      responseBody: attempt.response_body,
    })),
  };
}

// list_webhook_deliveries raises no_data_found for a subscription that is not the workspace's.
const NO_SUCH_SUBSCRIPTION = "P0002";

export function createSupabaseDeliveryHistoryStore(
  client: SupabaseClient<Database>,
): DeliveryHistoryStore {
  return {
    async listDeliveries(workspaceId, subscriptionId, query) {
      const { data, error, status } = await client.rpc("list_webhook_deliveries", {
        p_workspace_id: workspaceId,
        p_subscription_id: subscriptionId,
        p_limit: query.limit + 1,
        p_status: query.status ?? null,
        p_event_type: query.eventType ?? null,
        p_after_created_at: query.after?.createdAt ?? null,
        p_after_id: query.after?.id ?? null,
      });
      if (error?.code === NO_SUCH_SUBSCRIPTION) return null;
      if (error) throw storeFailure("delivery list", error, status);
      return {
        records: data.slice(0, query.limit).map(toRecord),
        hasMore: data.length > query.limit,
      };
    },

    async getDelivery(workspaceId, subscriptionId, deliveryId) {
      const { data, error, status } = await client.rpc("get_webhook_delivery", {
        p_workspace_id: workspaceId,
        p_subscription_id: subscriptionId,
        p_delivery_id: deliveryId,
      });
      if (error) throw storeFailure("delivery get", error, status);
      return data ? toDetail(data) : null;
    },

    async retryDelivery(workspaceId, subscriptionId, deliveryId) {
      const { data, error, status } = await client.rpc("retry_webhook_delivery", {
        p_workspace_id: workspaceId,
        p_subscription_id: subscriptionId,
        p_delivery_id: deliveryId,
      });
      if (error) throw storeFailure("delivery retry", error, status);
      if (data.outcome === "retried" && data.delivery) {
        return { outcome: "retried", delivery: toDetail(data.delivery) };
      }
      if (data.outcome === "in_flight" && data.delivery) {
        return { outcome: "in_flight", delivery: toDetail(data.delivery) };
      }
      if (data.outcome === "not_found" || data.outcome === "subscription_disabled") {
        return { outcome: data.outcome };
      }
      throw new Error(`delivery retry: unexpected outcome ${data.outcome}`);
    },

    async sendTestEvent(workspaceId, subscriptionId, eventData) {
      const { data, error, status } = await client.rpc("send_test_webhook_event", {
        p_workspace_id: workspaceId,
        p_subscription_id: subscriptionId,
        p_data: eventData as Database["public"]["Tables"]["webhook_events"]["Row"]["data"],
      });
      if (error) throw storeFailure("test event", error, status);
      if (data.outcome === "sent" && data.delivery) return toDetail(data.delivery);
      if (data.outcome === "not_found") return null;
      throw new Error(`test event: unexpected outcome ${data.outcome}`);
    },

    async recoverDeliveries(workspaceId, subscriptionId, since) {
      const { data, error, status } = await client.rpc("recover_webhook_deliveries", {
        p_workspace_id: workspaceId,
        p_subscription_id: subscriptionId,
        p_since: since.toISOString(),
      });
      if (error) throw storeFailure("delivery recovery", error, status);
      if (data.outcome === "recovered" && typeof data.count === "number") {
        return { outcome: "recovered", count: data.count };
      }
      if (data.outcome === "not_found" || data.outcome === "subscription_disabled") {
        return { outcome: data.outcome };
      }
      throw new Error(`delivery recovery: unexpected outcome ${data.outcome}`);
    },
  };
}
