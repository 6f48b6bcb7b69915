/**
 * A rescan does not restart a finding's grace period: facts read again keep the first-observed time the
 * cache already holds (issue 14: a basic finding's first-observed time is when this project first saw it).
 */
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { AdmissionService } from '../../src/application/admission-service';
import { RefreshService } from '../../src/application/refresh-service';
import { lookupKey } from '../../src/domain/decision-store';
import { carryFirstObserved, type Facts, type FactsSource, type Finding } from '../../src/domain/facts';
import { type PolicyDocument, parsePolicy } from '../../src/domain/policy';
import { facts as base, digestOf, REPO } from '../cases/replacement-cases';

const DIGEST = digestOf(12);

/** The image's facts as a scan completed at `at` lists them (read at that moment). */
const facts = (findings: Finding[], at: string, digest = DIGEST, tags = ['1.0']): Facts =>
  base({ findings, scanAt: at, gatheredAt: at, digest, tags });

const basic = (id: string, at: string): Finding => ({ id, severity: 'HIGH', firstObservedAt: at });

describe('carryFirstObserved', () => {
  test('keeps the earlier first-observed time of a finding both reads have, and a new finding its own', () => {
    const before = facts([basic('CVE-1', '2026-11-01T00:00:00Z')], '2026-11-01T00:00:00Z');
    const after = facts(
      [basic('CVE-1', '2026-11-20T00:00:00Z'), basic('CVE-2', '2026-11-20T00:00:00Z')],
      '2026-11-20T00:00:00Z',
    );

    const carried = carryFirstObserved(after, before);

    expect(carried.image.scan?.findings.map((f) => [f.id, f.firstObservedAt])).toEqual([
      ['CVE-1', '2026-11-01T00:00:00Z'],
      ['CVE-2', '2026-11-20T00:00:00Z'],
    ]);
    expect(carried.image.scan?.completedAt).toBe('2026-11-20T00:00:00Z');
  });

  test('carries nothing from another image', () => {
    const before = facts([basic('CVE-1', '2026-11-01T00:00:00Z')], '2026-11-01T00:00:00Z', digestOf(13));
    const after = facts([basic('CVE-1', '2026-11-20T00:00:00Z')], '2026-11-20T00:00:00Z');

    expect(carryFirstObserved(after, before)).toBe(after);
  });
});

test('the refresh workflow keeps a finding first observed at the first scan across a rescan', async () => {
  let current = facts([basic('CVE-1', '2026-11-01T00:00:00Z')], '2026-11-01T00:00:00Z');
  const source: FactsSource = { lookup: async () => ({ status: 'found', facts: current }) };
  const store = new MemoryDecisionStore();
  const service = new RefreshService({
    policy: parsePolicy({}),
    facts: source,
    catalog: { listRepositories: async () => ({ items: [] }), listImages: async () => ({ items: [] }) },
    store,
    region: 'us-east-1',
    now: () => new Date('2026-11-27T12:00:00Z'),
  });
  const target = { ...REPO, digest: DIGEST, tags: ['1.0'], eventTime: '2026-11-20T00:00:00Z', eventId: 'e' };

  await service.refresh(target);
  current = facts([basic('CVE-1', '2026-11-20T00:00:00Z')], '2026-11-20T00:00:00Z');
  await service.refresh(target);

  const cached = (await store.getMany([{ ...REPO, digest: DIGEST }])).get(
    lookupKey({ ...REPO, digest: DIGEST }),
  );
  expect(cached?.facts.image.scan?.completedAt).toBe('2026-11-20T00:00:00Z');
  expect(cached?.facts.image.scan?.findings[0]?.firstObservedAt).toBe('2026-11-01T00:00:00Z');
});

test('an admission that misses by a new tag judges live facts with the first-observed times the cache holds', async () => {
  const old = facts([basic('CVE-1', '2026-11-01T00:00:00Z')], '2026-11-01T00:00:00Z');
  const rescanned = facts([basic('CVE-1', '2026-11-26T00:00:00Z')], '2026-11-26T00:00:00Z', DIGEST, [
    '1.0',
    'stable',
  ]);
  const store = new MemoryDecisionStore();
  await store.put({ facts: old });
  const source: FactsSource = { lookup: async () => ({ status: 'found', facts: rescanned }) };
  const review = (policy: PolicyDocument) =>
    new AdmissionService({
      policy: parsePolicy(policy),
      facts: source,
      store,
      now: () => new Date('2026-11-27T12:00:00Z'),
    }).review({
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      name: 'p',
      operation: 'CREATE',
      object: {
        spec: {
          containers: [{ name: 'a', image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:stable` }],
        },
      },
      dryRun: false,
    } as never);

  const graced = await review({ rules: { maxSeverityCounts: { HIGH: 0 }, countOnly: { minAgeDays: 14 } } });

  // Known since 2026-11-01 (26 days), not since the rescan of 2026-11-26: it counts.
  expect(graced.allowed).toBe(false);
  expect(graced.message).toContain('CVE-1 HIGH, known 26 days');
});
