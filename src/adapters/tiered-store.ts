/**
 * A warm in-process layer in front of a remote decision store: a repeated admission within a warm
 * process makes no remote read. The warm layer's TTL is short, so entries the refresh workflow
 * rewrites are seen again soon.
 */
import {
  type CachedImage,
  type DecisionStore,
  type ListPage,
  lookupKey,
  type PutOutcome,
  type StoredVerdict,
} from '../domain/decision-store';
import type { ImageLookup, RepositoryKey } from '../domain/facts';
import type { RepositoryScope } from '../domain/refresh';
import type { MemoryDecisionStore } from './memory-store';

export class TieredDecisionStore implements DecisionStore {
  /** Remote reads on their way, per key: concurrent admissions of the same images share them. */
  private readonly reading = new Map<string, Promise<CachedImage | undefined>>();

  constructor(
    private readonly warm: MemoryDecisionStore,
    private readonly table: DecisionStore,
  ) {}

  /** At hand when the warm layer holds every image; otherwise the remote store has to be asked. */
  getManyAtOnce(lookups: readonly ImageLookup[]): Map<string, CachedImage> | undefined {
    const found = this.warm.getManySync(lookups);
    return found.size === lookups.length ? found : undefined;
  }

  async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    const found = this.warm.getManySync(lookups);
    if (found.size === lookups.length) return found;
    const missing = lookups.filter((lookup) => !found.has(lookupKey(lookup)));
    const pending = new Map<string, Promise<CachedImage | undefined>>();
    const unread = new Map<string, ImageLookup>();
    for (const lookup of missing) {
      const key = lookupKey(lookup);
      const reading = this.reading.get(key);
      if (reading) pending.set(key, reading);
      else unread.set(key, lookup);
    }
    if (unread.size > 0) {
      // One remote round trip for every key that nobody is reading yet.
      const read = this.table.getMany([...unread.values()]).then((fetched) => {
        for (const [key, entry] of fetched) this.warm.adopt(key, entry);
        return fetched;
      });
      for (const key of unread.keys()) {
        const entry = read.then((fetched) => fetched.get(key));
        const done = () => {
          if (this.reading.get(key) === entry) this.reading.delete(key);
        };
        entry.then(done, done);
        this.reading.set(key, entry);
        pending.set(key, entry);
      }
    }
    const keys = [...pending.keys()];
    const entries = await Promise.all(pending.values());
    keys.forEach((key, index) => {
      const entry = entries[index];
      if (entry) found.set(key, entry);
    });
    if (found.size === lookups.length) return found;
    // A write-through can land in the warm layer while the remote read is on its way (a rollout burst
    // asks about one new image many times at once): answering a miss then would look the image up again.
    const stillMissing = missing.filter((lookup) => !found.has(lookupKey(lookup)));
    for (const [key, entry] of this.warm.getManySync(stillMissing)) found.set(key, entry);
    return found;
  }

  async put(entry: CachedImage): Promise<PutOutcome> {
    await this.warm.put(entry);
    return this.table.put(entry);
  }

  async deleteImage(repository: RepositoryKey, digest: string, tags: readonly string[]): Promise<string[]> {
    await this.warm.deleteImage(repository, digest, tags);
    return this.table.deleteImage(repository, digest, tags);
  }

  listImages(scope: RepositoryScope, cursor?: string): Promise<ListPage> {
    return this.table.listImages(scope, cursor);
  }

  async updateVerdict(entry: CachedImage, verdict: StoredVerdict): Promise<boolean> {
    await this.warm.updateVerdict(entry, verdict);
    return this.table.updateVerdict(entry, verdict);
  }
}
