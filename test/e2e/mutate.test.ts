/**
 * The mutating endpoint end to end: `review --mutate` and `serve`'s POST /mutate answer with a patch
 * that pins ECR images to digests; the patched object then passes the validating endpoint.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch, deepClone, type Operation } from 'fast-json-patch';
import { EXAMPLE_ARGS, type RunningCli, requireBuiltCli, runCli, startCli } from '../helpers/cli';

jest.setTimeout(30_000);

const HOST = '111122223333.dkr.ecr.us-east-1.amazonaws.com';
const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'worker', namespace: 'shop' },
  spec: {
    containers: [
      // dev-* tags stay mutable in this repository: denied unless pinned.
      { name: 'worker', image: `${HOST}/team/worker:dev-feature-x` },
      { name: 'api', image: `${HOST}/team/api:1.4.2` },
    ],
  },
};

function reviewOf(object: unknown, uid: string) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'shop',
      operation: 'CREATE',
      object,
    },
  };
}

function applied(response: { patch?: string }, object: unknown): typeof POD {
  const patch: Operation[] = response.patch
    ? JSON.parse(Buffer.from(response.patch, 'base64').toString())
    : [];
  return applyPatch(deepClone(object), patch, true, false).newDocument as typeof POD;
}

describe('the mutating endpoint', () => {
  beforeAll(() => requireBuiltCli());

  it('review --mutate pins the images, and the pinned Pod is admitted where the written one is not', async () => {
    const mutated = await runCli(['review', '--mutate', ...EXAMPLE_ARGS], {
      stdin: JSON.stringify(reviewOf(POD, 'm-1')),
    });
    const response = JSON.parse(mutated.stdout).response;
    const pinned = applied(response, POD);

    const before = await runCli(['review', ...EXAMPLE_ARGS], { stdin: JSON.stringify(reviewOf(POD, 'v-1')) });
    const after = await runCli(['review', ...EXAMPLE_ARGS], {
      stdin: JSON.stringify(reviewOf(pinned, 'v-2')),
    });

    expect(mutated.code).toBe(0);
    expect(response).toMatchObject({ uid: 'm-1', allowed: true, patchType: 'JSONPatch' });
    expect(pinned.spec.containers.map((c) => c.image)).toEqual([
      expect.stringMatching(new RegExp(`^${HOST}/team/worker:dev-feature-x@sha256:[a-f0-9]{64}$`)),
      expect.stringMatching(new RegExp(`^${HOST}/team/api:1.4.2@sha256:[a-f0-9]{64}$`)),
    ]);
    expect(JSON.parse(before.stdout).response.allowed).toBe(false);
    expect(JSON.parse(after.stdout).response.allowed).toBe(true);
  });

  describe('serve', () => {
    let server: RunningCli;
    let port: number;
    const ca = join(mkdtempSync(join(tmpdir(), 'ecr-admission-mutate-')), 'ca.pem');

    beforeAll(async () => {
      server = startCli(['serve', '--port', '0', '--ca-out', ca, ...EXAMPLE_ARGS]);
      const [, found] = await server.waitForStdout(/^listening on https:\/\/127\.0\.0\.1:(\d+)$/);
      port = Number(found);
    });
    afterAll(() => server?.kill());

    it('answers POST /mutate with the same patch as review --mutate', async () => {
      const body = JSON.stringify(reviewOf(POD, 'm-2'));
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/mutate?timeout=5s',
            method: 'POST',
            ca: readFileSync(ca),
            servername: 'localhost',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      const cli = await runCli(['review', '--mutate', ...EXAMPLE_ARGS], { stdin: body });

      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).response.patch).toBe(JSON.parse(cli.stdout).response.patch);
    });
  });
});
