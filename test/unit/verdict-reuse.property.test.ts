/**
 * A verdict is judged once per facts, reference and policy and reused until the first instant the
 * judgement read from the clock (issue 17): reuse must never answer what judging afresh would not. Held
 * over generated findings, scans, exceptions and `countOnly` ages, at instants that are not day-aligned,
 * and at clocks that go back as well as forward.
 */
import fc from 'fast-check';
import type { Facts, Finding } from '../../src/domain/facts';
import { parseImageReference } from '../../src/domain/image-ref';
import { type Policy, parsePolicy } from '../../src/domain/policy';
import { judgeFacts, judgeFactsUntil, type Verdict } from '../../src/domain/verdict';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const BASE = Date.parse('2026-11-27T12:34:56.789Z');
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0';
const REF = (() => {
  const parsed = parseImageReference(IMAGE);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.ref;
})();

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
      fc.record({ id: ids, expires: instant(20).map((t) => new Date(t).toISOString().slice(0, 10)) }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

const scan = fc.record({
  completedAt: instant(30).map((t) => new Date(t).toISOString()),
  findings: fc.array(finding, { maxLength: 6 }),
  reported: fc.boolean(),
});

function factsOf(s: { completedAt: string; findings: Finding[]; reported: boolean }): Facts {
  const severityCounts: Record<string, number> = {};
  if (s.reported)
    for (const f of s.findings) severityCounts[f.severity] = (severityCounts[f.severity] ?? 0) + 1;
  return {
    repository: {
      registryId: '111122223333',
      region: 'us-east-1',
      repositoryName: 'team/app',
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
      repositoryScanning: { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
    },
    image: {
      digest: `sha256:${'a'.repeat(64)}`,
      tags: ['1.0'],
      scan: { status: 'COMPLETE', completedAt: s.completedAt, severityCounts, findings: s.findings },
    },
    gatheredAt: new Date(BASE).toISOString(),
  };
}

/** Judged with nothing remembered: copies of the facts and policy no judgement has seen. */
function afresh(facts: Facts, policy: Policy, t: number): Verdict {
  return judgeFactsUntil(
    structuredClone(facts),
    REF,
    { ...policy, rules: structuredClone(policy.rules) },
    new Date(t),
  ).verdict;
}

test('a verdict holds, word for word, at every instant before the first change its judgement read', () => {
  fc.assert(
    fc.property(
      scan,
      policyDocument,
      instant(30),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 6 }),
      (s, rules, t, fractions) => {
        const facts = factsOf(s);
        const policy = parsePolicy({ rules });
        const { verdict, until } = judgeFactsUntil(facts, REF, policy, new Date(t));
        expect(until).toBeGreaterThan(t);
        // Past 200 days nothing generated here can change: an unbounded verdict is checked that far.
        const end = Math.min(until, t + 200 * DAY);
        const probes = [end - 1, ...fractions.map((f) => t + Math.floor(f * (end - t)))];
        for (const probe of probes) {
          expect(afresh(facts, policy, probe)).toEqual(verdict);
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
      fc.array(instant(40), { minLength: 2, maxLength: 12 }),
      (s, rules, times) => {
        const facts = factsOf(s);
        const policy = parsePolicy({ rules });
        for (const t of times) {
          expect(judgeFacts(facts, REF, policy, new Date(t))).toEqual(afresh(facts, policy, t));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('the same facts are judged once for a reference until their first change, and shared verdicts cannot be changed', () => {
  const facts = factsOf({
    completedAt: new Date(BASE - DAY).toISOString(),
    findings: [
      { id: 'CVE-1', severity: 'CRITICAL', firstObservedAt: new Date(BASE - 3 * DAY + HOUR).toISOString() },
    ],
    reported: true,
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
  const other = parseImageReference(`${IMAGE.replace(':1.0', '')}@${facts.image.digest}`);
  if (!other.ok) throw new Error(other.error);
  expect(judgeFacts(facts, other.ref, policy, new Date(BASE)).violations[0]?.image).toBe(other.ref.raw);
});
