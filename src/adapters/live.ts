/**
 * Wires the admission core to AWS: live ECR facts (through the SDK's default configuration, endpoint
 * overrides included) and the decision cache (DynamoDB behind a warm in-process layer, or in-process
 * only). Shared by the Lambda and the command line's live mode.
 */
import { AdmissionService } from '../application/admission-service';
import { RefreshService } from '../application/refresh-service';
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
class LazyEcrReads implements EcrReads, EcrCatalog {
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

function ecrReads(options: LiveOptions): LazyEcrReads {
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
