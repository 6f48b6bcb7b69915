/**
 * `ecr-admission check`: judges the workloads of manifest files exactly as the webhook would judge
 * their creation, through the same admission core.
 *
 * Exit codes: 0 all admitted (warnings included); 1 a workload denied by a rule (or, with `--fail-on
 * warn`, warned about); 3 none denied by a rule but an image could not be judged (the failure mode
 * answered); 2 bad input or usage.
 */
import { loadManifests, type ManifestObject } from '../adapters/files';
import type { AdmissionService } from '../application/admission-service';
import { describeViolation, type UnverifiedImage } from '../domain/admission';
import type { Violation } from '../domain/verdict';
import { embedsPodSpec, groupFromApiVersion } from '../domain/workload';
import { buildAdmissionService, type CoreOptions } from '../wiring/cli';
import { reportFailures } from './failures';
import { formatJunit, formatSarif } from './report';

/** How a workload came out: a reader's word for it, in every output format. */
export type CheckOutcome = 'allowed' | 'warned' | 'denied' | 'unverified' | 'exempt';

export interface CheckResult {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly allowed: boolean;
  readonly result: CheckOutcome;
  readonly violations: readonly (Violation & { readonly path: string; readonly line?: number })[];
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
  /** Why the policy admits the workload without judging it (an exempt namespace). */
  readonly exempt?: string;
  readonly exemptImages: readonly {
    readonly path: string;
    readonly image: string;
    readonly reason: string;
  }[];
  /** Images the failure mode answered for, with the cause class. */
  readonly unverified: readonly UnverifiedImage[];
  readonly file: string;
  /** 1-based line of the object in its file, when known. */
  readonly line?: number;
}

function metadata(object: Record<string, unknown>): {
  name?: unknown;
  namespace?: unknown;
  generateName?: unknown;
} {
  const value = object.metadata;
  return typeof value === 'object' && value !== null ? value : {};
}

function outcome(
  allowed: boolean,
  violations: readonly Violation[],
  warnings: readonly string[],
  unverified: readonly unknown[],
  exempt: string | undefined,
): CheckOutcome {
  if (exempt !== undefined) return 'exempt';
  if (!allowed && violations.some((v) => v.code !== 'NOT_VERIFIED')) return 'denied';
  if (unverified.length > 0) return 'unverified';
  if (violations.length > 0 || warnings.length > 0) return 'warned';
  return 'allowed';
}

export async function checkManifests(
  service: AdmissionService,
  objects: readonly ManifestObject[],
  defaultNamespace = 'default',
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const { file, document, object, line, lineOf } of objects) {
    const kind = { group: groupFromApiVersion(String(object.apiVersion)), kind: String(object.kind) };
    if (!embedsPodSpec(kind)) continue;
    const meta = metadata(object);
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : defaultNamespace;
    const name =
      typeof meta.name === 'string'
        ? meta.name
        : typeof meta.generateName === 'string'
          ? `${meta.generateName}*`
          : '';
    const decision = await service.review({
      uid: `check-${file}-${document}`,
      kind,
      subresource: '',
      namespace,
      name,
      operation: 'CREATE',
      object,
      dryRun: true,
    });
    const violations = decision.violations.map((v) => {
      const at = lineOf?.(v.path);
      return at === undefined ? v : { ...v, line: at };
    });
    results.push({
      kind: kind.kind,
      name,
      namespace,
      allowed: decision.allowed,
      result: outcome(
        decision.allowed,
        decision.violations,
        decision.warnings,
        decision.unverified,
        decision.exempt,
      ),
      violations,
      warnings: decision.warnings,
      notes: decision.notes,
      ...(decision.exempt !== undefined && { exempt: decision.exempt }),
      exemptImages: decision.exemptImages,
      unverified: decision.unverified,
      file,
      ...(line !== undefined && { line }),
    });
  }
  return results;
}

/** The exit code for these results (see the module comment). */
export function checkExitCode(results: readonly CheckResult[], failOn: 'deny' | 'warn' = 'deny'): number {
  if (results.some((r) => r.result === 'denied')) return 1;
  if (failOn === 'warn' && results.some((r) => r.result === 'warned')) return 1;
  if (results.some((r) => r.result === 'unverified')) return 3;
  return 0;
}

const LABELS: Record<CheckOutcome, string> = {
  allowed: 'allowed',
  warned: 'warned',
  denied: 'DENIED',
  unverified: 'UNVERIFIED',
  exempt: 'exempt',
};

export function formatCheckTable(results: readonly CheckResult[]): string {
  if (results.length === 0) return 'no workloads found\n';
  const rows = results.map((r) => [LABELS[r.result], r.kind, r.namespace, r.name]);
  const header = ['RESULT', 'KIND', 'NAMESPACE', 'NAME'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(header)];
  results.forEach((result, index) => {
    out.push(line(rows[index] ?? []));
    if (result.exempt !== undefined) out.push(`    exempt: ${result.exempt}`);
    if (!result.allowed) for (const v of result.violations) out.push(`    ${describeViolation(v)}`);
    else for (const w of result.warnings) out.push(`    warning: ${w}`);
    for (const e of result.exemptImages) out.push(`    exempt: ${e.path} "${e.image}": ${e.reason}`);
    for (const note of result.notes) out.push(`    note: ${note}`);
  });
  const count = (what: CheckOutcome) => results.filter((r) => r.result === what).length;
  const unverified = count('unverified');
  const exempt = count('exempt');
  out.push(
    '',
    `${results.length} workload${results.length === 1 ? '' : 's'} checked, ${count('denied')} denied` +
      (unverified > 0 ? `, ${unverified} could not be judged` : '') +
      (exempt > 0 ? `, ${exempt} exempt` : ''),
  );
  return `${out.join('\n')}\n`;
}

export interface CheckOptions extends CoreOptions {
  readonly file: readonly string[];
  readonly namespace?: string;
  readonly output?: 'table' | 'json' | 'sarif' | 'junit';
  readonly failOn?: 'deny' | 'warn';
}

export async function checkCommand(options: CheckOptions): Promise<number> {
  const service = buildAdmissionService(options, { onFailure: reportFailures('check') });
  // Every file is read before anything is judged: a bad file prints no result at all.
  const objects = options.file.flatMap((file) => loadManifests(file));
  const results = await checkManifests(service, objects, options.namespace);
  const output = options.output ?? 'table';
  process.stdout.write(
    output === 'json'
      ? `${JSON.stringify(results, null, 2)}\n`
      : output === 'sarif'
        ? `${JSON.stringify(formatSarif(results), null, 2)}\n`
        : output === 'junit'
          ? formatJunit(results)
          : formatCheckTable(results),
  );
  return checkExitCode(results, options.failOn);
}
