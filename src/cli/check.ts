/**
 * `ecr-admission check`: judges the workloads of manifest files exactly as the webhook would judge
 * their creation, through the same admission core.
 */
import type { ManifestObject } from '../adapters/files';
import type { AdmissionService } from '../application/admission-service';
import { describeViolation } from '../domain/admission';
import type { Violation } from '../domain/verdict';
import { embedsPodSpec, groupFromApiVersion } from '../domain/workload';

export interface CheckResult {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly allowed: boolean;
  readonly violations: readonly (Violation & { readonly path: string })[];
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
  readonly file: string;
}

function metadata(object: Record<string, unknown>): {
  name?: unknown;
  namespace?: unknown;
  generateName?: unknown;
} {
  const value = object.metadata;
  return typeof value === 'object' && value !== null ? value : {};
}

export async function checkManifests(
  service: AdmissionService,
  objects: readonly ManifestObject[],
  defaultNamespace = 'default',
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const { file, document, object } of objects) {
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
    results.push({
      kind: kind.kind,
      name,
      namespace,
      allowed: decision.allowed,
      violations: decision.violations,
      warnings: decision.warnings,
      notes: decision.notes,
      file,
    });
  }
  return results;
}

export function formatCheckTable(results: readonly CheckResult[]): string {
  if (results.length === 0) return 'no workloads found\n';
  const rows = results.map((r) => [
    r.allowed ? (r.violations.length > 0 || r.warnings.length > 0 ? 'warned' : 'allowed') : 'DENIED',
    r.kind,
    r.namespace,
    r.name,
  ]);
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
    if (!result.allowed) for (const v of result.violations) out.push(`    ${describeViolation(v)}`);
    else for (const w of result.warnings) out.push(`    warning: ${w}`);
    for (const note of result.notes) out.push(`    note: ${note}`);
  });
  const denied = results.filter((r) => !r.allowed).length;
  out.push('', `${results.length} workload${results.length === 1 ? '' : 's'} checked, ${denied} denied`);
  return `${out.join('\n')}\n`;
}
