/**
 * A warm in-process layer in front of a remote decision store: a repeated admission within a warm
 * process makes no remote read. The near layer's TTL is short, so entries the refresh workflow
 * rewrites are seen again soon.
 */
import {
  type CachedImage,
  type DecisionStore,
  type ListPage,
  type ListScope,
  lookupKey,
  type PutOutcome,
  type StoredVerdict,
} from '../domain/decision-store';
import type { ImageLookup, RepositoryKey } from '../domain/facts';
import type { MemoryDecisionStore } from './memory-store';

export class TieredDecisionStore implements DecisionStore {
  constructor(
    private readonly near: MemoryDecisionStore,
    private readonly far: DecisionStore,
  ) {}

  async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    const found = this.near.getManySync(lookups);
    if (found.size === lookups.length) return found;
    const missing = lookups.filter((lookup) => !found.has(lookupKey(lookup)));
    const fetched = await this.far.getMany(missing);
    for (const [key, entry] of fetched) {
      found.set(key, entry);
      this.near.putKey(key, entry);
    }
    if (found.size === lookups.length) return found;
    // A write-through can land in the near layer while the remote read is on its way (a rollout burst
    // asks about one new image many times at once): answering a miss then would look the image up again.
    const stillMissing = missing.filter((lookup) => !found.has(lookupKey(lookup)));
    for (const [key, entry] of this.near.getManySync(stillMissing)) found.set(key, entry);
    return found;
  }

  async put(entry: CachedImage): Promise<PutOutcome> {
    await this.near.put(entry);
    return this.far.put(entry);
  }

  async deleteImage(repository: RepositoryKey, digest: string, tags: readonly string[]): Promise<string[]> {
    await this.near.deleteImage(repository, digest, tags);
    return this.far.deleteImage(repository, digest, tags);
  }

  listImages(scope: ListScope, cursor?: string): Promise<ListPage> {
    return this.far.listImages(scope, cursor);
  }

  async updateVerdict(entry: CachedImage, verdict: StoredVerdict): Promise<boolean> {
    await this.near.updateVerdict(entry, verdict);
    return this.far.updateVerdict(entry, verdict);
  }
}
