/**
 * The decision cache port: facts per image, addressed by digest or by tag, with the verdict the
 * refresh workflow computed from them (kept for reporting; the admission path judges the facts itself
 * with the current policy and clock). Implemented in memory and on DynamoDB.
 */
import type { Facts, ImageLookup } from './facts';
import type { Violation } from './verdict';

export interface StoredVerdict {
  readonly violations: readonly Violation[];
  readonly policyHash: string;
  readonly judgedAt: string;
}

export interface CachedImage {
  readonly facts: Facts;
  readonly verdict?: StoredVerdict;
}

export interface DecisionStore {
  /** Entries found for the lookups, keyed by `lookupKey`. One round trip for all of them. */
  getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>>;
  /** Stores an image under its digest and under each of its tags. */
  put(entry: CachedImage): Promise<void>;
}

/** Repository names hold neither `:` nor `@`, so this key is unambiguous. */
export function lookupKey(lookup: ImageLookup): string {
  const base = `${lookup.registryId}/${lookup.region}/${lookup.repositoryName}`;
  return lookup.digest ? `${base}@${lookup.digest}` : `${base}:${lookup.tag ?? 'latest'}`;
}
