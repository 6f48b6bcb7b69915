#!/usr/bin/env node
/**
 * `ecr-admission`: the admission core on the command line. stdout carries only results; messages go to
 * stderr. Exit codes: 0 done (all allowed), 1 something denied (`check`), 2 bad input or usage.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifests } from '../adapters/files';
import { AdmissionReviewError, FileError, UsageError } from '../domain/errors';
import {
  formatAdmissionResponse,
  formatMutationResponse,
  parseAdmissionReview,
} from '../http/admission-review';
import { startServer } from '../http/https-server';
import { loadTls, makeSelfSignedTls } from '../http/tls';
import { buildAdmissionService } from '../wiring/cli';
import { checkManifests, formatCheckTable } from './check';
import { manifest } from './manifest';
import { CORE_OPTIONS } from './options';
import { refreshCommand } from './refresh';

const USAGE = `usage: ecr-admission <command> [options]

commands:
  review  [--mutate] [--policy F] [--snapshot F] [--table NAME] [--now ISO] < review.json
          judge one AdmissionReview from stdin, print the response review
          (--mutate: answer as the mutating endpoint, with a patch pinning images to digests)
  check   -f FILE|DIR... [--namespace NS] [--policy F] [--snapshot F] [--table NAME] [--now ISO] [--output table|json]
          judge every workload in Kubernetes YAML manifests; exit 1 when any is denied
  serve   [--port N] [--host H] [--tls-cert F --tls-key F] [--ca-out F] [--policy F] [--snapshot F] [--table NAME] [--now ISO]
          the webhook as an HTTPS server: POST /validate, GET /healthz
  refresh --event F [--policy F] [--snapshot F] [--table NAME] [--now ISO]
          run the refresh workflow locally for one EventBridge event; print the cache records written or deleted
  manifest --url BASE [--ca-bundle F] [--failure-policy Fail|Ignore] [--timeout N] [--pin-digests pods|workloads|off]
          print the webhook configurations (validating, and mutating for digest pinning) for the
          endpoint at BASE (the stack's WebhookUrl)
`;

const common = CORE_OPTIONS;
/** After `serve` has closed its server, the longest the process waits for work left behind. */
const SHUTDOWN_EXIT_MS = 1_000;

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

async function review(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, mutate: { type: 'boolean' } }, strict: true });
  const service = buildAdmissionService(values);
  const parsed = parseAdmissionReview(readStdin());
  const { apiVersion, request } = parsed;
  const response = values.mutate
    ? formatMutationResponse(apiVersion, request.uid, await service.mutate(request))
    : formatAdmissionResponse(apiVersion, request.uid, await service.review(request));
  process.stdout.write(`${JSON.stringify(response)}\n`);
  return 0;
}

async function check(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      file: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      output: { type: 'string', short: 'o', default: 'table' },
    },
    strict: true,
  });
  if (!values.file?.length) throw new UsageError('check needs at least one manifest: -f FILE');
  if (values.output !== 'table' && values.output !== 'json') {
    throw new UsageError(`--output must be table or json, not "${values.output}"`);
  }
  const service = buildAdmissionService(values);
  const objects = values.file.flatMap((file) => loadManifests(file));
  const results = await checkManifests(service, objects, values.namespace);
  process.stdout.write(
    values.output === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatCheckTable(results),
  );
  return results.every((r) => r.allowed) ? 0 : 1;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'ca-out': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0 to 65535`);
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  const service = buildAdmissionService(values);
  const tls =
    values['tls-cert'] && values['tls-key']
      ? loadTls(values['tls-cert'], values['tls-key'])
      : await makeSelfSignedTls(
          values['ca-out'] ?? join(tmpdir(), `ecr-admission-${process.pid}`, 'ca.pem'),
          [
            'localhost',
            '127.0.0.1',
            '::1',
            ...(values.host !== '127.0.0.1' && values.host !== '0.0.0.0' ? [values.host] : []),
          ],
        );
  const running = await startServer({
    service,
    tls,
    port,
    host: values.host,
    onError: (error) => process.stderr.write(`internal error: ${(error as Error).stack ?? error}\n`),
  });
  // Handlers first: whoever waits for the line below may send SIGTERM at once, and without a handler
  // the signal would end the process abruptly.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`${signal}: finishing reviews in flight\n`);
      running.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  if (tls.caFile) process.stderr.write(`self-signed certificate; its CA is in ${tls.caFile}\n`);
  process.stdout.write(`listening on ${running.url}\n`);
  await stopped;
  // Lookups still on their way (a silent ECR endpoint) end by their own timeouts; the process does not
  // wait for them once every review is answered or cut off.
  setTimeout(() => process.exit(process.exitCode ?? 0), SHUTDOWN_EXIT_MS).unref();
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  review,
  check,
  serve,
  refresh: refreshCommand,
  manifest,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`ecr-admission: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    return await run(args);
  } catch (error) {
    const known =
      error instanceof FileError ||
      error instanceof UsageError ||
      error instanceof AdmissionReviewError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(
      `ecr-admission ${command}: ${known ? (error as Error).message : `unexpected error: ${(error as Error).stack ?? error}`}\n`,
    );
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
