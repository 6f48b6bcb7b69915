/**
 * Wires the admission core to AWS: live ECR facts (through the SDK's default configuration, endpoint
 * overrides included) and the decision cache (DynamoDB behind a warm in-process layer, or in-process
 * only). Shared by the Lambda and the command line's live mode.
 */
import { AdmissionService } from '../application/admission-service';
import type { DecisionStore } from '../domain/decision-store';
import type { EcrCatalog, FactsSource } from '../domain/facts';
import type { Policy } from '../domain/policy';
import { DynamoDecisionStore, decisionTableClient } from './dynamodb-store';
import { EcrFactsSource, type EcrReads } from './ecr-facts';
import type { EcrSdkOptions, EcrSdkReads } from './ecr-sdk';
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

/**
 * ECR is read only on a cache miss, so its SDK client (and STS, for registry roles) loads on first use
 * instead of at cold start. The admission Lambda ships `./ecr-sdk` as a second file next to its bundle,
 * loaded by this `require` (docs/performance.md); everywhere else it is an ordinary lazy require.
 */
function loadEcrSdk(): typeof import('./ecr-sdk') {
  return require('./ecr-sdk');
}

/** ECR's reads through the SDK, created on the first call. */
export class LazyEcrReads implements EcrReads, EcrCatalog {
  private reads: EcrSdkReads | undefined;

  constructor(private readonly options: EcrSdkOptions) {}

  private get sdk(): EcrSdkReads {
    this.reads ??= new (loadEcrSdk().EcrSdkReads)(this.options);
    return this.reads;
  }

  describeRepository: EcrReads['describeRepository'] = (...args) => this.sdk.describeRepository(...args);
  describeImage: EcrReads['describeImage'] = (...args) => this.sdk.describeImage(...args);
  registryScanning: EcrReads['registryScanning'] = (...args) => this.sdk.registryScanning(...args);
  repositoryScanning: EcrReads['repositoryScanning'] = (...args) => this.sdk.repositoryScanning(...args);
  imageManifest: EcrReads['imageManifest'] = (...args) => this.sdk.imageManifest(...args);
  scanFindings: EcrReads['scanFindings'] = (...args) => this.sdk.scanFindings(...args);
  listRepositories: EcrCatalog['listRepositories'] = (...args) => this.sdk.listRepositories(...args);
  listImages: EcrCatalog['listImages'] = (...args) => this.sdk.listImages(...args);
}

/** ECR's reads and listings on live ECR, the SDK loaded on first use. */
export function ecrReads(options: LiveOptions): LazyEcrReads {
  return new LazyEcrReads({
    registryRoles: options.policy.registries,
    ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
    ...(options.onEcrError && { onError: options.onEcrError }),
  });
}

export function liveFactsSource(options: LiveOptions): FactsSource {
  return new EcrFactsSource(ecrReads(options), options.now);
}

export function decisionStore(options: LiveOptions): DecisionStore {
  const near = new MemoryDecisionStore({
    ttlMs: options.warmCacheTtlMs ?? 30_000,
    maxEntries: options.warmCacheMaxEntries ?? 5_000,
  });
  if (!options.tableName) return near;
  const far = new DynamoDecisionStore({
    tableName: options.tableName,
    client: decisionTableClient(),
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
