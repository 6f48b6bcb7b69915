/**
 * The continuity guard on the admission path: which requests it graces, from what it reads (the stored
 * verdict's `violatingSince`, the owner's inventory record), and that a compliant admission reads
 * nothing more. In process: the memory cache and inventory, facts from a snapshot with a CRITICAL.
 */
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { FileInventory } from '../../src/adapters/inventory-lines';
import { MemoryDecisionStore, MemoryInventoryStore } from '../../src/adapters/memory-store';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { AdmissionService } from '../../src/application/admission-service';
import { graceEnds, violationAppeared } from '../../src/domain/continuity';
import type { AdmittedImage, AdmittedRecord } from '../../src/domain/inventory';
import { parsePolicy } from '../../src/domain/policy';
import type { Violation } from '../../src/domain/verdict';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { type ReviewOptions, review, workload } from '../helpers/reviews';
import {
  ACCOUNT,
  basicScan,
  digestOf,
  ecrHost,
  finding,
  image,
  type JsonObject,
  REGION,
  registry,
  repository,
  snapshot,
} from '../helpers/snapshot-builder';

const APP = `${ecrHost()}/team/app:1.0`;
const MUTABLE = `${ecrHost()}/team/mutable:1.0`;
const CLEAN = `${ecrHost()}/team/clean:1.0`;
const DAY = 86_400_000;
const FIRST_ADMITTED = '2026-11-20T12:00:00.000Z';
const APPEARED = '2026-11-25T12:00:00.000Z';
const critical = () => basicScan({ findings: [finding('CVE-2026-0001', 'CRITICAL')] });

const FACTS = new EcrFactsSource(
  new SnapshotReads(
    snapshot(
      registry(
        {},
        repository('team/app', {}, image('app-1.0', { tags: ['1.0'], scan: critical() })),
        repository(
          'team/mutable',
          { mutability: 'MUTABLE' },
          image('mutable-1.0', { tags: ['1.0'], scan: critical() }),
        ),
        repository('team/clean', {}, image('clean-1.0', { tags: ['1.0'] })),
      ),
    ),
  ),
);

const where = (repositoryName: string, name: string) => ({
  registryId: ACCOUNT,
  region: REGION,
  repositoryName,
  digest: digestOf(name),
});

const request = (object: JsonObject, options: ReviewOptions = {}) =>
  parseAdmissionReview(review(object, options)).request;

/** A Pod whose controlling owner is `kind` `name` (none: a bare Pod). */
function pod(images: string[], owner?: { kind: string; name: string }): JsonObject {
  const object = workload('Pod', { containers: images }, { name: 'app-7d9-x2x' });
  return owner
    ? {
        ...object,
        metadata: {
          ...(object.metadata as JsonObject),
          ownerReferences: [{ apiVersion: 'apps/v1', ...owner, uid: 'u-1', controller: true }],
        },
      }
    : object;
}

const RS = { kind: 'ReplicaSet', name: 'app-7d9' };

async function setup(
  options: {
    policy?: object;
    firstAdmitted?: string;
    violatingSince?: string | null;
    owner?: typeof RS;
    /** The inventory exported to a file and read back (`review --inventory FILE`), not the store. */
    fromFile?: boolean;
  } = {},
) {
  const exported: AdmittedRecord[] = [];
  const store = new MemoryDecisionStore({ ttlMs: 365 * DAY });
  const inventory = new MemoryInventoryStore({ now: () => Date.parse(APPEARED) });
  let reads = 0;
  // The workflow's entries: the facts, with the denying verdict and when it was first stored.
  for (const [repositoryName, name, image_] of [
    ['team/app', 'app-1.0', APP],
    ['team/mutable', 'mutable-1.0', MUTABLE],
  ] as const) {
    const found = await FACTS.lookup({ ...where(repositoryName, name), digest: digestOf(name) });
    if (found.status !== 'found') throw new Error('no facts');
    const violations: Violation[] = [
      { code: 'SEVERITY_LIMIT_EXCEEDED', image: image_, message: '1 CRITICAL' },
    ];
    await store.put({
      facts: found.facts,
      verdict: {
        violations,
        policyHash: 'h',
        judgedAt: APPEARED,
        ...(options.violatingSince !== null && { violatingSince: options.violatingSince ?? APPEARED }),
      },
    });
    const admitted: AdmittedImage = {
      ...where(repositoryName, name),
      cluster: 'default',
      namespace: 'shop',
      owner: options.owner ?? RS,
      image: image_,
    };
    await inventory.recordAdmitted(admitted, new Date(options.firstAdmitted ?? FIRST_ADMITTED), 0);
    const at = new Date(options.firstAdmitted ?? FIRST_ADMITTED).toISOString();
    exported.push({ ...admitted, firstAdmittedAt: at, lastAdmittedAt: at });
  }
  const source = options.fromFile ? new FileInventory(exported) : inventory;
  const counted = {
    findAdmitted: (admitted: readonly AdmittedImage[]) => {
      reads++;
      return source.findAdmitted(admitted);
    },
  };
  let clock = new Date(Date.parse(APPEARED) + DAY);
  const service = new AdmissionService({
    policy: parsePolicy(options.policy ?? { continuity: { recreate: 'warn', graceDays: 14 } }),
    facts: FACTS,
    store,
    admitted: counted,
    now: () => clock,
  });
  return { service, reads: () => reads, at: (date: string) => (clock = new Date(date)) };
}

describe('the continuity guard', () => {
  test('A re-created Pod of a ReplicaSet that ran the image before the violation appeared is admitted with a warning inside the grace.', async () => {
    const { service } = await setup();

    const decision = await service.review(request(pod([APP], RS)));

    expect(decision.allowed).toBe(true);
    expect(decision.warnings).toEqual([
      expect.stringMatching(
        /^\[SEVERITY_LIMIT_EXCEEDED\] app:1\.0: grace ends 2026-12-09: admitted as a re-creation of ReplicaSet app-7d9/,
      ),
    ]);
    expect(decision.auditAnnotations).toMatchObject({
      decision: 'warned',
      continuity: 'SEVERITY_LIMIT_EXCEEDED until 2026-12-09',
    });
  });

  test('An exported inventory read back (review --inventory FILE) answers the guard offline, alike.', async () => {
    const { service } = await setup({ fromFile: true });

    const decision = await service.review(request(pod([APP], RS)));

    expect(decision.allowed).toBe(true);
    expect(decision.auditAnnotations).toMatchObject({
      continuity: 'SEVERITY_LIMIT_EXCEEDED until 2026-12-09',
    });
  });

  test.each([
    ['The same Pod is denied once the grace has ended.', {}, pod([APP], RS), '2026-12-09T12:00:00.000Z'],
    ['A Pod with no controlling owner is denied.', {}, pod([APP]), undefined],
    [
      'A Pod owned by a kind that is not a controller is denied.',
      { owner: { kind: 'Node', name: 'n1' } },
      pod([APP], { kind: 'Node', name: 'n1' }),
      undefined,
    ],
    [
      'A Pod of another ReplicaSet (a new rollout) is denied.',
      {},
      pod([APP], { kind: 'ReplicaSet', name: 'app-8e1' }),
      undefined,
    ],
    [
      'A workload CREATE is denied (a new rollout).',
      { owner: { kind: 'Deployment', name: 'app' } },
      workload('Deployment', { containers: [APP] }),
      undefined,
    ],
    ['An image with a movable tag never gets grace.', {}, pod([MUTABLE], RS), undefined],
    [
      'An owner first admitted after the violation appeared gets no grace.',
      { firstAdmitted: '2026-11-26T00:00:00.000Z' },
      pod([APP], RS),
      undefined,
    ],
    [
      'Without continuity.recreate: warn (the default), nothing is graced.',
      { policy: {} },
      pod([APP], RS),
      undefined,
    ],
    [
      'A verdict without violatingSince falls back to the findings: basic findings carry no first-observed time, so no grace.',
      { violatingSince: null },
      pod([APP], RS),
      undefined,
    ],
  ] as const)('%s', async (_name, options, object, at) => {
    const env = await setup(options);
    if (at) env.at(at);

    const decision = await env.service.review(request(object));

    expect(decision.allowed).toBe(false);
    expect(decision.auditAnnotations.continuity).toBeUndefined();
  });

  test('An UPDATE of a Pod is judged as ever, with no inventory read.', async () => {
    const { service, reads } = await setup();
    const decision = await service.review(
      request(pod([APP], RS), { operation: 'UPDATE', before: pod([CLEAN], RS) }),
    );
    expect(decision.allowed).toBe(false);
    expect(reads()).toBe(0);
  });

  test('A compliant Pod costs no inventory read; a denied one costs one for all of its images.', async () => {
    const { service, reads } = await setup();

    await service.review(request(pod([CLEAN], RS)));
    expect(reads()).toBe(0);
    const decision = await service.review(request(pod([APP, MUTABLE, CLEAN], RS)));

    expect(reads()).toBe(1);
    // The mutable image is never graced, so the Pod stays denied, for it alone.
    expect(decision.allowed).toBe(false);
    expect(decision.violations.map((v) => [v.code, v.image])).toEqual([
      ['TAG_MUTABLE', MUTABLE],
      ['SEVERITY_LIMIT_EXCEEDED', MUTABLE],
    ]);
  });
});

describe('when the violation appeared, and the grace', () => {
  const severity = (firstObservedAt?: string): Violation => ({
    code: 'SEVERITY_LIMIT_EXCEEDED',
    image: APP,
    message: 'over',
    findings: [
      {
        id: 'CVE-1',
        severity: 'CRITICAL',
        counted: true,
        why: 'counted',
        ...(firstObservedAt && { firstObservedAt }),
      },
      {
        id: 'CVE-2',
        severity: 'CRITICAL',
        counted: false,
        why: 'not counted',
        firstObservedAt: '2026-11-30T00:00:00Z',
      },
    ],
  });
  test.each([
    ['The stored violatingSince wins.', [severity('2026-11-01T00:00:00Z')], APPEARED, APPEARED],
    [
      'Without it, the newest counted finding’s first-observed time (a snapshot).',
      [severity('2026-11-01T00:00:00Z')],
      undefined,
      '2026-11-01T00:00:00.000Z',
    ],
    ['Without either, unknown: no grace.', [severity()], undefined, undefined],
    [
      'A violation that is not about findings: never.',
      [{ code: 'NOT_ECR', image: APP, message: 'x' } as Violation],
      APPEARED,
      undefined,
    ],
    [
      'A tag that can be moved: never, even beside a finding.',
      [severity(), { code: 'TAG_MUTABLE', image: APP, message: 'x' } as Violation],
      APPEARED,
      undefined,
    ],
  ] as const)('%s', (_name, violations, since, expected) => {
    expect(violationAppeared(violations, since)).toBe(expected);
  });

  test.each([
    [
      'Admitted before, within the grace: it ends graceDays after the violation appeared.',
      FIRST_ADMITTED,
      '2026-12-01T00:00:00Z',
      '2026-12-09T12:00:00.000Z',
    ],
    ['Admitted before, after the grace: none.', FIRST_ADMITTED, '2026-12-09T12:00:00Z', undefined],
    ['Admitted at the moment it appeared: none.', APPEARED, '2026-11-26T00:00:00Z', undefined],
  ] as const)('%s', (_name, firstAdmittedAt, now, expected) => {
    expect(graceEnds(firstAdmittedAt, APPEARED, 14, new Date(now))).toBe(expected);
  });

  test('graceDays 0 grants nothing.', () => {
    expect(graceEnds(FIRST_ADMITTED, APPEARED, 0, new Date(APPEARED))).toBeUndefined();
  });
});
