import assert from "node:assert/strict";
import { apiFetch, CONTRACT_EXAMPLE, createSubscription, stack } from "./stack.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** One call to the function as `token`, parsed; every response is checked against OpenAPI. */
export async function call(
  token: string,
  method: string,
  path = "",
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: Json; text: string }> {
  const response = await apiFetch(`${stack.functionUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
    text,
  };
}

/** Creates a subscription and returns its data (with the secret). */
export async function created(
  token: string,
  overrides: Record<string, unknown> = {},
): Promise<Json> {
  const response = await createSubscription(token, { ...CONTRACT_EXAMPLE, ...overrides });
  assert.equal(response.status, 201);
  return (await response.json()).data;
}

/** POST / with an Idempotency-Key, as a client retrying a create would send it. */
export function createWithKey(token: string, key: string, body: unknown = CONTRACT_EXAMPLE) {
  return apiFetch(stack.functionUrl, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      "Idempotency-Key": key,
    },
    body: JSON.stringify(body),
  });
}
