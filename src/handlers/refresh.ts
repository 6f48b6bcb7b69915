/**
 * The refresh workflow's Lambda tasks: one export per task of src/contracts/workflow.ts (the table CDK
 * and the ASL placeholders derive from), each a thin binding of the RefreshService method of the same
 * name. Configuration is read and validated once, at cold start. Powertools' decorators add the Lambda
 * context to every log line and publish the metrics a task stored.
 */

import type { LambdaInterface } from '@aws-lambda-powertools/commons/types';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { loadRefreshConfig } from '../adapters/config';
import { parseRefreshEvent } from '../adapters/ecr-events';
import { EventBridgeExposureEvents } from '../adapters/exposure-events';
import { idempotencyStore } from '../adapters/idempotency';
import type { ListRequest, RefreshRecord, RefreshTarget } from '../application/refresh-service';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../contracts/metrics';
import type { RefreshHandlerName } from '../contracts/workflow';
import type { PreparationTarget } from '../domain/refresh';
import { createRefreshService } from '../wiring/refresh';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const config = loadRefreshConfig(process.env);
const service = createRefreshService({
  ...config,
  exposure: new EventBridgeExposureEvents(),
  onEcrError: (operation, error) => {
    metrics.addMetric(METRIC.EcrErrors, MetricUnit.Count, 1);
    logger.warn('ECR call failed', { operation, errorName: (error as Error).name });
  },
});

/** Logs and counts the exposure a record announced, or failed to (the verdict is stored either way). */
function countExposure(record: RefreshRecord): void {
  if (!record.exposure) return;
  if (record.exposure.failed) {
    metrics.addMetric(METRIC.ExposureEventFailures, MetricUnit.Count, 1);
    logger.error('exposure not announced', { digest: record.digest, reason: record.exposure.failed });
  } else {
    metrics.addMetric(METRIC.ExposureEvents, MetricUnit.Count, 1);
    logger.warn('exposure announced', { digest: record.digest, workloads: record.exposure.workloads });
  }
}

async function refreshTarget(target: RefreshTarget): Promise<RefreshRecord[]> {
  const records = await service.refresh(target);
  for (const record of records) {
    logger.info('refreshed', { action: record.action, keys: record.keys, digest: record.digest });
    countExposure(record);
    if (record.action === 'written') {
      metrics.addMetric(
        METRIC.EventToVerdictLag,
        MetricUnit.Milliseconds,
        Date.now() - Date.parse(target.eventTime),
      );
    }
  }
  return records;
}

/**
 * A redelivered event (same EventBridge id) does no work twice for an image; the conditional write
 * stays the guard against out-of-order events.
 */
const idempotency = new IdempotencyConfig({
  eventKeyJmesPath: '[registryId, region, repositoryName, digest, eventId]',
  expiresAfterSeconds: 3600,
});
const idempotentRefresh = config.idempotencyTableName
  ? makeIdempotent(refreshTarget, {
      persistenceStore: idempotencyStore(config.idempotencyTableName),
      config: idempotency,
    })
  : refreshTarget;

/** Publishes only what a task stored: most tasks emit no metric, and an empty flush only warns. */
function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** A task's handler: the Lambda context on every log line, the keys it appended dropped after. */
function task<I, O>(
  work: (input: I, context: Context) => Promise<O>,
): (input: I, context: Context) => Promise<O> {
  class Task implements LambdaInterface {
    @logger.injectLambdaContext({ resetKeys: true })
    async handler(input: I, context: Context): Promise<O> {
      return work(input, context);
    }
  }
  const bound = new Task();
  return bound.handler.bind(bound);
}

export const plan = task(async (event: unknown) => {
  const plan = service.plan(parseRefreshEvent(event));
  logger.info('plan', { kind: plan.kind, eventTime: plan.eventTime });
  return plan;
});

export const refresh = task((target: RefreshTarget, context: Context) => {
  // Lets an in-progress record expire with the invocation, should the function time out.
  idempotency.registerLambdaContext(context);
  return idempotentRefresh(target).finally(flushMetrics);
});

export const deleteImage = task(async (target: RefreshTarget) => {
  const record = await service.deleteImage(target);
  logger.info('deleted', { keys: record.keys, digest: record.digest });
  return record;
});

export const listTargets = task((request: ListRequest) => service.listTargets(request));

/** The records go to the log; the state machine keeps only a count and the cursor (its payload limit). */
export const rejudge = task(async (request: { cursor?: string }) => {
  const page = await service.rejudge(request);
  for (const record of page.records) {
    logger.info('rejudged', { keys: record.keys, digest: record.digest });
    countExposure(record);
  }
  flushMetrics();
  return { rejudged: page.records.length, ...(page.cursor && { cursor: page.cursor }) };
});

export const recordFailure = task(
  async (input: RefreshTarget & { error?: { Error?: string; Cause?: string } }) => {
    const record = service.recordFailure(input);
    metrics.addMetric(METRIC.RefreshFailures, MetricUnit.Count, 1);
    logger.error('refresh failed', { ...record, cause: input.error?.Cause });
    flushMetrics();
    return record;
  },
);

export const prepare = task(async (target: PreparationTarget) => {
  const record = await service.prepare(target);
  logger.info('prepared', { ...record });
  return record;
});

// Every task of the workflow's table has its export here (a test holds the ASL file to the same table).
export const TASK_HANDLERS = {
  plan,
  refresh,
  deleteImage,
  listTargets,
  rejudge,
  recordFailure,
  prepare,
} satisfies Record<RefreshHandlerName, unknown>;
