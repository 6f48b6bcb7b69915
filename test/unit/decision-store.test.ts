/**
 * The rule every decision store follows when facts arrive for a key that holds an entry
 * (test/cases/replacement-cases.ts), and the in-process store following it.
 */
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { entryStamp, lookupKey, replacement } from '../../src/domain/decision-store';
import type { Facts } from '../../src/domain/facts';
import { expectStoreFollows } from '../cases/replacement';
import { REPLACEMENT_CASES } from '../cases/replacement-cases';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const LATER = '2026-11-21T10:00:00.000Z';

describe('the replacement rule', () => {
  it.each(REPLACEMENT_CASES)('$name', ({ stored, next, outcome }) => {
    expect(replacement(entryStamp(stored), entryStamp(next))).toBe(outcome);
  });
});

describe('MemoryDecisionStore follows the replacement rule', () => {
  it.each(REPLACEMENT_CASES)('$name', async (c) => {
    const store = new MemoryDecisionStore({ now: () => Date.parse('2026-11-27T12:00:00Z') });
    await expectStoreFollows(store, c);
  });
});

describe('MemoryDecisionStore', () => {
  const REPO = { registryId: '111122223333', region: 'us-east-1', repositoryName: 'team/app' };
  const facts = (digest: string, gatheredAt: string, critical = 0): Facts => ({
    repository: {
      ...REPO,
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
    },
    image: {
      digest,
      tags: ['prod'],
      scan: {
        status: 'COMPLETE',
        completedAt: '2026-11-20T09:00:00.000Z',
        severityCounts: { CRITICAL: critical },
        findings: [],
      },
    },
    gatheredAt,
  });

  it('follows the same rule: a re-tag read later moves the tag, an earlier read does not', async () => {
    let now = Date.parse('2026-11-27T12:00:00Z');
    const store = new MemoryDecisionStore({ now: () => now });
    await store.put({ facts: facts(B, '2026-11-20T10:00:00.000Z') });

    const stale = await store.put({ facts: facts(A, '2026-11-19T10:00:00.000Z') });
    const moved = await store.put({ facts: facts(A, LATER) });
    now += 1000;
    const found = await store.getMany([{ ...REPO, tag: 'prod' }]);

    expect(stale.written).toEqual([lookupKey({ ...REPO, digest: A })]);
    expect(moved.written).toEqual([lookupKey({ ...REPO, tag: 'prod' })]);
    expect([...found.values()][0]?.facts.image.digest).toBe(A);
  });

  it('keeps a deleted image deleted: facts read before the deletion never bring it back, facts read after do', async () => {
    // Prepare: the image is cached; a refresh reads ECR, then the image is deleted before it writes.
    const deletedAt = Date.parse('2026-11-27T12:00:00Z');
    const store = new MemoryDecisionStore({ now: () => deletedAt });
    await store.put({ facts: facts(A, '2026-11-27T11:00:00.000Z') });
    const readBeforeDelete = facts(A, '2026-11-27T11:59:00.000Z', 1);

    // Act
    const removed = await store.deleteImage(REPO, A, []);
    const late = await store.put({ facts: readBeforeDelete });
    const afterLate = await store.getMany([
      { ...REPO, digest: A },
      { ...REPO, tag: 'prod' },
    ]);
    const repushed = await store.put({ facts: facts(A, '2026-11-27T12:05:00.000Z') });
    const afterRepush = await store.getMany([{ ...REPO, digest: A }]);

    // Assess
    expect(removed.sort()).toEqual(
      [lookupKey({ ...REPO, digest: A }), lookupKey({ ...REPO, tag: 'prod' })].sort(),
    );
    expect(late.written).toEqual([]);
    expect(afterLate.size).toBe(0);
    expect(repushed.written).toHaveLength(2);
    expect(afterRepush.size).toBe(1);
  });

  it('evicts the least recently used entries beyond its bound', async () => {
    const store = new MemoryDecisionStore({ maxEntries: 2 });
    await store.put({ facts: { ...facts(A, LATER), image: { ...facts(A, LATER).image, tags: [] } } });
    await store.put({ facts: { ...facts(B, LATER), image: { ...facts(B, LATER).image, tags: [] } } });
    await store.getMany([{ ...REPO, digest: A }]);
    const c = `sha256:${'c'.repeat(64)}`;

    await store.put({ facts: { ...facts(c, LATER), image: { ...facts(c, LATER).image, tags: [] } } });

    expect(store.size).toBe(2);
    expect((await store.getMany([{ ...REPO, digest: B }])).size).toBe(0);
    expect((await store.getMany([{ ...REPO, digest: A }])).size).toBe(1);
  });

  it('spares an entry read since it was stored once, and evicts it when it is not read again', async () => {
    const store = new MemoryDecisionStore({ maxEntries: 2 });
    const put = (digest: string) =>
      store.put({ facts: { ...facts(digest, LATER), image: { ...facts(digest, LATER).image, tags: [] } } });
    const has = async (digest: string) => (await store.getMany([{ ...REPO, digest }])).size === 1;
    const [c, d, e] = ['c', 'd', 'e'].map((x) => `sha256:${x.repeat(64)}`) as [string, string, string];
    await put(A);
    await put(B);
    await store.getMany([{ ...REPO, digest: A }]);

    await put(c); // A was read: spared, moved to the newest end; B was not: evicted
    await put(d); // c: never read, evicted
    await put(e); // A: not read since it was spared, evicted

    expect(store.size).toBe(2);
    expect(await has(e)).toBe(true);
    expect(await has(A)).toBe(false);
  });
});
