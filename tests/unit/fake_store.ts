import type {
  ApiTokenRecord,
  AuthStore,
  RateLimitCount,
  RateLimitRule,
} from "../../supabase/functions/_shared/auth-store.ts";
import type {
  CreateOutcome,
  IdempotencyClaim,
  ListQuery,
  NewSubscription,
  RotatedSecret,
  SubscriptionChanges,
  SubscriptionRecord,
  SubscriptionStore,
} from "../../supabase/functions/_shared/subscription-store.ts";

import type {
  DeliveryHistoryStore,
  RecoverOutcome,
  RetryOutcome,
} from "../../supabase/functions/api-webhook-subscriptions/delivery-history-store.ts";

type StoredSubscription = NewSubscription & SubscriptionRecord & {
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
};

/**
 * In-memory stores for unit tests, behind the real ones' interfaces; integration tests use those.
 * Deliveries exist only in the real store: here every subscription has none.
 */
export class FakeStore implements AuthStore, SubscriptionStore, DeliveryHistoryStore {
  tokens = new Map<string, ApiTokenRecord>();
  subscriptions: StoredSubscription[] = [];
  failInsertWith: Error | null = null;
  failLookupWith: Error | null = null;
  /** How often each authenticating or creating method was called. */
  calls: Record<string, number> = {};

  private called(method: string) {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  constructor(private readonly now: () => Date) {}

  private find(workspaceId: string, id: string) {
    return this.subscriptions.find((s) => s.workspaceId === workspaceId && s.id === id) ?? null;
  }

  private static record(stored: StoredSubscription): SubscriptionRecord {
    // What the store hands out: the record's fields, never the secrets it keeps.
    const {
      workspaceId: _w,
      secret: _s,
      previousSecret: _p,
      previousSecretExpiresAt: _e,
      ...record
    } = stored;
    return record;
  }

  hits = new Map<string, number>();
  idempotency = new Map<string, { requestHash: string; id: string }>();
  workspaces = new Set<string>();

  private hitRateLimit(bucket: string): RateLimitCount {
    const hits = (this.hits.get(bucket) ?? 0) + 1;
    this.hits.set(bucket, hits);
    return { hits, resetSeconds: 30 };
  }

  authenticateSession(workspaceId: string | null, userId: string, rule: RateLimitRule) {
    return Promise.resolve({
      workspaceExists: workspaceId !== null && this.workspaces.has(workspaceId),
      count: this.hitRateLimit(`user:${userId}:${rule.requestClass}`),
    });
  }

  authenticateApiToken(tokenHash: string, rule: RateLimitRule) {
    this.called("authenticateApiToken");
    if (this.failLookupWith) return Promise.reject(this.failLookupWith);
    const token: ApiTokenRecord | undefined = this.tokens.get(tokenHash);
    if (!token) return Promise.resolve(null);
    const count = token.revokedAt
      ? null
      : this.hitRateLimit(`token:${token.id}:${rule.requestClass}`);
    return Promise.resolve({ token, count });
  }

  createSubscription(
    subscription: NewSubscription,
    options: { maxSubscriptions: number; idempotency?: IdempotencyClaim },
  ): Promise<CreateOutcome> {
    this.called("createSubscription");
    if (this.failInsertWith) return Promise.reject(this.failInsertWith);
    const key = options.idempotency && `${subscription.workspaceId}:${options.idempotency.key}`;
    const earlier = key ? this.idempotency.get(key) : undefined;
    const replayed = earlier && this.find(subscription.workspaceId, earlier.id);
    if (earlier && replayed) {
      if (earlier.requestHash !== options.idempotency!.requestHash) {
        return Promise.resolve({ outcome: "key_reused" });
      }
      return Promise.resolve({
        outcome: "replayed",
        record: FakeStore.record(replayed),
        secret: replayed.secret,
      });
    }
    const count =
      this.subscriptions.filter((s) => s.workspaceId === subscription.workspaceId).length;
    if (count >= options.maxSubscriptions) return Promise.resolve({ outcome: "limit_reached" });
    const stored: StoredSubscription = {
      ...subscription,
      id: crypto.randomUUID(),
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      createdAt: this.now().toISOString(),
      previousSecret: null,
      previousSecretExpiresAt: null,
    };
    this.subscriptions.push(stored);
    if (key) {
      this.idempotency.set(key, { requestHash: options.idempotency!.requestHash, id: stored.id });
    }
    return Promise.resolve({
      outcome: "created",
      record: FakeStore.record(stored),
      secret: stored.secret,
    });
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
    // As the database's trigger keeps them.
    if (changes.enabled === true) Object.assign(stored, { disabledReason: null, disabledAt: null });
    if (changes.enabled === false && stored.disabledReason === null) {
      Object.assign(stored, { disabledReason: "manual", disabledAt: this.now().toISOString() });
    }
    return Promise.resolve(FakeStore.record(stored));
  }

  deleteSubscription(workspaceId: string, id: string) {
    const stored = this.find(workspaceId, id);
    this.subscriptions = this.subscriptions.filter((s) => s !== stored);
    for (const [key, claim] of this.idempotency) {
      if (claim.id === id) this.idempotency.delete(key);
    }
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

  /** The recoveries asked for, as the store received them. */
  recoveries: { subscriptionId: string; since: Date }[] = [];

  listDeliveries(workspaceId: string, subscriptionId: string) {
    return Promise.resolve(
      this.find(workspaceId, subscriptionId) ? { records: [], hasMore: false } : null,
    );
  }

  getDelivery() {
    return Promise.resolve(null);
  }

  retryDelivery(): Promise<RetryOutcome> {
    return Promise.resolve({ outcome: "not_found" });
  }

  sendTestEvent() {
    return Promise.resolve(null);
  }

  recoverDeliveries(workspaceId: string, subscriptionId: string, since: Date) {
    const subscription = this.find(workspaceId, subscriptionId);
    let outcome: RecoverOutcome = { outcome: "recovered", count: 0 };
    if (!subscription) outcome = { outcome: "not_found" };
    else if (!subscription.enabled) outcome = { outcome: "subscription_disabled" };
    else this.recoveries.push({ subscriptionId, since });
    return Promise.resolve(outcome);
  }
}
