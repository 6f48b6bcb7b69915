/**
 * A verdict is judged once per facts, reference and policy and reused until the first instant the
 * judgement read from the clock (issue 17): reuse must never answer what judging afresh would not. Held
 * over generated findings, scans, exceptions and `countOnly` ages, at instants that are not day-aligned,
 * and at clocks that go back as well as forward.
 */
import fc from 'fast-check';
import type { Facts, Finding } from '../../src/domain/facts';
import { type ImageReference, parseImageReference } from '../../src/domain/image-ref';
import { type Policy, parsePolicy } from '../../src/domain/policy';
import { judgeFacts, judgeFactsUntil, type Verdict } from '../../src/domain/verdict';
import { facts } from '../cases/replacement-cases';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const BASE = Date.parse('2026-11-27T12:34:56.789Z');
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0';
const DIGEST = `sha256:${'a'.repeat(64)}`;
function refOf(image: string): ImageReference {
  const parsed = parseImageReference(image);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.ref;
}
const REF = refOf(IMAGE);
/** By tag or by digest: each reference is judged, and remembered, on its own. */
const reference = fc.constantFrom(REF, refOf(`${IMAGE.replace(':1.0', '')}@${DIGEST}`));

/** An instant within `days` of BASE, to the millisecond. */
const instant = (days: number) => fc.integer({ min: -days * DAY, max: days * DAY }).map((ms) => BASE + ms);

const ids = fc.constantFrom('CVE-1', 'CVE-2', 'CVE-3', 'CVE-4');
const finding: fc.Arbitrary<Finding> = fc.record(
  {
    id: ids,
    severity: fc.constantFrom('CRITICAL', 'HIGH', 'MEDIUM'),
    fixAvailable: fc.constantFrom('YES', 'NO'),
    firstObservedAt: instant(40).map((t) => new Date(t).toISOString()),
  },
  { requiredKeys: ['id', 'severity'] },
);

const policyDocument = fc.record(
  {
    maxSeverityCounts: fc.record(
      { CRITICAL: fc.integer({ min: 0, max: 2 }), HIGH: fc.integer({ min: 0, max: 2 }) },
      { requiredKeys: [] },
    ),
    maxScanAgeDays: fc.integer({ min: 0, max: 20 }),
    countOnly: fc.record({ minAgeDays: fc.integer({ min: 0, max: 20 }) }),
    ignoreFindings: fc.array(
      fc.record(
        {
          id: ids,
          expires: instant(20).map((t) => new Date(t).toISOString().slice(0, 10)),
          images: fc.constantFrom(['*/team/app:*'], ['*/team/app@*'], ['*/other/*']),
        },
        { requiredKeys: ['id', 'expires'] },
      ),
      { maxLength: 3 },
    ),
    unscanned: fc.constantFrom('deny', 'warn', 'allow'),
  },
  { requiredKeys: [] },
);

interface GeneratedScan {
  status: string;
  completedAt?: string;
  findings: Finding[];
  reported: boolean;
}

const oneScan: fc.Arbitrary<GeneratedScan> = fc.record(
  {
    status: fc.constantFrom('COMPLETE', 'COMPLETE', 'ACTIVE', 'IN_PROGRESS'),
    completedAt: instant(30).map((t) => new Date(t).toISOString()),
    findings: fc.array(finding, { maxLength: 6 }),
    reported: fc.boolean(),
  },
  { requiredKeys: ['status', 'findings', 'reported'] },
);

interface GeneratedImage {
  image: GeneratedScan;
  /** An image index of two platform images, each with its own scan. */
  platforms?: [GeneratedScan, GeneratedScan] | undefined;
}

const scan: fc.Arbitrary<GeneratedImage> = fc.record({
  image: oneScan,
  platforms: fc.option(fc.tuple(oneScan, oneScan), { nil: undefined }),
});

function scanFacts(s: GeneratedScan) {
  const severityCounts: Record<string, number> = {};
  if (s.reported) {
    for (const f of s.findings) severityCounts[f.severity] = (severityCounts[f.severity] ?? 0) + 1;
  }
  return {
    status: s.status,
    ...(s.completedAt && { completedAt: s.completedAt }),
    severityCounts,
    findings: s.findings,
  };
}

/** The replacement cases' image of team/app, its scan replaced by the generated one (or an index). */
function factsOf(generated: GeneratedImage): Facts {
  const platforms = generated.platforms?.map((s, i) => ({
    platform: i === 0 ? 'linux/amd64' : 'linux/arm64',
    digest: `sha256:${String(i + 1).repeat(64)}`,
    found: true,
    scan: scanFacts(s),
  }));
  const base = facts({ digest: DIGEST, tags: ['1.0'], gatheredAt: new Date(BASE).toISOString() });
  const { scan: _replaced, ...image } = base.image;
  return {
    ...base,
    image: { ...image, ...(platforms ? { platforms } : { scan: scanFacts(generated.image) }) },
  };
}

/** Judged with nothing remembered: copies of the facts and policy no judgement has seen. */
function afresh(facts: Facts, ref: ImageReference, policy: Policy, t: number): Verdict {
  return judgeFactsUntil(
    structuredClone(facts),
    ref,
    { ...policy, rules: structuredClone(policy.rules) },
    new Date(t),
  ).verdict;
}

test('a verdict holds, word for word, at every instant before the first change its judgement read', () => {
  fc.assert(
    fc.property(
      scan,
      policyDocument,
      reference,
      instant(30),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 6 }),
      (s, rules, ref, t, fractions) => {
        const facts = factsOf(s);
        const policy = parsePolicy({ rules });
        const { verdict, until } = judgeFactsUntil(facts, ref, policy, new Date(t));
        expect(until).toBeGreaterThan(t);
        // Past 200 days nothing generated here can change: an unbounded verdict is checked that far.
        const end = Math.min(until, t + 200 * DAY);
        const probes = [end - 1, ...fractions.map((f) => t + Math.floor(f * (end - t)))];
        for (const probe of probes) {
          expect(afresh(facts, ref, policy, probe)).toEqual(verdict);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('judgeFacts, reusing its verdicts, answers as judging afresh does, whichever way the clock moves', () => {
  fc.assert(
    fc.property(
      scan,
      policyDocument,
      fc.array(fc.tuple(instant(40), reference), { minLength: 2, maxLength: 12 }),
      (s, rules, times) => {
        const facts = factsOf(s);
        const policy = parsePolicy({ rules });
        for (const [t, ref] of times) {
          expect(judgeFacts(facts, ref, policy, new Date(t))).toEqual(afresh(facts, ref, policy, t));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('the same facts are judged once for a reference until their first change, and shared verdicts cannot be changed', () => {
  const facts = factsOf({
    image: {
      status: 'COMPLETE',
      completedAt: new Date(BASE - DAY).toISOString(),
      findings: [
        { id: 'CVE-1', severity: 'CRITICAL', firstObservedAt: new Date(BASE - 3 * DAY + HOUR).toISOString() },
      ],
      reported: true,
    },
  });
  const policy = parsePolicy({});
  const first = judgeFacts(facts, REF, policy, new Date(BASE));
  const { until } = judgeFactsUntil(facts, REF, policy, new Date(BASE));
  // "known 2 days" is true until the third day since the finding was first seen, an hour from now.
  expect(until).toBe(BASE + HOUR);
  expect(judgeFacts(facts, REF, policy, new Date(until - 1))).toBe(first);
  const next = judgeFacts(facts, REF, policy, new Date(until));
  expect(next).not.toBe(first);
  expect(next.violations[0]?.message).toContain('known 3 days');
  expect(() => (first.violations as unknown[]).push({})).toThrow(TypeError);
  // Another reference to the same image is its own judgement.
  const other = refOf(`${IMAGE.replace(':1.0', '')}@${DIGEST}`);
  expect(judgeFacts(facts, other, policy, new Date(BASE)).violations[0]?.image).toBe(other.raw);
  // Shared findings cannot be changed either.
  const findings = first.violations[0]?.findings as unknown[] | undefined;
  expect(findings).toHaveLength(1);
  expect(() => findings?.push({})).toThrow(TypeError);
  expect(() => Object.assign(findings?.[0] ?? {}, { severity: 'LOW' })).toThrow(TypeError);
});
