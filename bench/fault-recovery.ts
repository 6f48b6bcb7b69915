/**
 * Recovery from faults (docs/failure-modes.md): for each fault of the fault tier, how long the
 * admission takes to answer during it (by the failure mode), how long until the right answer once it
 * clears, and the ECR calls made meanwhile; DynamoDB paused and black-holed; a hostile review and the
 * review after it, with the process's memory.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { boundedRequestHandler } from '../src/adapters/aws-http';
import { DynamoDecisionStore } from '../src/adapters/dynamodb-store';
import { MemoryDecisionStore } from '../src/adapters/memory-store';
import { TieredDecisionStore } from '../src/adapters/tiered-store';
import { createDecisionTable, startDynamoLocal, TEST_CREDENTIALS } from '../test/helpers/dynamodb-local';
import { type ProxyMode, startFaultProxy } from '../test/helpers/fault-proxy';
import {
  DEADLINE_MS,
  FAST_TIMEOUTS,
  FAULT_ENV,
  GOOD_IMAGE,
  HOST,
  liveService,
  OWN,
  podRequest,
  REGION,
  SNAPSHOT,
  untilAllowed,
} from '../test/helpers/fault-scenarios';
import { ECR_FAULTS, startLocalEcr } from '../test/helpers/local-ecr';
import { type Figure, figure } from './lib/figures';

const ANSWER_TARGET = `<= ${DEADLINE_MS + 300}`;
const RECOVERY_TARGET = '<= 3000';

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

export async function faultRecoveryFigures(): Promise<Figure[]> {
  Object.assign(process.env, FAULT_ENV);
  const figures: Figure[] = [];
  const ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
  try {
    for (const [name, faults] of Object.entries(ECR_FAULTS)) {
      ecr.heal();
      ecr.reset();
      const { service } = liveService(ecr.url);
      ecr.faults = { ...faults };
      const during = await timed(() => service.review(podRequest('during', [GOOD_IMAGE])));
      const calls = ecr.totalEcrCalls();
      ecr.heal();
      const recovery = await untilAllowed(() => service.review(podRequest('after', [GOOD_IMAGE])));
      figures.push(
        figure(`ECR ${name}: time to answer (failure mode)`, during.ms, 'ms', ANSWER_TARGET),
        figure(`ECR ${name}: time to the right answer after it clears`, recovery.ms, 'ms', RECOVERY_TARGET),
        figure(`ECR ${name}: ECR calls for one admission during it`, calls, 'calls', '<= 12'),
      );
    }

    ecr.heal();
    ecr.reset();
    const rssBefore = process.memoryUsage().rss;
    const { service, reads } = liveService(ecr.url);
    const hostile = Array.from({ length: 2000 }, (_, i) => `${HOST}/missing/repo-${i}:1`);
    const madeUp = Array.from({ length: 500 }, (_, i) => `${OWN}.dkr.ecr.xx-yyy${i}-1.amazonaws.com/a:1`);
    const answer = await timed(() => service.review(podRequest('hostile', [...hostile, ...madeUp])));
    const calls = ecr.totalEcrCalls();
    const next = await timed(() => service.review(podRequest('next', [GOOD_IMAGE])));
    figures.push(
      figure(
        'hostile review (2,000 missing repositories, 500 made-up regions): time to answer',
        answer.ms,
        'ms',
        ANSWER_TARGET,
      ),
      figure('hostile review: ECR calls', calls, 'calls', '<= 300'),
      figure('hostile review: ECR clients alive', reads.clientCount, 'clients', '<= 16'),
      figure('the review after it: time to answer', next.ms, 'ms', ANSWER_TARGET),
      figure('hostile review: RSS growth', (process.memoryUsage().rss - rssBefore) / 2 ** 20, 'MB', '<= 100'),
    );

    const dynamo = await startDynamoLocal();
    const proxy = await startFaultProxy(dynamo.endpoint);
    try {
      for (const [index, mode] of (['pause', 'blackhole'] as ProxyMode[]).entries()) {
        const tableName = `bench-faults-${index}`;
        await createDecisionTable(dynamo.client(), tableName);
        const far = new DynamoDecisionStore({
          tableName,
          client: new DynamoDBClient({
            endpoint: proxy.endpoint,
            region: REGION,
            credentials: TEST_CREDENTIALS,
            requestHandler: boundedRequestHandler(FAST_TIMEOUTS),
            maxAttempts: FAST_TIMEOUTS.maxAttempts,
          }),
        });
        const tiered = liveService(ecr.url, {
          store: new TieredDecisionStore(new MemoryDecisionStore({ ttlMs: 1 }), far),
        }).service;
        ecr.reset();
        proxy.setMode(mode);
        const during = await timed(() => tiered.review(podRequest('during', [GOOD_IMAGE])));
        proxy.setMode('pass');
        const healed = await timed(() => tiered.review(podRequest('healed', [`${HOST}/team/api:1.0.0`])));
        figures.push(
          figure(`DynamoDB ${mode}: time to answer (from ECR)`, during.ms, 'ms', ANSWER_TARGET),
          figure(`DynamoDB ${mode}: time to answer right after it clears`, healed.ms, 'ms', ANSWER_TARGET),
        );
      }
    } finally {
      await proxy.close();
      await dynamo.stop();
    }
  } finally {
    await ecr.close();
  }
  return figures;
}
