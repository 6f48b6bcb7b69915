/**
 * `ecr-admission exposure`: every admitted workload whose image the current facts and policy deny. The
 * admitted inventory comes from the table (`--table`) or an exported file (`--inventory`); each record
 * is judged by its digest, under its namespace's policy, through the admission core.
 *
 * Exit codes, as `check`'s: 0 nothing exposed (warn-only namespaces included), 1 a workload's image is
 * denied by a rule, 3 none denied but an image could not be judged (the failure mode answered), 2 bad
 * input or usage.
 */
import { type Exposure, findExposure } from '../application/exposure';
import { UsageError } from '../domain/errors';
import type { AdmittedRecord } from '../domain/inventory';
import { buildJudgingCore, type CoreOptions, readInventory } from '../wiring/cli';
import { reportFailures } from './failures';
import { formatPolicyReports, printPolicyReports } from './policy-report';

export interface ExposureOptions extends CoreOptions {
  readonly cluster?: string;
  readonly output?: 'table' | 'json' | 'policyreport';
}

/** Consistent with `check`: 1 any denied, 3 none denied but some could not be judged, else 0. */
export function exposureExitCode(exposures: readonly Exposure[]): number {
  if (exposures.some((e) => e.result === 'denied')) return 1;
  if (exposures.some((e) => e.result === 'unverified')) return 3;
  return 0;
}

const LABELS: Record<Exposure['result'], string> = {
  denied: 'DENIED',
  warned: 'warned',
  unverified: 'UNVERIFIED',
};

export function formatExposureTable(exposures: readonly Exposure[], judged: number): string {
  const rows = exposures.map((e) => [
    LABELS[e.result],
    e.cluster,
    e.namespace,
    `${e.owner.kind}/${e.owner.name}`,
    e.image,
  ]);
  const header = ['RESULT', 'CLUSTER', 'NAMESPACE', 'OWNER', 'IMAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = exposures.length > 0 ? [line(header)] : [];
  exposures.forEach((exposure, index) => {
    out.push(line(rows[index] ?? []));
    for (const v of exposure.violations) {
      out.push(`    [${v.code}]${v.platform ? ` ${v.platform}:` : ''} ${v.message}`);
    }
    out.push(`    ${exposure.digest}, last admitted ${exposure.lastAdmittedAt}`);
  });
  const count = (what: Exposure['result']) => exposures.filter((e) => e.result === what).length;
  const warned = count('warned');
  const unverified = count('unverified');
  if (out.length > 0) out.push('');
  out.push(
    `${judged} admitted record${judged === 1 ? '' : 's'}, ${count('denied')} denied` +
      (warned > 0 ? `, ${warned} warned` : '') +
      (unverified > 0 ? `, ${unverified} could not be judged` : ''),
  );
  return `${out.join('\n')}\n`;
}

/** The one cluster a set of PolicyReports is for: they are applied to that cluster. */
function reportCluster(records: readonly AdmittedRecord[], cluster: string | undefined): string {
  if (cluster !== undefined) return cluster;
  const clusters = [...new Set(records.map((r) => r.cluster))].sort();
  if (clusters.length > 1) {
    throw new UsageError(
      `--output policyreport describes one cluster, and the inventory holds ${clusters.length} (${clusters.join(', ')}): name one with --cluster`,
    );
  }
  return clusters[0] ?? 'default';
}

export async function exposureCommand(options: ExposureOptions): Promise<number> {
  // The file is the inventory to judge here, not one for the service to read back.
  const { service, policy, now } = buildJudgingCore(
    { ...options, inventory: undefined },
    { onFailure: reportFailures('exposure') },
  );
  const records = await readInventory(options);
  const output = options.output ?? 'table';
  const cluster = output === 'policyreport' ? reportCluster(records, options.cluster) : undefined;
  const exposures = await findExposure(service, records, policy);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(exposures, null, 2)}\n`);
  } else if (output === 'policyreport') {
    const namespaces = records
      .map((r) => r.namespace)
      .filter((ns) => ns !== '' && !policy.match.exemptNamespace(ns));
    process.stdout.write(
      printPolicyReports(
        formatPolicyReports({ exposures, namespaces, cluster: cluster ?? 'default', now: now() }),
      ),
    );
  } else {
    process.stdout.write(formatExposureTable(exposures, records.length));
  }
  return exposureExitCode(exposures);
}
