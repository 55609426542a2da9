import { z } from "zod";
import { DELIVERY_EVENT_TYPES, TEST_EVENT_DATA, TEST_EVENT_TYPE } from "./delivery-schema.ts";

/**
 * The request a receiver gets (docs/delivery-contract.md), for the OpenAPI document's `webhooks`
 * section: its headers, and its body per event type. Objects are open (not strict): a receiver
 * that validates against them keeps working when a field is added.
 */
export const webhookRequestHeaders = z.object({
  "webhook-id": z.guid().meta({
    description:
      "The event id: the same on every attempt and for every subscription. Deduplicate on it.",
  }),
  "webhook-timestamp": z.string().regex(/^[0-9]{1,12}$/).meta({
    description:
      "This attempt's time in Unix seconds. Refuse a request more than 5 minutes from your clock.",
  }),
  "webhook-signature": z
    .string()
    .regex(/^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$/)
    .meta({
      description:
        'Space-separated "v1,<base64 HMAC-SHA256>" of "<webhook-id>.<webhook-timestamp>.<body>", keyed with the subscription\'s secret (its 64 characters as bytes). During a rotation\'s 24 hours both secrets sign, new first.',
    }),
  "User-Agent": z.string().regex(/^WundertreOS-Webhooks\//).meta({
    description: "WundertreOS-Webhooks/<version>",
  }),
});

const CRM_EVENT_DATA = z.record(z.string(), z.unknown()).meta({
  description: "The CRM's data for the event, as emitted: a JSON object of at most 64 KiB.",
});

/** The body of a delivery of `type`: the same object GET …/deliveries/{delivery_id} shows. */
export function webhookPayloadSchema(type: typeof DELIVERY_EVENT_TYPES[number]) {
  return z.looseObject({
    id: z.guid().meta({ description: "The event id, the same as the webhook-id header." }),
    type: z.literal(type),
    timestamp: z.iso.datetime().meta({
      description: "When the event happened: RFC 3339 in UTC, with milliseconds.",
    }),
    workspace_id: z.guid(),
    data: type === TEST_EVENT_TYPE
      ? z.looseObject({ message: z.literal(TEST_EVENT_DATA.message) })
      : CRM_EVENT_DATA,
  });
}

export const WEBHOOK_DESCRIPTIONS: Record<typeof DELIVERY_EVENT_TYPES[number], string> = {
  "contact.created": "A contact was created.",
  "contact.updated": "A contact was updated.",
  "contact.tag_added": "A tag was added to a contact.",
  "contact.enriched": "A contact was enriched with outside data.",
  "contact.note_added": "A note was added to a contact.",
  "deal.created": "A deal was created.",
  "deal.updated": "A deal was updated.",
  "webhook.test":
    "Sent only through POST /api-webhook-subscriptions/{id}/test, to that one subscription.",
};

/** What the receiver's answer means; the same for every event type. */
export const WEBHOOK_RESPONSES = {
  "2XX": {
    description:
      "Received: any 2xx within 15 seconds for the whole attempt. Redirects are not followed.",
  },
  "410": {
    description:
      "Gone: the subscription is disabled (disabled_reason target_gone) and its pending deliveries are cancelled.",
  },
  default: {
    description:
      "Any other answer, or none within 15 s, fails the attempt. It is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (±20%), longer when a 429 or 503 asks with Retry-After.",
  },
};
