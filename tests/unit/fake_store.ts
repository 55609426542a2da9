import type {
  ApiTokenRecord,
  NewSubscription,
  SubscriptionRecord,
  SubscriptionStore,
} from "../../supabase/functions/api-webhook-subscriptions/store.ts";

/** An in-memory SubscriptionStore for unit tests; integration tests use the real one. */
export class FakeStore implements SubscriptionStore {
  tokens = new Map<string, ApiTokenRecord>();
  subscriptions: (NewSubscription & SubscriptionRecord)[] = [];
  failInsertWith: Error | null = null;
  failLookupWith: Error | null = null;

  constructor(private readonly now: () => Date) {}

  findApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    if (this.failLookupWith) return Promise.reject(this.failLookupWith);
    return Promise.resolve(this.tokens.get(tokenHash) ?? null);
  }

  insertSubscription(subscription: NewSubscription): Promise<SubscriptionRecord> {
    if (this.failInsertWith) return Promise.reject(this.failInsertWith);
    const record = {
      ...subscription,
      id: crypto.randomUUID(),
      enabled: true,
      createdAt: this.now(),
    };
    this.subscriptions.push(record);
    return Promise.resolve(record);
  }
}
