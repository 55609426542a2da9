/**
 * The schema as supabase-js sees it, in the shape `supabase gen types typescript` emits: the one
 * place where table rows and RPC arguments and results are typed, so no call site casts.
 * Keep it in step with supabase/migrations; the integration tests call every RPC through it.
 */
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];

type SubscriptionRow = {
  id: string;
  workspace_id: string;
  target_url: string;
  event_types: string[];
  description: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
};

/** What a create RPC returns: the outcome, and the subscription row (secret included) as JSON. */
export type CreateSubscriptionResult = {
  outcome: string;
  subscription: SubscriptionRow | null;
};

/** A delivery as the history functions return it (list_webhook_deliveries' row). */
export type DeliveryRow = {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  last_response_status: number | null;
  /** While pending only. */
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
};

/** One delivery with its event and attempts, as private.webhook_delivery_json builds it. */
export type DeliveryDetailJson = DeliveryRow & {
  event_created_at: string;
  workspace_id: string;
  data: Json;
  attempts: {
    attempt_number: number;
    started_at: string;
    duration_ms: number;
    response_status: number | null;
    error_kind: string | null;
    response_body: string | null;
  }[];
};

export type Database = {
  __InternalSupabase: { PostgrestVersion: "12" };
  public: {
    Tables: {
      workspaces: {
        Row: { id: string; name: string; subscription_count: number; created_at: string };
        Insert: { id?: string; name: string; created_at?: string };
        Update: { name?: string };
        Relationships: [];
      };
      api_tokens: {
        Row: {
          id: string;
          workspace_id: string;
          name: string | null;
          token_prefix: string;
          token_hash: string;
          scopes: string[];
          expires_at: string | null;
          revoked_at: string | null;
          created_at: string;
        };
        Insert: {
          id?: string;
          workspace_id: string;
          name?: string | null;
          token_prefix: string;
          token_hash: string;
          scopes: string[];
          expires_at?: string | null;
          revoked_at?: string | null;
        };
        Update: { name?: string | null; scopes?: string[]; revoked_at?: string | null };
        Relationships: [];
      };
      webhook_subscriptions: {
        Row: SubscriptionRow;
        Insert: {
          id?: string;
          workspace_id: string;
          target_url: string;
          event_types: string[];
          description?: string | null;
          secret: string;
          enabled?: boolean;
        };
        Update: {
          target_url?: string;
          event_types?: string[];
          description?: string | null;
          enabled?: boolean;
        };
        Relationships: [];
      };
      webhook_events: {
        Row: { id: string; workspace_id: string; type: string; data: Json; created_at: string };
        Insert: { id: string; workspace_id: string; type: string; data: Json; created_at?: string };
        Update: { [_ in never]: never };
        Relationships: [];
      };
      webhook_deliveries: {
        Row: {
          id: string;
          event_id: string;
          subscription_id: string;
          status: string;
          attempt_count: number;
          next_attempt_at: string;
          lease_id: string | null;
          last_response_status: number | null;
          created_at: string;
          finished_at: string | null;
          is_test: boolean;
        };
        Insert: {
          event_id: string;
          subscription_id: string;
          next_attempt_at?: string;
          is_test?: boolean;
        };
        Update: { status?: string; next_attempt_at?: string };
        Relationships: [];
      };
      webhook_delivery_attempts: {
        Row: {
          id: number;
          delivery_id: string;
          attempt_number: number;
          started_at: string;
          duration_ms: number;
          response_status: number | null;
          error_kind: string | null;
          response_body: string | null;
        };
        Insert: { [_ in never]: never };
        Update: { [_ in never]: never };
        Relationships: [];
      };
    };
    Views: { [_ in never]: never };
    Functions: {
      authenticate_api_token: {
        Args: {
          token_hash: string;
          request_class: string;
          max_hits: number;
          window_seconds: number;
        };
        Returns: {
          id: string;
          workspace_id: string;
          scopes: string[];
          expires_at: string | null;
          revoked_at: string | null;
          hits: number | null;
          reset_seconds: number | null;
        }[];
      };
      authenticate_session: {
        Args: {
          session_workspace_id: string | null;
          user_id: string;
          request_class: string;
          max_hits: number;
          window_seconds: number;
        };
        Returns: { workspace_exists: boolean; hits: number; reset_seconds: number }[];
      };
      create_webhook_subscription: {
        Args: {
          owner_workspace_id: string;
          target_url: string;
          event_types: string[];
          description: string | null;
          secret: string;
          max_subscriptions: number;
          idempotency_key?: string | null;
          request_hash?: string | null;
        };
        Returns: CreateSubscriptionResult[];
      };
      rotate_webhook_subscription_secret: {
        Args: {
          subscription_id: string;
          owner_workspace_id: string;
          new_secret: string;
        };
        Returns: {
          id: string;
          target_url: string;
          event_types: string[];
          enabled: boolean;
          disabled_reason: string | null;
          disabled_at: string | null;
          description: string | null;
          created_at: string;
          previous_secret_expires_at: string;
        }[];
      };
      emit_webhook_event: {
        Args: { p_workspace_id: string; p_type: string; p_data: Json; p_event_id?: string | null };
        Returns: string;
      };
      claim_webhook_deliveries: {
        Args: { max_deliveries: number; lease_seconds: number; max_per_subscription: number };
        Returns: {
          delivery_id: string;
          lease_id: string;
          attempt_number: number;
          subscription_id: string;
          target_url: string;
          secret: string;
          previous_secret: string | null;
          event_id: string;
          event_type: string;
          event_created_at: string;
          workspace_id: string;
          data: Json;
        }[];
      };
      record_webhook_attempts: {
        Args: { attempts: Json; failing_after_seconds: number };
        Returns: number;
      };
      delete_expired_webhook_events: {
        Args: { max_events?: number };
        Returns: number;
      };
      list_webhook_deliveries: {
        Args: {
          p_workspace_id: string;
          p_subscription_id: string;
          p_limit: number;
          p_status?: string | null;
          p_event_type?: string | null;
          p_after_created_at?: string | null;
          p_after_id?: string | null;
        };
        Returns: DeliveryRow[];
      };
      get_webhook_delivery: {
        Args: { p_workspace_id: string; p_subscription_id: string; p_delivery_id: string };
        Returns: DeliveryDetailJson | null;
      };
      retry_webhook_delivery: {
        Args: { p_workspace_id: string; p_subscription_id: string; p_delivery_id: string };
        Returns: { outcome: string; delivery?: DeliveryDetailJson };
      };
      send_test_webhook_event: {
        Args: { p_workspace_id: string; p_subscription_id: string; p_data: Json };
        Returns: { outcome: string; delivery?: DeliveryDetailJson };
      };
      recover_webhook_deliveries: {
        Args: { p_workspace_id: string; p_subscription_id: string; p_since: string };
        Returns: { outcome: string; count?: number };
      };
    };
    Enums: { [_ in never]: never };
    CompositeTypes: { [_ in never]: never };
  };
};
