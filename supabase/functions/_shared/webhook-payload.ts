/** The event a delivery carries, as the dispatcher sends it and the API shows it. */
export interface WebhookEvent {
  id: string;
  type: string;
  /** As the database gives it. */
  createdAt: string;
  workspaceId: string;
  data: unknown;
}

/**
 * The body of every request a receiver gets for the event (the delivery contract's shape), in
 * this key order: the dispatcher signs its JSON text, and the API shows the same object.
 */
export function webhookPayload(event: WebhookEvent) {
  return {
    id: event.id,
    type: event.type,
    timestamp: new Date(event.createdAt).toISOString(),
    workspace_id: event.workspaceId,
    data: event.data,
  };
}
