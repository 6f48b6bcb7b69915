/**
 * The admitted inventory on the admission path: who an object's images are recorded under, what a
 * record says, and when nothing is written (dry runs, denials, repeats within the refresh interval,
 * images without a digest). The store is the in-memory one, counted.
 */
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { MemoryDecisionStore, MemoryInventoryStore } from '../../src/adapters/memory-store';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { AdmissionService } from '../../src/application/admission-service';
import { InventoryRecorder } from '../../src/application/inventory-recorder';
import type { DecisionCache } from '../../src/domain/decision-store';
import { DeadlineExceededError, StoreUnavailableError } from '../../src/domain/errors';
import type { AdmittedImage, InventoryStore, RecordOutcome } from '../../src/domain/inventory';
import { parsePolicy } from '../../src/domain/policy';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { handleWebhookRequest } from '../../src/http/webhook';
import { podReview, type ReviewOptions, review, workload } from '../helpers/reviews';
import {
  ACCOUNT,
  digestOf,
  ecrHost,
  image,
  type JsonObject,
  REGION,
  registry,
  repository,
  snapshot,
} from '../helpers/snapshot-builder';

const APP = `${ecrHost()}/team/app:1.0`;
const MUTABLE = `${ecrHost()}/team/mutable:1.0`;
const HOUR = 3_600_000;
const START = Date.parse('2026-11-27T12:00:00Z');

const FACTS = new EcrFactsSource(
  new SnapshotReads(
    snapshot(
      registry(
        {},
        repository('team/app', {}, image('app-1.0', { tags: ['1.0'] })),
        repository('team/mutable', { mutability: 'MUTABLE' }, image('mutable-1.0', { tags: ['1.0'] })),
      ),
    ),
  ),
);

/** The in-memory store, counting what it is asked. */
class CountedInventory implements InventoryStore {
  readonly memory: MemoryInventoryStore;
  asked = 0;
  constructor(now: () => number) {
    this.memory = new MemoryInventoryStore({ now });
  }
  recordAdmitted(admitted: AdmittedImage, at: Date, refreshMs: number): Promise<RecordOutcome> {
    this.asked++;
    return this.memory.recordAdmitted(admitted, at, refreshMs);
  }
  listInventory(digest: string, cursor?: string) {
    return this.memory.listInventory(digest, cursor);
  }
  findAdmitted(admitted: readonly AdmittedImage[]) {
    return this.memory.findAdmitted(admitted);
  }
}

function setup(options: { store?: InventoryStore; deadlineMs?: number } = {}) {
  let clock = START;
  const counted = new CountedInventory(() => clock);
  const failures: unknown[] = [];
  const newService = () =>
    new AdmissionService({
      policy: parsePolicy({}),
      facts: FACTS,
      store: new MemoryDecisionStore(),
      now: () => new Date(clock),
      inventory: new InventoryRecorder({ store: options.store ?? counted, refreshMs: HOUR }),
      onInventoryFailure: (error) => failures.push(error),
      ...(options.deadlineMs && { deadlineMs: options.deadlineMs }),
    });
  return {
    counted,
    failures,
    service: newService(),
    newService,
    advance: (ms: number) => {
      clock += ms;
    },
    records: async () => (await counted.memory.listInventory(digestOf('app-1.0'))).records,
  };
}

const request = (object: JsonObject, options: ReviewOptions = {}) =>
  parseAdmissionReview(review(object, options)).request;

const podOf = (ownerReferences: JsonObject[]) => {
  const pod = workload('Pod', { containers: [APP] }, { name: 'web-7d4b9-x2x' });
  return { ...pod, metadata: { ...(pod.metadata as JsonObject), ownerReferences } };
};

describe('the owner an admitted object is recorded under', () => {
  test.each([
    [
      'A Pod is recorded under its controlling owner, the ReplicaSet.',
      podOf([
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-the-controller' },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9', controller: true },
      ]),
      { kind: 'ReplicaSet', name: 'web-7d4b9' },
    ],
    [
      'A Pod of a CronJob is recorded under its Job.',
      podOf([{ apiVersion: 'batch/v1', kind: 'Job', name: 'report-29001', controller: true }]),
      { kind: 'Job', name: 'report-29001' },
    ],
    [
      'A Pod whose owner references name no controller is recorded under itself.',
      podOf([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9', controller: false }]),
      { kind: 'Pod', name: 'web-7d4b9-x2x' },
    ],
    [
      'A Pod whose controller reference has no name is recorded under itself.',
      podOf([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', controller: true }]),
      { kind: 'Pod', name: 'web-7d4b9-x2x' },
    ],
    [
      'A Pod without owner references is recorded under itself.',
      workload('Pod', { containers: [APP] }, { name: 'debug' }),
      { kind: 'Pod', name: 'debug' },
    ],
    [
      'A Deployment is recorded under itself.',
      workload('Deployment', { containers: [APP] }, { name: 'web' }),
      { kind: 'Deployment', name: 'web' },
    ],
    [
      'A CronJob is recorded under itself.',
      workload('CronJob', { containers: [APP] }, { name: 'report' }),
      { kind: 'CronJob', name: 'report' },
    ],
  ])('%s', async (_name, object, owner) => {
    const { service, records } = setup();

    await service.review(request(object));

    expect((await records()).map((r) => r.owner)).toEqual([owner]);
  });
});

describe('what an admission records', () => {
  test('An admitted CREATE records the cluster, namespace, owner, image as written, digest, registry, region and repository, first and last admitted now.', async () => {
    const { service, records } = setup();

    const decision = await service.review(request(workload('Deployment', { containers: [APP] })), {
      cluster: 'prod-eu',
    });

    expect(decision.allowed).toBe(true);
    expect(await records()).toEqual([
      {
        cluster: 'prod-eu',
        namespace: 'shop',
        owner: { kind: 'Deployment', name: 'app' },
        image: APP,
        digest: digestOf('app-1.0'),
        registryId: ACCOUNT,
        region: REGION,
        repositoryName: 'team/app',
        firstAdmittedAt: '2026-11-27T12:00:00.000Z',
        lastAdmittedAt: '2026-11-27T12:00:00.000Z',
        expiresAt: START / 1000 + 30 * 86_400,
      },
    ]);
  });

  test('A review without a cluster is recorded under cluster default.', async () => {
    const { service, records } = setup();

    await service.review(request(workload('Deployment', { containers: [APP] })));

    expect((await records()).map((r) => r.cluster)).toEqual(['default']);
  });

  test('A dry run writes nothing.', async () => {
    const { service, counted } = setup();

    const decision = await service.review(
      request(workload('Deployment', { containers: [APP] }), { dryRun: true }),
    );

    expect(decision.allowed).toBe(true);
    expect(counted.asked).toBe(0);
  });

  test('A denied admission writes nothing, not even for its compliant images.', async () => {
    const { service, counted } = setup();

    const decision = await service.review(request(workload('Deployment', { containers: [APP, MUTABLE] })));

    expect(decision.allowed).toBe(false);
    expect(counted.asked).toBe(0);
  });

  test('An image admitted without a digest (exempt, or not from ECR under a lenient policy) is not recorded.', async () => {
    const counted = new CountedInventory(Date.now);
    const service = new AdmissionService({
      policy: parsePolicy({ rules: { requireEcr: false } }),
      facts: FACTS,
      store: new MemoryDecisionStore(),
      inventory: new InventoryRecorder({ store: counted }),
    });

    const decision = await service.review(
      request(workload('Deployment', { containers: ['nginx:1.27', APP] })),
    );

    expect(decision.allowed).toBe(true);
    expect(counted.asked).toBe(1);
    expect((await counted.memory.listInventory(digestOf('app-1.0'))).records.map((r) => r.image)).toEqual([
      APP,
    ]);
  });

  test('On a cache miss, the inventory write starts while the write-through is still landing.', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cache = new MemoryDecisionStore();
    const slowPut: DecisionCache = {
      getMany: (lookups) => cache.getMany(lookups),
      put: async (entry) => {
        await held;
        return cache.put(entry);
      },
    };
    const counted = new CountedInventory(() => START);
    const service = new AdmissionService({
      policy: parsePolicy({}),
      facts: FACTS,
      store: slowPut,
      now: () => new Date(START),
      inventory: new InventoryRecorder({ store: counted }),
    });

    const answer = service.review(request(workload('Deployment', { containers: [APP] })));
    for (let i = 0; i < 20 && counted.asked === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const askedWhileHeld = counted.asked;
    release();

    expect(askedWhileHeld).toBe(1);
    expect((await answer).allowed).toBe(true);
  });

  test('A repeat within the refresh interval asks the store nothing.', async () => {
    const { service, counted, advance } = setup();
    await service.review(request(workload('Deployment', { containers: [APP] })));
    advance(HOUR - 1);

    await service.review(request(workload('Deployment', { containers: [APP] })));

    expect(counted.asked).toBe(1);
    expect(counted.memory.writes).toBe(1);
  });

  test('A repeat after the refresh interval moves the last-admitted time and keeps the first.', async () => {
    const { service, counted, advance, records } = setup();
    await service.review(request(workload('Deployment', { containers: [APP] })));
    advance(HOUR + 1);

    await service.review(request(workload('Deployment', { containers: [APP] })));

    expect(counted.memory.writes).toBe(2);
    expect(await records()).toEqual([
      expect.objectContaining({
        firstAdmittedAt: '2026-11-27T12:00:00.000Z',
        lastAdmittedAt: '2026-11-27T13:00:00.001Z',
      }),
    ]);
  });

  test('A new process asks the store once and writes nothing for a record admitted within the interval.', async () => {
    const { service, newService, counted, advance } = setup();
    await service.review(request(workload('Deployment', { containers: [APP] })));
    advance(10 * 60_000);
    const cold = newService();

    await cold.review(request(workload('Deployment', { containers: [APP] })));
    await cold.review(request(workload('Deployment', { containers: [APP] })));

    expect(counted.asked).toBe(2);
    expect(counted.memory.writes).toBe(1);
  });

  test('Concurrent admissions of one new record ask the store once.', async () => {
    const { service, counted } = setup();

    await Promise.all(
      Array.from({ length: 5 }, () => service.review(request(workload('Deployment', { containers: [APP] })))),
    );

    expect(counted.asked).toBe(1);
  });

  test('Each cluster, namespace, owner and image as written is a record of its own.', async () => {
    const { service, records } = setup();
    const byDigest = `${ecrHost()}/team/app@${digestOf('app-1.0')}`;

    await service.review(request(workload('Deployment', { containers: [APP, byDigest] })), { cluster: 'a' });
    await service.review(request(workload('Deployment', { containers: [APP] })), { cluster: 'b' });
    await service.review(request(workload('Deployment', { containers: [APP] }, { namespace: 'other' })), {
      cluster: 'a',
    });

    expect((await records()).map((r) => `${r.cluster} ${r.namespace} ${r.image}`)).toEqual([
      `a other ${APP}`,
      `a shop ${APP}`,
      `a shop ${byDigest}`,
      `b shop ${APP}`,
    ]);
  });
});

describe('when the inventory cannot be written', () => {
  test('A failing store leaves the decision as it was, the failure is reported, and the next admission tries again.', async () => {
    const failing: InventoryStore = {
      recordAdmitted: async () => {
        throw new StoreUnavailableError('the admitted inventory could not be written');
      },
      listInventory: async () => ({ records: [] }),
      findAdmitted: async () => new Map(),
    };
    const { service, failures } = setup({ store: failing });

    const decision = await service.review(request(workload('Deployment', { containers: [APP] })));
    await service.review(request(workload('Deployment', { containers: [APP] })));

    expect(decision.allowed).toBe(true);
    expect(failures).toEqual([expect.any(StoreUnavailableError), expect.any(StoreUnavailableError)]);
  });

  test('A store that never answers is waited for within the deadline only, and admissions meanwhile pile no writes on it.', async () => {
    let calls = 0;
    const silent: InventoryStore = {
      recordAdmitted: () => {
        calls++;
        return new Promise<never>(() => {});
      },
      listInventory: async () => ({ records: [] }),
      findAdmitted: async () => new Map(),
    };
    const { service, failures } = setup({ store: silent, deadlineMs: 300 });

    const started = performance.now();
    const decision = await service.review(request(workload('Deployment', { containers: [APP] })));
    const elapsed = performance.now() - started;
    await service.review(request(workload('Deployment', { containers: [APP] })));

    expect(decision.allowed).toBe(true);
    expect(elapsed).toBeLessThan(300);
    expect(failures).toEqual([expect.any(DeadlineExceededError)]);
    expect(calls).toBe(1);
  });

  test('The recorder forgets the oldest records beyond its bound.', async () => {
    const counted = new CountedInventory(Date.now);
    const recorder = new InventoryRecorder({ store: counted, maxRemembered: 2 });
    const at = new Date(START);
    const admitted = (image: string): AdmittedImage => ({
      cluster: 'default',
      namespace: 'shop',
      owner: { kind: 'Deployment', name: 'web' },
      image,
      digest: digestOf('app-1.0'),
      registryId: ACCOUNT,
      region: REGION,
      repositoryName: 'team/app',
    });

    await recorder.record([admitted('a'), admitted('b'), admitted('c')], at);
    await recorder.record([admitted('a')], at);

    expect(recorder.size).toBe(2);
    expect(counted.asked).toBe(4);
  });
});

describe('the cluster in the webhook URL', () => {
  const post = (setupOf: ReturnType<typeof setup>, path: string, defaultCluster?: string) =>
    handleWebhookRequest(
      setupOf.service,
      { method: 'POST', path, body: JSON.stringify(podReview({ containers: [APP] })) },
      {},
      defaultCluster ? { defaultCluster } : {},
    );

  test.each([
    ['/validate/prod-eu?timeout=5s', undefined, 'prod-eu'],
    ['/validate/Prod_EU-2/', undefined, 'Prod_EU-2'],
    ['/validate', undefined, 'default'],
    ['/validate', 'staging', 'staging'],
    ['/validate/prod-eu', 'staging', 'prod-eu'],
  ])(
    'A review posted to %s (default cluster %s) is recorded under cluster %s.',
    async (path, fallback, cluster) => {
      const s = setup();

      const reply = await post(s, path, fallback);

      expect(reply.statusCode).toBe(200);
      expect((await s.records()).map((r) => r.cluster)).toEqual([cluster]);
    },
  );

  test.each(['/validate/-prod', '/validate/prod.eu', `/validate/${'a'.repeat(101)}`, '/mutate/prod%2Feu'])(
    'A review posted to %s is refused with 400, naming the cluster.',
    async (path) => {
      const s = setup();

      const reply = await post(s, path);

      expect(reply.statusCode).toBe(400);
      expect(JSON.parse(reply.body).error).toMatch(/^cluster name ".*" is not valid/);
      expect(s.counted.asked).toBe(0);
    },
  );

  test('A path with more than a cluster after the endpoint is not an endpoint.', async () => {
    expect((await post(setup(), '/validate/prod/eu')).statusCode).toBe(404);
  });

  test('The mutating endpoint answers with a cluster too, and records nothing.', async () => {
    const s = setup();

    const reply = await post(s, '/mutate/prod-eu');

    expect(reply.statusCode).toBe(200);
    expect(s.counted.asked).toBe(0);
  });
});
