/**
 * A small Zapier integration for WundertreOS, written as an integrator would: custom auth with an
 * API access token and one REST Hook trigger, "New Contact" (`contact.created`). The suite runs it
 * through Zapier's own runtime (zapier-platform-core's app tester) against the test stack;
 * docs/zapier.md is the guide to it.
 *
 * Only types come from zapier-platform-core here: the suite imports this module for its constants
 * and must not load Zapier's runtime into its own process (see ./runtime.ts).
 */
import process from "node:process";
import type { BeforeRequestMiddleware, Bundle, ZObject } from "zapier-platform-core";

/** The API's production address, from the published contract. */
export const PRODUCTION_API_URL =
  "https://api.wundertreos.com/functions/v1/api-webhook-subscriptions";

/**
 * The webhook-subscriptions API this integration talks to: `WUNDERTRE_API_URL` from the
 * integration's environment (`zapier env:set`, or the test suite), else production. Read on every
 * call, never cached.
 */
export function apiUrl(): string {
  return (process.env.WUNDERTRE_API_URL || PRODUCTION_API_URL).replace(/\/+$/, "");
}

/** The event the trigger subscribes to. */
export const NEW_CONTACT_EVENT = "contact.created";

/** Shown in the WundertreOS dashboard next to every subscription this trigger creates. */
export const SUBSCRIPTION_DESCRIPTION = "Zapier: New Contact trigger";

/** What the API answers to POST / (201), kept by Zapier as `bundle.subscribeData`. */
export interface SubscribeData {
  data: {
    id: string;
    target_url: string;
    event_types: string[];
    secret: string;
    enabled: boolean;
    description: string | null;
    created_at: string;
  };
}

/**
 * What a "New Contact" delivery looks like (docs/verify-signatures.md has the format), shown in the
 * Zap editor until a real one has arrived. The trigger passes a delivery's JSON body through as is.
 */
export const SAMPLE_CONTACT_CREATED = {
  id: "6f1c2b0e-4d5a-4b7e-9c3d-2a1b0c9d8e7f",
  type: NEW_CONTACT_EVENT,
  timestamp: "2026-05-17T14:30:00.000Z",
  workspace_id: "a1b2c3d4-1111-2222-3333-444455556666",
  data: {
    id: "00000000-0000-4000-8000-00000000c0de",
    email: "ada@example.com",
    first_name: "Ada",
    last_name: "Lovelace",
    tags: ["lead"],
  },
};

/** Sends the token only to the WundertreOS API, never to any other host a request might reach. */
const addBearerToken: BeforeRequestMiddleware = (request, _z, bundle) => {
  const token = String(bundle.authData?.api_token ?? "").trim();
  const base = apiUrl();
  if (token && (request.url === base || request.url.startsWith(`${base}/`))) {
    request.headers = { ...request.headers, Authorization: `Bearer ${token}` };
  }
  return request;
};

/** The connection test: any authenticated request needs `webhooks:read`; list one subscription. */
async function testAuth(z: ZObject, _bundle: Bundle) {
  const response = await z.request({ url: apiUrl(), method: "GET", params: { limit: 1 } });
  return response.data;
}

/** Zap turned on: subscribe `bundle.targetUrl`. Zapier stores the returned JSON as subscribeData. */
async function subscribeHook(z: ZObject, bundle: Bundle): Promise<SubscribeData> {
  const response = await z.request({
    url: apiUrl(),
    method: "POST",
    body: {
      target_url: bundle.targetUrl,
      event_types: [NEW_CONTACT_EVENT],
      description: SUBSCRIPTION_DESCRIPTION,
    },
  });
  return response.data as SubscribeData;
}

/** Zap turned off: delete the subscription whose id sits at `data.id` of the subscribe response. */
async function unsubscribeHook(z: ZObject, bundle: Bundle) {
  // Bundle types subscribeData as `{ id }`; this API nests the subscription under `data`.
  const subscribeData = bundle.subscribeData as Partial<SubscribeData> | undefined;
  const id = subscribeData?.data?.id;
  if (typeof id !== "string" || id === "") {
    throw new z.errors.Error(
      "The stored subscription has no data.id, so there is nothing to unsubscribe.",
      "missing_subscription_id",
      400,
    );
  }
  await z.request({ url: `${apiUrl()}/${encodeURIComponent(id)}`, method: "DELETE" });
  return { id };
}

/** A delivery arrived at the target URL: one Zap run per delivery, with its JSON body as is. */
function parseDelivery(_z: ZObject, bundle: Bundle) {
  return [bundle.cleanedRequest];
}

/** "Test trigger" in the Zap editor: there is nothing real to fetch, so the placeholder sample. */
function sampleDeliveries(_z: ZObject, _bundle: Bundle) {
  return [SAMPLE_CONTACT_CREATED];
}

export const App = {
  version: "1.0.0",
  // Must equal the zapier-platform-core version the integration is built with.
  platformVersion: "19.1.0",

  authentication: {
    type: "custom" as const,
    fields: [
      {
        key: "api_token",
        label: "API access token",
        required: true,
        type: "password" as const,
        helpText:
          "A WundertreOS API access token (it starts with `wtos_`) with the `webhooks:read` and " +
          "`webhooks:write` scopes.",
      },
    ],
    test: testAuth,
  },

  beforeRequest: [addBearerToken],

  triggers: {
    new_contact: {
      key: "new_contact",
      noun: "Contact",
      display: {
        label: "New Contact",
        description: "Triggers instantly when a contact is created in WundertreOS.",
      },
      operation: {
        type: "hook" as const,
        perform: parseDelivery,
        performList: sampleDeliveries,
        performSubscribe: subscribeHook,
        performUnsubscribe: unsubscribeHook,
        sample: SAMPLE_CONTACT_CREATED,
      },
    },
  },
};
