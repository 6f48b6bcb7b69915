/**
 * Builds the refresh workflow's service: live ECR (or a snapshot) and the decision cache on DynamoDB
 * (or in process), with no warm layer. Apart from the admission wiring, so that the admission
 * function's bundle carries none of the workflow's code.
 */
import { EcrFactsSource } from '../adapters/ecr-facts';
import { MemoryDecisionStore } from '../adapters/memory-store';
import { RefreshService } from '../application/refresh-service';
import { STORE_DEFAULTS } from '../contracts/settings';
import type { Claims, DecisionStore } from '../domain/decision-store';
import type { ExposureEvents } from '../domain/exposure';
import type { EcrCatalog } from '../domain/facts';
import type { InventoryStore } from '../domain/inventory';
import type { EcrPreparation } from '../domain/refresh';
import { ecrReads, tableStore, type WiringOptions } from './admission';

/** ECR's writes of the Prepare task (its SDK loaded on the first), with the reads' roles and hooks. */
function ecrPreparation(options: WiringOptions): EcrPreparation {
  let loaded: EcrPreparation | undefined;
  const sdk = (): EcrPreparation => {
    loaded ??= new (
      require('../adapters/ecr-import') as typeof import('../adapters/ecr-import')
    ).EcrSdkPreparation({
      registryRoles: options.policy.registries,
      ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
      ...(options.onEcrError && { onError: options.onEcrError }),
    });
    return loaded;
  };
  return {
    importThroughCache: (...args) => sdk().importThroughCache(...args),
    restoreImage: (...args) => sdk().restoreImage(...args),
  };
}

export interface RefreshWiringOptions extends WiringOptions {
  /** The deployment's region: the registry reconciliation lists. */
  readonly region: string;
  /** A catalog to list instead of live ECR (a registry snapshot). */
  readonly catalog?: EcrCatalog;
  /**
   * Where images that turned denied are announced (the deployed workflow: EventBridge); absent, nothing
   * is. They are looked up in the table's admitted inventory, or in `inventory` (tests, in process).
   */
  readonly exposure?: ExposureEvents;
  readonly inventory?: Pick<InventoryStore, 'listInventory'>;
}

export function createRefreshService(options: RefreshWiringOptions): RefreshService {
  const { tableName } = options;
  const table = tableName ? tableStore({ ...options, tableName }) : undefined;
  const store: DecisionStore & Claims = table
    ? table
    : new MemoryDecisionStore({ ttlMs: (options.cacheTtlSeconds ?? STORE_DEFAULTS.cacheTtlSeconds) * 1000 });
  const live = options.facts && options.catalog ? undefined : ecrReads(options);
  // The Prepare task's writes to ECR, on live ECR only (a snapshot cannot import or restore anything).
  const preparation = options.facts ? undefined : ecrPreparation(options);
  return new RefreshService({
    policy: options.policy,
    facts: options.facts ?? new EcrFactsSource(live as NonNullable<typeof live>, options.now),
    catalog: options.catalog ?? (live as NonNullable<typeof live>),
    store,
    claims: store,
    ...(preparation && { preparation }),
    region: options.region,
    ...(options.exposure && { exposure: options.exposure }),
    ...((options.inventory ?? table) && { inventory: options.inventory ?? table }),
    ...(options.ownAccountId && { ownAccountId: options.ownAccountId }),
    ...(options.now && { now: options.now }),
  });
}
