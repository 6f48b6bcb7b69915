/**
 * Wires the refresh workflow's tasks: live ECR (or a snapshot) and the decision store on DynamoDB (or in
 * process), with no warm layer. Apart from the admission wiring (./live), so that the admission
 * function's bundle carries none of the workflow's code.
 */
import { RefreshService } from '../application/refresh-service';
import type { DecisionStore } from '../domain/decision-store';
import type { EcrCatalog } from '../domain/facts';
import { DynamoDecisionStore, decisionTableClient } from './dynamodb-store';
import { EcrFactsSource } from './ecr-facts';
import { ecrReads, type LazyEcrReads, type LiveOptions } from './live';
import { MemoryDecisionStore } from './memory-store';

export interface RefreshOptions extends LiveOptions {
  /** The deployment's region: the registry reconciliation lists. */
  readonly region: string;
  /** A catalog to list instead of live ECR (a registry snapshot). */
  readonly catalog?: EcrCatalog;
}

/** The refresh workflow's tasks on live ECR (or a snapshot) and DynamoDB (or in process), with no warm layer. */
export function createRefreshService(options: RefreshOptions): RefreshService {
  const reads = options.facts && options.catalog ? undefined : ecrReads(options);
  const store: DecisionStore = options.tableName
    ? new DynamoDecisionStore({
        tableName: options.tableName,
        client: decisionTableClient(),
        ...(options.cacheTtlSeconds && { ttlSeconds: options.cacheTtlSeconds }),
      })
    : new MemoryDecisionStore({ ttlMs: (options.cacheTtlSeconds ?? 7 * 86_400) * 1000 });
  return new RefreshService({
    policy: options.policy,
    facts: options.facts ?? new EcrFactsSource(reads as LazyEcrReads, options.now),
    catalog: options.catalog ?? (reads as LazyEcrReads),
    store,
    region: options.region,
    ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
    ...(options.now && { now: options.now }),
  });
}
