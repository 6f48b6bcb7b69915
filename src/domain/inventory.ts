/**
 * The admitted inventory: which image digest the webhook admitted, in which cluster, namespace and
 * owner, first and last. Kept in the decision table under keys of its own (docs/decision-cache.md), so
 * that every place one digest runs can be listed at once (exposure, once a finding appears).
 */
import type { RepositoryKey } from './facts';

/** The cluster of a request that came to a bare path (`/validate`, `/mutate`). */
export const DEFAULT_CLUSTER = 'default';

/** As an EKS cluster name: a letter or digit, then letters, digits, `-` and `_`, 100 at most. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** Why a cluster name cannot be used (it travels in the URL path and in every record's key), or undefined. */
export function clusterNameProblem(name: string): string | undefined {
  return CLUSTER_NAME.test(name)
    ? undefined
    : `cluster name "${name.slice(0, 120)}" is not valid: use letters, digits, "-" and "_", starting with a letter or digit, at most 100 characters`;
}

/**
 * What an admitted object runs under: for a Pod, its controlling owner (`ownerReferences` with
 * `controller: true`, e.g. its ReplicaSet), else the Pod itself; for a workload object, the object.
 */
export interface Owner {
  readonly kind: string;
  readonly name: string;
}

/** One image admitted in one place, with the digest it was judged for. */
export interface AdmittedImage extends RepositoryKey {
  readonly cluster: string;
  readonly namespace: string;
  readonly owner: Owner;
  /** The image as written in the object. */
  readonly image: string;
  readonly digest: string;
}

/** One image admitted in one place, first and last (ISO times): the record as exported (JSON lines). */
export interface AdmittedRecord extends AdmittedImage {
  readonly firstAdmittedAt: string;
  readonly lastAdmittedAt: string;
}

export interface InventoryRecord extends AdmittedRecord {
  /** Epoch seconds after which the record is gone (a configured time after the last admission). */
  readonly expiresAt: number;
}

export interface InventoryPage {
  readonly records: readonly InventoryRecord[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

export interface RecordOutcome {
  /** Whether the store wrote: false when the record was admitted within the refresh interval. */
  readonly written: boolean;
  /** The record's last-admitted time after the call (ISO). */
  readonly lastAdmittedAt: string;
}

/** The inventory port: written on the admission path, listed by digest. */
export interface InventoryStore {
  /**
   * Records an admission at `at`: creates the record (first and last admitted `at`), or moves its
   * last-admitted time to `at` when it is older than `refreshMs`; otherwise writes nothing.
   */
  recordAdmitted(admitted: AdmittedImage, at: Date, refreshMs: number): Promise<RecordOutcome>;
  /** Every live record of one image digest, in key order, a page at a time. */
  listInventory(digest: string, cursor?: string): Promise<InventoryPage>;
  /** The live records of these admissions, keyed by `inventoryKey`: point reads, one round trip. */
  findAdmitted(admitted: readonly AdmittedImage[]): Promise<Map<string, InventoryRecord>>;
}

/**
 * The inventory read back, by digest and by record: what the continuity guard asks (has this owner been
 * admitted this digest before?), answered by the table or, offline, by an exported file.
 */
export interface InventoryReader {
  /** Every record of one image digest, in key order. */
  recordsOf(digest: string): Promise<readonly AdmittedRecord[]>;
  /** The records of these admissions (by their keys: digest, cluster, namespace, owner, image), by key. */
  findAdmitted(admitted: readonly AdmittedImage[]): Promise<ReadonlyMap<string, AdmittedRecord>>;
}

/**
 * The record's key: the prefix, then the digest, then where it runs. Cluster names, namespaces, kinds
 * and object names hold no `/`, and the image as written comes last, so the key is unambiguous; no
 * decision cache key starts with `inventory#` (those start with a registry id).
 */
export const INVENTORY_KEY_PREFIX = 'inventory#';

export function inventoryKey(admitted: AdmittedImage): string {
  const { digest, cluster, namespace, owner, image } = admitted;
  return `${INVENTORY_KEY_PREFIX}${digest}/${cluster}/${namespace}/${owner.kind}/${owner.name}/${image}`;
}

/** Whether a record last admitted at `lastAdmittedMs` (epoch ms; absent: new) is due a write at `at`. */
export function isDue(lastAdmittedMs: number | undefined, at: Date, refreshMs: number): boolean {
  return lastAdmittedMs === undefined || lastAdmittedMs < at.getTime() - refreshMs;
}
