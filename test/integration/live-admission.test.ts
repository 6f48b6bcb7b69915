/**
 * The production path end to end on real local servers: the admission Lambda handler and the live
 * wiring, with DynamoDB Local behind a counting proxy and the local ECR endpoint. Calls are counted
 * where they cross the socket.
 */

import { parsePolicy } from '../../src/domain/policy';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { createAdmissionService } from '../../src/wiring/admission';
import {
  type CountingProxy,
  createDecisionTable,
  type DynamoLocal,
  startCountingProxy,
  startDynamoLocal,
} from '../helpers/dynamodb-local';
import { coldStart, lambdaContext } from '../helpers/lambda';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';
import { type AdmissionApiVersion, podReview as podReviewOf } from '../helpers/reviews';

jest.setTimeout(60_000);

const OWN = '111122223333';
const HOST = `${OWN}.dkr.ecr.us-east-1.amazonaws.com`;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;

const SNAPSHOT: RawSnapshot = {
  registries: [
    {
      registryId: OWN,
      region: 'us-east-1',
      scanningConfiguration: { scanType: 'BASIC', rules: [] },
      repositories: ['team/api', 'team/web'].map((repositoryName) => ({
        repository: { repositoryName, registryId: OWN, imageTagMutability: 'IMMUTABLE' },
        scanningConfiguration: { repositoryName, scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
        images: [
          {
            imageDigest: repositoryName === 'team/api' ? DIGEST : OTHER_DIGEST,
            imageTags: ['1.0.0'],
            imagePushedAt: '2026-11-20T09:00:00Z',
            scan: {
              imageScanStatus: { status: 'COMPLETE' },
              imageScanFindings: {
                findingSeverityCounts: { HIGH: 1 },
                imageScanCompletedAt: '2026-11-20T10:00:00Z',
              },
            },
          },
        ],
      })),
    },
  ],
};

/** A Pod named `uid` running the images, reviewed under that uid. */
function podReview(uid: string, images: string[], apiVersion?: AdmissionApiVersion) {
  return podReviewOf({ containers: images }, { uid, name: uid, ...(apiVersion && { apiVersion }) });
}

describe('the live admission path', () => {
  let dynamo: DynamoLocal;
  let proxy: CountingProxy;
  let ecr: LocalEcr;
  let tables = 0;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    proxy = await startCountingProxy(dynamo.endpoint);
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
    await proxy?.close();
    await dynamo?.stop();
  });
  beforeEach(() => {
    ecr.reset();
    ecr.faults = {};
    proxy.reset();
    proxy.down = false;
  });

  async function newTable(): Promise<string> {
    const name = `live-${++tables}`;
    await createDecisionTable(dynamo.client(), name);
    return name;
  }

  function service(
    tableName: string,
    overrides: { deadlineMs?: number; warmCacheTtlMs?: number; policy?: object } = {},
  ) {
    return createAdmissionService({
      policy: parsePolicy(overrides.policy ?? {}),
      tableName,
      deadlineMs: overrides.deadlineMs ?? 2_000,
      warmCacheTtlMs: overrides.warmCacheTtlMs ?? 0,
    });
  }

  /** Until DynamoDB has seen no request for 200 ms (a write that outlived its review's budget). */
  async function quiet(): Promise<void> {
    for (let seen = -1; seen !== proxy.total(); ) {
      seen = proxy.total();
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function review(admission: ReturnType<typeof service>, body: object) {
    return admission.review(parseAdmissionReview(JSON.stringify(body)).request);
  }

  it.each([
    { name: 'by tag', images: [`${HOST}/team/api:1.0.0`, `${HOST}/team/web:1.0.0`] },
    { name: 'by digest', images: [`${HOST}/team/api@${DIGEST}`, `${HOST}/team/web@${OTHER_DIGEST}`] },
    { name: 'by tag and digest', images: [`${HOST}/team/api:1.0.0@${DIGEST}`, `${HOST}/team/web:1.0.0`] },
  ])(
    'a cache-hit admission of images $name makes no ECR call and one DynamoDB request',
    async ({ images }) => {
      const table = await newTable();
      const first = await review(service(table), podReview('prime', images));
      expect(first.allowed).toBe(true);
      // On a loaded machine the priming write-through may outlast the review's budget: let it land.
      await quiet();
      ecr.reset();
      proxy.reset();

      const decision = await review(service(table), podReview('hit', images));

      expect(decision.allowed).toBe(true);
      expect(decision.cacheHits).toBe(2);
      expect(ecr.totalEcrCalls()).toBe(0);
      expect(proxy.total()).toBe(1);
      expect(proxy.calls.get('BatchGetItem')).toBe(1);
    },
  );

  it('a repeated admission within a warm process makes no DynamoDB request', async () => {
    const table = await newTable();
    const admission = service(table, { warmCacheTtlMs: 30_000 });
    await review(admission, podReview('prime', [`${HOST}/team/api:1.0.0`]));
    await quiet();
    ecr.reset();
    proxy.reset();

    const decision = await review(admission, podReview('again', [`${HOST}/team/api:1.0.0`]));

    expect(decision.allowed).toBe(true);
    expect(proxy.total()).toBe(0);
    expect(ecr.totalEcrCalls()).toBe(0);
  });

  it('50 concurrent admissions of one uncached image make the ECR calls of a single lookup', async () => {
    await review(service(await newTable()), podReview('one', [`${HOST}/team/api:1.0.0`]));
    const single = ecr.totalEcrCalls();
    ecr.reset();
    ecr.faults = { delayMs: 50 };
    const admission = service(await newTable());

    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        review(admission, podReview(`burst-${i}`, [`${HOST}/team/api:1.0.0`])),
      ),
    );

    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(single).toBeGreaterThan(0);
    expect(ecr.totalEcrCalls()).toBe(single);
  });

  it.each([
    { name: 'ECR slower than the deadline', faults: { delayMs: 1_500 } },
    { name: 'ECR throttling throughout', faults: { throttle: Number.POSITIVE_INFINITY } },
    { name: 'ECR denying access', faults: { deny: () => true } },
  ])('with $name, the admission is answered within the deadline by the failure mode', async ({ faults }) => {
    const table = await newTable();
    ecr.faults = faults;
    const started = Date.now();

    const denied = await review(
      service(table, { deadlineMs: 400 }),
      podReview('slow', [`${HOST}/team/api:1.0.0`]),
    );
    const allowed = await review(
      service(table, { deadlineMs: 400, policy: { failureMode: 'allow' } }),
      podReview('slow-allow', [`${HOST}/team/web:1.0.0`]),
    );

    expect(Date.now() - started).toBeLessThan(2 * 400 + 500);
    expect(denied.allowed).toBe(false);
    expect(denied.violations.map((v) => v.code)).toEqual(['NOT_VERIFIED']);
    expect(denied.message).toContain('[NOT_VERIFIED] could not be verified (');
    expect(denied.message).not.toMatch(/Throttling|AccessDenied|arn:aws/);
    expect(allowed.allowed).toBe(true);
    expect(allowed.warnings.join(' ')).toContain('[NOT_VERIFIED]');
  });

  it('caches nothing when ECR fails', async () => {
    const table = await newTable();
    ecr.faults = { throttle: Number.POSITIVE_INFINITY };
    await review(service(table, { deadlineMs: 400 }), podReview('fail', [`${HOST}/team/api:1.0.0`]));
    // Let the lookup that outlived the deadline finish its retries.
    await new Promise((r) => setTimeout(r, 3_000));
    ecr.faults = {};
    ecr.reset();

    const decision = await review(service(table), podReview('after', [`${HOST}/team/api:1.0.0`]));

    expect(decision.allowed).toBe(true);
    expect(decision.cacheMisses).toBe(1);
    expect(ecr.totalEcrCalls()).toBeGreaterThan(0);
  });

  it('with DynamoDB unreachable, answers from ECR within the deadline', async () => {
    const table = await newTable();
    proxy.down = true;
    const started = Date.now();

    const decision = await review(
      service(table, { deadlineMs: 1_000 }),
      podReview('down', [`${HOST}/team/api:1.0.0`]),
    );

    expect(Date.now() - started).toBeLessThan(1_000 + 500);
    expect(decision.allowed).toBe(true);
    expect(decision.cacheMisses).toBe(1);
  });

  describe('the Lambda handler', () => {
    type Handler = typeof import('../../src/handlers/admission').handler;

    const loadHandler = (env: Record<string, string | undefined>): Handler =>
      coldStart(() => require('../../src/handlers/admission').handler, env);

    it('answers an API Gateway REST (v1) proxy event', async () => {
      const handler = loadHandler({ TABLE_NAME: await newTable() });
      const body = JSON.stringify(
        podReview('v1-event', [`${HOST}/team/api:1.0.0`], 'admission.k8s.io/v1beta1'),
      );

      const reply = await handler(
        {
          httpMethod: 'POST',
          path: '/validate',
          body,
          isBase64Encoded: false,
        } as never,
        lambdaContext(),
      );

      expect(reply.statusCode).toBe(200);
      const response = JSON.parse(reply.body);
      expect(response.apiVersion).toBe('admission.k8s.io/v1beta1');
      expect(response.response).toMatchObject({ uid: 'v1-event', allowed: true });
    });

    it('answers an HTTP API (v2) proxy event with a base64 body', async () => {
      const handler = loadHandler({ TABLE_NAME: await newTable() });
      const body = Buffer.from(JSON.stringify(podReview('v2-event', ['nginx:1.27']))).toString('base64');

      const reply = await handler(
        {
          version: '2.0',
          rawPath: '/validate',
          requestContext: { http: { method: 'POST', path: '/validate' } },
          body,
          isBase64Encoded: true,
        } as never,
        lambdaContext(),
      );

      const response = JSON.parse(reply.body);
      expect(response.response.allowed).toBe(false);
      expect(response.response.status.message).toContain('[NOT_ECR]');
    });

    it('answers an unparseable body with HTTP 400 and a clear message', async () => {
      const handler = loadHandler({ TABLE_NAME: await newTable() });

      const reply = await handler(
        { httpMethod: 'POST', path: '/validate', body: '{"apiVersion":' } as never,
        lambdaContext(),
      );

      expect(reply.statusCode).toBe(400);
      expect(JSON.parse(reply.body).error).toContain('not valid JSON');
    });

    it.each([
      { name: 'a missing table name', env: { TABLE_NAME: undefined }, message: 'TABLE_NAME' },
      {
        name: 'a deadline that is not a number',
        env: { TABLE_NAME: 't', DEADLINE_MS: 'soon' },
        message: 'DEADLINE_MS',
      },
      { name: 'an invalid policy', env: { TABLE_NAME: 't', POLICY: '{"mode":"loud"}' }, message: 'POLICY' },
    ])('fails the cold start on $name, naming it', ({ env, message }) => {
      expect(() => loadHandler(env)).toThrow(message);
    });
  });
});
