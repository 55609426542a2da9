import type { SupabaseClient } from "@supabase/supabase-js";
import type { Database } from "./database.ts";
import { storeFailure } from "./store-failure.ts";

export interface ApiTokenRecord {
  id: string;
  workspaceId: string;
  scopes: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
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

/** Who a credential is, and its rate-limit count: one round trip per request. */
export interface AuthStore {
  /**
   * Finds a token by its hash and, when it is live, counts this request against its rate limit.
   * `count` is null for a dead (revoked or expired) token; null overall for an unknown one.
   */
  authenticateApiToken(
    tokenHash: string,
    rule: RateLimitRule,
  ): Promise<{ token: ApiTokenRecord; count: RateLimitCount | null } | null>;
  /** Counts a dashboard user's request and says whether the session's workspace exists. */
  authenticateSession(
    workspaceId: string | null,
    userId: string,
    rule: RateLimitRule,
  ): Promise<{ workspaceExists: boolean; count: RateLimitCount }>;
}

const toDate = (value: string | null) => value === null ? null : new Date(value);

export function createSupabaseAuthStore(client: SupabaseClient<Database>): AuthStore {
  return {
    async authenticateApiToken(tokenHash, rule) {
      const { data: row, error, status } = await client
        .rpc("authenticate_api_token", {
          token_hash: tokenHash,
          request_class: rule.requestClass,
          max_hits: rule.maxHits,
          window_seconds: rule.windowSeconds,
        })
        .maybeSingle();
      if (error) throw storeFailure("token lookup", error, status);
      if (!row) return null;
      return {
        token: {
          id: row.id,
          workspaceId: row.workspace_id,
          scopes: row.scopes,
          expiresAt: toDate(row.expires_at),
          revokedAt: toDate(row.revoked_at),
        },
        count: row.hits === null ? null : { hits: row.hits, resetSeconds: row.reset_seconds ?? 0 },
      };
    },

    async authenticateSession(workspaceId, userId, rule) {
      const { data: row, error, status } = await client
        .rpc("authenticate_session", {
          session_workspace_id: workspaceId,
          user_id: userId,
          request_class: rule.requestClass,
          max_hits: rule.maxHits,
          window_seconds: rule.windowSeconds,
        })
        .single();
      if (error) throw storeFailure("session check", error, status);
      return {
        workspaceExists: row.workspace_exists,
        count: { hits: row.hits, resetSeconds: row.reset_seconds },
      };
    },
  };
}
