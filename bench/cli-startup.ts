/**
 * The command line's start-up: `ecr-admission --help`, `check --help` and `--version` run as the built
 * command, each as a ratio of its best wall time over the best of `node -e 0`, interleaved in one run
 * (this machine is shared: ratios, not milliseconds). `main.js` loads only commander and the error
 * classes up front; each command loads the AWS SDK, the local workflow runner or TLS when it runs.
 *
 * Run alone: `npx tsx bench/cli-startup.ts` (after `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertBench, type Figure, figure, formatTable } from './lib/figures';
import { REPO_ROOT } from './lib/workloads';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const RUNS = 15;

const COMMANDS: readonly (readonly string[])[] = [['--help'], ['check', '--help'], ['--version']];

function wallMs(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  assertBench(result.status === 0, `node ${args.join(' ')} exited ${result.status}`);
  return elapsed;
}

export async function cliStartupFigures(): Promise<Figure[]> {
  assertBench(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  let bare = Number.POSITIVE_INFINITY;
  const best = COMMANDS.map(() => Number.POSITIVE_INFINITY);
  for (let i = 0; i < RUNS; i++) {
    bare = Math.min(bare, wallMs(['-e', '0']));
    for (const [index, command] of COMMANDS.entries()) {
      best[index] = Math.min(best[index] as number, wallMs([CLI, ...command]));
    }
  }
  return COMMANDS.map((command, index) =>
    figure(
      `cli start-up: best wall time, ecr-admission ${command.join(' ')} / node -e 0`,
      (best[index] as number) / bare,
      'x',
      '< 2',
    ),
  );
}

if (require.main === module) {
  cliStartupFigures()
    .then((figures) => process.stdout.write(`${formatTable(figures)}\n`))
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    });
}
