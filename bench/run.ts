/**
 * `npm run bench`: every figure of docs/performance.md, printed as a table with its target and whether
 * it is met, and written to bench/results/latest.json. `--only core,calls,inventory,rollout,lambda,cold-start,server,faults,cli,findings,pods,workflow`
 * runs a subset. Benchmarks are not tests: they print figures and exit 0 even when a target is missed
 * (exit 1 only when a benchmark cannot run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { admissionCoreFigures } from './admission-core';
import { callsPerAdmissionFigures } from './calls-per-admission';
import { cliStartupFigures } from './cli-startup';
import { coldStartFigures } from './cold-start';
import { faultRecoveryFigures } from './fault-recovery';
import { imagesPerPodFigures } from './images-per-pod';
import { inventoryFigures } from './inventory';
import { lambdaFigures } from './lambda';
import { largeFindingsFigures } from './large-findings';
import { stopSharedAwsSetting } from './lib/aws-setting';
import { type Figure, formatTable } from './lib/figures';
import { REPO_ROOT } from './lib/workloads';
import { rolloutBurstFigures } from './rollout-burst';
import { serverFigures } from './server';
import { workflowScaleFigures } from './workflow-scale';

const BENCHMARKS: Record<string, () => Promise<Figure[]>> = {
  core: admissionCoreFigures,
  calls: callsPerAdmissionFigures,
  inventory: inventoryFigures,
  rollout: rolloutBurstFigures,
  lambda: lambdaFigures,
  'cold-start': coldStartFigures,
  server: serverFigures,
  faults: faultRecoveryFigures,
  cli: cliStartupFigures,
  findings: largeFindingsFigures,
  pods: imagesPerPodFigures,
  workflow: workflowScaleFigures,
};

const USES_LOCAL_AWS = new Set(['calls', 'inventory', 'rollout', 'lambda']);

function selected(argv: readonly string[]): string[] {
  const at = argv.indexOf('--only');
  if (at < 0) return Object.keys(BENCHMARKS);
  const names = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes some of ${Object.keys(BENCHMARKS).join(',')}`);
  }
  return names;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0]?.toFixed(2);
  const figures: Figure[] = [];
  const names = selected(process.argv.slice(2));
  try {
    for (const [index, name] of names.entries()) {
      const t0 = Date.now();
      process.stderr.write(`bench: ${name}...`);
      const produced = await (BENCHMARKS[name] as () => Promise<Figure[]>)();
      process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      figures.push(...produced);
      // DynamoDB Local and the local endpoints go as soon as nothing needs them: the server figure
      // shares two cores with autocannon, and an idle JVM is not nothing.
      if (!names.slice(index + 1).some((next) => USES_LOCAL_AWS.has(next))) await stopSharedAwsSetting();
    }
  } finally {
    await stopSharedAwsSetting();
  }
  const dir = join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(figures, null, 2)}\n`);
  const held = figures.filter((f) => f.met !== undefined);
  const met = held.filter((f) => f.met).length;
  process.stdout.write(`${formatTable(figures)}\n\n`);
  process.stdout.write(
    `${met} of ${held.length} targets met (${figures.length - held.length} figures for reference) in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
      `written to bench/results/latest.json\n` +
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; load average ` +
      `${loadBefore} before, ${loadavg()[0]?.toFixed(2)} after (other work on the machine moves the absolute figures; ` +
      `the targets are on ratios measured side by side)\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`\nbench failed: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
