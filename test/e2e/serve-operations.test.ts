/**
 * `ecr-admission serve` as a cluster runs it, over real HTTPS with verification on: JSON request logs,
 * Prometheus metrics, the Service's names in the certificate, a certificate renewed on disk, a port
 * already taken, and the temporary CA removed at exit.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { EXAMPLE_ARGS, REPO_ROOT, type RunningCli, requireBuiltCli, runCli, startCli } from '../helpers/cli';

jest.setTimeout(60_000);

const LISTENING = /^listening on https:\/\/127\.0\.0\.1:(\d+)$/;
const CA_LINE = /^self-signed certificate; its CA is in (.+)$/;

function get(
  port: number,
  ca: string | Buffer,
  path: string,
  body?: string,
): Promise<{ status: number; body: string; contentType: string; peer: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body ? 'POST' : 'GET',
        ca,
        servername: 'localhost',
        agent: false,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            contentType: String(res.headers['content-type']),
            peer,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

let dir: string;
const servers: RunningCli[] = [];

async function serve(args: readonly string[]): Promise<{ server: RunningCli; port: number }> {
  const server = startCli(['serve', '--port', '0', ...args, ...EXAMPLE_ARGS]);
  servers.push(server);
  const match = await server.waitForStdout(LISTENING);
  return { server, port: Number(match[1]) };
}

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'ecr-admission-serve-ops-'));
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve, observed', () => {
  let server: RunningCli;
  let port: number;
  let ca: Buffer;

  beforeAll(async () => {
    const caFile = join(dir, 'ca.pem');
    ({ server, port } = await serve(['--ca-out', caFile, '--tls-san', 'ecr-admission.ecr-admission.svc']));
    ca = readFileSync(caFile);
  });

  it('logs each review as one JSON line: uid, kind, namespace, decision, cache, latency', async () => {
    const review = readFileSync(join(REPO_ROOT, 'examples/reviews/denied-deployment.json'), 'utf8');
    const uid = (JSON.parse(review) as { request: { uid: string } }).request.uid;

    const reply = await get(port, ca, '/validate', review);

    expect(reply.status).toBe(200);
    const line = await server.waitForStderr(new RegExp(`"uid":"${uid}"`));
    const log = JSON.parse(line.input ?? '');
    expect(log).toMatchObject({
      level: 30,
      uid,
      kind: 'Deployment',
      namespace: 'shop',
      decision: 'denied',
      cache: expect.stringMatching(/^(hit|miss|none)$/),
      latencyMs: expect.any(Number),
      msg: 'review answered',
    });
  });

  it('serves Prometheus metrics: admissions by decision and cache, a latency histogram, lookups', async () => {
    await get(
      port,
      ca,
      '/validate',
      readFileSync(join(REPO_ROOT, 'examples/reviews/allowed-pod.json'), 'utf8'),
    );

    const reply = await get(port, ca, '/metrics');

    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^text\/plain/);
    expect(reply.body).toMatch(
      /^ecr_admission_admissions_total\{endpoint="validate",decision="denied",cache="\w+"\} 1$/m,
    );
    expect(reply.body).toMatch(
      /^ecr_admission_admissions_total\{endpoint="validate",decision="allowed",cache="\w+"\} 1$/m,
    );
    expect(reply.body).toMatch(
      /^ecr_admission_request_duration_seconds_bucket\{le="0.1",endpoint="validate"\} \d+$/m,
    );
    expect(reply.body).toMatch(/^ecr_admission_image_lookups_total\{cache="miss"\} \d+$/m);
    expect(reply.body).toContain('# TYPE ecr_admission_failures_total counter');
  });

  it('puts the --tls-san names in its certificate', async () => {
    const reply = await get(port, ca, '/healthz');
    expect(reply.status).toBe(200);

    const certificate = await new Promise<X509Certificate>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', ca, agent: false }, (res) => {
        resolve(new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw));
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });

    expect(certificate.subjectAltName).toContain('DNS:ecr-admission.ecr-admission.svc');
    expect(certificate.subjectAltName).toContain('DNS:localhost');
  });

  it('refuses to start on a port already taken, in one line, leaving the running server and its CA alone', async () => {
    const caFile = join(dir, 'ca.pem');
    const before = readFileSync(caFile, 'utf8');

    const result = await runCli(['serve', '--port', String(port), '--ca-out', caFile, ...EXAMPLE_ARGS]);

    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `ecr-admission serve: --port ${port}: 127.0.0.1:${port} is already in use`,
    ]);
    expect(readFileSync(caFile, 'utf8')).toBe(before);
    expect((await get(port, ca, '/healthz')).status).toBe(200);
  });
});

describe('serve with its own certificate files', () => {
  it('reloads the certificate and key when the files change', async () => {
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const first = await selfSigned('first');
    const second = await selfSigned('second');
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    const { server, port } = await serve(['--tls-cert', certFile, '--tls-key', keyFile]);
    const before = await get(port, first.cert, '/healthz');

    writeFileSync(keyFile, second.key);
    writeFileSync(certFile, second.cert);
    await server.waitForStderr(/reloaded the certificate/, 15_000);
    const after = await get(port, second.cert, '/healthz');

    expect(before.peer).toBe(new X509Certificate(first.cert).fingerprint256);
    expect(after.peer).toBe(new X509Certificate(second.cert).fingerprint256);
  });
});

describe('serve at exit', () => {
  it('removes the temporary CA it wrote', async () => {
    const { server } = await serve([]);
    const caFile = (await server.waitForStderr(CA_LINE))[1] ?? '';
    expect(existsSync(caFile)).toBe(true);

    server.child.kill('SIGTERM');
    const { code } = await server.exited();

    expect(code).toBe(0);
    expect(existsSync(caFile)).toBe(false);
  });
});
