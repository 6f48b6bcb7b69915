/**
 * Runs one case of the admission table through the admission core with a given facts source (the
 * snapshot adapter in the unit tier, the live ECR adapter against a local endpoint in the integration
 * tier) and checks the AdmissionReview response against the case's expectation.
 */

import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { AdmissionService } from '../../src/application/admission-service';
import type { Decision } from '../../src/domain/admission';
import type { FactsSource } from '../../src/domain/facts';
import { parsePolicy } from '../../src/domain/policy';
import {
  type AdmissionReviewResponse,
  formatAdmissionResponse,
  parseAdmissionReview,
} from '../../src/http/admission-review';
import { type AdmissionCase, DEFAULT_NOW } from '../cases/admission-cases';

export interface CaseOutcome {
  readonly response: AdmissionReviewResponse;
  readonly decision: Decision;
}

export interface RunCaseOptions {
  /** The service's deadline; generous by default, since no case is about timing. */
  readonly deadlineMs?: number;
}

export async function runCase(
  admissionCase: AdmissionCase,
  facts: FactsSource,
  options: RunCaseOptions = {},
): Promise<CaseOutcome> {
  const failures: string[] = [];
  const service = new AdmissionService({
    policy: parsePolicy(admissionCase.policy ?? {}),
    facts,
    store: new MemoryDecisionStore(),
    now: () => new Date(admissionCase.now ?? DEFAULT_NOW),
    deadlineMs: options.deadlineMs ?? 10_000,
    onFailure: (what, error) => failures.push(`${what}: ${String(error)}`),
    // Judged as the webhook judges, where the workflow prepares images (what it is asked is not the case's).
    preparations: { request: async () => {} },
  });
  // Through the wire text, as the webhook receives it.
  const parsed = parseAdmissionReview(JSON.stringify(admissionCase.review));
  const decision = await service.review(parsed.request);
  const response = formatAdmissionResponse(parsed.apiVersion, parsed.request.uid, decision);
  const expected = admissionCase.expect;
  const answer = response.response;

  // A case is about a judgement: a facts source failing must show as itself, not as NOT_VERIFIED.
  expect(failures).toEqual([]);
  const codes = [...new Set(decision.violations.map((v) => v.code))].sort();
  expect({ allowed: answer.allowed, codes, message: answer.status?.message }).toEqual({
    allowed: expected.allowed,
    codes: expected.codes,
    message: expected.allowed ? undefined : expect.any(String),
  });
  expect(response.apiVersion).toBe(admissionCase.review.apiVersion);
  expect(response.kind).toBe('AdmissionReview');
  expect(answer.uid).toBe(admissionCase.review.request.uid);
  if (!expected.allowed) expect(answer.status).toMatchObject({ code: 403, reason: 'Forbidden' });

  const message = answer.status?.message ?? '';
  for (const text of expected.messageIncludes ?? []) expect(message).toContain(text);
  const warnings = answer.warnings ?? [];
  for (const text of expected.messageExcludes ?? []) {
    expect(message).not.toContain(text);
    for (const warning of warnings) expect(warning).not.toContain(text);
  }
  if (expected.warningsInclude === undefined) {
    expect(answer.warnings).toBeUndefined();
  } else {
    for (const text of expected.warningsInclude) {
      expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining(text)]));
    }
  }
  if (expected.notesInclude === undefined) {
    expect(decision.notes).toEqual([]);
  } else {
    for (const text of expected.notesInclude) {
      expect(decision.notes).toEqual(expect.arrayContaining([expect.stringContaining(text)]));
    }
  }

  const audit = answer.auditAnnotations ?? {};
  const outcome = !expected.allowed ? 'denied' : expected.codes.length > 0 ? 'warned' : 'allowed';
  expect(audit.decision).toBe(outcome);
  expect((audit.violations ?? '').split(',').filter(Boolean).sort()).toEqual(expected.codes);
  return { response, decision };
}
