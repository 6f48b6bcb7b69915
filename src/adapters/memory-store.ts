/**
 * The in-process decision cache: bounded in entries (least recently used go first) and in age, so a
 * long-running server never grows without limit nor answers from facts older than its TTL.
 */
import { type CachedImage, type DecisionStore, lookupKey } from '../domain/decision-store';
import type { ImageLookup } from '../domain/facts';

export interface MemoryStoreOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class MemoryDecisionStore implements DecisionStore {
  private readonly entries = new Map<string, { value: CachedImage; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    return this.getManySync(lookups);
  }

  /** The same read without a promise, for a warm layer in front of a remote store. */
  getManySync(lookups: readonly ImageLookup[]): Map<string, CachedImage> {
    const found = new Map<string, CachedImage>();
    const now = this.now();
    for (const lookup of lookups) {
      const key = lookupKey(lookup);
      const entry = this.entries.get(key);
      if (!entry) continue;
      this.entries.delete(key);
      if (entry.expiresAt <= now) continue;
      // Re-inserting moves the key to the end: Map order is the recency order.
      this.entries.set(key, entry);
      found.set(key, entry.value);
    }
    return found;
  }

  async put(entry: CachedImage): Promise<void> {
    const { repository, image } = entry.facts;
    const base = {
      registryId: repository.registryId,
      region: repository.region,
      repositoryName: repository.repositoryName,
    };
    const keys = [
      lookupKey({ ...base, digest: image.digest }),
      ...image.tags.map((tag) => lookupKey({ ...base, tag })),
    ];
    for (const key of keys) this.putKey(key, entry);
  }

  /** Stores an entry under one key only (what a remote store answered for that key). */
  putKey(key: string, entry: CachedImage): void {
    this.entries.delete(key);
    this.entries.set(key, { value: entry, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Removes every entry of an image (by digest and tags), e.g. when it is deleted from ECR. */
  async delete(lookups: readonly ImageLookup[]): Promise<void> {
    for (const lookup of lookups) this.entries.delete(lookupKey(lookup));
  }
}
