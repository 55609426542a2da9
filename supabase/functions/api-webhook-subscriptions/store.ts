import type { SupabaseClient } from "@supabase/supabase-js";
import { StoreUnavailableError } from "./errors.ts";

export interface ApiTokenRecord {
  id: string;
  workspaceId: string;
  scopes: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
}

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

export interface SubscriptionRecord {
  id: string;
  targetUrl: string;
  eventTypes: string[];
  enabled: boolean;
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

export interface RotatedSecret {
  record: SubscriptionRecord;
  previousSecretExpiresAt: string;
}

/**
 * Everything the API needs from the database. The real one is `createSupabaseStore`. Every
 * subscription operation is scoped to a workspace: another workspace's id simply finds nothing.
 */
export interface SubscriptionStore {
  findApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null>;
  insertSubscription(subscription: NewSubscription): Promise<SubscriptionRecord>;
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

interface PostgrestFailure {
  message: string;
  code: string;
}

// PGRST000-PGRST003: PostgREST cannot reach or get a connection to Postgres. Status 0 is a
// fetch that never got an answer (refused, reset, timed out).
const UNAVAILABLE_STATUSES = new Set([0, 502, 503, 504]);
const UNAVAILABLE_CODES = /^PGRST00[0-3]$/;

function failure(operation: string, error: PostgrestFailure, status: number): Error {
  if (UNAVAILABLE_STATUSES.has(status) || UNAVAILABLE_CODES.test(error.code ?? "")) {
    return new StoreUnavailableError(`${operation}: status ${status} ${error.code ?? ""}`.trim());
  }
  // Only the code and message: PostgREST's `details` can quote row values, secrets included.
  return new Error(`${operation} failed: status ${status} code ${error.code} ${error.message}`);
}

const SUBSCRIPTION_COLUMNS = "id, target_url, event_types, enabled, description, created_at";

interface SubscriptionRow {
  id: string;
  target_url: string;
  event_types: string[];
  enabled: boolean;
  description: string | null;
  created_at: string;
}

function toRecord(row: SubscriptionRow): SubscriptionRecord {
  return {
    id: row.id,
    targetUrl: row.target_url,
    eventTypes: row.event_types,
    enabled: row.enabled,
    description: row.description,
    createdAt: row.created_at,
  };
}

function toColumns(changes: SubscriptionChanges): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  if (changes.targetUrl !== undefined) columns.target_url = changes.targetUrl;
  if (changes.eventTypes !== undefined) columns.event_types = changes.eventTypes;
  if (changes.description !== undefined) columns.description = changes.description;
  if (changes.enabled !== undefined) columns.enabled = changes.enabled;
  return columns;
}

export function createSupabaseStore(client: SupabaseClient): SubscriptionStore {
  const subscriptions = () => client.from("webhook_subscriptions");

  return {
    async findApiTokenByHash(tokenHash) {
      const { data, error, status } = await client
        .from("api_tokens")
        .select("id, workspace_id, scopes, expires_at, revoked_at")
        .eq("token_hash", tokenHash)
        .maybeSingle();
      if (error) throw failure("token lookup", error, status);
      if (!data) return null;
      return {
        id: data.id,
        workspaceId: data.workspace_id,
        scopes: data.scopes,
        expiresAt: data.expires_at ? new Date(data.expires_at) : null,
        revokedAt: data.revoked_at ? new Date(data.revoked_at) : null,
      };
    },

    async insertSubscription(subscription) {
      const { data, error, status } = await subscriptions()
        .insert({
          workspace_id: subscription.workspaceId,
          target_url: subscription.targetUrl,
          event_types: subscription.eventTypes,
          description: subscription.description,
          secret: subscription.secret,
        })
        .select(SUBSCRIPTION_COLUMNS)
        .single();
      if (error) throw failure("subscription insert", error, status);
      return toRecord(data as SubscriptionRow);
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
      if (error) throw failure("subscription list", error, status);
      const rows = (data ?? []) as SubscriptionRow[];
      return {
        records: rows.slice(0, query.limit).map(toRecord),
        hasMore: rows.length > query.limit,
      };
    },

    async getSubscription(workspaceId, id) {
      const { data, error, status } = await subscriptions()
        .select(SUBSCRIPTION_COLUMNS)
        .eq("workspace_id", workspaceId)
        .eq("id", id)
        .maybeSingle();
      if (error) throw failure("subscription get", error, status);
      return data ? toRecord(data as SubscriptionRow) : null;
    },

    async updateSubscription(workspaceId, id, changes) {
      const { data, error, status } = await subscriptions()
        .update(toColumns(changes))
        .eq("workspace_id", workspaceId)
        .eq("id", id)
        .select(SUBSCRIPTION_COLUMNS)
        .maybeSingle();
      if (error) throw failure("subscription update", error, status);
      return data ? toRecord(data as SubscriptionRow) : null;
    },

    async deleteSubscription(workspaceId, id) {
      const { data, error, status } = await subscriptions()
        .delete()
        .eq("workspace_id", workspaceId)
        .eq("id", id)
        .select("id");
      if (error) throw failure("subscription delete", error, status);
      return (data ?? []).length > 0;
    },

    async rotateSecret(workspaceId, id, newSecret) {
      const { data, error, status } = await client
        .rpc("rotate_webhook_subscription_secret", {
          subscription_id: id,
          owner_workspace_id: workspaceId,
          new_secret: newSecret,
        })
        .maybeSingle();
      if (error) throw failure("secret rotation", error, status);
      if (!data) return null;
      const row = data as SubscriptionRow & { previous_secret_expires_at: string };
      return { record: toRecord(row), previousSecretExpiresAt: row.previous_secret_expires_at };
    },
  };
}
