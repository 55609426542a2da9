/** What a recent successful authentication said about an API token. */
export interface RecentToken {
  id: string;
  workspaceId: string;
  scopes: readonly string[];
}

/**
 * API tokens (by hash) that authenticated recently in this isolate. It only decides whether a
 * create may skip the separate authentication round trip: the create itself authenticates the
 * token again in the database, so a revoked token is refused at once whatever this says.
 */
export class RecentTokens {
  readonly #entries = new Map<string, { token: RecentToken; expiresAt: number }>();

  constructor(
    private readonly ttlMilliseconds: number,
    private readonly maxEntries: number,
  ) {}

  get(tokenHash: string, now: Date): RecentToken | undefined {
    const entry = this.#entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= now.getTime()) {
      this.#entries.delete(tokenHash);
      return undefined;
    }
    return entry.token;
  }

  remember(tokenHash: string, token: RecentToken, now: Date): void {
    this.#entries.delete(tokenHash);
    // Maps iterate in insertion order, so the first key is the one remembered longest ago.
    if (this.#entries.size >= this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(tokenHash, { token, expiresAt: now.getTime() + this.ttlMilliseconds });
  }

  forget(tokenHash: string): void {
    this.#entries.delete(tokenHash);
  }
}
