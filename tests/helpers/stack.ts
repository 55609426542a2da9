/** Access to the throw-away stack that `deno task test` starts before running the suite. */
import pg from "pg";
import type { Database } from "../../supabase/functions/_shared/database.ts";
import type { Scope } from "../../supabase/functions/api-webhook-subscriptions/api-token.ts";
import { issueApiToken, serviceClient } from "../../scripts/local-stack/api-tokens.ts";
import { assertMatchesDocument } from "./openapi.ts";

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run the suite with 'deno task test'`);
  return value;
}

export const stack = {
  get apiUrl() {
    return required("SUPABASE_URL");
  },
  get functionUrl() {
    return `${required("SUPABASE_URL")}/functions/v1/api-webhook-subscriptions`;
  },
  get anonKey() {
    return required("SUPABASE_ANON_KEY");
  },
  get serviceRoleKey() {
    return required("SUPABASE_SERVICE_ROLE_KEY");
  },
  get jwtSecret() {
    return required("SUPABASE_JWT_SECRET");
  },
  get databaseUrl() {
    return required("WUNDERTRE_TEST_DATABASE_URL");
  },
  get logDir() {
    return required("WUNDERTRE_TEST_LOG_DIR");
  },
};

/**
 * Asks the test runner to change the stack: stop or start PostgREST or Postgres, pause or resume
 * the dispatcher's schedule. Resolves once it is done.
 */
export async function controlStack(
  action:
    | "postgrest/stop"
    | "postgrest/start"
    | "postgres/stop"
    | "postgres/start"
    | "scheduler/pause"
    | "scheduler/resume",
) {
  const response = await fetch(`${required("WUNDERTRE_TEST_CONTROL_URL")}/${action}`, {
    method: "POST",
  });
  await response.body?.cancel();
  if (response.status !== 204) throw new Error(`${action}: the runner answered ${response.status}`);
}

/** Runs one query as the database owner, for looking at what really landed. */
export async function sql<T extends Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A row of public.webhook_subscriptions, as the tests read it with `sql` (pg gives Dates). */
export type SubscriptionRow =
  & Omit<
    Database["public"]["Tables"]["webhook_subscriptions"]["Row"],
    "created_at" | "updated_at" | "previous_secret_expires_at"
  >
  & { created_at: Date; updated_at: Date; previous_secret_expires_at: Date | null };

export interface TestToken {
  token: string;
  tokenId: string;
  workspaceId: string;
}

/** A fresh workspace (so tests never see each other's rows) and a token for it. */
export async function newToken(
  options: { scopes?: Scope[]; workspaceId?: string; expiresInSeconds?: number } = {},
): Promise<TestToken> {
  const workspaceId = options.workspaceId ?? crypto.randomUUID();
  const { token, id } = await issueApiToken(serviceClient(stack.apiUrl, stack.serviceRoleKey), {
    workspaceId,
    scopes: options.scopes ?? ["webhooks:read", "webhooks:write"],
    expiresInSeconds: options.expiresInSeconds,
    name: "test",
  });
  return { token, tokenId: id, workspaceId };
}

export async function subscriptionCount(workspaceId: string): Promise<number> {
  const [row] = await sql<{ count: string }>(
    "select count(*) from public.webhook_subscriptions where workspace_id = $1",
    [workspaceId],
  );
  return Number(row.count);
}

export async function totalSubscriptionCount(): Promise<number> {
  const [row] = await sql<{ count: string }>("select count(*) from public.webhook_subscriptions");
  return Number(row.count);
}

/** The contract's event types, written down from the contract, not imported from the code. */
export const CONTRACT_EVENT_TYPES = [
  "contact.created",
  "contact.updated",
  "contact.tag_added",
  "contact.enriched",
  "contact.note_added",
  "deal.created",
  "deal.updated",
];

export const CONTRACT_EXAMPLE = {
  target_url: "https://example.com/wundertre/webhook",
  event_types: ["contact.created", "contact.tag_added"],
  description: "Sync new leads to internal CRM",
};

/** fetch, plus a check of the response against the function's OpenAPI document. */
export async function apiFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const url = String(input);
  const response = await fetch(url, init);
  const body = await response.text();
  await assertMatchesDocument(stack.functionUrl, init.method ?? "GET", url, {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
  });
  return new Response(body === "" ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

export function createSubscription(
  token: string | null,
  body: unknown,
  init: { headers?: Record<string, string>; path?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...init.headers };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return apiFetch(`${stack.functionUrl}${init.path ?? ""}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Reads a JSON error response and checks the shape every error shares. */
export async function errorOf(response: Response) {
  const body = await response.json();
  if (typeof body.error !== "string" || typeof body.message !== "string") {
    throw new Error(`not the JSON error shape: ${JSON.stringify(body)}`);
  }
  if (!response.headers.get("content-type")?.startsWith("application/json")) {
    throw new Error(`error without a JSON content type: ${response.headers.get("content-type")}`);
  }
  return body as { error: string; message: string; [key: string]: unknown };
}
