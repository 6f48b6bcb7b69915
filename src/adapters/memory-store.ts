/**
 * The in-process decision cache: bounded in entries (least recently used go first) and in age, so a
 * long-running server never grows without limit nor answers from facts older than its TTL. Writes
 * follow the same ordering as the DynamoDB store (an older scan never replaces a newer one).
 */

import { STORE_DEFAULTS } from '../contracts/settings';
import { setBounded } from '../domain/bounded-map';
import {
  type CachedImage,
  type Claims,
  type DecisionStore,
  type EntryStamp,
  entryKeys,
  entryStamp,
  inScope,
  type ListPage,
  lookupKey,
  type PutOutcome,
  replacement,
  type StoredVerdict,
  tombstoneStamp,
} from '../domain/decision-store';
import type { ImageLookup, RepositoryKey } from '../domain/facts';
import {
  type AdmittedImage,
  INVENTORY_KEY_PREFIX,
  type InventoryPage,
  type InventoryRecord,
  type InventoryStore,
  inventoryKey,
  isDue,
  type RecordOutcome,
} from '../domain/inventory';
import type { RepositoryScope } from '../domain/refresh';

export interface MemoryStoreOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

interface Slot {
  /** Absent for a tombstone: the image was deleted (its `stamp` holds the deletion time). */
  value?: CachedImage;
  expiresAt: number;
  digest: string;
  /** Absent for what a remote store answered: any local write replaces it. */
  stamp?: EntryStamp;
  /** Read since it was stored or last spared: spared once by the eviction (second chance). */
  used?: boolean;
}

const PAGE_SIZE = 100;

export class MemoryDecisionStore implements DecisionStore, Claims {
  private readonly entries = new Map<string, Slot>();
  /** Claims, by key: when each ends (milliseconds). */
  private readonly claims = new Map<string, number>();
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

  async claim(key: string, seconds: number): Promise<boolean> {
    const now = this.now();
    if ((this.claims.get(key) ?? 0) > now) return false;
    if (this.claims.size >= this.maxEntries) {
      for (const [held, ends] of this.claims) if (ends <= now) this.claims.delete(held);
    }
    this.claims.set(key, now + seconds * 1000);
    return true;
  }

  async release(key: string): Promise<void> {
    this.claims.delete(key);
  }

  async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    return this.getManySync(lookups);
  }

  /** Everything this store holds is in memory: its answer is always at hand. */
  getManyAtOnce(lookups: readonly ImageLookup[]): Map<string, CachedImage> {
    return this.getManySync(lookups);
  }

  /** The same read without a promise, for a warm layer in front of a remote store. */
  getManySync(lookups: readonly ImageLookup[]): Map<string, CachedImage> {
    const found = new Map<string, CachedImage>();
    const now = this.now();
    for (const lookup of lookups) {
      const key = lookupKey(lookup);
      const slot = this.entries.get(key);
      if (!slot) continue;
      if (slot.expiresAt <= now) {
        this.entries.delete(key);
        continue;
      }
      // A hit only marks the entry (no Map reordering on the hot path): the eviction spares it once.
      slot.used = true;
      if (slot.value) found.set(key, slot.value);
    }
    return found;
  }

  async put(entry: CachedImage): Promise<PutOutcome> {
    const keys = entryKeys(entry.facts);
    const stamp = entryStamp(entry.facts);
    const written = [keys.digest, ...keys.tags.map((t) => t.key)].filter((key) =>
      this.write(key, entry, stamp),
    );
    return { written };
  }

  /** The same rule as the DynamoDB store (`replacement`): newest read wins, older scans never do. */
  private write(key: string, value: CachedImage, stamp: EntryStamp): boolean {
    const current = this.entries.get(key);
    if (current?.stamp && current.expiresAt > this.now()) {
      const outcome = replacement(current.stamp, stamp);
      if (outcome === 'extend') current.expiresAt = this.now() + this.ttlMs;
      if (outcome !== 'replace') return false;
    }
    this.putKey(key, value, stamp);
    return true;
  }

  /**
   * Keeps what a remote store answered for a key, unless this store already holds a live entry for it
   * (a write-through that landed while the remote read was on its way is newer).
   */
  adopt(key: string, value: CachedImage): void {
    const current = this.entries.get(key);
    if (current && current.expiresAt > this.now()) return;
    this.putKey(key, value);
  }

  /** Stores an entry under one key (what a remote store answered for that key, when unstamped). */
  private putKey(key: string, value: CachedImage, stamp?: EntryStamp): void {
    this.setSlot(key, {
      value,
      expiresAt: this.now() + this.ttlMs,
      digest: value.facts.image.digest,
      ...(stamp && { stamp }),
    });
  }

  /**
   * Stores a slot as the newest, then evicts beyond the bound: the oldest first, except that an entry
   * read since it was stored (or last spared) is spared once and moved to the newest end (the CLOCK,
   * or second chance, approximation of least recently used; amortized constant time).
   */
  private setSlot(key: string, slot: Slot): void {
    this.entries.delete(key);
    this.entries.set(key, slot);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.entries().next().value;
      if (!oldest) break;
      const [oldestKey, oldestSlot] = oldest;
      this.entries.delete(oldestKey);
      if (oldestSlot.used && oldestKey !== key) {
        oldestSlot.used = false;
        this.entries.set(oldestKey, oldestSlot);
      }
    }
  }

  async deleteImage(repository: RepositoryKey, digest: string, tags: readonly string[]): Promise<string[]> {
    const digestKey = lookupKey({ ...repository, digest });
    const known = this.entries.get(digestKey)?.value?.facts.image.tags ?? [];
    const keys = [digestKey, ...new Set([...tags, ...known])].map((tag, i) =>
      i === 0 ? digestKey : lookupKey({ ...repository, tag }),
    );
    const deletedAt = new Date(this.now()).toISOString();
    const removed: string[] = [];
    for (const key of keys) {
      const current = this.entries.get(key);
      // A tag that has moved to another image, or facts read after the deletion, are left alone.
      if (current && (current.digest !== digest || (current.stamp && current.stamp.gatheredAt >= deletedAt)))
        continue;
      if (current?.value && current.expiresAt > this.now()) removed.push(key);
      this.setSlot(key, {
        expiresAt: this.now() + this.ttlMs,
        digest,
        stamp: tombstoneStamp(digest, deletedAt),
      });
    }
    return removed;
  }

  async listImages(scope: RepositoryScope, cursor?: string): Promise<ListPage> {
    const now = this.now();
    const digests = [...this.entries.entries()]
      .flatMap(([key, slot]) =>
        key.includes('@') && slot.value && slot.expiresAt > now && inScope(slot.value.facts, scope)
          ? [{ key, value: slot.value }]
          : [],
      )
      .sort((a, b) => a.key.localeCompare(b.key));
    const start = cursor ? digests.findIndex((d) => d.key > cursor) : 0;
    const page = start < 0 ? [] : digests.slice(start, start + PAGE_SIZE);
    const last = page.at(-1);
    return {
      entries: page.map((d) => d.value),
      ...(last && start + PAGE_SIZE < digests.length && { cursor: last.key }),
    };
  }

  async updateVerdict(entry: CachedImage, verdict: StoredVerdict): Promise<boolean> {
    const keys = entryKeys(entry.facts);
    let updated = false;
    for (const key of [keys.digest, ...keys.tags.map((t) => t.key)]) {
      const slot = this.entries.get(key);
      if (
        slot?.value &&
        slot.value.facts.gatheredAt === entry.facts.gatheredAt &&
        slot.digest === entry.facts.image.digest
      ) {
        slot.value = { ...slot.value, verdict };
        updated = true;
      }
    }
    return updated;
  }
}

export interface MemoryInventoryOptions {
  /** How long a record lives after its last admission. */
  readonly ttlMs?: number;
  readonly maxRecords?: number;
  readonly now?: () => number;
}

/**
 * The admitted inventory in process, with the DynamoDB store's rules (a record is rewritten only when
 * older than the refresh interval; expired records are gone): the fake for tests of the admission path.
 */
export class MemoryInventoryStore implements InventoryStore {
  private readonly records = new Map<string, InventoryRecord>();
  private readonly ttlMs: number;
  private readonly maxRecords: number;
  private readonly now: () => number;
  /** Writes performed (records created or refreshed). */
  writes = 0;

  constructor(options: MemoryInventoryOptions = {}) {
    this.ttlMs = options.ttlMs ?? STORE_DEFAULTS.inventoryTtlSeconds * 1000;
    this.maxRecords = options.maxRecords ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async recordAdmitted(admitted: AdmittedImage, at: Date, refreshMs: number): Promise<RecordOutcome> {
    const key = inventoryKey(admitted);
    const current = this.live(key);
    if (current && !isDue(Date.parse(current.lastAdmittedAt), at, refreshMs)) {
      return { written: false, lastAdmittedAt: current.lastAdmittedAt };
    }
    const when = at.toISOString();
    const record = {
      ...admitted,
      firstAdmittedAt: current?.firstAdmittedAt ?? when,
      lastAdmittedAt: when,
      expiresAt: Math.floor((at.getTime() + this.ttlMs) / 1000),
    };
    setBounded(this.records, key, record, this.maxRecords);
    this.writes++;
    return { written: true, lastAdmittedAt: when };
  }

  async listInventory(digest: string, cursor?: string): Promise<InventoryPage> {
    const keys = [...this.records.keys()]
      .filter((key) => key.startsWith(`${INVENTORY_KEY_PREFIX}${digest}/`) && this.live(key))
      .sort();
    const start = cursor ? keys.findIndex((key) => key > cursor) : 0;
    const page = start < 0 ? [] : keys.slice(start, start + PAGE_SIZE);
    const last = page.at(-1);
    return {
      records: page.map((key) => this.records.get(key) as InventoryRecord),
      ...(last && start + PAGE_SIZE < keys.length && { cursor: last }),
    };
  }

  async findAdmitted(admitted: readonly AdmittedImage[]): Promise<Map<string, InventoryRecord>> {
    const found = new Map<string, InventoryRecord>();
    for (const item of admitted) {
      const key = inventoryKey(item);
      const record = this.live(key);
      if (record) found.set(key, record);
    }
    return found;
  }

  private live(key: string): InventoryRecord | undefined {
    const record = this.records.get(key);
    return record && record.expiresAt * 1000 > this.now() ? record : undefined;
  }
}
