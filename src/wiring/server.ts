/**
 * What `serve` adds around the admission core: a JSON request log (pino) and Prometheus metrics
 * (prom-client) on `GET /metrics`, fed by the webhook's hooks and the core's failure reports.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { classifyAwsError } from '../adapters/aws-errors';
import { PROMETHEUS_METRIC, SERVICE_NAME } from '../contracts/metrics';
import type { Decision } from '../domain/admission';
import { describeCause, failureCause } from '../domain/errors';
import type { WebhookHooks } from '../http/webhook';

export interface ServerObservability {
  readonly logger: Logger;
  readonly hooks: WebhookHooks;
  readonly onFailure: (what: string, error: unknown) => void;
  readonly onInventoryFailure: (error: unknown) => void;
  /** The continuity guard could not read the inventory: the Pod was judged without grace. */
  readonly onContinuityFailure: (error: unknown) => void;
  readonly onEcrError: (operation: string, error: unknown) => void;
  metrics(): Promise<{ contentType: string; body: string }>;
}

function cacheOutcome(decision: Decision): 'hit' | 'miss' | 'none' {
  if (decision.cacheMisses > 0) return 'miss';
  return decision.cacheHits > 0 ? 'hit' : 'none';
}

function decisionOf(decision: Decision): string {
  if (decision.exempt !== undefined) return 'exempt';
  return decision.auditAnnotations.decision ?? (decision.allowed ? 'allowed' : 'denied');
}

export function createServerObservability(destination: DestinationStream): ServerObservability {
  const logger = pino(
    { base: { service: SERVICE_NAME }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
  const registry = new Registry();
  const admissions = new Counter({
    name: PROMETHEUS_METRIC.admissions,
    help: 'Admission reviews answered, by decision and cache outcome',
    labelNames: ['endpoint', 'decision', 'cache'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: PROMETHEUS_METRIC.latency,
    help: 'Seconds from a review received to its answer',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const lookups = new Counter({
    name: PROMETHEUS_METRIC.lookups,
    help: 'Images looked up, answered from the decision cache (hit) or gathered from ECR (miss)',
    labelNames: ['cache'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: PROMETHEUS_METRIC.failures,
    help: 'Failures absorbed (cache, inventory) or answered by the failure mode (facts), by cause class',
    labelNames: ['what', 'cause'] as const,
    registers: [registry],
  });
  const ecrErrors = new Counter({
    name: PROMETHEUS_METRIC.ecrErrors,
    help: 'Failed ECR calls after retries, by operation and cause class',
    labelNames: ['operation', 'cause'] as const,
    registers: [registry],
  });
  const pinned = new Counter({
    name: PROMETHEUS_METRIC.pinned,
    help: 'Images the mutating endpoint pinned to a digest',
    registers: [registry],
  });

  return {
    logger,
    hooks: {
      onDecision: (decision, request, ms) => {
        const cache = cacheOutcome(decision);
        admissions.inc({ endpoint: 'validate', decision: decisionOf(decision), cache });
        latency.observe({ endpoint: 'validate' }, ms / 1000);
        if (decision.cacheHits > 0) lookups.inc({ cache: 'hit' }, decision.cacheHits);
        if (decision.cacheMisses > 0) lookups.inc({ cache: 'miss' }, decision.cacheMisses);
        logger.info(
          {
            uid: request.uid,
            endpoint: 'validate',
            kind: request.kind.kind,
            namespace: request.namespace,
            name: request.name,
            operation: request.operation,
            dryRun: request.dryRun,
            decision: decisionOf(decision),
            cache,
            cacheHits: decision.cacheHits,
            cacheMisses: decision.cacheMisses,
            latencyMs: Math.round(ms * 10) / 10,
            ...(decision.auditAnnotations.violations && { violations: decision.auditAnnotations.violations }),
            ...(decision.unverified.length > 0 && {
              unverified: decision.unverified.map((u) => ({
                image: u.image,
                reason: u.reason,
                action: u.action,
              })),
            }),
          },
          'review answered',
        );
      },
      onMutation: (mutation, request, ms) => {
        latency.observe({ endpoint: 'mutate' }, ms / 1000);
        admissions.inc({ endpoint: 'mutate', decision: 'allowed', cache: 'none' });
        pinned.inc(mutation.pinned.length);
        logger.info(
          {
            uid: request.uid,
            endpoint: 'mutate',
            kind: request.kind.kind,
            namespace: request.namespace,
            name: request.name,
            pinned: mutation.pinned.length,
            unresolved: mutation.unresolved,
            latencyMs: Math.round(ms * 10) / 10,
          },
          'review answered',
        );
      },
      onError: (error) => logger.error({ err: error }, 'review failed'),
    },
    onFailure: (what, error) => {
      const cause = failureCause(error);
      const cache = what.startsWith('decision cache');
      failures.inc({ what: cache ? 'cache' : 'facts', cause: cause.reason });
      const said = describeCause(cause, cache ? 'the decision cache (DynamoDB)' : 'ECR');
      logger.warn(
        { what, cause: cause.reason, ...(cause.action && { action: cause.action }), advice: said.advice },
        cache ? 'decision cache unavailable; facts gathered from ECR' : 'answered by the failure mode',
      );
    },
    onInventoryFailure: (error) => {
      const cause = failureCause(error);
      failures.inc({ what: 'inventory', cause: cause.reason });
      logger.warn({ cause: cause.reason }, 'admitted inventory not recorded; the decision stands');
    },
    onContinuityFailure: (error) => {
      const cause = failureCause(error);
      failures.inc({ what: 'continuity', cause: cause.reason });
      logger.warn(
        { cause: cause.reason },
        'admitted inventory not read; judged without the continuity guard',
      );
    },
    onEcrError: (operation, error) => {
      const cause = classifyAwsError(error, 'ecr', operation);
      ecrErrors.inc({ operation, cause: cause.reason });
    },
    metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
