/**
 * `ecr-admission serve`: the webhook as an HTTPS server, with JSON request logs on stderr and
 * Prometheus metrics on `GET /metrics`. The user's certificate and key are reloaded when their files
 * change; without them, a CA and a certificate are made at start (for `--tls-san` names too), and the
 * CA is written only once the port is ours, and removed at exit when it went to a temporary file.
 */
import { mkdtempSync, rmSync, unwatchFile, watchFile } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../domain/errors';
import { clusterNameProblem, DEFAULT_CLUSTER } from '../domain/inventory';
import { type RunningServer, startServer } from '../http/https-server';
import { loadTls, makeSelfSignedTls, type ServerTls, writeCa } from '../http/tls';
import { buildAdmissionService, type CoreOptions } from '../wiring/cli';
import { createServerObservability, linesPerTurn } from '../wiring/server';

export interface ServeOptions extends CoreOptions {
  readonly port: string;
  readonly host: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsSan?: readonly string[];
  readonly caOut?: string;
  /** The cluster of reviews posted to the bare paths (`/validate`, `/mutate`). */
  readonly cluster?: string;
}

const RELOAD_POLL_MS = 1_000;
/** After `serve` has closed its server, the longest the process waits for work left behind. */
const SHUTDOWN_EXIT_MS = 1_000;

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--port must be 0 to 65535, not "${text}"`);
  return port;
}

async function listen(
  start: () => Promise<RunningServer>,
  host: string,
  port: number,
): Promise<RunningServer> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`--port ${port}: ${host}:${port} is already in use`);
    if (code === 'EACCES') throw new UsageError(`--port ${port}: not allowed to listen on ${host}:${port}`);
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`--host ${host}: not an address of this machine`);
    throw error;
  }
}

/** Swaps in the certificate and key when either file changes; a bad pair is logged and the old one kept. */
function reloadOnChange(
  running: RunningServer,
  certFile: string,
  keyFile: string,
  log: (line: string) => void,
) {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    // Both files of a renewal are written one after the other: wait for the pair to settle.
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        const tls = loadTls(certFile, keyFile);
        running.server.setSecureContext({ cert: tls.cert, key: tls.key });
        log(`reloaded the certificate from ${certFile}`);
      } catch (error) {
        log(`kept the current certificate: ${(error as Error).message}`);
      }
    }, 200);
    timer.unref();
  };
  watchFile(certFile, { interval: RELOAD_POLL_MS, persistent: false }, reload);
  watchFile(keyFile, { interval: RELOAD_POLL_MS, persistent: false }, reload);
  return () => {
    clearTimeout(timer);
    unwatchFile(certFile, reload);
    unwatchFile(keyFile, reload);
  };
}

export async function serveCommand(options: ServeOptions): Promise<number> {
  const port = parsePort(options.port);
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (options.tlsCert && options.tlsSan?.length) {
    throw new UsageError('--tls-san names the self-signed certificate; with --tls-cert, put them in yours');
  }
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  const problem = clusterNameProblem(cluster);
  if (problem) throw new UsageError(`--cluster: ${problem}`);
  const observability = createServerObservability(linesPerTurn(process.stderr));
  const service = buildAdmissionService(
    options,
    {
      onFailure: observability.onFailure,
      onEcrError: observability.onEcrError,
      onInventoryFailure: observability.onInventoryFailure,
      onContinuityFailure: observability.onContinuityFailure,
    },
    { recordsInventory: true },
  );
  const tls: ServerTls =
    options.tlsCert && options.tlsKey
      ? loadTls(options.tlsCert, options.tlsKey)
      : await makeSelfSignedTls([
          ...new Set([
            'localhost',
            '127.0.0.1',
            '::1',
            ...(options.host !== '0.0.0.0' && options.host !== '::' ? [options.host] : []),
            ...(options.tlsSan ?? []),
          ]),
        ]);
  const running = await listen(
    () =>
      startServer({
        service,
        tls,
        port,
        host: options.host,
        hooks: observability.hooks,
        webhook: { defaultCluster: cluster },
        metrics: observability.metrics,
        onError: (error) => observability.logger.error({ err: error }, 'internal error'),
      }),
    options.host,
    port,
  );

  // Only now that the port is ours: a second server that cannot start never touches the first one's CA.
  let caFile: string | undefined;
  let tempDir: string | undefined;
  if (tls.caPem) {
    if (!options.caOut) tempDir = mkdtempSync(join(tmpdir(), 'ecr-admission-'));
    caFile = options.caOut ?? join(tempDir as string, 'ca.pem');
    writeCa(caFile, tls.caPem);
  }
  const removeTemp = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  process.once('exit', removeTemp);
  const stopWatching =
    options.tlsCert && options.tlsKey
      ? reloadOnChange(running, options.tlsCert, options.tlsKey, (line) =>
          observability.logger.info({ certFile: options.tlsCert }, line),
        )
      : () => {};

  // Handlers first: whoever waits for the line below may send SIGTERM at once, and without a handler
  // the signal would end the process abruptly.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`${signal}: finishing reviews in flight\n`);
      stopWatching();
      running.close().then(() => {
        removeTemp();
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  if (caFile) process.stderr.write(`self-signed certificate; its CA is in ${caFile}\n`);
  process.stdout.write(`listening on ${running.url}\n`);
  await stopped;
  // Lookups still on their way (a silent ECR endpoint) end by their own timeouts; the process does not
  // wait for them once every review is answered or cut off.
  setTimeout(() => process.exit(process.exitCode ?? 0), SHUTDOWN_EXIT_MS).unref();
  return 0;
}
