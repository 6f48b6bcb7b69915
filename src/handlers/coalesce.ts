/**
 * The refresh workflow's buffer consumer: a batch of queued EventBridge events (an SQS event source
 * mapping with a batching window) starts one execution per piece of work. Messages whose execution
 * could not be started are reported as batch item failures, and SQS delivers them again.
 */
import type { LambdaInterface } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadCoalesceConfig } from '../adapters/config';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../contracts/metrics';
import { createCoalesceService } from '../wiring/coalesce';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const service = createCoalesceService(loadCoalesceConfig(process.env));

class Coalesce implements LambdaInterface {
  @logger.injectLambdaContext({ resetKeys: true })
  @metrics.logMetrics()
  async handler(event: SQSEvent, _context: Context): Promise<SQSBatchResponse> {
    const report = await service.startExecutions(
      event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
    );
    for (const refused of report.refused) logger.error('event refused', refused);
    for (const failed of report.failed) {
      logger.warn('execution not started', {
        messageId: failed.messageId,
        errorName: (failed.error as Error).name,
      });
    }
    const { executions, refused, failed, ...counts } = report;
    logger.info('coalesced', {
      ...counts,
      executions: executions.length,
      refused: refused.length,
      failed: failed.length,
    });
    metrics.addMetric(METRIC.BufferedEvents, MetricUnit.Count, report.events);
    metrics.addMetric(METRIC.ExecutionsStarted, MetricUnit.Count, executions.length - report.alreadyStarted);
    metrics.addMetric(METRIC.EventsCoalesced, MetricUnit.Count, report.coalesced);
    metrics.addMetric(METRIC.EventsRefused, MetricUnit.Count, refused.length);
    return { batchItemFailures: failed.map(({ messageId }) => ({ itemIdentifier: messageId })) };
  }
}

const bound = new Coalesce();
export const coalesce = bound.handler.bind(bound);
