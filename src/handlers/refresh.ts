/**
 * The refresh workflow's Lambda tasks, one export per Task state of statemachine/refresh-decision.asl.json.
 * Each is a thin binding of the RefreshService method of the same name; configuration is read and
 * validated once, at cold start.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { loadRefreshConfig } from '../adapters/config';
import { idempotencyStore } from '../adapters/idempotency';
import type { ListRequest, RefreshRecord, Target } from '../application/refresh-service';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../contracts/metrics';
import { createRefreshService } from '../wiring/refresh';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const config = loadRefreshConfig(process.env);
const service = createRefreshService({
  ...config,
  onEcrError: (operation, error) => {
    metrics.addMetric(METRIC.EcrErrors, MetricUnit.Count, 1);
    logger.warn('ECR call failed', { operation, errorName: (error as Error).name });
  },
});

function published<T>(work: () => Promise<T>): Promise<T> {
  return work().finally(() => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  });
}

export const plan = async (event: unknown) => {
  const result = service.plan(event);
  logger.info('plan', { kind: result.kind, eventTime: result.eventTime });
  return result;
};

async function refreshTarget(target: Target): Promise<RefreshRecord[]> {
  const records = await service.refresh(target);
  for (const record of records) {
    logger.info('refreshed', { action: record.action, keys: record.keys, digest: record.digest });
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

export const refresh = (target: Target, context?: Context) => {
  // Lets an in-progress record expire with the invocation, should the function time out.
  if (context) idempotency.registerLambdaContext(context);
  return published(() => idempotentRefresh(target));
};

export const remove = (target: Target) =>
  published(async () => {
    const record = await service.remove(target);
    logger.info('deleted', { keys: record.keys, digest: record.digest });
    return record;
  });

export const listTargets = (request: ListRequest) => service.listTargets(request);

export const rejudge = (request: { cursor?: string }) => service.rejudge(request);

export const recordFailure = (input: Target & { error?: { Error?: string; Cause?: string } }) =>
  published(async () => {
    const record = service.recordFailure(input);
    metrics.addMetric(METRIC.RefreshFailures, MetricUnit.Count, 1);
    logger.error('refresh failed', { ...record, cause: input.error?.Cause });
    return record;
  });
