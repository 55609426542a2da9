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

export interface SubscriptionRecord {
  id: string;
  targetUrl: string;
  eventTypes: string[];
  enabled: boolean;
  description: string | null;
  createdAt: Date;
}

/** Everything the API needs from the database. The real one is `createSupabaseStore`. */
export interface SubscriptionStore {
  findApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null>;
  insertSubscription(subscription: NewSubscription): Promise<SubscriptionRecord>;
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

function toSubscriptionRecord(row: SubscriptionRow): SubscriptionRecord {
  return {
    id: row.id,
    targetUrl: row.target_url,
    eventTypes: row.event_types,
    enabled: row.enabled,
    description: row.description,
    createdAt: new Date(row.created_at),
  };
}

export function createSupabaseStore(client: SupabaseClient): SubscriptionStore {
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
      const { data, error, status } = await client
        .from("webhook_subscriptions")
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
      return toSubscriptionRecord(data as SubscriptionRow);
    },
  };
}
