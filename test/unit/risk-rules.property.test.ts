/**
 * Risk-based rules only ever do what they name: an exception loosens, and only for its finding ids; a
 * `countOnly` key can only leave findings out; a scope changes nothing outside its namespaces. Judged by
 * the one judgement (judgeFacts) over generated findings and policies.
 */
import fc from 'fast-check';
import type { Facts, Finding } from '../../src/domain/facts';
import { parseImageReference } from '../../src/domain/image-ref';
import { type PolicyDocument, parsePolicy, policyFor } from '../../src/domain/policy';
import { judgeFacts } from '../../src/domain/verdict';
import { facts as imageFacts } from '../cases/replacement-cases';

const NOW = new Date('2026-11-27T12:00:00Z');
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0';
const REF = (() => {
  const parsed = parseImageReference(IMAGE);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.ref;
})();

const ids = fc.constantFrom('CVE-1', 'CVE-2', 'CVE-3', 'CVE-4', 'CVE-5');
const finding: fc.Arbitrary<Finding> = fc.record(
  {
    id: ids,
    severity: fc.constantFrom('CRITICAL', 'HIGH', 'MEDIUM', 'LOW'),
    score: fc.double({ min: 0, max: 10, noNaN: true }),
    fixAvailable: fc.constantFrom('YES', 'NO', 'PARTIAL'),
    exploitAvailable: fc.constantFrom('YES', 'NO'),
    firstObservedAt: fc
      .integer({ min: 0, max: 60 })
      .map((days) => new Date(NOW.getTime() - days * 86_400_000).toISOString()),
  },
  { requiredKeys: ['id', 'severity'] },
);

const limits = fc.record(
  { CRITICAL: fc.integer({ min: 0, max: 2 }), HIGH: fc.integer({ min: 0, max: 3 }) },
  { requiredKeys: [] },
);

const countOnly = fc.record(
  {
    fixAvailable: fc.subarray(['YES', 'PARTIAL', 'NO', 'UNKNOWN'], { minLength: 1 }),
    exploitAvailable: fc.subarray(['YES', 'NO', 'UNKNOWN'], { minLength: 1 }),
    minScore: fc.integer({ min: 0, max: 10 }),
    minAgeDays: fc.integer({ min: 0, max: 30 }),
  },
  { requiredKeys: [] },
);

/** The replacement cases' image of team/app, its scan listing these findings (ECR's counts absent). */
function facts(findings: readonly Finding[]): Facts {
  const base = imageFacts({ tags: ['1.0'], gatheredAt: NOW.toISOString() });
  return {
    ...base,
    image: { ...base.image, scan: { status: 'COMPLETE', severityCounts: {}, findings: [...findings] } },
  };
}

function allowed(document: PolicyDocument, findings: readonly Finding[], namespace = 'shop'): boolean {
  const { policy } = policyFor(parsePolicy(document), namespace);
  return judgeFacts(facts(findings), REF, policy, NOW).violations.length === 0;
}

test('an exception only loosens, and changes nothing for an image without its finding', () => {
  fc.assert(
    fc.property(fc.array(finding, { maxLength: 8 }), limits, ids, (findings, max, excepted) => {
      const rules = { maxSeverityCounts: max };
      const without = allowed({ rules }, findings);
      const withException = allowed(
        { rules: { ...rules, ignoreFindings: [{ id: excepted, expires: '2027-01-31' }] } },
        findings,
      );
      if (without) expect(withException).toBe(true);
      if (!findings.some((f) => f.id === excepted)) expect(withException).toBe(without);
    }),
  );
});

test('an exception scoped to other namespaces or other images changes nothing', () => {
  fc.assert(
    fc.property(fc.array(finding, { maxLength: 8 }), limits, ids, (findings, max, excepted) => {
      const rules = { maxSeverityCounts: max };
      const without = allowed({ rules }, findings);
      const elsewhere = [
        { id: excepted, expires: '2027-01-31', namespaces: ['payments-*'] },
        { id: excepted, expires: '2027-01-31', images: ['*/other/*'] },
      ];
      expect(allowed({ rules: { ...rules, ignoreFindings: elsewhere } }, findings)).toBe(without);
    }),
  );
});

test('countOnly can only leave findings out: what passes without it passes with it', () => {
  fc.assert(
    fc.property(fc.array(finding, { maxLength: 8 }), limits, countOnly, (findings, max, only) => {
      if (allowed({ rules: { maxSeverityCounts: max } }, findings)) {
        expect(allowed({ rules: { maxSeverityCounts: max, countOnly: only } }, findings)).toBe(true);
      }
    }),
  );
});

test('a scope changes nothing outside its namespaces, and inside them only what it sets', () => {
  fc.assert(
    fc.property(fc.array(finding, { maxLength: 8 }), limits, limits, (findings, top, scoped) => {
      const document = {
        rules: { maxSeverityCounts: top },
        scopes: [{ namespaces: ['prod-*'], rules: { maxSeverityCounts: scoped } }],
      };
      expect(allowed(document, findings, 'shop')).toBe(
        allowed({ rules: { maxSeverityCounts: top } }, findings),
      );
      expect(allowed(document, findings, 'prod-eu')).toBe(
        allowed({ rules: { maxSeverityCounts: { ...top, ...scoped } } }, findings),
      );
    }),
  );
});

test('the same facts and policy judged at other times count as of each time, crossing every threshold', () => {
  const policy = parsePolicy({
    rules: {
      countOnly: { minAgeDays: 14 },
      ignoreFindings: [{ id: 'CVE-9', expires: '2026-12-10', ticket: 'SEC-9' }],
    },
  });
  const shared = facts([
    { id: 'CVE-1', severity: 'CRITICAL', firstObservedAt: '2026-11-20T00:00:00.000Z' },
    { id: 'CVE-9', severity: 'CRITICAL', firstObservedAt: '2026-01-01T00:00:00.000Z' },
  ]);
  const at = (iso: string) => judgeFacts(shared, REF, policy, new Date(iso));

  // CVE-1 counts from 2026-12-04T00:00Z (14 days); CVE-9's exception warns from 2026-12-04 and ends 2026-12-11.
  expect(at('2026-12-01T00:00:00Z')).toMatchObject({ violations: [], warnings: [] });
  expect(at('2026-12-03T23:59:59.999Z')).toMatchObject({ violations: [], warnings: [] });
  expect(at('2026-12-04T00:00:00Z').violations.map((v) => v.code)).toEqual(['SEVERITY_LIMIT_EXCEEDED']);
  expect(at('2026-12-04T00:00:00Z').warnings).toEqual([
    expect.stringContaining('(SEC-9) expires 2026-12-10'),
  ]);
  expect(at('2026-12-01T00:00:00Z')).toMatchObject({ violations: [], warnings: [] });
  expect(at('2026-12-11T00:00:00Z').violations[0]?.message).toContain('2 CRITICAL (limit 0)');
});
