/**
 * Builds the refresh workflow's service: live ECR (or a snapshot) and the decision cache on DynamoDB
 * (or in process), with no warm layer. Apart from the admission wiring, so that the admission
 * function's bundle carries none of the workflow's code.
 */
import { EcrFactsSource } from '../adapters/ecr-facts';
import { MemoryDecisionStore } from '../adapters/memory-store';
import { RefreshService } from '../application/refresh-service';
import { STORE_DEFAULTS } from '../contracts/settings';
import type { DecisionStore } from '../domain/decision-store';
import type { EcrCatalog } from '../domain/facts';
import { ecrReads, tableStore, type WiringOptions } from './admission';

export interface RefreshWiringOptions extends WiringOptions {
  /** The deployment's region: the registry reconciliation lists. */
  readonly region: string;
  /** A catalog to list instead of live ECR (a registry snapshot). */
  readonly catalog?: EcrCatalog;
}

export function createRefreshService(options: RefreshWiringOptions): RefreshService {
  const { tableName } = options;
  const store: DecisionStore = tableName
    ? tableStore({ ...options, tableName })
    : new MemoryDecisionStore({ ttlMs: (options.cacheTtlSeconds ?? STORE_DEFAULTS.cacheTtlSeconds) * 1000 });
  const live = options.facts && options.catalog ? undefined : ecrReads(options);
  return new RefreshService({
    policy: options.policy,
    facts: options.facts ?? new EcrFactsSource(live as NonNullable<typeof live>, options.now),
    catalog: options.catalog ?? (live as NonNullable<typeof live>),
    store,
    region: options.region,
    ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
    ...(options.now && { now: options.now }),
  });
}
