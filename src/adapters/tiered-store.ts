/**
 * A warm in-process layer in front of a remote decision cache: a repeated admission within a warm
 * process makes no remote read. The near layer's TTL is short, so entries the refresh workflow
 * rewrites are seen again soon.
 */
import { type CachedImage, type DecisionStore, lookupKey } from '../domain/decision-store';
import type { ImageLookup } from '../domain/facts';
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
    return found;
  }

  async put(entry: CachedImage): Promise<void> {
    await this.near.put(entry);
    await this.far.put(entry);
  }
}
