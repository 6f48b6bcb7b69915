#!/usr/bin/env node
/**
 * `ecr-admission`: the admission core on the command line. stdout carries only results; messages go to
 * stderr. Exit codes: 0 done (all admitted), 1 something denied (`check`, `exposure`), 2 bad input or
 * usage, 3 an image could not be judged (`check`, `exposure`: the failure mode answered) or the table
 * could not be read (`exposure`, `inventory export`).
 *
 * Only commander and the error classes load up front: each command loads its own modules (the AWS SDK,
 * the local workflow runner, TLS) when it runs, so that `--help` and `--version` start at once.
 */

// The SDK warns on Node 20 at load; this project runs on Node 20 and deploys on Node 22 (README), so the
// warning is noise in a command's output. Set before any command loads the SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import {
  AdmissionReviewError,
  describeCause,
  FileError,
  failureCause,
  oneLine,
  StoreUnavailableError,
  UsageError,
} from '../domain/errors';

/** Read from the package itself, so that `--version` always matches what is installed. */
function packageVersion(): string {
  for (const up of ['../../..', '../..']) {
    try {
      return (JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {}
  }
  return 'unknown';
}

/** What every command that judges takes: where the policy, facts and cache come from, and the clock. */
function coreOptions(command: Command): Command {
  return command
    .option('--policy <file>', 'policy file (YAML or JSON); default: the embedded defaults')
    .option('--snapshot <file>', 'registry snapshot to read facts from; default: live ECR')
    .option('--table <name>', 'DynamoDB decision table; default: an in-process cache')
    .option('--now <iso>', 'fix the clock (exception expiry, scan age), e.g. 2026-11-27T12:00:00Z');
}

const EXIT_CODES = `
Exit codes: 0 all admitted (warnings included), 1 a workload denied by a rule, 2 bad input or usage,
3 none denied by a rule but an image could not be judged (the failure mode answered).`;

const EXPOSURE_EXIT_CODES = `
Exit codes: 0 nothing exposed (warn-only namespaces included), 1 a workload's image denied by a rule,
2 bad input or usage, 3 none denied but an image could not be judged, or the table could not be read.`;

function program(setCode: (code: number) => void, argv: readonly string[]): Command {
  const root = new Command('ecr-admission')
    .description('Admit only compliant Amazon ECR images: the admission webhook, on the command line')
    .version(packageVersion(), '-V, --version')
    .helpCommand(true)
    .showHelpAfterError(false);

  coreOptions(
    root
      .command('review')
      .description(
        'judge one AdmissionReview from stdin and print the response review (exit 0; 2 when unparseable)',
      )
      .option('--mutate', 'answer as the mutating endpoint, with a patch pinning images to digests')
      .option(
        '--inventory <file>',
        'an exported admitted inventory (JSON lines, `inventory export`), read offline: for the continuity guard',
      ),
  ).action(async (options) =>
    setCode(await load<typeof import('./review')>('./review').reviewCommand(options)),
  );

  coreOptions(
    root
      .command('check')
      .description('judge every workload in Kubernetes manifests as the webhook would judge its creation')
      .requiredOption('-f, --file <path...>', 'manifest file or directory; "-" reads stdin')
      .option('-n, --namespace <ns>', 'namespace of objects that name none', 'default')
      .addOption(
        new Option('-o, --output <format>', 'result format')
          .choices(['table', 'json', 'sarif', 'junit'])
          .default('table'),
      )
      .addOption(
        new Option('--fail-on <level>', 'exit 1 on denials only, or on warnings too')
          .choices(['deny', 'warn'])
          .default('deny'),
      ),
  )
    .addHelpText('after', EXIT_CODES)
    .action(async (options) =>
      setCode(await load<typeof import('./check')>('./check').checkCommand(options)),
    );

  coreOptions(
    root
      .command('exposure')
      .description(
        'list every admitted workload whose image the current facts and policy deny (the admitted inventory, judged by digest)',
      )
      .option('--inventory <file>', "an exported admitted inventory (JSON lines); default: the --table's")
      .option('--cluster <name>', 'only the workloads of this cluster')
      .addOption(
        new Option('-o, --output <format>', 'result format')
          .choices(['table', 'json', 'policyreport'])
          .default('table'),
      ),
  )
    .addHelpText('after', EXPOSURE_EXIT_CODES)
    .action(async (options) =>
      setCode(await load<typeof import('./exposure')>('./exposure').exposureCommand(options)),
    );

  root
    .command('inventory')
    .description("the admitted inventory in the table: 'inventory export'")
    .command('export')
    .description('write the admitted inventory as JSON lines on stdout (what --inventory FILE reads)')
    .requiredOption('--table <name>', 'DynamoDB decision table')
    .option('--cluster <name>', 'only the records of this cluster')
    .action(async (options) =>
      setCode(await load<typeof import('./inventory')>('./inventory').inventoryExportCommand(options)),
    );

  coreOptions(
    root
      .command('serve')
      .description(
        'the webhook as an HTTPS server: POST /validate[/CLUSTER], POST /mutate[/CLUSTER], GET /healthz, GET /metrics',
      )
      .option('--port <n>', 'port to listen on (0: any free port)', '8443')
      .option('--host <h>', 'address to listen on', '127.0.0.1')
      .option('--tls-cert <file>', 'server certificate (PEM), reloaded when the file changes')
      .option('--tls-key <file>', 'private key (PEM) of --tls-cert, reloaded when the file changes')
      .option(
        '--tls-san <name...>',
        'extra DNS names or IPs for the self-signed certificate (the Service names)',
      )
      .option(
        '--ca-out <file>',
        'where to write the self-signed CA; default: a temporary file, removed at exit',
      )
      .option(
        '--cluster <name>',
        'the cluster of reviews posted to the bare paths (/validate, /mutate): recorded, with --table, in the admitted inventory',
        'default',
      ),
  ).action(async (options) => setCode(await load<typeof import('./serve')>('./serve').serveCommand(options)));

  coreOptions(
    root
      .command('refresh')
      .description(
        'run the refresh workflow locally for one EventBridge event; print the cache records written or deleted',
      )
      .requiredOption('--event <file>', 'EventBridge event (JSON)'),
  ).action(async (options) =>
    setCode(await load<typeof import('./refresh')>('./refresh').refreshCommand(options)),
  );

  root
    .command('manifest')
    .description('print the webhook configurations for the endpoint at BASE (the stack output WebhookUrl)')
    .option('--url <BASE>', "the endpoint's base URL (the stack output WebhookUrl)")
    .option('--ca-bundle <file>', "PEM of the CA that signed the endpoint's certificate")
    .option('--failure-policy <policy>', 'Fail or Ignore', 'Fail')
    .option('--timeout <seconds>', 'webhook timeout, 1 to 30', '5')
    .option('--pin-digests <what>', "pods, workloads or off; default: the policy's pinDigests, else pods")
    .option('--policy <file>', 'derive the namespace selector and digest pinning from this policy')
    .option(
      '--cluster <name>',
      "the cluster's name, in the webhook URLs (BASE/validate/NAME), for the admitted inventory",
    )
    // manifest parses its own arguments; commander gives it help and rejects unknown options.
    .action(async () =>
      setCode(await load<typeof import('./manifest')>('./manifest').manifest(argv.slice(1))),
    );

  return root;
}

/** A command's module, loaded when the command runs (a plain `require`: these are CommonJS). */
function load<T>(path: string): T {
  return require(path) as T;
}

function isKnown(error: unknown): boolean {
  return (
    error instanceof FileError ||
    error instanceof UsageError ||
    error instanceof AdmissionReviewError ||
    Boolean((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
  );
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let usageError: string | undefined;
  const root = program((c) => {
    code = c;
  }, argv);
  const [first] = argv;
  const commandName = root.commands.find((c) => c.name() === first)?.name();
  if (first !== undefined && !first.startsWith('-') && first !== 'help' && !commandName) {
    process.stderr.write(`ecr-admission: unknown command "${first}"; see ecr-admission --help\n`);
    return 2;
  }
  for (const command of [root, ...root.commands, ...root.commands.flatMap((c) => c.commands)]) {
    command.exitOverride();
    command.configureOutput({
      outputError: (text) => {
        usageError = oneLine(text.replace(/^error: /, ''));
      },
    });
  }
  if (argv.length === 0) {
    process.stdout.write(root.helpInformation());
    return 2;
  }
  try {
    await root.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      // A command group without its subcommand (`inventory`): its usage was printed, as for no command.
      if (error.code === 'commander.help') return 2;
      process.stderr.write(
        `ecr-admission${commandName ? ` ${commandName}` : ''}: ${usageError ?? error.message}\n`,
      );
      return 2;
    }
    if (error instanceof StoreUnavailableError) {
      // The table could not be read: nothing could be judged (exit 3, as an image that could not be).
      const cause = describeCause(failureCause(error), 'the decision table (DynamoDB)');
      process.stderr.write(
        `ecr-admission ${commandName}: ${error.message}: ${cause.what}; ${cause.advice}\n`,
      );
      return 3;
    }
    process.stderr.write(
      `ecr-admission ${commandName ?? ''}: ${isKnown(error) ? (error as Error).message : `unexpected error: ${(error as Error).stack ?? error}`}\n`,
    );
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
