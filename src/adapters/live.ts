/**
 * Wires the admission core to AWS: live ECR facts (through the SDK's default configuration, endpoint
 * overrides included) and the decision cache (DynamoDB behind a warm in-process layer, or in-process
 * only). Shared by the Lambda and the command line's live mode.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AdmissionService } from '../application/admission-service';
import type { DecisionStore } from '../domain/decision-store';
import type { FactsSource } from '../domain/facts';
import type { Policy } from '../domain/policy';
import { DynamoDecisionStore } from './dynamodb-store';
import { EcrFactsSource } from './ecr-facts';
import { EcrSdkReads } from './ecr-sdk';
import { MemoryDecisionStore } from './memory-store';
import { TieredDecisionStore } from './tiered-store';

export interface LiveOptions {
  readonly policy: Policy;
  readonly tableName?: string;
  readonly deadlineMs?: number;
  readonly ownAccountId?: string;
  readonly warmCacheTtlMs?: number;
  readonly warmCacheMaxEntries?: number;
  readonly cacheTtlSeconds?: number;
  readonly now?: () => Date;
  /** A facts source to use instead of live ECR (a registry snapshot). */
  readonly facts?: FactsSource;
  readonly onFailure?: (what: string, error: unknown) => void;
  readonly onEcrError?: (operation: string, error: unknown) => void;
}

export function liveFactsSource(options: LiveOptions): FactsSource {
  return new EcrFactsSource(
    new EcrSdkReads({
      registryRoles: options.policy.registries,
      ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
      ...(options.onEcrError && { onError: options.onEcrError }),
    }),
    options.now,
  );
}

export function decisionStore(options: LiveOptions): DecisionStore {
  const near = new MemoryDecisionStore({
    ttlMs: options.warmCacheTtlMs ?? 30_000,
    maxEntries: options.warmCacheMaxEntries ?? 5_000,
  });
  if (!options.tableName) return near;
  const far = new DynamoDecisionStore({
    tableName: options.tableName,
    client: new DynamoDBClient({}),
    ...(options.cacheTtlSeconds && { ttlSeconds: options.cacheTtlSeconds }),
  });
  return new TieredDecisionStore(near, far);
}

export function createAdmissionService(options: LiveOptions): AdmissionService {
  return new AdmissionService({
    policy: options.policy,
    facts: options.facts ?? liveFactsSource(options),
    store: decisionStore(options),
    ...(options.now && { now: options.now }),
    ...(options.deadlineMs && { deadlineMs: options.deadlineMs }),
    ...(options.onFailure && { onFailure: options.onFailure }),
  });
}
