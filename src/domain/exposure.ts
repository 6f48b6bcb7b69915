/**
 * Exposure: an image the webhook admitted that the refresh workflow now judges denied (a new finding,
 * a failed scan, a setting or the policy changed). The workflow compares the verdict it stores with
 * the one stored before, and for an image that turned denied, lists where the admitted inventory shows
 * it running and announces it once (docs/design.md, "The exposure event").
 */
import type { StoredVerdict } from './decision-store';
import type { Facts } from './facts';
import { ecrDigestReference } from './image-ref';
import type { InventoryRecord, Owner } from './inventory';
import type { Violation } from './verdict';

/** Workloads named in one event at most: the event stays well within EventBridge's 256 KB. */
export const MAX_EXPOSED_WORKLOADS = 500;

export interface ExposedWorkload {
  readonly cluster: string;
  readonly namespace: string;
  readonly owner: Owner;
  readonly lastAdmittedAt: string;
}

/** The detail of one `Admitted Image Noncompliant` event (src/contracts/events.ts). */
export interface ExposureEvent {
  /** The image by digest, as a Pod would pull it. */
  readonly image: string;
  readonly digest: string;
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly violations: readonly { readonly code: string; readonly message: string }[];
  /** Where the image was admitted, most recently admitted first; at most MAX_EXPOSED_WORKLOADS. */
  readonly workloads: readonly ExposedWorkload[];
  /** Set when more workloads run the image than the event names: how many were left out. */
  readonly workloadsOmitted?: number;
}

/** The exposure port: announces images that turned denied where they run. */
export interface ExposureEvents {
  /** Publishes every event, or rejects (some may have been published). */
  publish(events: readonly ExposureEvent[]): Promise<void>;
}

/** Whether a stored verdict denies (absent: nothing was judged, so nothing was denied). */
export function denies(verdict: Pick<StoredVerdict, 'violations'> | undefined): boolean {
  return verdict !== undefined && verdict.violations.length > 0;
}

/**
 * Whether storing `next` over `previous` turns an image from admitted to denied. An image with no
 * stored verdict counts as admitted: the inventory says whether it was. A redelivered event finds the
 * denying verdict it stored the first time, so it announces nothing again.
 */
export function turnsDenied(
  previous: StoredVerdict | undefined,
  next: Pick<StoredVerdict, 'violations'>,
): boolean {
  return denies(next) && !denies(previous);
}

/**
 * When the violation appeared, to store with a denying verdict: kept from a stored denying verdict
 * (still denied), else now. An admitting verdict carries none, and neither does one that stays denied
 * from before the time was kept (unknown: the continuity guard falls back to the findings).
 */
export function violatingSince(
  previous: StoredVerdict | undefined,
  next: Pick<StoredVerdict, 'violations'>,
  now: Date,
): string | undefined {
  if (!denies(next)) return undefined;
  return denies(previous) ? previous?.violatingSince : now.toISOString();
}

/**
 * The event for an image and the inventory records of its digest; undefined when nothing runs it. A
 * workload admitted under several image spellings is named once, with its latest admission.
 */
export function exposureEvent(
  facts: Facts,
  violations: readonly Violation[],
  records: readonly InventoryRecord[],
): ExposureEvent | undefined {
  const latest = new Map<string, ExposedWorkload>();
  for (const r of records) {
    const key = JSON.stringify([r.cluster, r.namespace, r.owner.kind, r.owner.name]);
    const seen = latest.get(key);
    if (seen && seen.lastAdmittedAt >= r.lastAdmittedAt) continue;
    latest.set(key, {
      cluster: r.cluster,
      namespace: r.namespace,
      owner: { kind: r.owner.kind, name: r.owner.name },
      lastAdmittedAt: r.lastAdmittedAt,
    });
  }
  if (latest.size === 0) return undefined;
  const workloads = [...latest.values()].sort((a, b) => b.lastAdmittedAt.localeCompare(a.lastAdmittedAt));
  const { registryId, region, repositoryName } = facts.repository;
  const omitted = workloads.length - MAX_EXPOSED_WORKLOADS;
  return {
    image: ecrDigestReference(registryId, region, repositoryName, facts.image.digest).raw,
    digest: facts.image.digest,
    registryId,
    region,
    repository: repositoryName,
    violations: violations.map(({ code, message }) => ({ code, message })),
    workloads: workloads.slice(0, MAX_EXPOSED_WORKLOADS),
    ...(omitted > 0 && { workloadsOmitted: omitted }),
  };
}
