/**
 * Builds the admission core from the command line's options: the policy file (or the embedded
 * defaults), facts from a registry snapshot or live ECR, the decision cache in process or on DynamoDB
 * (`--table`), and a fixed clock when `--now` is given.
 */
import { EcrFactsSource } from '../adapters/ecr-facts';
import { loadPolicyFile, loadSnapshotFile } from '../adapters/files';
import { loadInventoryFile } from '../adapters/inventory-lines';
import type { AdmissionService } from '../application/admission-service';
import type { RefreshService } from '../application/refresh-service';
import { ADMISSION_DEFAULTS, IN_PROCESS_CACHE_TTL_SECONDS } from '../contracts/settings';
import { UsageError } from '../domain/errors';
import { type AdmittedRecord, clusterNameProblem } from '../domain/inventory';
import { DEFAULT_POLICY, type Policy } from '../domain/policy';
import { createAdmissionService, tableStore } from './admission';
import { createRefreshService } from './refresh';

export interface CoreOptions {
  readonly policy?: string | undefined;
  readonly snapshot?: string | undefined;
  readonly table?: string | undefined;
  readonly now?: string | undefined;
  /** An exported admitted inventory (JSON lines): what `exposure` judges, what `review` reads offline. */
  readonly inventory?: string | undefined;
}

/** Told of every failure the failure mode answered, or that the cache absorbed (for stderr, logs, metrics). */
export interface CliHooks {
  readonly onFailure?: (what: string, error: unknown) => void;
  readonly onEcrError?: (operation: string, error: unknown) => void;
  readonly onInventoryFailure?: (error: unknown) => void;
  readonly onContinuityFailure?: (error: unknown) => void;
}

/** What only the webhook (`serve`) does: record what it admits in the table's admitted inventory. */
export interface WebhookRole {
  readonly recordsInventory: boolean;
}

export function parseNow(now: string | undefined): (() => Date) | undefined {
  if (now === undefined) return undefined;
  const fixed = new Date(now);
  if (Number.isNaN(fixed.getTime())) {
    throw new UsageError(`--now must be an ISO time such as 2026-11-27T12:00:00Z, not "${now}"`);
  }
  return () => fixed;
}

/** The admission service, with the policy and clock it was built with. */
export interface JudgingCore {
  readonly service: AdmissionService;
  readonly policy: Policy;
  readonly now: () => Date;
}

export function buildAdmissionService(
  options: CoreOptions,
  hooks: CliHooks = {},
  role: WebhookRole = { recordsInventory: false },
): AdmissionService {
  return buildJudgingCore(options, hooks, role).service;
}

export function buildJudgingCore(
  options: CoreOptions,
  hooks: CliHooks = {},
  role: WebhookRole = { recordsInventory: false },
): JudgingCore {
  const now = parseNow(options.now);
  const policy = options.policy ? loadPolicyFile(options.policy) : DEFAULT_POLICY;
  const facts = options.snapshot ? new EcrFactsSource(loadSnapshotFile(options.snapshot), now) : undefined;
  // Read (and refused, exit 2, when bad) before anything is judged.
  const readInventory = options.inventory ? loadInventoryFile(options.inventory) : undefined;
  const service = createAdmissionService({
    policy,
    ...(options.table && { tableName: options.table }),
    ...(facts && { facts }),
    ...(now && { now }),
    warmCacheTtlMs:
      (options.table ? ADMISSION_DEFAULTS.warmCacheTtlSeconds : IN_PROCESS_CACHE_TTL_SECONDS) * 1000,
    ...(hooks.onFailure && { onFailure: hooks.onFailure }),
    ...(hooks.onEcrError && { onEcrError: hooks.onEcrError }),
    ...(hooks.onInventoryFailure && { onInventoryFailure: hooks.onInventoryFailure }),
    ...(hooks.onContinuityFailure && { onContinuityFailure: hooks.onContinuityFailure }),
    // Only in a table: an inventory in process would die with it, unread.
    ...(role.recordsInventory && options.table && { inventory: {} }),
    ...(readInventory && { readInventory }),
  });
  return { service, policy, now: now ?? (() => new Date()) };
}

/** A `--cluster` filter, checked as the webhook checks the name in its URL. */
export function parseCluster(cluster: string | undefined): string | undefined {
  const problem = cluster === undefined ? undefined : clusterNameProblem(cluster);
  if (problem) throw new UsageError(`--cluster: ${problem}`);
  return cluster;
}

/**
 * Every record of the table's admitted inventory, a page at a time (a paged scan; the DynamoDB SDK loads
 * only here). Optionally of one cluster.
 */
export async function* tableInventory(tableName: string, cluster?: string): AsyncGenerator<AdmittedRecord> {
  const table = tableStore({ policy: DEFAULT_POLICY, tableName });
  let cursor: string | undefined;
  do {
    const page = await table.scanInventory(cursor);
    for (const { expiresAt: _expiresAt, ...record } of page.records) {
      if (cluster === undefined || record.cluster === cluster) yield record;
    }
    cursor = page.cursor;
  } while (cursor);
}

/**
 * The admitted inventory a command reads: the `--inventory` file, else the `--table`'s (none is a usage
 * error), in where-it-runs order (cluster, namespace, owner, image), whichever the source.
 */
export async function readInventory(
  options: CoreOptions & { readonly cluster?: string | undefined },
): Promise<AdmittedRecord[]> {
  const cluster = parseCluster(options.cluster);
  let records: AdmittedRecord[] = [];
  if (options.inventory) {
    records = loadInventoryFile(options.inventory).records.filter(
      (r) => cluster === undefined || r.cluster === cluster,
    );
  } else if (options.table) {
    for await (const record of tableInventory(options.table, cluster)) records.push(record);
  } else {
    throw new UsageError(
      'the admitted inventory is needed: --table NAME, or --inventory FILE (inventory export)',
    );
  }
  const where = (r: AdmittedRecord) =>
    [r.cluster, r.namespace, r.owner.kind, r.owner.name, r.image, r.digest].join('\u0000');
  return records
    .map((record) => ({ record, key: where(record) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ record }) => record);
}

/** The refresh workflow's tasks for `refresh`: the same facts, cache and policy options as the other commands. */
export function buildRefreshService(
  options: CoreOptions,
  where: { region: string; account?: string | undefined },
): RefreshService {
  const now = parseNow(options.now);
  const policy = options.policy ? loadPolicyFile(options.policy) : DEFAULT_POLICY;
  const snapshot = options.snapshot ? loadSnapshotFile(options.snapshot) : undefined;
  return createRefreshService({
    policy,
    region: where.region,
    ...(where.account && { ownAccountId: where.account }),
    ...(options.table && { tableName: options.table }),
    ...(snapshot && { facts: new EcrFactsSource(snapshot, now), catalog: snapshot }),
    ...(now && { now }),
  });
}

/** The policy a command was given (`--policy`), or the embedded defaults. */
export function loadPolicy(file: string | undefined): Policy {
  return file ? loadPolicyFile(file) : DEFAULT_POLICY;
}
