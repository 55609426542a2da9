import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import {
  API_TOKEN_PREFIX,
  generateApiToken,
  hashApiToken,
  type Scope,
} from "../../supabase/functions/api-webhook-subscriptions/api-token.ts";
import { cryptoRandom } from "../../supabase/functions/_shared/random.ts";

export const DEMO_WORKSPACE_ID = "00000000-0000-4000-8000-000000000001";

export interface IssueTokenOptions {
  workspaceId: string;
  scopes: Scope[];
  expiresInSeconds?: number;
  name?: string;
}

export function serviceClient(apiUrl: string, serviceRoleKey: string): SupabaseClient {
  return createClient(apiUrl, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

/** Creates the workspace when it is missing, stores the token's hash, returns the token once. */
export async function issueApiToken(
  client: SupabaseClient,
  options: IssueTokenOptions,
): Promise<{ token: string; id: string; workspaceCreated: boolean }> {
  const workspace = await client
    .from("workspaces")
    .upsert(
      { id: options.workspaceId, name: `Workspace ${options.workspaceId}` },
      { onConflict: "id", ignoreDuplicates: true },
    )
    .select("id");
  if (workspace.error) {
    throw new Error(`could not ensure the workspace: ${workspace.error.message}`);
  }

  const token = generateApiToken(cryptoRandom);
  const expiresAt = options.expiresInSeconds === undefined
    ? null
    : new Date(Date.now() + options.expiresInSeconds * 1000).toISOString();
  const { data, error } = await client
    .from("api_tokens")
    .insert({
      workspace_id: options.workspaceId,
      name: options.name ?? null,
      token_prefix: token.slice(0, API_TOKEN_PREFIX.length + 4),
      token_hash: await hashApiToken(token),
      scopes: options.scopes,
      expires_at: expiresAt,
    })
    .select("id")
    .single();
  if (error) throw new Error(`could not store the token: ${error.message}`);
  return { token, id: data.id, workspaceCreated: (workspace.data ?? []).length > 0 };
}
