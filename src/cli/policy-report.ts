/**
 * `exposure --output policyreport`: the exposed workloads as `wgpolicyk8s.io/v1alpha2` PolicyReport
 * objects, one per namespace, for `kubectl apply -f -` (the Policy Reports API of the Kubernetes Policy
 * working group, which Kyverno, Trivy Operator and Policy Reporter read). Checked against the CRD's
 * schema in test/unit/policy-report.test.ts.
 */
import { stringify } from 'yaml';
import type { Exposure, ExposureResult } from '../application/exposure';
import type { ViolationCode } from '../domain/verdict';
import { JUDGED_KINDS } from '../domain/workload';

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

export const POLICY_REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
/** The policy, source and report name every result and report carries. */
export const REPORT_SOURCE = 'ecr-admission';

/** The CRD's severities (post-assessment): how much a broken rule matters where the image runs. */
const SEVERITY: Readonly<Record<ViolationCode, 'high' | 'medium' | 'low'>> = {
  SEVERITY_LIMIT_EXCEEDED: 'high',
  NOT_ECR: 'high',
  REGISTRY_NOT_ALLOWED: 'high',
  REPOSITORY_NOT_FOUND: 'high',
  IMAGE_NOT_FOUND: 'high',
  INVALID_REFERENCE: 'high',
  INVALID_OBJECT: 'high',
  UNSCANNED: 'medium',
  SCAN_TOO_OLD: 'medium',
  SCAN_ON_PUSH_DISABLED: 'medium',
  IMAGE_ARCHIVED: 'medium',
  IMAGE_IMPORTING: 'medium',
  IMAGE_RESTORING: 'medium',
  NOT_VERIFIED: 'medium',
  TAG_MUTABLE: 'low',
  SCAN_ON_PUSH_UNVERIFIED: 'low',
};

const RESULT: Readonly<Record<ExposureResult, 'fail' | 'warn' | 'error'>> = {
  denied: 'fail',
  warned: 'warn',
  unverified: 'error',
};

/**
 * The owner's API version, for its object reference: every kind the webhook judges is served at v1 of
 * its group (a Pod's controlling owner is one of them); another kind is named without one.
 */
function apiVersionOf(kind: string): string | undefined {
  const known = JUDGED_KINDS.find((k) => k.kind === kind);
  if (!known) return undefined;
  return known.group ? `${known.group}/v1` : 'v1';
}

export interface PolicyReportInput {
  /** The exposed workloads of one cluster. */
  readonly exposures: readonly Exposure[];
  /** Every namespace judged: each gets a report, an empty one when nothing in it is exposed (it clears an older one). */
  readonly namespaces: readonly string[];
  readonly cluster: string;
  readonly now: Date;
}

export function formatPolicyReports(input: PolicyReportInput): Record<string, unknown>[] {
  const timestamp = { seconds: Math.floor(input.now.getTime() / 1000), nanos: 0 };
  const namespaces = [...new Set([...input.namespaces, ...input.exposures.map((e) => e.namespace)])].sort();
  return namespaces.map((namespace) => {
    const results = input.exposures
      .filter((e) => e.namespace === namespace)
      .flatMap((exposure) =>
        exposure.violations.map((violation) => ({
          policy: REPORT_SOURCE,
          rule: violation.code,
          result: RESULT[exposure.result],
          severity: SEVERITY[violation.code],
          message: `${exposure.image} (${exposure.digest}): ${violation.message}`,
          resources: [
            {
              ...optional('apiVersion', apiVersionOf(exposure.owner.kind)),
              kind: exposure.owner.kind,
              name: exposure.owner.name,
              namespace,
            },
          ],
          properties: {
            image: exposure.image,
            digest: exposure.digest,
            lastAdmittedAt: exposure.lastAdmittedAt,
            ...(violation.platform && { platform: violation.platform }),
            ...(exposure.unverified && { cause: exposure.unverified.reason }),
          },
          source: REPORT_SOURCE,
          scored: true,
          timestamp,
        })),
      );
    const count = (result: string) => results.filter((r) => r.result === result).length;
    return {
      apiVersion: POLICY_REPORT_API_VERSION,
      kind: 'PolicyReport',
      metadata: {
        name: REPORT_SOURCE,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': REPORT_SOURCE },
        annotations: { 'ecr-admission/cluster': input.cluster },
      },
      results,
      summary: { fail: count('fail'), warn: count('warn'), error: count('error') },
    };
  });
}

/** The reports as multi-document YAML, as `kubectl apply -f -` reads it. */
export function printPolicyReports(reports: readonly Record<string, unknown>[]): string {
  return reports.map((report) => `---\n${stringify(report, { lineWidth: 0 })}`).join('');
}
