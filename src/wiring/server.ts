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

/**
 * Log lines gathered and written once per turn of the event loop: under load one write carries the
 * lines of many reviews instead of a synchronous write each (stderr is synchronous for files and
 * pipes). Nothing waits long: the lines go out as soon as the turn ends, and at exit.
 */
export function linesPerTurn(stream: NodeJS.WritableStream): DestinationStream {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    stream.write(text);
  };
  process.once('exit', flush);
  return {
    write(line: string) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
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

  // Label children made once: prom-client otherwise checks and hashes the labels on every review.
  const admitted = new Map<string, Counter.Internal>();
  const admissionsOf = (endpoint: string, decision: string, cache: string) => {
    const key = `${endpoint} ${decision} ${cache}`;
    let child = admitted.get(key);
    if (!child) {
      child = admissions.labels(endpoint, decision, cache);
      admitted.set(key, child);
    }
    return child;
  };
  const validateLatency = latency.labels('validate');
  const mutateLatency = latency.labels('mutate');
  const lookupHits = lookups.labels('hit');
  const lookupMisses = lookups.labels('miss');

  return {
    logger,
    hooks: {
      onDecision: (decision, request, ms) => {
        const cache = cacheOutcome(decision);
        const decided = decisionOf(decision);
        admissionsOf('validate', decided, cache).inc();
        validateLatency.observe(ms / 1000);
        if (decision.cacheHits > 0) lookupHits.inc(decision.cacheHits);
        if (decision.cacheMisses > 0) lookupMisses.inc(decision.cacheMisses);
        logger.info(
          {
            uid: request.uid,
            endpoint: 'validate',
            kind: request.kind.kind,
            namespace: request.namespace,
            name: request.name,
            operation: request.operation,
            dryRun: request.dryRun,
            decision: decided,
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
        mutateLatency.observe(ms / 1000);
        admissionsOf('mutate', 'allowed', 'none').inc();
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
