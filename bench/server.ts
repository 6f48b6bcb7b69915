/**
 * Figure 5: `ecr-admission serve` (the built CLI) under load from autocannon on loopback: 50 keep-alive
 * connections for 10 s posting the Pod review, every image a cache hit (the cache is warmed first).
 * Requests per second and p99 latency as autocannon measures them, and the server's peak RSS (VmHWM).
 * autocannon runs in its own process and trusts the server's self-signed CA (`--ca-out`).
 *
 * Then the figure that cannot flatter (issue 17): `serve` against a minimal Node HTTPS server that only
 * parses the review and echoes an answer, the same certificate, body and 32 keep-alive connections,
 * alternated run by run, as a ratio of requests per second.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeSelfSignedTls } from '../src/http/tls';
import { assertBench, type Figure, figure, median, reference } from './lib/figures';
import { POD_IMAGES, POLICY_FILE, podReviewBody, REPO_ROOT, SNAPSHOT_FILE } from './lib/workloads';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const AUTOCANNON = join(REPO_ROOT, 'node_modules/autocannon/autocannon.js');
const RESULTS = join(REPO_ROOT, 'bench/results');
const CONNECTIONS = 50;
/** The side-by-side comparison with the minimal server (issue 17's goal row). */
const COMPARED_CONNECTIONS = 32;
const COMPARED_SECONDS = 5;
const COMPARED_RUNS = 5;
const SECONDS = 10;
const RUNS = 5;
const WARMUP_SECONDS = 3;

const run = promisify(execFile);

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
}

/** The floor of any HTTPS webhook: parse the review, answer allowed. Nothing judged, nothing logged. */
const MINIMAL_SERVER = `
const { createServer } = require('node:https');
const { readFileSync } = require('node:fs');
const [cert, key] = process.argv.slice(1);
const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const review = JSON.parse(Buffer.concat(chunks).toString());
    const body = JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: true } });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on https://127.0.0.1:' + server.address().port));
`;

async function startServe(caFile: string, tls?: { cert: string; key: string }): Promise<Served> {
  assertBench(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const args = tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : ['--ca-out', caFile];
  return listening(
    spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--snapshot', SNAPSHOT_FILE, '--policy', POLICY_FILE, ...args],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
}

function startMinimal(tls: { cert: string; key: string }): Promise<Served> {
  return listening(
    spawn(process.execPath, ['-e', MINIMAL_SERVER, tls.cert, tls.key], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

async function listening(child: ChildProcess): Promise<Served> {
  let stderr = '';
  // Only the tail, for the message of a server that exits: under load `serve` logs megabytes a second.
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-16_384);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
  });
  return { child, url };
}

function post(url: string, body: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/validate`,
      { method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Load {
  readonly perSecond: number;
  readonly p99: number;
  /** Requests answered in the run. */
  readonly total: number;
}

async function load(
  url: string,
  bodyFile: string,
  caFile: string,
  seconds: number,
  connections = CONNECTIONS,
): Promise<Load> {
  const { stdout } = await run(
    process.execPath,
    [
      AUTOCANNON,
      ...['-c', String(connections), '-d', String(seconds), '-m', 'POST'],
      ...[
        '-H',
        'content-type=application/json',
        '-i',
        bodyFile,
        '--idReplacement',
        '--json',
        '--no-progress',
      ],
      `${url}/validate?timeout=10s`,
    ],
    { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  };
  assertBench(
    result.errors === 0 && result.timeouts === 0 && result.non2xx === 0 && result['2xx'] > 0,
    `autocannon saw errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}`,
  );
  return { perSecond: result.requests.average, p99: result.latency.p99, total: result.requests.total };
}

/** CPU time a process has used, user and system, in µs (`/proc/<pid>/stat`, in clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the command: state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  assertBench(kb > 0, 'no VmHWM in /proc/<pid>/status');
  return kb / 1024;
}

export async function serverFigures(): Promise<Figure[]> {
  mkdirSync(RESULTS, { recursive: true });
  const caFile = join(RESULTS, 'serve-ca.pem');
  const bodyFile = join(RESULTS, 'serve-review.json');
  // autocannon puts a fresh id in place of [<id>] in each request: every review has its own uid.
  const body = podReviewBody(POD_IMAGES, 1).replace(/"uid":"[^"]+"/, '"uid":"[<id>]"');
  writeFileSync(bodyFile, body);

  const { child, url } = await startServe(caFile);
  try {
    const ca = readFileSync(caFile, 'utf8');
    await post(url, body, ca);
    const warm = await post(url, body, ca);
    const cache = JSON.parse(warm.body).response?.auditAnnotations?.cache;
    assertBench(warm.status === 200 && cache === 'hit=4,miss=0', `warm review: ${warm.status} ${cache}`);

    await load(url, bodyFile, caFile, WARMUP_SECONDS);
    const runs: Load[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await load(url, bodyFile, caFile, SECONDS));
    const rss = peakRssMb(child.pid as number);
    return [
      reference(
        `server: requests per second (${CONNECTIONS} keep-alive connections, ${SECONDS} s)`,
        median(runs.map((r) => r.perSecond)),
        '/s',
      ),
      reference('server: p99 latency', median(runs.map((r) => r.p99)), 'ms'),
      figure('server: peak RSS', rss, 'MB', '< 200'),
      ...(await comparedWithMinimal(body, bodyFile)),
    ];
  } finally {
    await stop(child);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** `serve` and the minimal server on one certificate, loaded alternately: the ratio of their rates. */
async function comparedWithMinimal(body: string, bodyFile: string): Promise<Figure[]> {
  const made = await makeSelfSignedTls(['127.0.0.1', 'localhost']);
  const tls = { cert: join(RESULTS, 'compare-cert.pem'), key: join(RESULTS, 'compare-key.pem') };
  const caFile = join(RESULTS, 'compare-ca.pem');
  writeFileSync(tls.cert, made.cert);
  writeFileSync(tls.key, made.key);
  writeFileSync(caFile, made.caPem ?? '');
  const serve = await startServe(caFile, tls);
  const minimal = await startMinimal(tls);
  try {
    const ca = readFileSync(caFile, 'utf8');
    await post(serve.url, body, ca);
    for (const server of [serve, minimal]) {
      const answer = await post(server.url, body, ca);
      assertBench(answer.status === 200, `${server.url}: HTTP ${answer.status}`);
      await load(server.url, bodyFile, caFile, WARMUP_SECONDS, COMPARED_CONNECTIONS);
    }
    const ratios: number[] = [];
    const cpu = { serve: [] as number[], minimal: [] as number[] };
    for (let i = 0; i < COMPARED_RUNS; i++) {
      // Each first in turn, so that neither always meets the machine as the other left it. The server's
      // CPU per request is counted too: what each costs, whichever of the two processes limits the rate.
      const run = async (url: string) => {
        const server = url === serve.url ? serve : minimal;
        const before = cpuMicros(server.child.pid as number);
        const loaded = await load(url, bodyFile, caFile, COMPARED_SECONDS, COMPARED_CONNECTIONS);
        const perRequest = (cpuMicros(server.child.pid as number) - before) / loaded.total;
        (server === serve ? cpu.serve : cpu.minimal).push(perRequest);
        return loaded;
      };
      let ours: Load;
      let floor: Load;
      if (i % 2 === 0) {
        ours = await run(serve.url);
        floor = await run(minimal.url);
      } else {
        floor = await run(minimal.url);
        ours = await run(serve.url);
      }
      ratios.push(ours.perSecond / floor.perSecond);
    }
    return [
      figure(
        `server: requests per second / minimal HTTPS server's (${COMPARED_CONNECTIONS} keep-alive connections)`,
        median(ratios),
        'x',
        '>= 0.85',
      ),
      reference('server: CPU per request, serve', median(cpu.serve), 'µs'),
      reference('server: CPU per request, minimal HTTPS server', median(cpu.minimal), 'µs'),
    ];
  } finally {
    await Promise.all([stop(serve.child), stop(minimal.child)]);
  }
}
