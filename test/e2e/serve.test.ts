/**
 * `ecr-admission serve`, run as the built command and called over real HTTPS, with a client that
 * trusts only the certificate authority the server wrote (or the certificate the test made): verification
 * stays on, as the apiserver's does.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { MAX_REVIEW_BYTES } from '../../src/http/admission-review';
import {
  EXAMPLE_ARGS,
  expectOneLineError,
  REPO_ROOT,
  type RunningCli,
  requireBuiltCli,
  runCli,
  startCli,
} from '../helpers/cli';

jest.setTimeout(30_000);

const LISTENING = /^listening on https:\/\/127\.0\.0\.1:(\d+)$/;
const EXAMPLE_REVIEWS = ['allowed-pod.json', 'denied-deployment.json', 'warned-pod.json'] as const;

function exampleReview(name: string): string {
  return readFileSync(join(REPO_ROOT, 'examples/reviews', name), 'utf8');
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly peerFingerprint: string | undefined;
}

interface CallOptions {
  readonly ca?: Buffer | string;
  readonly method?: string;
  readonly path?: string;
  readonly body?: string | Buffer;
  /**
   * `whole` (default): the body with its content-length. `streamed`: in pieces with chunked transfer
   * encoding (no declared size), stopping once answered. `declared`: only the headers, announcing the
   * body's size, as a client that waits to be told to go ahead does.
   */
  readonly upload?: 'whole' | 'streamed' | 'declared';
  readonly servername?: string;
  readonly agent?: Agent;
}

/** One HTTPS request to the server on 127.0.0.1; resolves once the whole reply has arrived. */
function call(port: number, options: CallOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let replied = false;
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        ...(options.ca !== undefined && { ca: options.ca }),
        ...(options.servername !== undefined && { servername: options.servername }),
        rejectUnauthorized: true,
        agent: options.agent ?? false,
        timeout: 15_000,
        headers: {
          ...(body && { 'content-type': 'application/json' }),
          ...(body && options.upload !== 'streamed' && { 'content-length': body.length }),
        },
      },
      (res) => {
        replied = true;
        const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            peerFingerprint,
          });
          if (options.upload === 'declared') req.destroy();
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no reply within 15 s')));
    // A server that refuses a body may close the connection before the upload is over: what counts
    // is the reply it sent.
    req.on('error', (error) => {
      if (!replied) reject(error);
    });
    if (body && options.upload === 'declared') {
      req.flushHeaders();
    } else if (body && options.upload === 'streamed') {
      const piece = 256 * 1024;
      const sendFrom = (at: number): void => {
        if (replied || req.destroyed) return;
        if (at >= body.length) {
          req.end();
          return;
        }
        req.write(body.subarray(at, at + piece), () => sendFrom(at + piece));
      };
      sendFrom(0);
    } else {
      req.end(body);
    }
  });
}

function json(reply: Reply): Record<string, unknown> {
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(reply.body) as Record<string, unknown>;
}

/** A response review without its cache annotation, which depends on what was asked before. */
function withoutCacheNote(review: unknown): unknown {
  const copy = structuredClone(review) as { response?: { auditAnnotations?: Record<string, string> } };
  delete copy.response?.auditAnnotations?.cache;
  return copy;
}

/** A certificate and key for localhost and 127.0.0.1, self-signed: openssl when there is one, else selfsigned. */
async function makeCertificate(dir: string, name: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (openssl.status === 0) {
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
    return { certFile, keyFile };
  }
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 2 * 86_400_000),
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
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private);
  return { certFile, keyFile };
}

async function startServe(args: readonly string[]): Promise<{ server: RunningCli; port: number }> {
  const server = startCli(['serve', '--port', '0', ...args, ...EXAMPLE_ARGS]);
  const match = await server.waitForStdout(LISTENING);
  return { server, port: Number(match[1]) };
}

beforeAll(() => {
  requireBuiltCli();
});

describe('serve with a certificate it makes itself (--ca-out)', () => {
  let dir: string;
  let caFile: string;
  let ca: Buffer;
  let server: RunningCli | undefined;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-admission-serve-e2e-'));
    caFile = join(dir, 'ca.pem');
    ({ server, port } = await startServe(['--ca-out', caFile]));
    ca = readFileSync(caFile);
  });

  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints only the listening line on stdout, and writes a CA certificate where --ca-out says', () => {
    // Assess
    expect(server?.stdout()).toBe(`listening on https://127.0.0.1:${port}\n`);
    expect(new X509Certificate(ca).ca).toBe(true);
  });

  it.each(EXAMPLE_REVIEWS)(
    'answers POST /validate with %s exactly as the review command does',
    async (name) => {
      // Prepare
      const body = exampleReview(name);
      const fromCli = await runCli(['review', ...EXAMPLE_ARGS], { stdin: body });
      expect(fromCli.code).toBe(0);

      // Act
      const reply = await call(port, { ca, method: 'POST', path: '/validate', body });

      // Assess
      expect(reply.status).toBe(200);
      const answer = json(reply);
      const asked = JSON.parse(body) as { apiVersion: string; request: { uid: string } };
      expect(answer).toMatchObject({
        apiVersion: asked.apiVersion,
        kind: 'AdmissionReview',
        response: { uid: asked.request.uid, allowed: name !== 'denied-deployment.json' },
      });
      expect(withoutCacheNote(answer)).toEqual(withoutCacheNote(JSON.parse(fromCli.stdout)));
    },
  );

  it('denies with status 200 and a 403 in the review, not an HTTP error', async () => {
    // Act
    const reply = await call(port, {
      ca,
      method: 'POST',
      path: '/validate',
      body: exampleReview('denied-deployment.json'),
    });

    // Assess
    expect(reply.status).toBe(200);
    expect(json(reply)).toMatchObject({
      response: { allowed: false, status: { code: 403, message: expect.stringContaining('[NOT_ECR]') } },
    });
  });

  it('accepts the query string the apiserver appends (POST /validate?timeout=10s)', async () => {
    // Act
    const reply = await call(port, {
      ca,
      method: 'POST',
      path: '/validate?timeout=10s',
      body: exampleReview('warned-pod.json'),
    });

    // Assess
    expect(reply.status).toBe(200);
    expect(json(reply)).toMatchObject({
      apiVersion: 'admission.k8s.io/v1beta1',
      response: { uid: 'c0ffee00-0000-4000-8000-000000000002', allowed: true, warnings: expect.any(Array) },
    });
  });

  it('answers a repeated review from its decision cache', async () => {
    // Prepare
    const body = exampleReview('allowed-pod.json');
    await call(port, { ca, method: 'POST', path: '/validate', body });

    // Act
    const reply = await call(port, { ca, method: 'POST', path: '/validate', body });

    // Assess
    const annotations = (json(reply) as { response: { auditAnnotations: Record<string, string> } }).response
      .auditAnnotations;
    expect(annotations.cache).toMatch(/\bhit=1\b/);
    expect(annotations.cache).toMatch(/\bmiss=0\b/);
  });

  it('says it is up on GET /healthz', async () => {
    // Act
    const reply = await call(port, { ca, path: '/healthz' });

    // Assess
    expect(reply.status).toBe(200);
    expect(json(reply)).toEqual({ status: 'ok' });
  });

  it('presents a certificate valid for the name localhost as well as 127.0.0.1', async () => {
    // Act
    const reply = await call(port, { ca, path: '/healthz', servername: 'localhost' });

    // Assess
    expect(reply.status).toBe(200);
  });

  const refusals: { name: string; options: CallOptions; status: number; says: string }[] = [
    {
      name: 'a body that is not JSON is a 400',
      options: { method: 'POST', path: '/validate', body: 'this is not an AdmissionReview' },
      status: 400,
      says: 'not valid JSON',
    },
    {
      name: 'an empty body is a 400',
      options: { method: 'POST', path: '/validate', body: '' },
      status: 400,
      says: 'empty',
    },
    {
      name: 'JSON that is not an AdmissionReview is a 400',
      options: { method: 'POST', path: '/validate', body: '{"kind":"Pod"}' },
      status: 400,
      says: 'invalid AdmissionReview',
    },
    {
      name: 'GET /validate is a 405',
      options: { method: 'GET', path: '/validate' },
      status: 405,
      says: 'POST',
    },
    {
      name: 'POST /healthz is a 405',
      options: { method: 'POST', path: '/healthz', body: '{}' },
      status: 405,
      says: 'GET',
    },
    {
      name: 'an unknown path is a 404',
      options: { method: 'POST', path: '/mutate-everything', body: exampleReview('allowed-pod.json') },
      status: 404,
      says: '/mutate-everything',
    },
  ];

  it.each(refusals)('$name with a JSON error', async ({ options, status, says }) => {
    // Act
    const reply = await call(port, { ca, ...options });

    // Assess
    expect(reply.status).toBe(status);
    const answer = json(reply);
    expect(typeof answer.error).toBe('string');
    expect(answer.error).toContain(says);
  });

  const oversized = [
    { name: 'from its declared size, before reading it,', upload: 'declared' as const },
    { name: 'streamed without a declared size', upload: 'streamed' as const },
  ];

  it.each(oversized)(
    'refuses a body over the limit $name with 413, and still answers afterwards',
    async ({ upload }) => {
      // Prepare: a well-formed review, padded past the limit.
      const review = JSON.parse(exampleReview('allowed-pod.json')) as Record<string, unknown>;
      const body = JSON.stringify({ ...review, padding: 'x'.repeat(MAX_REVIEW_BYTES) });
      expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_REVIEW_BYTES);

      // Act
      const refused = await call(port, { ca, method: 'POST', path: '/validate', body, upload });

      // Assess
      expect(refused.status).toBe(413);
      expect(json(refused).error).toEqual(expect.any(String));
      const health = await call(port, { ca, path: '/healthz' });
      expect(health.status).toBe(200);
      const answer = await call(port, {
        ca,
        method: 'POST',
        path: '/validate',
        body: exampleReview('allowed-pod.json'),
      });
      expect(answer.status).toBe(200);
      expect(json(answer)).toMatchObject({ response: { allowed: true } });
    },
  );

  it('keeps serving after a client goes away in the middle of a body', async () => {
    // Prepare
    const gone = new Promise<void>((resolve) => {
      const req = httpsRequest({
        host: '127.0.0.1',
        port,
        ca,
        method: 'POST',
        path: '/validate',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': 100_000, expect: '100-continue' },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      // The server holds the request once it has said 100 Continue; part of the body, then nothing.
      req.once('continue', () => req.write('{"apiVersion": "admission.k8s.io/v1", ', () => req.destroy()));
    });

    // Act
    await gone;
    const reply = await call(port, { ca, path: '/healthz' });

    // Assess
    expect(reply.status).toBe(200);
  });

  it('keeps serving after a plain HTTP request to its TLS port', async () => {
    // Prepare
    const plain = new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 10_000 });
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve());
      req.end();
    });

    // Act
    await plain;
    const reply = await call(port, { ca, path: '/healthz' });

    // Assess
    expect(reply.status).toBe(200);
  });

  it('is not trusted by a client without its CA (verification is on)', async () => {
    // Act
    const outcome = call(port, { path: '/healthz' });

    // Assess
    await expect(outcome).rejects.toMatchObject({
      code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/),
    });
  });

  it('is not trusted for a name its certificate does not carry', async () => {
    // Act
    const outcome = call(port, { ca, path: '/healthz', servername: 'webhook.example.com' });

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('reported no internal error and is still running after all of the above', () => {
    // Assess
    expect(server?.stderr()).not.toMatch(/internal error|unexpected error/);
    expect(server?.child.exitCode).toBeNull();
  });
});

describe('serve --tls-cert --tls-key', () => {
  let dir: string;
  let cert: { certFile: string; keyFile: string };
  let other: { certFile: string; keyFile: string };
  let server: RunningCli | undefined;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-admission-serve-tls-e2e-'));
    cert = await makeCertificate(dir, 'server');
    other = await makeCertificate(dir, 'other');
    ({ server, port } = await startServe(['--tls-cert', cert.certFile, '--tls-key', cert.keyFile]));
  });

  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the given certificate to a client that trusts only it', async () => {
    // Prepare
    const pem = readFileSync(cert.certFile);

    // Act
    const reply = await call(port, {
      ca: pem,
      method: 'POST',
      path: '/validate',
      body: exampleReview('denied-deployment.json'),
    });

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.peerFingerprint).toBe(new X509Certificate(pem).fingerprint256);
    expect(json(reply)).toMatchObject({
      response: { uid: 'b1d2c3e4-0000-4000-8000-000000000001', allowed: false },
    });
    expect(server?.stderr()).not.toContain('self-signed certificate');
  });

  it('answers GET /healthz under the name localhost too', async () => {
    // Act
    const reply = await call(port, {
      ca: readFileSync(cert.certFile),
      path: '/healthz',
      servername: 'localhost',
    });

    // Assess
    expect(reply.status).toBe(200);
  });

  it('is not trusted by a client that trusts another certificate', async () => {
    // Act
    const outcome = call(port, { ca: readFileSync(other.certFile), path: '/healthz' });

    // Assess
    await expect(outcome).rejects.toHaveProperty('code');
  });

  const badFiles: { name: string; args: () => string[]; says: () => string[] }[] = [
    {
      name: 'a missing certificate file',
      args: () => ['--tls-cert', join(dir, 'absent.crt'), '--tls-key', cert.keyFile],
      says: () => [join(dir, 'absent.crt'), 'no such file'],
    },
    {
      name: 'a missing key file',
      args: () => ['--tls-cert', cert.certFile, '--tls-key', join(dir, 'absent.key')],
      says: () => [join(dir, 'absent.key'), 'no such file'],
    },
    {
      name: 'a certificate file that is not PEM',
      args: () => {
        writeFileSync(join(dir, 'junk.crt'), 'not a certificate\n');
        return ['--tls-cert', join(dir, 'junk.crt'), '--tls-key', cert.keyFile];
      },
      says: () => [join(dir, 'junk.crt'), 'certificate'],
    },
    {
      name: 'a key file that holds the certificate',
      args: () => ['--tls-cert', cert.certFile, '--tls-key', cert.certFile],
      says: () => [cert.certFile, 'key'],
    },
    {
      name: 'a key that does not match the certificate',
      args: () => ['--tls-cert', cert.certFile, '--tls-key', other.keyFile],
      says: () => [other.keyFile, cert.certFile],
    },
    {
      name: 'an empty certificate file',
      args: () => {
        writeFileSync(join(dir, 'empty.crt'), '');
        return ['--tls-cert', join(dir, 'empty.crt'), '--tls-key', cert.keyFile];
      },
      says: () => [join(dir, 'empty.crt'), 'empty'],
    },
  ];

  it.each(badFiles)('refuses $name with one line naming the file, exit 2', async ({ args, says }) => {
    // Act
    const result = await runCli(['serve', '--port', '0', ...args(), ...EXAMPLE_ARGS]);

    // Assess
    expectOneLineError(result, 'ecr-admission serve', ...says());
  });

  const usage: { name: string; args: string[]; says: string }[] = [
    { name: '--tls-cert without --tls-key', args: ['--tls-cert', 'server.crt'], says: '--tls-key' },
    { name: 'a port out of range', args: ['--port', '70000'], says: '--port' },
    { name: 'an unknown option', args: ['--port', '0', '--insecure'], says: '--insecure' },
  ];

  it.each(usage)('refuses $name, exit 2', async ({ args, says }) => {
    // Act
    const result = await runCli(['serve', ...args, ...EXAMPLE_ARGS]);

    // Assess
    expectOneLineError(result, 'ecr-admission serve', says);
  });
});

describe('serve on SIGTERM', () => {
  let dir: string;
  let server: RunningCli | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-admission-serve-stop-e2e-'));
  });

  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts a review whose body is only half sent, waits until the server holds it (its 100 Continue),
   * stops the server, then sends the rest: the review is in flight across the SIGTERM.
   */
  function reviewAcrossSigterm(running: RunningCli, port: number, ca: Buffer, agent: Agent): Promise<Reply> {
    const body = Buffer.from(exampleReview('denied-deployment.json'));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          ca,
          agent,
          method: 'POST',
          path: '/validate?timeout=10s',
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            expect: '100-continue',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              peerFingerprint: undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.once('continue', () => {
        req.write(body.subarray(0, 200));
        running.child.kill('SIGTERM');
        running
          .waitForStderr(/SIGTERM/)
          .then(() => req.end(body.subarray(200)))
          .catch(reject);
      });
    });
  }

  const clients = [
    { name: 'a client that closes its connections', keepAlive: false },
    { name: 'a keep-alive client, as the apiserver is', keepAlive: true },
  ];

  it.each(clients)('finishes the review in flight for $name, then exits 0', async ({ keepAlive }) => {
    // Prepare
    const caFile = join(dir, `ca-${keepAlive}.pem`);
    const started = await startServe(['--ca-out', caFile]);
    server = started.server;
    const ca = readFileSync(caFile);
    const agent = new Agent({ keepAlive, ca });

    try {
      // Act
      const reply = await reviewAcrossSigterm(started.server, started.port, ca, agent);
      const exit = await started.server.exited(25_000);

      // Assess
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({
        response: { uid: 'b1d2c3e4-0000-4000-8000-000000000001', allowed: false },
      });
      // A reused connection would lead the client to a server that is going away.
      expect(reply.headers.connection).toBe('close');
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
    }
  });

  it('exits 0 when nothing is in flight', async () => {
    // Prepare
    const started = await startServe(['--ca-out', join(dir, 'ca-idle.pem')]);
    server = started.server;

    // Act
    started.server.child.kill('SIGTERM');
    const exit = await started.server.exited(25_000);

    // Assess
    expect(exit).toEqual({ code: 0, signal: null });
    expect(started.server.stderr()).toContain('SIGTERM');
  });
});
