import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { AdmissionService } from '../../src/application/admission-service';
import type { CachedImage, DecisionCache } from '../../src/domain/decision-store';
import { FactsUnavailableError, type FailureCause } from '../../src/domain/errors';
import type { FactsLookup, FactsSource, ImageLookup } from '../../src/domain/facts';
import { type PolicyDocument, parsePolicy } from '../../src/domain/policy';
import type { ViolationCode } from '../../src/domain/verdict';
import { formatAdmissionResponse, parseAdmissionReview } from '../../src/http/admission-review';
import {
  type AdmissionCase,
  admissionCases,
  DEFAULT_NOW,
  UNSCANNED_STATUSES,
} from '../cases/admission-cases';
import {
  type AdmissionReviewDocument,
  podReview,
  review,
  WORKLOAD_KINDS,
  workload,
} from '../helpers/reviews';
import { runCase } from '../helpers/run-case';
import {
  basicScan,
  digestOf,
  ecrHost,
  finding,
  image,
  registry,
  repository,
  type SnapshotDocument,
  snapshot,
} from '../helpers/snapshot-builder';

const snapshotFacts = (document: SnapshotDocument): FactsSource =>
  new EcrFactsSource(new SnapshotReads(document));

describe('the admission case table', () => {
  test.each(admissionCases.map((c) => [c.name, c] as const))('%s', async (_name, admissionCase) => {
    await runCase(admissionCase, snapshotFacts(admissionCase.snapshot));
  });
});

describe('the case table itself', () => {
  test('is pure data that survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(admissionCases))).toEqual(admissionCases);
  });

  test('names every case with a unique whole sentence', () => {
    const names = admissionCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Z].* .*\.$/);
  });

  test('writes the expected codes sorted and unique', () => {
    for (const c of admissionCases) {
      expect(c.expect.codes).toEqual([...new Set(c.expect.codes)].sort());
    }
  });

  test('covers every violation code that a judgement can produce', () => {
    const all: Record<ViolationCode, boolean> = {
      INVALID_REFERENCE: true,
      INVALID_OBJECT: true,
      NOT_ECR: true,
      REGISTRY_NOT_ALLOWED: true,
      REPOSITORY_NOT_FOUND: true,
      IMAGE_NOT_FOUND: true,
      IMAGE_ARCHIVED: true,
      IMAGE_IMPORTING: true,
      IMAGE_RESTORING: true,
      TAG_MUTABLE: true,
      SCAN_ON_PUSH_DISABLED: true,
      SCAN_ON_PUSH_UNVERIFIED: true,
      UNSCANNED: true,
      SEVERITY_LIMIT_EXCEEDED: true,
      SCAN_TOO_OLD: true,
      // Only a failing or slow facts source produces it: covered by the service tests below.
      NOT_VERIFIED: false,
    };
    const seen = new Set(admissionCases.flatMap((c) => c.expect.codes));
    const expected = Object.entries(all).flatMap(([code, fromTable]) => (fromTable ? [code] : []));
    expect([...seen].sort()).toEqual(expected.sort());
  });

  test('covers every workload kind and every unscanned status under each unscanned setting', () => {
    const kinds = new Set(
      admissionCases.map((c) => (c.review.request.kind as { kind: string } | undefined)?.kind),
    );
    for (const kind of WORKLOAD_KINDS) expect(kinds).toContain(kind);
    for (const status of UNSCANNED_STATUSES) {
      for (const mode of ['deny', 'warn', 'allow']) {
        expect(admissionCases.map((c) => c.name)).toContain(
          `An image whose scan status is ${status} ${
            {
              deny: 'is denied as unscanned',
              warn: 'is admitted with a warning',
              allow: 'is admitted silently',
            }[mode]
          } under unscanned: ${mode}.`,
        );
      }
    }
  });
});

// The service around the judgement: cache, shared lookups, deadline and failure mode.

const HOST = ecrHost();
const APP = `${HOST}/team/app:1.0`;
const REGISTRY = snapshot(
  registry(
    {},
    repository(
      'team/app',
      {},
      image('app-1.0', { tags: ['1.0', 'latest'] }),
      image('app-crit', {
        tags: ['crit'],
        scan: basicScan({ findings: [finding('CVE-2026-4242', 'CRITICAL')] }),
      }),
    ),
    repository('team/web', {}, image('web-1.0', { tags: ['1.0'] })),
  ),
);

/** Our own facts port, counted (and optionally slowed) to see how often the service asks. */
class CountingFacts implements FactsSource {
  readonly calls: ImageLookup[] = [];
  constructor(
    private readonly inner: FactsSource = snapshotFacts(REGISTRY),
    private readonly delayMs = 0,
  ) {}

  async lookup(lookup: ImageLookup, signal?: AbortSignal): Promise<FactsLookup> {
    this.calls.push(lookup);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.lookup(lookup, signal);
  }
}

const AWS_ERROR_TEXT =
  'User: arn:aws:iam::111122223333:assumed-role/eks-node/i-0abc is not authorized to perform: ecr:DescribeImages';

class FailingFacts implements FactsSource {
  calls = 0;
  async lookup(): Promise<FactsLookup> {
    this.calls += 1;
    throw Object.assign(new Error(AWS_ERROR_TEXT), { name: 'AccessDeniedException' });
  }
}

/** Never answers: slower than any deadline. */
class SilentFacts implements FactsSource {
  lookup(): Promise<FactsLookup> {
    return new Promise(() => {});
  }
}

interface Setup {
  facts?: FactsSource;
  store?: DecisionCache;
  policy?: PolicyDocument;
  now?: () => Date;
  deadlineMs?: number;
}

function setup(options: Setup = {}) {
  const failures: { what: string; error: unknown }[] = [];
  const memory = new MemoryDecisionStore();
  const store = options.store ?? memory;
  const service = new AdmissionService({
    policy: parsePolicy(options.policy ?? {}),
    facts: options.facts ?? new CountingFacts(),
    store,
    now: options.now ?? (() => new Date(DEFAULT_NOW)),
    ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
    onFailure: (what, error) => failures.push({ what, error }),
  });
  const ask = async (document: AdmissionReviewDocument) => {
    const parsed = parseAdmissionReview(JSON.stringify(document));
    const decision = await service.review(parsed.request);
    return { decision, response: formatAdmissionResponse(parsed.apiVersion, parsed.request.uid, decision) };
  };
  return { service, memory, failures, ask };
}

const codesOf = (decision: { violations: readonly { code: string }[] }) =>
  [...new Set(decision.violations.map((v) => v.code))].sort();

describe('AdmissionService', () => {
  test('a second review of the same image is answered from the cache without a facts lookup', async () => {
    // Prepare
    const facts = new CountingFacts();
    const { ask } = setup({ facts });

    // Act
    const first = await ask(podReview({ containers: [APP] }));
    const second = await ask(podReview({ containers: [APP] }));

    // Assess
    expect(first.response.response.auditAnnotations).toMatchObject({
      decision: 'allowed',
      cache: 'hit=0,miss=1',
    });
    expect(second.response.response.auditAnnotations).toMatchObject({
      decision: 'allowed',
      cache: 'hit=1,miss=0',
    });
    expect(facts.calls).toHaveLength(1);
  });

  test('facts gathered by tag also answer a later reference by digest and by another tag of the image', async () => {
    const facts = new CountingFacts();
    const { ask } = setup({ facts });

    await ask(podReview({ containers: [APP] }));
    const later = await ask(
      podReview({ containers: [`${HOST}/team/app@${digestOf('app-1.0')}`, `${HOST}/team/app`] }),
    );

    expect(later.response.response.auditAnnotations).toMatchObject({ cache: 'hit=2,miss=0' });
    expect(later.decision.allowed).toBe(true);
    expect(facts.calls).toHaveLength(1);
  });

  test('cached facts are judged with the current clock, so an expired exception denies without a lookup', async () => {
    let now = new Date('2026-11-27T12:00:00Z');
    const facts = new CountingFacts();
    const { ask } = setup({
      facts,
      now: () => now,
      policy: { rules: { ignoreFindings: [{ id: 'CVE-2026-4242', expires: '2026-11-27' }] } },
    });
    const crit = `${HOST}/team/app:crit`;

    const before = await ask(podReview({ containers: [crit] }));
    now = new Date('2026-11-28T00:00:00Z');
    const after = await ask(podReview({ containers: [crit] }));

    expect(before.decision.allowed).toBe(true);
    expect(after.decision.allowed).toBe(false);
    expect(codesOf(after.decision)).toEqual(['SEVERITY_LIMIT_EXCEEDED']);
    expect(after.response.response.auditAnnotations).toMatchObject({ cache: 'hit=1,miss=0' });
    expect(facts.calls).toHaveLength(1);
  });

  test('cached facts are judged with the current policy of the service that reads them', async () => {
    const store = new MemoryDecisionStore();
    const facts = new CountingFacts();
    const crit = podReview({ containers: [`${HOST}/team/app:crit`] });
    const strict = setup({ facts, store });
    const lenient = setup({ facts, store, policy: { rules: { maxSeverityCounts: { CRITICAL: null } } } });

    const denied = await strict.ask(crit);
    const admitted = await lenient.ask(crit);

    expect(denied.decision.allowed).toBe(false);
    expect(admitted.decision.allowed).toBe(true);
    expect(admitted.response.response.auditAnnotations).toMatchObject({ cache: 'hit=1,miss=0' });
    expect(facts.calls).toHaveLength(1);
  });

  test('the cache is read once for all the images of an object', async () => {
    const reads: (readonly ImageLookup[])[] = [];
    const memory = new MemoryDecisionStore();
    const store: DecisionCache = {
      getMany: (lookups) => {
        reads.push(lookups);
        return memory.getMany(lookups);
      },
      put: (entry) => memory.put(entry),
    };
    const { ask } = setup({ store });

    await ask(
      review(
        workload('Deployment', {
          initContainers: [`${HOST}/team/web:1.0`],
          containers: [APP, `${HOST}/team/app:crit`, APP, 'nginx:1.27'],
        }),
      ),
    );

    expect(reads).toHaveLength(1);
    expect(reads[0]).toHaveLength(3);
  });

  test('concurrent reviews of one uncached image share a single facts lookup', async () => {
    const facts = new CountingFacts(snapshotFacts(REGISTRY), 30);
    const { ask } = setup({ facts });

    const answers = await Promise.all(Array.from({ length: 5 }, () => ask(podReview({ containers: [APP] }))));

    expect(facts.calls).toHaveLength(1);
    for (const { decision, response } of answers) {
      expect(decision.allowed).toBe(true);
      expect(response.response.auditAnnotations).toMatchObject({ cache: 'hit=0,miss=1' });
    }
  });

  test('two references that name the same lookup in one object share a single facts lookup', async () => {
    const facts = new CountingFacts(snapshotFacts(REGISTRY), 10);
    const { ask } = setup({ facts });

    const { decision } = await ask(
      podReview({ containers: [`${HOST}/team/app`, `${HOST}/team/app:latest`] }),
    );

    expect(decision.allowed).toBe(true);
    expect(facts.calls).toHaveLength(1);
  });

  test('an image that does not exist is never cached, since it may be pushed a moment later', async () => {
    const facts = new CountingFacts();
    const { ask, memory } = setup({ facts });
    const ghost = podReview({ containers: [`${HOST}/team/ghost:1.0`] });

    await ask(ghost);
    const again = await ask(ghost);

    expect(codesOf(again.decision)).toEqual(['REPOSITORY_NOT_FOUND']);
    expect(facts.calls).toHaveLength(2);
    expect(memory.size).toBe(0);
  });

  test('DELETE, exempt namespaces and kinds without a PodSpec make no lookup at all', async () => {
    const facts = new CountingFacts();
    const { ask } = setup({ facts });

    await ask(podReview({ containers: [APP] }, { operation: 'DELETE' }));
    await ask(podReview({ containers: [APP] }, { namespace: 'kube-system' }));
    await ask(review({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' } }));

    expect(facts.calls).toHaveLength(0);
  });

  describe('when ECR fails', () => {
    test('a facts source that throws is denied as not verified under failureMode deny, without AWS text', async () => {
      const facts = new FailingFacts();
      const { ask, memory, failures } = setup({ facts });

      const { decision, response } = await ask(podReview({ containers: [APP, 'nginx:1.27'] }));

      expect(response.response.allowed).toBe(false);
      expect(response.response.status?.code).toBe(403);
      expect(codesOf(decision)).toEqual(['NOT_ECR', 'NOT_VERIFIED']);
      expect(response.response.status?.message).toContain(
        `spec.containers[0].image "${APP}": [NOT_VERIFIED] could not be verified (ECR could not be reached); retry in a moment`,
      );
      const wire = JSON.stringify(response);
      for (const secret of ['AccessDenied', 'arn:aws', 'not authorized', 'eks-node']) {
        expect(wire).not.toContain(secret);
      }
      expect(failures).toEqual([{ what: expect.stringContaining('team/app'), error: expect.any(Error) }]);
      expect(memory.size).toBe(0);
    });

    test('a failure is not remembered: the next review asks ECR again', async () => {
      const facts = new FailingFacts();
      const { ask } = setup({ facts });

      await ask(podReview({ containers: [APP] }));
      await ask(podReview({ containers: [APP] }));

      expect(facts.calls).toBe(2);
    });

    test('a facts source that throws admits the image with a warning under failureMode allow', async () => {
      const { ask, memory } = setup({ facts: new FailingFacts(), policy: { failureMode: 'allow' } });

      const { decision, response } = await ask(podReview({ containers: [APP] }));

      expect(response.response.allowed).toBe(true);
      expect(response.response.status).toBeUndefined();
      expect(decision.violations).toEqual([]);
      expect(response.response.warnings).toEqual([
        '[NOT_VERIFIED] app:1.0: not verified (unavailable); admitted by failure mode allow',
      ]);
      expect(decision.notes).toEqual([
        `${APP}: could not be verified (ECR could not be reached); admitted because the failure mode is allow; retry in a moment`,
      ]);
      expect(decision.unverified).toEqual([
        { path: 'spec.containers[0].image', image: APP, reason: 'unavailable' },
      ]);
      expect(JSON.stringify(response)).not.toContain('arn:aws');
      expect(memory.size).toBe(0);
    });

    test('a facts source slower than the deadline is denied as not verified, on time, under failureMode deny', async () => {
      const { ask, memory, failures } = setup({ facts: new SilentFacts(), deadlineMs: 50 });

      const started = Date.now();
      const { decision, response } = await ask(podReview({ containers: [APP] }));

      expect(Date.now() - started).toBeLessThan(1000);
      expect(codesOf(decision)).toEqual(['NOT_VERIFIED']);
      expect(response.response.status?.message).toContain(
        'could not be verified (ECR did not answer in time); retry in a moment',
      );
      expect(failures).toHaveLength(1);
      expect(memory.size).toBe(0);
    });

    test('a facts source slower than the deadline admits with a warning under failureMode allow', async () => {
      const { ask, memory } = setup({
        facts: new SilentFacts(),
        deadlineMs: 50,
        policy: { failureMode: 'allow' },
      });

      const { response } = await ask(podReview({ containers: [APP] }));

      expect(response.response.allowed).toBe(true);
      expect(response.response.warnings).toEqual([
        '[NOT_VERIFIED] app:1.0: not verified (timed-out); admitted by failure mode allow',
      ]);
      expect(memory.size).toBe(0);
    });

    test('in warn mode a failure under failureMode deny is admitted with the not-verified reason as a warning', async () => {
      const { ask } = setup({ facts: new FailingFacts(), policy: { mode: 'warn' } });

      const { decision, response } = await ask(podReview({ containers: [APP] }));

      expect(response.response.allowed).toBe(true);
      expect(codesOf(decision)).toEqual(['NOT_VERIFIED']);
      expect(response.response.warnings).toEqual([
        expect.stringContaining('[NOT_VERIFIED] app:1.0: could not be verified'),
      ]);
    });
  });

  describe('names the cause of a failure and the advice that fits it', () => {
    const causes: { name: string; failure: FailureCause; says: string[]; audit: string }[] = [
      {
        name: 'no credentials: fix them',
        failure: { reason: 'no-credentials' },
        says: ['no valid AWS credentials for ECR', 'configure AWS credentials'],
        audit: 'no-credentials',
      },
      {
        name: 'access denied: grant the named action, never "retry"',
        failure: { reason: 'access-denied', action: 'ecr:DescribeImages' },
        says: ['ECR denied access (missing IAM permission ecr:DescribeImages)', 'grant ecr:DescribeImages'],
        audit: 'access-denied(ecr:DescribeImages)',
      },
      {
        name: 'throttled: retry',
        failure: { reason: 'throttled' },
        says: ['ECR throttled the requests', 'retry in a moment'],
        audit: 'throttled',
      },
    ];

    test.each(causes)('$name', async ({ failure, says, audit }) => {
      const facts: FactsSource = {
        lookup: async () => {
          throw new FactsUnavailableError('ECR DescribeImages failed', { failure });
        },
      };
      const { ask } = setup({ facts });

      const { decision, response } = await ask(podReview({ containers: [APP] }));

      const message = response.response.status?.message ?? '';
      for (const words of says) expect(message).toContain(words);
      if (failure.reason !== 'throttled') expect(message).not.toContain('retry');
      expect(decision.auditAnnotations.unverified).toBe(audit);
      expect(decision.unverified).toEqual([{ path: 'spec.containers[0].image', image: APP, ...failure }]);
    });
  });

  describe('when the decision cache fails', () => {
    test('a store that throws on read still answers from the facts', async () => {
      const facts = new CountingFacts();
      const store: DecisionCache = {
        getMany: async () => {
          throw new Error(
            'ProvisionedThroughputExceededException: arn:aws:dynamodb:us-east-1:111122223333:table/x',
          );
        },
        put: async () => ({ written: [] }),
      };
      const { ask, failures } = setup({ facts, store });

      const { decision, response } = await ask(podReview({ containers: [APP, `${HOST}/team/app:crit`] }));

      expect(codesOf(decision)).toEqual(['SEVERITY_LIMIT_EXCEEDED']);
      expect(response.response.auditAnnotations).toMatchObject({ cache: 'hit=0,miss=2' });
      expect(facts.calls).toHaveLength(2);
      expect(failures.map((f) => f.what)).toEqual(['decision cache read']);
      expect(JSON.stringify(response)).not.toContain('arn:aws');
    });

    test('a store that throws on write still answers from the facts', async () => {
      const written: CachedImage[] = [];
      const store: DecisionCache = {
        getMany: async () => new Map(),
        put: async (entry) => {
          written.push(entry);
          throw new Error('ConditionalCheckFailedException');
        },
      };
      const { ask, failures } = setup({ store });

      const { decision } = await ask(podReview({ containers: [APP] }));

      expect(decision.allowed).toBe(true);
      expect(written).toHaveLength(1);
      expect(failures.map((f) => f.what)).toEqual(['decision cache write']);
    });
  });
});

// A sanity check that the helper fails a case whose expectation is wrong: runCase must be able to fail.
describe('runCase', () => {
  test('fails when the expected answer differs from the actual one', async () => {
    const wrong: AdmissionCase = {
      name: 'A compliant image expected (wrongly) to be denied.',
      snapshot: REGISTRY,
      review: podReview({ containers: [APP] }),
      expect: { allowed: false, codes: ['TAG_MUTABLE'] },
    };
    await expect(runCase(wrong, snapshotFacts(REGISTRY))).rejects.toThrow();
  });

  test('fails when a response carries warnings the case does not expect', async () => {
    const wrong: AdmissionCase = {
      name: 'A warned image expected (wrongly) to have no warnings.',
      snapshot: REGISTRY,
      policy: { mode: 'warn' },
      review: podReview({ containers: ['nginx:1.27'] }),
      expect: { allowed: true, codes: ['NOT_ECR'] },
    };
    await expect(runCase(wrong, snapshotFacts(REGISTRY))).rejects.toThrow();
  });
});

describe('the audit annotation of counted findings', () => {
  const many = Array.from({ length: 12 }, (_, i) =>
    finding(`CVE-2026-${9000 + i}`, i < 2 ? 'CRITICAL' : 'HIGH'),
  );
  const facts = snapshotFacts(
    snapshot(
      registry(
        {},
        repository('team/app', {}, image('app-1.0', { tags: ['1.0'], scan: basicScan({ findings: many }) })),
      ),
    ),
  );

  test('names the counted findings in short, most severe first, bounded', async () => {
    const { ask } = setup({ facts, policy: { rules: { maxSeverityCounts: { HIGH: 0 } } } });

    const { response } = await ask(podReview({ containers: [APP] }));

    expect(response.response.auditAnnotations?.findings).toBe(
      `${[
        'CVE-2026-9000(CRITICAL)',
        'CVE-2026-9001(CRITICAL)',
        ...Array.from({ length: 8 }, (_, i) => `CVE-2026-${9002 + i}(HIGH)`),
      ].join(',')} +2 more`,
    );
  });

  test('is absent when no finding breaks a limit', async () => {
    const { ask } = setup({ facts, policy: { rules: { maxSeverityCounts: { CRITICAL: null } } } });

    const { response } = await ask(podReview({ containers: [APP] }));

    expect(response.response.auditAnnotations?.findings).toBeUndefined();
  });
});
