/**
 * Builds the admission service for every entry point (the Lambda, the command line, the HTTPS server):
 * facts from live ECR (the SDK loaded on the first miss) or a registry snapshot, and the decision cache
 * (DynamoDB behind a warm in-process layer, or in process only), and the admitted inventory (in the
 * same table) for the webhook's entry points.
 */
import type { CallTimeouts } from '../adapters/aws-http';
import type { DynamoDecisionStore } from '../adapters/dynamodb-store';
import { EcrFactsSource } from '../adapters/ecr-facts';
import { LazyEcrReads } from '../adapters/ecr-lazy';
import { MemoryDecisionStore } from '../adapters/memory-store';
import { LazyPreparationRequests } from '../adapters/preparation-requests';
import { TieredDecisionStore } from '../adapters/tiered-store';
import { AdmissionService } from '../application/admission-service';
import { InventoryRecorder } from '../application/inventory-recorder';
import { ADMISSION_DEFAULTS, AWS_CALL_TIMEOUTS, INVENTORY_DEFAULTS } from '../contracts/settings';
import type { DecisionStore } from '../domain/decision-store';
import type { FactsSource } from '../domain/facts';
import type { InventoryReader } from '../domain/inventory';
import type { Policy } from '../domain/policy';
import type { PreparationRequests, PreparationTarget } from '../domain/refresh';

/** What every service built here shares: the policy, where the cache lives, the clock, and hooks. */
export interface WiringOptions {
  readonly policy: Policy;
  /** The DynamoDB decision cache; absent: in process only. */
  readonly tableName?: string;
  readonly ownAccountId?: string;
  readonly cacheTtlSeconds?: number;
  readonly now?: () => Date;
  /** A facts source to use instead of live ECR (a registry snapshot). */
  readonly facts?: FactsSource;
  /** Told of every failed ECR call (for metrics and logs). */
  readonly onEcrError?: (operation: string, error: unknown) => void;
}

export interface AdmissionWiringOptions extends WiringOptions {
  readonly deadlineMs?: number;
  readonly cacheReadSharePercent?: number;
  readonly maxLookupsPerReview?: number;
  readonly maxLookupsInFlight?: number;
  readonly warmCacheTtlMs?: number;
  readonly warmCacheMaxEntries?: number;
  readonly onFailure?: (what: string, error: unknown) => void;
  /** Told of a continuity guard's inventory read that failed (the request is judged as ever). */
  readonly onContinuityFailure?: (error: unknown) => void;
  /** Where to ask the workflow to import or restore images (the Lambda: EventBridge); absent: never. */
  readonly preparations?: PreparationRequests;
  readonly onPreparationRequest?: (targets: readonly PreparationTarget[], error?: unknown) => void;
  /**
   * Record what is admitted in the table's admitted inventory (the Lambda; `serve --table`). Needs a
   * table: without one, nothing is recorded. The CLI's `check` and `review` never record.
   */
  readonly inventory?: { readonly ttlSeconds?: number; readonly refreshSeconds?: number };
  readonly onInventoryFailure?: (error: unknown) => void;
  /**
   * The admitted inventory to read back (`review --inventory FILE`: an exported file, offline): what
   * the continuity guard (issue 15, item 3) asks whether an owner was admitted a digest before. Nothing
   * in the service reads it until the guard lands.
   */
  readonly readInventory?: InventoryReader;
}

/** ECR's reads and listings on live ECR, the SDK loaded on first use. */
export function ecrReads(options: WiringOptions): LazyEcrReads {
  return new LazyEcrReads({
    registryRoles: options.policy.registries,
    ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
    ...(options.onEcrError && { onError: options.onEcrError }),
  });
}

export function liveFactsSource(options: WiringOptions): FactsSource {
  return new EcrFactsSource(ecrReads(options), options.now);
}

/**
 * The DynamoDB decision cache, with no warm layer (the refresh workflow's view). Its SDK loads only
 * when a table is named, so that commands on an in-process cache start without it.
 */
export function tableStore(
  options: WiringOptions & { tableName: string; inventoryTtlSeconds?: number },
  timeouts: CallTimeouts = AWS_CALL_TIMEOUTS.dynamodbRefresh,
): DynamoDecisionStore {
  const { DynamoDecisionStore, decisionTableClient } =
    require('../adapters/dynamodb-store') as typeof import('../adapters/dynamodb-store');
  return new DynamoDecisionStore({
    tableName: options.tableName,
    client: decisionTableClient(timeouts),
    ...(options.cacheTtlSeconds && { ttlSeconds: options.cacheTtlSeconds }),
    ...(options.inventoryTtlSeconds && { inventoryTtlSeconds: options.inventoryTtlSeconds }),
  });
}

/** The admission path's cache: a warm in-process layer, over the DynamoDB table when there is one. */
export function admissionStore(options: AdmissionWiringOptions, table?: DynamoDecisionStore): DecisionStore {
  const warm = new MemoryDecisionStore({
    ttlMs: options.warmCacheTtlMs ?? ADMISSION_DEFAULTS.warmCacheTtlSeconds * 1000,
    maxEntries: options.warmCacheMaxEntries ?? ADMISSION_DEFAULTS.warmCacheMaxEntries,
  });
  return table ? new TieredDecisionStore(warm, table) : warm;
}

/**
 * Where the Lambda asks the workflow to prepare images: `Image Preparation Requested` events on the
 * default bus, the EventBridge client loaded on the first ask.
 */
export function workflowPreparations(): PreparationRequests {
  return new LazyPreparationRequests();
}

export function createAdmissionService(options: AdmissionWiringOptions): AdmissionService {
  const { tableName, inventory } = options;
  const table = tableName
    ? tableStore(
        {
          ...options,
          tableName,
          ...(inventory?.ttlSeconds && { inventoryTtlSeconds: inventory.ttlSeconds }),
        },
        AWS_CALL_TIMEOUTS.dynamodb,
      )
    : undefined;
  return new AdmissionService({
    policy: options.policy,
    facts: options.facts ?? liveFactsSource(options),
    store: admissionStore(options, table),
    ...(table &&
      inventory && {
        inventory: new InventoryRecorder({
          store: table,
          refreshMs: (inventory.refreshSeconds ?? INVENTORY_DEFAULTS.refreshSeconds) * 1000,
        }),
      }),
    ...(options.onInventoryFailure && { onInventoryFailure: options.onInventoryFailure }),
    // The continuity guard reads an exported inventory when given one (`--inventory FILE`), else the
    // table's wherever there is a table (reads only).
    ...((options.readInventory ?? table) && { admitted: options.readInventory ?? table }),
    ...(options.onContinuityFailure && { onContinuityFailure: options.onContinuityFailure }),
    ...(options.now && { now: options.now }),
    ...(options.deadlineMs && { deadlineMs: options.deadlineMs }),
    ...(options.cacheReadSharePercent && { cacheReadSharePercent: options.cacheReadSharePercent }),
    ...(options.maxLookupsPerReview && { maxLookupsPerReview: options.maxLookupsPerReview }),
    ...(options.maxLookupsInFlight && { maxLookupsInFlight: options.maxLookupsInFlight }),
    ...(options.onFailure && { onFailure: options.onFailure }),
    ...(options.preparations && { preparations: options.preparations }),
    ...(options.onPreparationRequest && { onPreparationRequest: options.onPreparationRequest }),
  });
}
