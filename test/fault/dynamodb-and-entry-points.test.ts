/**
 * The fault tier, DynamoDB side and entry points: DynamoDB Local behind a TCP proxy that pauses or
 * black-holes it, the admission Lambda handler and the built CLI against the fault-injecting ECR
 * endpoint. Counts are asserted; times are figures for `npm run bench` (docs/failure-modes.md).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { boundedRequestHandler } from '../../src/adapters/aws-http';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { TieredDecisionStore } from '../../src/adapters/tiered-store';
import { InventoryRecorder } from '../../src/application/inventory-recorder';
import { DeadlineExceededError } from '../../src/domain/errors';
import { requireBuiltCli, runCli } from '../helpers/cli';
import {
  createDecisionTable,
  type DynamoLocal,
  startDynamoLocal,
  TEST_CREDENTIALS,
} from '../helpers/dynamodb-local';
import { type FaultProxy, type ProxyMode, startFaultProxy } from '../helpers/fault-proxy';
import {
  AWS_TEXT,
  DEADLINE_MS,
  FAST_TIMEOUTS,
  FAULT_ENV,
  GOOD_DIGEST,
  GOOD_IMAGE,
  liveService,
  OWN,
  podRequest,
  REGION,
  SNAPSHOT,
  sleep,
} from '../helpers/fault-scenarios';
import { coldStart, lambdaContext } from '../helpers/lambda';
import { type LocalEcr, startLocalEcr } from '../helpers/local-ecr';
import { podReview } from '../helpers/reviews';

jest.setTimeout(90_000);
Object.assign(process.env, FAULT_ENV);

describe('DynamoDB faults and the entry points', () => {
  let dynamo: DynamoLocal;
  let proxy: FaultProxy;
  let ecr: LocalEcr;
  let tables = 0;

  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    proxy = await startFaultProxy(dynamo.endpoint);
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
  });
  afterAll(async () => {
    await ecr?.close();
    await proxy?.close();
    await dynamo?.stop();
  });
  beforeEach(() => {
    ecr.heal();
    ecr.reset();
    proxy.setMode('pass');
  });

  async function newTable(): Promise<string> {
    const name = `faults-${++tables}`;
    await createDecisionTable(dynamo.client(), name);
    return name;
  }

  async function tableBehindProxy(): Promise<DynamoDecisionStore> {
    return new DynamoDecisionStore({
      tableName: await newTable(),
      client: new DynamoDBClient({
        endpoint: proxy.endpoint,
        region: REGION,
        credentials: TEST_CREDENTIALS,
        requestHandler: boundedRequestHandler(FAST_TIMEOUTS),
        maxAttempts: FAST_TIMEOUTS.maxAttempts,
      }),
    });
  }

  async function tieredService() {
    // A near layer that keeps nothing for long: every admission reads DynamoDB.
    const store = new TieredDecisionStore(new MemoryDecisionStore({ ttlMs: 1 }), await tableBehindProxy());
    return liveService(ecr.url, { store }).service;
  }

  test.each<ProxyMode>(['pause', 'blackhole'])(
    'DynamoDB %s: the admitted inventory write gives up within the deadline, the decision stands, the failure is counted; healed, the record is written',
    async (mode) => {
      // Prepare: the cache answers from the warm layer; only the inventory write reaches DynamoDB.
      const far = await tableBehindProxy();
      const failures: unknown[] = [];
      const { service } = liveService(ecr.url, {
        store: new TieredDecisionStore(new MemoryDecisionStore(), far),
        inventory: new InventoryRecorder({ store: far }),
        onInventoryFailure: (error) => failures.push(error),
      });
      const primed = await service.review(podRequest('primed', [GOOD_IMAGE]));
      await sleep(300);
      proxy.setMode(mode);

      // Act: a new owner, so its record is due a write.
      const started = performance.now();
      const during = await service.review(podRequest('during', [GOOD_IMAGE]));
      const answeredMs = performance.now() - started;
      // The write given up on ends by its own timeouts, and its record is forgotten: a later admission
      // writes it (polled: on a loaded machine the timeouts end a little later).
      await sleep(1_500);
      proxy.setMode('pass');
      let afterHeal = await service.review(podRequest('during', [GOOD_IMAGE]));
      let recorded = (await far.listInventory(GOOD_DIGEST)).records.map((r) => r.owner.name);
      for (let attempt = 0; attempt < 20 && !recorded.includes('during'); attempt++) {
        await sleep(250);
        afterHeal = await service.review(podRequest('during', [GOOD_IMAGE]));
        recorded = (await far.listInventory(GOOD_DIGEST)).records.map((r) => r.owner.name);
      }

      // Assess
      expect(primed.allowed).toBe(true);
      expect(during.allowed).toBe(true);
      expect(during.cacheHits).toBe(1);
      expect(answeredMs).toBeLessThan(DEADLINE_MS);
      expect(failures[0]).toBeInstanceOf(DeadlineExceededError);
      expect(afterHeal.allowed).toBe(true);
      expect(recorded).toEqual(['during', 'primed']);
    },
  );

  test.each<ProxyMode>(['pause', 'blackhole'])(
    'DynamoDB %s: the cache read gives up at its budget and ECR answers; after healing the cache answers again',
    async (mode) => {
      // Prepare
      const service = await tieredService();
      proxy.setMode(mode);

      // Act: admissions during the outage, each a fresh miss.
      const during = await service.review(podRequest('during', [GOOD_IMAGE]));
      const ecrCallsDuring = ecr.totalEcrCalls();
      await sleep(1_500);
      const sharedAfterOutage = service.sharedLookups;
      proxy.setMode('pass');
      const afterHeal = await service.review(podRequest('after-heal', [GOOD_IMAGE]));
      await sleep(300);
      ecr.reset();
      const fromCache = await service.review(podRequest('from-cache', [GOOD_IMAGE]));

      // Assess
      expect(during.allowed).toBe(true);
      expect(ecrCallsDuring).toBeGreaterThan(0);
      // Nothing frozen: the shared lookup and its stuck write are gone within their bounds.
      expect(sharedAfterOutage).toBe(0);
      expect(service.lookupsInFlight).toBe(0);
      expect(afterHeal.allowed).toBe(true);
      expect(fromCache.allowed).toBe(true);
      expect(fromCache.cacheHits).toBe(1);
      expect(ecr.totalEcrCalls()).toBe(0);
    },
  );

  describe('the admission Lambda handler', () => {
    // The ECR client loads on the first miss, after the cold start: its endpoint stays in the environment.
    const saved = { ...process.env };
    beforeAll(() => {
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_ECR: ecr.url,
        AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      });
    });
    afterAll(() => {
      process.env = saved;
    });
    const load = async (env: Record<string, string> = {}) =>
      coldStart(() => require('../../src/handlers/admission').handler, {
        TABLE_NAME: await newTable(),
        DEADLINE_MS: '2500',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        ...env,
      });
    const post = (uid: string) => ({
      httpMethod: 'POST',
      path: '/validate',
      body: JSON.stringify(podReview({ containers: [GOOD_IMAGE] }, { uid, name: uid })),
      isBase64Encoded: false,
    });

    test('answers an event without a path or method with a 404, not a TypeError', async () => {
      const handler = await load();
      const reply = await handler({ body: '{}' }, lambdaContext());
      expect(reply.statusCode).toBe(404);
      expect(JSON.parse(reply.body).error).toContain('no such endpoint');
    });

    test('answers during an ECR hang with a denial by the failure mode, and allows once healed', async () => {
      // Prepare
      const handler = await load();
      ecr.faults = { hang: true };

      // Act
      const during = JSON.parse((await handler(post('hang'), lambdaContext())).body).response;
      ecr.heal();
      const after = JSON.parse((await handler(post('healed'), lambdaContext())).body).response;

      // Assess
      expect(during.allowed).toBe(false);
      expect(during.status.message).toContain(
        'could not be verified (ECR did not answer in time); retry in a moment',
      );
      expect(during.status.message).not.toMatch(AWS_TEXT);
      expect(after.allowed).toBe(true);
    });

    test('records what it admits under the cluster its path names, in the decision table', async () => {
      const tableName = await newTable();
      const handler = await load({ TABLE_NAME: tableName });

      const reply = await handler({ ...post('in-prod-eu'), path: '/validate/prod-eu' }, lambdaContext());
      const refused = await handler({ ...post('bad-cluster'), path: '/validate/prod.eu' }, lambdaContext());

      expect(JSON.parse(reply.body).response.allowed).toBe(true);
      expect(refused.statusCode).toBe(400);
      const table = new DynamoDecisionStore({ tableName, client: dynamo.client() });
      expect((await table.listInventory(GOOD_DIGEST)).records).toEqual([
        expect.objectContaining({
          cluster: 'prod-eu',
          namespace: 'shop',
          owner: { kind: 'Pod', name: 'in-prod-eu' },
        }),
      ]);
    });

    test('answers with DynamoDB black-holed by falling back to ECR', async () => {
      const handler = await load();
      proxy.setMode('blackhole');
      const reply = JSON.parse((await handler(post('dark-table'), lambdaContext())).body).response;
      expect(reply.status?.message).toBeUndefined();
      expect(reply.allowed).toBe(true);
      expect(ecr.totalEcrCalls()).toBeGreaterThan(0);
    });
  });

  describe('the built CLI', () => {
    beforeAll(() => requireBuiltCli());

    test('review answers during an ECR hang by the failure mode and exits', async () => {
      ecr.faults = { hang: true };
      const result = await runCli(['review'], {
        stdin: JSON.stringify(podReview({ containers: [GOOD_IMAGE] }, { uid: 'cli-hang', name: 'cli-hang' })),
        env: { ...FAULT_ENV, AWS_ENDPOINT_URL_ECR: ecr.url },
        timeoutMs: 20_000,
      });
      const response = JSON.parse(result.stdout).response;
      expect(result.code).toBe(0);
      expect(response.allowed).toBe(false);
      expect(response.status.message).toContain(
        'could not be verified (ECR did not answer in time); retry in a moment',
      );
      expect(response.status.message).not.toMatch(AWS_TEXT);
      expect(ecr.totalEcrCalls()).toBeLessThanOrEqual(12);
    });

    test('review of a deeply nested non-string image answers, with no stack trace', async () => {
      const text = JSON.stringify(
        podReview({ containers: ['__DEEP__'] }, { uid: 'deep', name: 'deep' }),
      ).replace('"__DEEP__"', `${'['.repeat(5000)}"x"${']'.repeat(5000)}`);
      const result = await runCli(['review'], { stdin: text, env: { ...FAULT_ENV } });
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout).response.status.message).toContain('the image is not a string');
    });
  });
});
