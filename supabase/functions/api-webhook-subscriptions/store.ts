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

export type RequestClass = "read" | "write";

export interface RateLimitRule {
  requestClass: RequestClass;
  maxHits: number;
  windowSeconds: number;
}

/** This window's count for a credential, after counting the current request. */
export interface RateLimitCount {
  hits: number;
  resetSeconds: number;
}

export interface IdempotencyClaim {
  key: string;
  requestHash: string;
}

export type CreateOutcome =
  | { outcome: "created" | "replayed"; record: SubscriptionRecord; secret: string }
  | { outcome: "key_reused" | "in_flight" | "limit_reached" | "workspace_not_found" };

/** A subscription's fields, for a create whose workspace the store takes from the token. */
export type SubscriptionFields = Omit<NewSubscription, "workspaceId">;

export type TokenCreateOutcome =
  | { outcome: "invalid_token" }
  | { outcome: "rate_limited" | "forbidden"; token: ApiTokenRecord; count: RateLimitCount }
  /** Every check passed, so the create ran; `created` is how it went. */
  | { outcome: "checked"; token: ApiTokenRecord; count: RateLimitCount; created: CreateOutcome };

export interface RotatedSecret {
  record: SubscriptionRecord;
  previousSecretExpiresAt: string;
}

/**
 * Everything the API needs from the database. The real one is `createSupabaseStore`. Every
 * subscription operation is scoped to a workspace: another workspace's id simply finds nothing.
 */
export interface SubscriptionStore {
  /**
   * Finds a token by its hash and, when it is live, counts this request against its rate limit:
   * authentication and limiting in one round trip. `count` is null for a dead token.
   */
  authenticateApiToken(
    tokenHash: string,
    rule: RateLimitRule,
  ): Promise<{ token: ApiTokenRecord; count: RateLimitCount | null } | null>;
  /**
   * Counts a dashboard session's request against `bucket` (`user:<id>:<class>`) and says whether
   * the session's workspace exists, in one round trip.
   */
  authenticateSession(
    workspaceId: string | null,
    bucket: string,
    rule: RateLimitRule,
  ): Promise<{ workspaceExists: boolean; count: RateLimitCount }>;
  /**
   * Creates under the workspace cap, honouring an idempotency key, in one transaction. A replay
   * answers with the subscription as it is now (its current secret); a deleted subscription's key
   * is gone with it.
   */
  createSubscription(
    subscription: NewSubscription,
    options: { maxSubscriptions: number; idempotency?: IdempotencyClaim },
  ): Promise<CreateOutcome>;
  /**
   * Authenticates an API token, counts the write against its rate limit, checks it holds
   * webhooks:read and webhooks:write, and creates in its workspace: one round trip, one
   * transaction. Nothing is created unless every check passes.
   */
  createSubscriptionWithToken(
    tokenHash: string,
    rule: RateLimitRule,
    subscription: SubscriptionFields,
    options: { maxSubscriptions: number; idempotency?: IdempotencyClaim },
  ): Promise<TokenCreateOutcome>;
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

/** The arguments both create RPCs share. */
function createArguments(
  subscription: SubscriptionFields,
  options: { maxSubscriptions: number; idempotency?: IdempotencyClaim },
) {
  return {
    target_url: subscription.targetUrl,
    event_types: subscription.eventTypes,
    description: subscription.description,
    secret: subscription.secret,
    max_subscriptions: options.maxSubscriptions,
    idempotency_key: options.idempotency?.key ?? null,
    request_hash: options.idempotency?.requestHash ?? null,
  };
}

interface CreateRow {
  outcome: string;
  subscription: (SubscriptionRow & { secret: string }) | null;
}

function createOutcomeOf(row: CreateRow): CreateOutcome {
  if ((row.outcome === "created" || row.outcome === "replayed") && row.subscription) {
    return {
      outcome: row.outcome,
      record: toRecord(row.subscription),
      secret: row.subscription.secret,
    };
  }
  if (
    row.outcome === "key_reused" || row.outcome === "in_flight" ||
    row.outcome === "limit_reached" || row.outcome === "workspace_not_found"
  ) {
    return { outcome: row.outcome };
  }
  throw new Error(`subscription create: unexpected outcome ${row.outcome}`);
}

export function createSupabaseStore(client: SupabaseClient): SubscriptionStore {
  const subscriptions = () => client.from("webhook_subscriptions");

  return {
    async authenticateApiToken(tokenHash, rule) {
      const { data, error, status } = await client
        .rpc("authenticate_api_token", {
          token_hash: tokenHash,
          request_class: rule.requestClass,
          max_hits: rule.maxHits,
          window_seconds: rule.windowSeconds,
        })
        .maybeSingle();
      if (error) throw failure("token lookup", error, status);
      if (!data) return null;
      const row = data as {
        id: string;
        workspace_id: string;
        scopes: string[];
        expires_at: string | null;
        revoked_at: string | null;
        hits: number | null;
        reset_seconds: number | null;
      };
      return {
        token: {
          id: row.id,
          workspaceId: row.workspace_id,
          scopes: row.scopes,
          expiresAt: row.expires_at ? new Date(row.expires_at) : null,
          revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
        },
        count: row.hits === null ? null : { hits: row.hits, resetSeconds: row.reset_seconds ?? 0 },
      };
    },

    async authenticateSession(workspaceId, bucket, rule) {
      const { data, error, status } = await client
        .rpc("authenticate_session", {
          session_workspace_id: workspaceId,
          bucket,
          max_hits: rule.maxHits,
          window_seconds: rule.windowSeconds,
        })
        .single();
      if (error) throw failure("session check", error, status);
      const row = data as { workspace_exists: boolean; hits: number; reset_seconds: number };
      return {
        workspaceExists: row.workspace_exists,
        count: { hits: row.hits, resetSeconds: row.reset_seconds },
      };
    },

    async createSubscription(subscription, options) {
      const { data, error, status } = await client
        .rpc("create_webhook_subscription", {
          owner_workspace_id: subscription.workspaceId,
          ...createArguments(subscription, options),
        })
        .single();
      if (error) throw failure("subscription create", error, status);
      return createOutcomeOf(data as CreateRow);
    },

    async createSubscriptionWithToken(tokenHash, rule, subscription, options) {
      const { data, error, status } = await client
        .rpc("create_webhook_subscription_with_token", {
          token_hash: tokenHash,
          max_hits: rule.maxHits,
          window_seconds: rule.windowSeconds,
          ...createArguments(subscription, options),
        })
        .single();
      if (error) throw failure("subscription create", error, status);
      const row = data as CreateRow & {
        token_id: string | null;
        workspace_id: string;
        scopes: string[];
        expires_at: string | null;
        hits: number;
        reset_seconds: number;
      };
      if (row.outcome === "invalid_token" || row.token_id === null) {
        return { outcome: "invalid_token" };
      }
      const token: ApiTokenRecord = {
        id: row.token_id,
        workspaceId: row.workspace_id,
        scopes: row.scopes,
        expiresAt: row.expires_at ? new Date(row.expires_at) : null,
        revokedAt: null,
      };
      const count = { hits: row.hits, resetSeconds: row.reset_seconds };
      if (row.outcome === "rate_limited" || row.outcome === "forbidden") {
        return { outcome: row.outcome, token, count };
      }
      return { outcome: "checked", token, count, created: createOutcomeOf(row) };
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
