/**
 * The AWS actions each deployed function performs, by what its entry point wires: which decision-store
 * methods, which ECR reads, the idempotency layer. The action lists themselves are the adapters' own
 * constants, declared beside the calls. CDK builds each function's role from this table, and the
 * contract tests (test/contract/iam.test.ts) simulate it against the synthesized roles: an action
 * denied fails, and so does a grant the table does not hold.
 *
 * Not imported by any handler: it loads the ECR adapter, which the admission function loads only on a
 * cache miss.
 */
import { DECISION_TABLE_ACTIONS, type TableActions } from '../adapters/dynamodb-store';
import { ECR_IMPORT_ACTIONS } from '../adapters/ecr-import';
import {
  ECR_ACTIONS,
  ENHANCED_SCANNING_ACTIONS,
  REGISTRY_LEVEL_METHODS,
  REGISTRY_ROLE_ACTIONS,
} from '../adapters/ecr-sdk';
import { EXPOSURE_EVENT_ACTIONS } from '../adapters/exposure-events';
import { IDEMPOTENCY_TABLE_ACTIONS } from '../adapters/idempotency';
import { PREPARATION_REQUEST_ACTIONS } from '../adapters/preparation-events';
import { WORKFLOW_START_ACTIONS } from '../adapters/sfn-starter';
import type { RefreshTask } from '../contracts/workflow';

type StoreMethod = keyof typeof DECISION_TABLE_ACTIONS;
type EcrMethod = keyof typeof ECR_ACTIONS;

/** Everything that gathers one image's facts (EcrFactsSource over EcrReads). */
const FACTS_READS: readonly EcrMethod[] = [
  'describeRepository',
  'describeImage',
  'registryScanning',
  'repositoryScanning',
  'imageManifest',
  'scanFindings',
  'pullThroughCacheRules',
  'repositoryCreationTemplates',
];
/** Reconciliation lists the deployment's own registry (EcrCatalog). */
const CATALOG_READS: readonly EcrMethod[] = ['listRepositories', 'listImages'];
/**
 * What Lambda's event source mapping calls on the buffer queue with the function's role (Lambda
 * developer guide, "Using Lambda with Amazon SQS": the execution role's permissions).
 */
export const BUFFER_CONSUMER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

/** ECR reads on the registry itself: no resource type, so IAM grants them only on `*`. */
const REGISTRY_LEVEL_READS: readonly EcrMethod[] = REGISTRY_LEVEL_METHODS;

/**
 * The Prepare task's ECR writes: a restore (`UpdateImageStorageClass`, then the image's status), and an
 * import through a pull-through cache (a token, then a pull through the registry API that may create the
 * repository and import the image). The token has no resource type: granted on `*`.
 */
const PREPARATION_REPOSITORY_ACTIONS = [...ECR_ACTIONS.restoreImage, ...ECR_IMPORT_ACTIONS.registryApiPull];
const PREPARATION_UNSCOPED_ACTIONS = ECR_IMPORT_ACTIONS.authorizationToken;

export interface FunctionActions {
  /** On the decision table, on its repository index, and on its inventory index. */
  readonly decisionTable: readonly string[];
  readonly decisionIndex: readonly string[];
  readonly inventoryIndex: readonly string[];
  readonly idempotencyTable: readonly string[];
  /** ECR reads on repositories of every registry the policy admits (an image's facts). */
  readonly ecrRepository: readonly string[];
  /** ECR reads on the repositories of the deployment's own registry, in its region (listing). */
  readonly ecrOwnRepository: readonly string[];
  /** Actions without a resource type, granted on `*`: registry-level ECR reads and enhanced scanning. */
  readonly unscoped: readonly string[];
  /** On the roles the policy's `registries` names for other accounts (when it names any). */
  readonly registryRoles: readonly string[];
  /**
   * On the account's default event bus: asking the workflow to import or restore an image, announcing
   * an admitted image that turned denied.
   */
  readonly eventBus: readonly string[];
  /** On the event-driven refresh state machine (starting its executions). */
  readonly refreshStateMachine: readonly string[];
  /** On the buffer queue, for the event source mapping that reads it. */
  readonly buffer: readonly string[];
}

const unique = (items: Iterable<string>): string[] => [...new Set(items)].sort();

function uses(wired: {
  store?: readonly StoreMethod[];
  ecr?: readonly EcrMethod[];
  idempotency?: boolean;
  /** Imports and restores images (the Prepare task). */
  prepares?: boolean;
  /** Asks the workflow to (the admission function). */
  asksPreparations?: boolean;
  /** Announces admitted images that turned denied (exposure events). */
  announcesExposure?: boolean;
  /** Starts the refresh state machine from the buffer's batches. */
  coalesces?: boolean;
}): FunctionActions {
  const store = (wired.store ?? []).map((m): TableActions => DECISION_TABLE_ACTIONS[m]);
  const ecr = (wired.ecr ?? []).filter((m) => !CATALOG_READS.includes(m));
  const catalog = (wired.ecr ?? []).filter((m) => CATALOG_READS.includes(m));
  const readsFindings = ecr.includes('scanFindings');
  return {
    decisionTable: unique(store.flatMap((a) => a.table ?? [])),
    decisionIndex: unique(store.flatMap((a) => a.index ?? [])),
    inventoryIndex: unique(store.flatMap((a) => a.inventoryIndex ?? [])),
    idempotencyTable: wired.idempotency ? unique(IDEMPOTENCY_TABLE_ACTIONS) : [],
    ecrRepository: unique([
      ...ecr.filter((m) => !REGISTRY_LEVEL_READS.includes(m)).flatMap((m) => ECR_ACTIONS[m]),
      ...(wired.prepares ? PREPARATION_REPOSITORY_ACTIONS : []),
    ]),
    ecrOwnRepository: unique(catalog.flatMap((m) => ECR_ACTIONS[m])),
    unscoped: unique([
      ...ecr.filter((m) => REGISTRY_LEVEL_READS.includes(m)).flatMap((m) => ECR_ACTIONS[m]),
      ...(readsFindings ? ENHANCED_SCANNING_ACTIONS : []),
      ...(wired.prepares ? PREPARATION_UNSCOPED_ACTIONS : []),
    ]),
    // Facts are read from other accounts' registries through their roles; listing is own-registry only.
    registryRoles: readsFindings ? unique(REGISTRY_ROLE_ACTIONS) : [],
    eventBus: unique([
      ...(wired.asksPreparations ? PREPARATION_REQUEST_ACTIONS : []),
      ...(wired.announcesExposure ? EXPOSURE_EVENT_ACTIONS : []),
    ]),
    refreshStateMachine: wired.coalesces ? unique(WORKFLOW_START_ACTIONS) : [],
    buffer: wired.coalesces ? unique(BUFFER_CONSUMER_ACTIONS) : [],
  };
}

export type DeployedFunction = 'Admission' | 'Coalesce' | RefreshTask;

export const FUNCTION_ACTIONS: Record<DeployedFunction, FunctionActions> = {
  /**
   * src/wiring/admission.ts: the cache's batched reads and write-through, live facts on a miss, the
   * admitted inventory (its writes, and the continuity guard's point reads).
   */
  Admission: uses({
    store: ['getMany', 'put', 'recordAdmitted', 'findAdmitted'],
    ecr: FACTS_READS,
    asksPreparations: true,
  }),
  /** Parses the event: no AWS call. */
  Plan: uses({}),
  /**
   * Gathers facts and writes them; an image gone from ECR is removed; the repository's cached image
   * indexes are listed (by repository, through the index); idempotency records per event. An image
   * that turned denied is looked up in the admitted inventory (its index) and announced.
   */
  Refresh: uses({
    store: ['getMany', 'put', 'updateVerdict', 'deleteImage', 'listImagesOfRepository', 'listInventory'],
    ecr: FACTS_READS,
    idempotency: true,
    announcesExposure: true,
  }),
  Delete: uses({ store: ['deleteImage'] }),
  /** Pages of the cache (by repository or by scan), or of the own registry with the cache's view of it. */
  ListTargets: uses({
    store: ['getMany', 'listImagesOfRepository', 'listImagesByScan'],
    ecr: CATALOG_READS,
  }),
  /** Judges cached facts again (no ECR call), and announces an image that turned denied, as Refresh. */
  Rejudge: uses({
    store: ['listImagesByScan', 'updateVerdict', 'listInventory'],
    announcesExposure: true,
  }),
  /** Logs and counts: no AWS call. */
  RecordFailure: uses({}),
  /**
   * Claims the image's preparation, looks the image up, and imports it through its pull-through cache
   * rule (a pull through the registry API) or restores it from the archive: the only ECR writes.
   */
  Prepare: uses({ store: ['claim', 'release'], ecr: FACTS_READS, prepares: true }),
  /** src/wiring/coalesce.ts: reads the buffer (through its event source mapping) and starts executions. */
  Coalesce: uses({ coalesces: true }),
};
