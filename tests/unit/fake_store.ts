import type {
  ApiTokenRecord,
  ListQuery,
  NewSubscription,
  RotatedSecret,
  SubscriptionChanges,
  SubscriptionRecord,
  SubscriptionStore,
} from "../../supabase/functions/api-webhook-subscriptions/store.ts";

type StoredSubscription = NewSubscription & SubscriptionRecord & {
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
};

/** An in-memory SubscriptionStore for unit tests; integration tests use the real one. */
export class FakeStore implements SubscriptionStore {
  tokens = new Map<string, ApiTokenRecord>();
  subscriptions: StoredSubscription[] = [];
  failInsertWith: Error | null = null;
  failLookupWith: Error | null = null;

  constructor(private readonly now: () => Date) {}

  private find(workspaceId: string, id: string) {
    return this.subscriptions.find((s) => s.workspaceId === workspaceId && s.id === id) ?? null;
  }

  private static record(stored: StoredSubscription): SubscriptionRecord {
    const { id, targetUrl, eventTypes, enabled, description, createdAt } = stored;
    return { id, targetUrl, eventTypes, enabled, description, createdAt };
  }

  findApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    if (this.failLookupWith) return Promise.reject(this.failLookupWith);
    return Promise.resolve(this.tokens.get(tokenHash) ?? null);
  }

  insertSubscription(subscription: NewSubscription): Promise<SubscriptionRecord> {
    if (this.failInsertWith) return Promise.reject(this.failInsertWith);
    const stored: StoredSubscription = {
      ...subscription,
      id: crypto.randomUUID(),
      enabled: true,
      createdAt: this.now().toISOString(),
      previousSecret: null,
      previousSecretExpiresAt: null,
    };
    this.subscriptions.push(stored);
    return Promise.resolve(FakeStore.record(stored));
  }

  listSubscriptions(workspaceId: string, query: ListQuery) {
    const rows = this.subscriptions
      .filter((s) => s.workspaceId === workspaceId)
      .filter((s) => query.enabled === undefined || s.enabled === query.enabled)
      .filter((s) => query.eventType === undefined || s.eventTypes.includes(query.eventType))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .filter((s) =>
        !query.after || s.createdAt < query.after.createdAt ||
        (s.createdAt === query.after.createdAt && s.id < query.after.id)
      );
    return Promise.resolve({
      records: rows.slice(0, query.limit).map(FakeStore.record),
      hasMore: rows.length > query.limit,
    });
  }

  getSubscription(workspaceId: string, id: string) {
    const stored = this.find(workspaceId, id);
    return Promise.resolve(stored ? FakeStore.record(stored) : null);
  }

  updateSubscription(workspaceId: string, id: string, changes: SubscriptionChanges) {
    const stored = this.find(workspaceId, id);
    if (!stored) return Promise.resolve(null);
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) Object.assign(stored, { [key]: value });
    }
    return Promise.resolve(FakeStore.record(stored));
  }

  deleteSubscription(workspaceId: string, id: string) {
    const stored = this.find(workspaceId, id);
    this.subscriptions = this.subscriptions.filter((s) => s !== stored);
    return Promise.resolve(stored !== null);
  }

  rotateSecret(workspaceId: string, id: string, newSecret: string) {
    const stored = this.find(workspaceId, id);
    if (!stored) return Promise.resolve(null);
    stored.previousSecret = stored.secret;
    stored.previousSecretExpiresAt = new Date(this.now().getTime() + 86_400_000).toISOString();
    stored.secret = newSecret;
    const rotated: RotatedSecret = {
      record: FakeStore.record(stored),
      previousSecretExpiresAt: stored.previousSecretExpiresAt,
    };
    return Promise.resolve(rotated);
  }
}
