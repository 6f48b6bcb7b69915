/**
 * The admission Lambda behind API Gateway (REST v1 or HTTP API v2 proxy events). Configuration is
 * read and validated once at cold start; each request is answered by the webhook's HTTP surface.
 * Powertools' decorators add the Lambda context (request id, cold start) to every log line and publish
 * the metrics once per invocation.
 */
import type { LambdaInterface } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  Context,
} from 'aws-lambda';
import { loadAdmissionConfig } from '../adapters/config';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../contracts/metrics';
import { handleWebhookRequest, toHttpRequest } from '../http/webhook';
import { createAdmissionService, workflowPreparations } from '../wiring/admission';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

// Read and validated once, at cold start: a bad setting fails the cold start with a message naming it.
const service = createAdmissionService({
  ...loadAdmissionConfig(process.env),
  onFailure: (what, error) => {
    logger.warn('answered by the failure mode', { what, error: error as Error });
    metrics.addMetric(METRIC.FactsUnavailable, MetricUnit.Count, 1);
  },
  onInventoryFailure: (error) => {
    logger.warn('admitted inventory not recorded', { error: error as Error });
    metrics.addMetric(METRIC.InventoryWriteFailures, MetricUnit.Count, 1);
  },
  onContinuityFailure: (error) => {
    logger.warn('continuity guard could not read the inventory; judged as ever', { error: error as Error });
    metrics.addMetric(METRIC.ContinuityLookupFailures, MetricUnit.Count, 1);
  },
  onEcrError: (operation, error) => {
    metrics.addMetric(METRIC.EcrErrors, MetricUnit.Count, 1);
    logger.warn('ECR call failed', { operation, errorName: (error as Error).name });
  },
  // Images not imported yet through a pull-through cache, or archived under `archived: restore`.
  preparations: workflowPreparations(),
  onPreparationRequest: (targets, error) => {
    if (error) {
      metrics.addMetric(METRIC.PreparationRequestFailures, MetricUnit.Count, targets.length);
      logger.warn('the workflow could not be asked to prepare images', { targets, error: error as Error });
      return;
    }
    metrics.addMetric(METRIC.PreparationRequests, MetricUnit.Count, targets.length);
    logger.info('asked the workflow to prepare images', { targets });
  },
});

class AdmissionFunction implements LambdaInterface {
  @logger.injectLambdaContext({ resetKeys: true })
  @metrics.logMetrics()
  async handler(
    event: APIGatewayProxyEvent | APIGatewayProxyEventV2,
    _context: Context,
  ): Promise<APIGatewayProxyResult> {
    const started = performance.now();
    try {
      const reply = await handleWebhookRequest(service, toHttpRequest(event), {
        onReview: (request) => logger.appendKeys({ uid: request.uid }),
        onDecision: (decision, request) => {
          const graced = decision.auditAnnotations.continuity !== undefined;
          if (graced) metrics.addMetric(METRIC.ContinuityGraced, MetricUnit.Count, 1);
          const outcome = decision.allowed
            ? decision.violations.length > 0 || graced
              ? METRIC.Warned
              : METRIC.Allowed
            : METRIC.Denied;
          metrics.addMetric(outcome, MetricUnit.Count, 1);
          metrics.addMetric(METRIC.CacheHits, MetricUnit.Count, decision.cacheHits);
          metrics.addMetric(METRIC.CacheMisses, MetricUnit.Count, decision.cacheMisses);
          logger.info('decision', {
            kind: request.kind.kind,
            namespace: request.namespace,
            name: request.name,
            operation: request.operation,
            dryRun: request.dryRun,
            ...decision.auditAnnotations,
          });
        },
        onMutation: (mutation) => {
          metrics.addMetric(METRIC.ImagesPinned, MetricUnit.Count, mutation.pinned.length);
          if (mutation.unresolved.length > 0)
            logger.info('left unpinned', { unresolved: mutation.unresolved });
        },
        onError: (error) => logger.error('review failed', error as Error),
      });
      return { statusCode: reply.statusCode, headers: { ...reply.headers }, body: reply.body };
    } finally {
      metrics.addMetric(METRIC.AdmissionLatency, MetricUnit.Milliseconds, performance.now() - started);
    }
  }
}

const admission = new AdmissionFunction();
export const handler = admission.handler.bind(admission);
