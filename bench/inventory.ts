/**
 * The admitted inventory's cost on the admission path (docs/performance.md): a warm process admitting
 * a Pod of 3 images (the rollout benchmark's) from its warm cache layer, with the inventory on and off side by side (interleaved,
 * on the same DynamoDB Local table), and the DynamoDB requests and writes one admission makes, counted
 * on the wire. "New records": each admission names another cluster, so each of its 3 records is due a
 * write. "Repeat": the same Pod's ReplicaSet again within the refresh interval (1 h).
 */

import { loadPolicyFile } from '../src/adapters/files';
import type { AdmissionService } from '../src/application/admission-service';
import { AWS_CALL_TIMEOUTS } from '../src/contracts/settings';
import type { AdmissionRequest } from '../src/domain/admission';
import type { AdmittedImage } from '../src/domain/inventory';
import { parseAdmissionReview } from '../src/http/admission-review';
import { createAdmissionService, tableStore } from '../src/wiring/admission';
import { type AwsSetting, sharedAwsSetting } from './lib/aws-setting';
import { assertBench, type Figure, figure, median, reference } from './lib/figures';
import { DEPLOYMENT_IMAGES, NOW, OWN_ACCOUNT, POLICY_FILE, podReviewBody } from './lib/workloads';

const ADMISSIONS = 200;
const IMAGES = 3;
const fixed = new Date(NOW);

function service(tableName: string, inventory: boolean): AdmissionService {
  return createAdmissionService({
    policy: loadPolicyFile(POLICY_FILE),
    tableName,
    ownAccountId: OWN_ACCOUNT,
    now: () => fixed,
    ...(inventory && { inventory: {} }),
  });
}

const request = (index: number): AdmissionRequest =>
  parseAdmissionReview(podReviewBody(DEPLOYMENT_IMAGES, index)).request;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** DynamoDB requests of one admission, and how many of them were inventory updates. */
async function wire(
  setting: AwsSetting,
  run: () => Promise<unknown>,
): Promise<{ requests: number; updates: number }> {
  await setting.aws.reset();
  await run();
  const counts = await setting.aws.counts();
  return { requests: counts.dynamo, updates: counts.dynamoByOperation.UpdateItem ?? 0 };
}

export async function inventoryFigures(): Promise<Figure[]> {
  const setting = await sharedAwsSetting();
  const table = await setting.newTable();
  const off = service(table, false);
  const on = service(table, true);
  // Both warm: facts in the table and in each warm layer, clients connected, the records of cluster
  // `default` written.
  for (const admission of [off, on, off, on]) {
    const decision = await admission.review(request(0));
    assertBench(
      decision.allowed && decision.cacheHits + decision.cacheMisses === IMAGES,
      `the Pod was not admitted: ${decision.message} ${JSON.stringify(decision.unverified)} ${decision.auditAnnotations.cache}`,
    );
  }

  // The floor of new records: the same 3 conditional writes, alone, through the same adapter and
  // client settings, on the same table.
  const store = tableStore(
    { policy: loadPolicyFile(POLICY_FILE), tableName: table },
    AWS_CALL_TIMEOUTS.dynamodb,
  );
  const admitted = (i: number, k: number): AdmittedImage => ({
    registryId: OWN_ACCOUNT,
    region: 'us-east-1',
    repositoryName: `bench/writes-${k}`,
    digest: `sha256:${k.toString(16).padStart(64, '0')}`,
    cluster: `bare-${i}`,
    namespace: 'shop',
    owner: { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' },
    image: `${OWN_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/bench/writes-${k}:1.0`,
  });
  const writes = (i: number) =>
    Promise.all(
      Array.from({ length: IMAGES }, (_, k) => store.recordAdmitted(admitted(i, k), fixed, 3_600_000)),
    );
  await writes(0);

  const samples = {
    off: [] as number[],
    repeat: [] as number[],
    fresh: [] as number[],
    writes: [] as number[],
  };
  for (let i = 1; i <= ADMISSIONS; i++) {
    const measure = {
      off: () => timed(() => off.review(request(i))),
      repeat: () => timed(() => on.review(request(i))),
      fresh: () => timed(() => on.review(request(i), { cluster: `bench-${i}` })),
      writes: () => timed(() => writes(i)),
    };
    // Each goes first in turn, so that none always meets a warmer machine.
    const order = (['off', 'repeat', 'fresh', 'writes'] as const).map(
      (_, k, all) => all[(i + k) % all.length] ?? 'off',
    );
    for (const which of order) samples[which].push(await measure[which]());
  }

  const repeat = await wire(setting, () => on.review(request(ADMISSIONS + 1)));
  const fresh = await wire(setting, () => on.review(request(ADMISSIONS + 2), { cluster: 'bench-new' }));
  // A new process (a Lambda cold start): its memory is empty, the table's records are fresh.
  const cold = service(table, true);
  await cold.review(request(ADMISSIONS + 3), { cluster: 'bench-warmup' });
  const coldRepeat = await wire(setting, () => cold.review(request(ADMISSIONS + 4)));
  assertBench(
    fresh.updates === IMAGES,
    `expected ${IMAGES} inventory writes for new records, got ${fresh.updates}`,
  );

  const p50 = {
    off: median(samples.off),
    repeat: median(samples.repeat),
    fresh: median(samples.fresh),
    writes: median(samples.writes),
  };
  const pod = `Pod (${IMAGES} images), warm cache`;
  return [
    reference(`inventory: admission p50, ${pod}: inventory off`, p50.off, 'ms'),
    reference(`inventory: admission p50, ${pod}: inventory on, repeat within 1 h`, p50.repeat, 'ms'),
    figure(`inventory: repeat within 1 h, on / off`, p50.repeat / p50.off, '×', '<= 1.5'),
    reference(`inventory: admission p50, ${pod}: inventory on, ${IMAGES} new records`, p50.fresh, 'ms'),
    reference(`inventory: ${IMAGES} new records, added latency (on − off)`, p50.fresh - p50.off, 'ms'),
    reference(`inventory: the same ${IMAGES} conditional writes alone (no admission) p50`, p50.writes, 'ms'),
    figure(
      `inventory: ${IMAGES} new records: admission p50 / the ${IMAGES} writes alone p50`,
      p50.fresh / p50.writes,
      '×',
      '<= 1.2',
    ),
    figure(
      `inventory: DynamoDB requests per admission, repeat within 1 h, warm process`,
      repeat.requests,
      'requests',
      '= 0',
    ),
    figure(
      `inventory: DynamoDB writes per admission, repeat within 1 h, warm process`,
      repeat.updates,
      'writes',
      '= 0',
    ),
    figure(
      `inventory: DynamoDB writes per admission, ${IMAGES} new records`,
      fresh.updates,
      'writes',
      `= ${IMAGES}`,
    ),
    figure(
      `inventory: DynamoDB inventory updates per admission, repeat within 1 h, new process (conditional: nothing written)`,
      coldRepeat.updates,
      'updates',
      `<= ${IMAGES}`,
    ),
  ];
}
