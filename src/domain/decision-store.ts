/**
 * The decision cache ports: facts per image, addressed by digest or by tag, with the verdict the
 * refresh workflow computed from them (kept for reporting; the admission path judges the facts itself
 * with the current policy and clock). Implemented in memory and on DynamoDB.
 */
import type { Facts, ImageLookup, RepositoryKey } from './facts';
import type { PreparationTarget, RepositoryScope } from './refresh';
import type { Violation } from './verdict';

export interface StoredVerdict {
  readonly violations: readonly Violation[];
  readonly policyHash: string;
  readonly judgedAt: string;
  /**
   * When the workflow first stored a denying verdict for the image (ISO), kept while it stays denied;
   * absent on an admitting verdict, and on entries written before it was kept. The continuity guard's
   * "when the violation appeared" (docs/decision-cache.md).
   */
  readonly violatingSince?: string;
}

export interface CachedImage {
  readonly facts: Facts;
  readonly verdict?: StoredVerdict;
  /** Epoch seconds after which the entry is gone, when the store knows it. */
  readonly expiresAt?: number;
}

/** What the admission path needs: one read for all images of an object, and a write-through. */
export interface DecisionCache {
  /** Entries found for the lookups, keyed by `lookupKey`. One round trip for all of them. */
  getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>>;
  /**
   * `getMany`'s answer when it is at hand in memory (no round trip), else undefined: read without a
   * promise or a deadline timer on every admission a warm process answers.
   */
  getManyAtOnce?(lookups: readonly ImageLookup[]): Map<string, CachedImage> | undefined;
  /** Stores an image under its digest and under each of its tags, unless a newer entry is there. */
  put(entry: CachedImage): Promise<PutOutcome>;
}

export interface PutOutcome {
  /** Keys written; a key whose stored entry was at least as new is left out. */
  readonly written: readonly string[];
}

export interface ListPage {
  /** Digest entries (one per image). */
  readonly entries: readonly CachedImage[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** What the refresh workflow needs besides: deleting, listing, and re-judging in place. */
export interface DecisionStore extends DecisionCache {
  /**
   * Replaces the digest entry and the tag entries that still point at it with tombstones (facts read
   * before the deletion never replace them); returns the keys whose entries were removed.
   */
  deleteImage(repository: RepositoryKey, digest: string, tags: readonly string[]): Promise<string[]>;
  listImages(scope: RepositoryScope, cursor?: string): Promise<ListPage>;
  /** Replaces the stored verdict of an image's entries, if their facts are still the ones judged. */
  updateVerdict(entry: CachedImage, verdict: StoredVerdict): Promise<boolean>;
}

/**
 * Work done once per key for a while, whoever asks and however often (the workflow's preparations: an
 * import or a restore asked for by every replica of a Deployment). Kept in the decision table.
 */
export interface Claims {
  /** True for the first caller within `seconds`; false while an earlier claim holds. */
  claim(key: string, seconds: number): Promise<boolean>;
  /** Gives a claim up (its work failed), so that the next ask tries again. */
  release(key: string): Promise<void>;
}

/** The key an image's preparation is claimed and remembered by: one per action and image. */
export function preparationKey(target: PreparationTarget): string {
  return `${target.action}#${lookupKey(target)}`;
}

/** Repository names hold neither `:` nor `@`, so this key is unambiguous. */
export function lookupKey(lookup: ImageLookup): string {
  const base = `${lookup.registryId}/${lookup.region}/${lookup.repositoryName}`;
  return lookup.digest ? `${base}@${lookup.digest}` : `${base}:${lookup.tag ?? 'latest'}`;
}

export function repositoryKeyOf(facts: Facts): RepositoryKey {
  const { registryId, region, repositoryName } = facts.repository;
  return { registryId, region, repositoryName };
}

/** The keys an image is stored under: its digest first, then each tag. */
export function entryKeys(facts: Facts): { digest: string; tags: { tag: string; key: string }[] } {
  const base = repositoryKeyOf(facts);
  return {
    digest: lookupKey({ ...base, digest: facts.image.digest }),
    tags: facts.image.tags.map((tag) => ({ tag, key: lookupKey({ ...base, tag }) })),
  };
}

/** The newest scan among the image and its platform images; '0' when none completed. */
export function scanTime(facts: Facts): string {
  const times = [
    facts.image.scan?.completedAt,
    ...(facts.image.platforms ?? []).map((p) => p.scan?.completedAt),
  ];
  return (
    times
      .filter((t): t is string => t !== undefined)
      .sort()
      .at(-1) ?? '0'
  );
}

/** What decides whether one entry replaces another under the same key. */
export interface EntryStamp {
  readonly digest: string;
  readonly gatheredAt: string;
  /** The newest completed scan, '0' when none. */
  readonly scanAt: string;
  /** `factsContent`, or a hash of it. */
  readonly content: string;
}

export function entryStamp(facts: Facts, content = factsContent(facts)): EntryStamp {
  return { digest: facts.image.digest, gatheredAt: facts.gatheredAt, scanAt: scanTime(facts), content };
}

/**
 * Whether facts replace the stored entry of a key. The same facts read again only extend its life (a
 * duplicate event changes nothing). Otherwise facts read later win, for a tag as for a digest (a tag
 * moved, or re-tagged back to an older image, points where ECR said last), except that a completed
 * scan never replaces a newer completed scan of the same image (an older scan never overwrites a
 * newer one). A newer read that shows no completed scan (a failed or expired scan) does replace it.
 * The DynamoDB store states the same rule as its condition expression.
 */
export function replacement(stored: EntryStamp, next: EntryStamp): 'replace' | 'extend' | 'keep' {
  if (stored.content === next.content) return 'extend';
  if (next.gatheredAt <= stored.gatheredAt) return 'keep';
  if (next.digest === stored.digest && next.scanAt !== '0' && next.scanAt < stored.scanAt) return 'keep';
  return 'replace';
}

/**
 * What a deleted image's keys hold instead of its facts: a tombstone stamped with the deletion time.
 * Under `replacement` only facts read after the deletion replace it, so a refresh that read ECR before
 * a DELETE but writes after it never brings the deleted image back (docs/decision-cache.md).
 */
export const TOMBSTONE_CONTENT = 'deleted';

export function tombstoneStamp(digest: string, deletedAt: string): EntryStamp {
  return { digest, gatheredAt: deletedAt, scanAt: '0', content: TOMBSTONE_CONTENT };
}

/**
 * What the facts say, without when they were read: two reads of an unchanged image have the same
 * content, so a duplicate event rewrites nothing (it only extends the entry's life).
 */
export function factsContent(facts: Facts): string {
  const { gatheredAt: _readAt, ...content } = facts;
  return JSON.stringify(content);
}

export function inScope(facts: Facts, scope: RepositoryScope): boolean {
  const repo = facts.repository;
  return (
    (scope.registryId === undefined || repo.registryId === scope.registryId) &&
    (scope.region === undefined || repo.region === scope.region) &&
    (scope.repositoryName === undefined || repo.repositoryName === scope.repositoryName)
  );
}
