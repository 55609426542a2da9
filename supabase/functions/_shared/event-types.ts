/** The CRM events a subscription can listen to, as published in the contract. */
export const EVENT_TYPES = [
  "contact.created",
  "contact.updated",
  "contact.tag_added",
  "contact.enriched",
  "contact.note_added",
  "deal.created",
  "deal.updated",
] as const;

export type EventType = typeof EVENT_TYPES[number];
