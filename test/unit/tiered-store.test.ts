/**
 * The warm in-process layer in front of the remote decision store, with a fake remote store (our own
 * port) that counts its reads.
 */
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { TieredDecisionStore } from '../../src/adapters/tiered-store';
import { type CachedImage, type DecisionStore, lookupKey } from '../../src/domain/decision-store';
import type { Facts, ImageLookup } from '../../src/domain/facts';

const REPO = { registryId: '111122223333', region: 'us-east-1', repositoryName: 'team/app' };
const DIGEST = `sha256:${'a'.repeat(64)}`;
const facts = (gatheredAt: string, critical: number): Facts => ({
  repository: {
    ...REPO,
    imageTagMutability: 'IMMUTABLE',
    tagMutabilityExclusionFilters: [],
    legacyScanOnPush: false,
  },
  image: {
    digest: DIGEST,
    tags: ['1.0'],
    scan: { status: 'COMPLETE', severityCounts: { CRITICAL: critical }, findings: [] },
  },
  gatheredAt,
});

class FakeRemote implements DecisionStore {
  reads = 0;
  release: () => void = () => {};
  constructor(private readonly answer: Map<string, CachedImage>) {}
  async getMany(lookups: readonly ImageLookup[]) {
    this.reads++;
    await new Promise<void>((resolve) => {
      this.release = resolve;
    });
    return new Map([...this.answer].filter(([key]) => lookups.some((l) => lookupKey(l) === key)));
  }
  async put() {
    return { written: [] };
  }
  async deleteImage() {
    return [];
  }
  async listImages() {
    return { entries: [] };
  }
  async updateVerdict() {
    return false;
  }
}

describe('TieredDecisionStore', () => {
  const byTag = { ...REPO, tag: '1.0' };

  it('shares one remote read among concurrent admissions of the same image, then answers from memory', async () => {
    const remote = new FakeRemote(
      new Map([[lookupKey(byTag), { facts: facts('2026-11-20T10:00:00.000Z', 0) }]]),
    );
    const tiered = new TieredDecisionStore(new MemoryDecisionStore(), remote);

    const reads = Promise.all([tiered.getMany([byTag]), tiered.getMany([byTag]), tiered.getMany([byTag])]);
    await Promise.resolve();
    remote.release();
    const answers = await reads;
    const again = await tiered.getMany([byTag]);

    expect(remote.reads).toBe(1);
    expect(answers.every((a) => a.size === 1)).toBe(true);
    expect(again.size).toBe(1);
    expect(remote.reads).toBe(1);
  });

  it('never lets an older remote answer replace a write-through that landed meanwhile', async () => {
    const remote = new FakeRemote(
      new Map([[lookupKey(byTag), { facts: facts('2026-11-20T10:00:00.000Z', 5) }]]),
    );
    const tiered = new TieredDecisionStore(new MemoryDecisionStore(), remote);

    const read = tiered.getMany([byTag]);
    await tiered.put({ facts: facts('2026-11-27T10:00:00.000Z', 0) });
    remote.release();
    await read;
    const after = await tiered.getMany([byTag]);

    expect([...after.values()][0]?.facts.image.scan?.severityCounts.CRITICAL).toBe(0);
  });
});
