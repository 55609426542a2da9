import type { SupabaseClient } from "@supabase/supabase-js";
import type { CreateSubscriptionResult, Database } from "./database.ts";
import { storeFailure } from "./store-failure.ts";

export interface NewSubscription {
  workspaceId: string;
  targetUrl: string;
  eventTypes: string[];
  description: string | null;
  secret: string;
}

export interface SubscriptionChanges {
  targetUrl?: string;
  eventTypes?: string[];
  description?: string | null;
  enabled?: boolean;
}

/** Why a subscription is disabled: by its owner, by its receiver (410), or by failing 5 days. */
export type DisabledReason = "manual" | "target_gone" | "failing";

export interface SubscriptionRecord {
  id: string;
  targetUrl: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: DisabledReason | null;
  disabledAt: string | null;
  description: string | null;
  /** As the database gives it, to the microsecond: the list's sort key. */
  createdAt: string;
}

/** The position after which a page starts: the last row of the previous page. */
export interface ListPosition {
  createdAt: string;
  id: string;
}

export interface ListQuery {
  limit: number;
  after?: ListPosition;
  enabled?: boolean;
  eventType?: string;
}

export interface IdempotencyClaim {
  key: string;
  requestHash: string;
}

export type CreateOutcome =
  | { outcome: "created" | "replayed"; record: SubscriptionRecord; secret: string }
  | { outcome: "key_reused" | "in_flight" | "limit_reached" | "workspace_not_found" };

export interface RotatedSecret {
  record: SubscriptionRecord;
  previousSecretExpiresAt: string;
}

/**
 * The subscriptions of a workspace. The real one is `createSupabaseSubscriptionStore`. Every
 * operation is scoped to a workspace: another workspace's id simply finds nothing.
 */
export interface SubscriptionStore {
  /**
   * Creates under the workspace cap, honouring an idempotency key, in one transaction. A replay
   * answers with the subscription as it is now (its current secret); a deleted subscription's key
   * is gone with it.
   */
  createSubscription(
    subscription: NewSubscription,
    options: { maxSubscriptions: number; idempotency?: IdempotencyClaim },
  ): Promise<CreateOutcome>;
  listSubscriptions(
    workspaceId: string,
    query: ListQuery,
  ): Promise<{ records: SubscriptionRecord[]; hasMore: boolean }>;
  getSubscription(workspaceId: string, id: string): Promise<SubscriptionRecord | null>;
  updateSubscription(
    workspaceId: string,
    id: string,
    changes: SubscriptionChanges,
  ): Promise<SubscriptionRecord | null>;
  deleteSubscription(workspaceId: string, id: string): Promise<boolean>;
  rotateSecret(workspaceId: string, id: string, newSecret: string): Promise<RotatedSecret | null>;
}

const SUBSCRIPTION_COLUMNS =
  "id, target_url, event_types, enabled, disabled_reason, disabled_at, description, created_at";

type SubscriptionColumns = Pick<
  Database["public"]["Tables"]["webhook_subscriptions"]["Row"],
  | "id"
  | "target_url"
  | "event_types"
  | "enabled"
  | "disabled_reason"
  | "disabled_at"
  | "description"
  | "created_at"
>;

function toRecord(row: SubscriptionColumns): SubscriptionRecord {
  return {
    id: row.id,
    targetUrl: row.target_url,
    eventTypes: row.event_types,
    enabled: row.enabled,
    disabledReason: row.disabled_reason as DisabledReason | null,
    disabledAt: row.disabled_at,
    description: row.description,
    createdAt: row.created_at,
  };
}

function toColumns(changes: SubscriptionChanges) {
  return {
    ...(changes.targetUrl !== undefined ? { target_url: changes.targetUrl } : {}),
    ...(changes.eventTypes !== undefined ? { event_types: changes.eventTypes } : {}),
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
  };
}

const FAILED_OUTCOMES = new Set([
  "key_reused",
  "in_flight",
  "limit_reached",
  "workspace_not_found",
]);

function createOutcomeOf({ outcome, subscription }: CreateSubscriptionResult): CreateOutcome {
  if ((outcome === "created" || outcome === "replayed") && subscription) {
    return { outcome, record: toRecord(subscription), secret: subscription.secret };
  }
  if (FAILED_OUTCOMES.has(outcome)) {
    return { outcome: outcome as Exclude<CreateOutcome["outcome"], "created" | "replayed"> };
  }
  throw new Error(`subscription create: unexpected outcome ${outcome}`);
}

export function createSupabaseSubscriptionStore(
  client: SupabaseClient<Database>,
): SubscriptionStore {
  const subscriptions = () => client.from("webhook_subscriptions");

  return {
    async createSubscription(subscription, options) {
      const { data, error, status } = await client
        .rpc("create_webhook_subscription", {
          owner_workspace_id: subscription.workspaceId,
          target_url: subscription.targetUrl,
          event_types: subscription.eventTypes,
          description: subscription.description,
          secret: subscription.secret,
          max_subscriptions: options.maxSubscriptions,
          idempotency_key: options.idempotency?.key ?? null,
          request_hash: options.idempotency?.requestHash ?? null,
        })
        .single();
      if (error) throw storeFailure("subscription create", error, status);
      return createOutcomeOf(data);
    },

    async listSubscriptions(workspaceId, query) {
      let request = subscriptions()
        .select(SUBSCRIPTION_COLUMNS)
        .eq("workspace_id", workspaceId);
      if (query.enabled !== undefined) request = request.eq("enabled", query.enabled);
      if (query.eventType !== undefined) {
        request = request.contains("event_types", [query.eventType]);
      }
      if (query.after) {
        // Both values were validated (timestamp and uuid shapes), so they cannot break the filter.
        const { createdAt, id } = query.after;
        request = request.or(
          `created_at.lt."${createdAt}",and(created_at.eq."${createdAt}",id.lt.${id})`,
        );
      }
      const { data, error, status } = await request
        .order("created_at", { ascending: false })
        .order("id", { ascending: false })
        .limit(query.limit + 1);
      if (error) throw storeFailure("subscription list", error, status);
      return {
        records: data.slice(0, query.limit).map(toRecord),
        hasMore: data.length > query.limit,
      };
    },

    async getSubscription(workspaceId, id) {
      const { data, error, status } = await subscriptions()
        .select(SUBSCRIPTION_COLUMNS)
        .eq("workspace_id", workspaceId)
        .eq("id", id)
        .maybeSingle();
      if (error) throw storeFailure("subscription get", error, status);
      return data ? toRecord(data) : null;
    },

    async updateSubscription(workspaceId, id, changes) {
      const { data, error, status } = await subscriptions()
        .update(toColumns(changes))
        .eq("workspace_id", workspaceId)
        .eq("id", id)
        .select(SUBSCRIPTION_COLUMNS)
        .maybeSingle();
      if (error) throw storeFailure("subscription update", error, status);
      return data ? toRecord(data) : null;
    },

    async deleteSubscription(workspaceId, id) {
      const { data, error, status } = await subscriptions()
        .delete()
        .eq("workspace_id", workspaceId)
        .eq("id", id)
        .select("id");
      if (error) throw storeFailure("subscription delete", error, status);
      return data.length > 0;
    },

    async rotateSecret(workspaceId, id, newSecret) {
      const { data, error, status } = await client
        .rpc("rotate_webhook_subscription_secret", {
          subscription_id: id,
          owner_workspace_id: workspaceId,
          new_secret: newSecret,
        })
        .maybeSingle();
      if (error) throw storeFailure("secret rotation", error, status);
      if (!data) return null;
      return { record: toRecord(data), previousSecretExpiresAt: data.previous_secret_expires_at };
    },
  };
}
