/**
 * Facts about one image in one ECR repository: what ECR says, normalised once at the adapter boundary
 * (live SDK or snapshot file) into plain, JSON-serialisable data that the decision cache can store.
 */

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

/** Where an image lives: every ECR call and cache key is scoped by all three. */
export interface RepositoryKey {
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
}

/** What to look up: a repository and either a tag or a digest. */
export interface ImageLookup extends RepositoryKey {
  readonly tag?: string;
  readonly digest?: string;
}

export interface RegistryScanRule {
  readonly scanFrequency: string;
  /** WILDCARD repository filters. */
  readonly repositoryFilters: readonly string[];
}

export interface RepositoryFacts extends RepositoryKey {
  readonly imageTagMutability: TagMutability;
  /** WILDCARD filters of the `*_WITH_EXCLUSION` settings. */
  readonly tagMutabilityExclusionFilters: readonly string[];
  /** The deprecated repository-level `imageScanningConfiguration.scanOnPush`. */
  readonly legacyScanOnPush: boolean;
  /** `GetRegistryScanningConfiguration`; absent when it could not be read (another account's registry). */
  readonly registryScanning?: { readonly scanType: string; readonly rules: readonly RegistryScanRule[] };
  /** `BatchGetRepositoryScanningConfiguration`, the effective setting; absent when it could not be read. */
  readonly repositoryScanning?: { readonly scanOnPush: boolean; readonly scanFrequency?: string };
}

export interface Finding {
  /** CVE or finding name (basic `name`, enhanced `packageVulnerabilityDetails.vulnerabilityId`). */
  readonly id: string;
  readonly severity: string;
  /** Enhanced `score`; basic: the `CVSS3_SCORE` attribute, else `CVSS2_SCORE`; absent when it has none. */
  readonly score?: number;
  /** Enhanced `fixAvailable`: `YES`, `NO` or `PARTIAL`. Absent: unknown (basic findings say nothing). */
  readonly fixAvailable?: string;
  /** Enhanced `exploitAvailable`: `YES` or `NO`. Absent: unknown. */
  readonly exploitAvailable?: string;
  /** The vulnerable package (enhanced: its first vulnerable package; basic: `package_name`). */
  readonly package?: string;
  readonly version?: string;
  /** The version that fixes it, where ECR says. */
  readonly fixedInVersion?: string;
  /** ISO time: enhanced `firstObservedAt`; basic: the scan's completion time, carried across rescans. */
  readonly firstObservedAt?: string;
}

export interface ScanFacts {
  /** `imageScanStatus.status`: COMPLETE, ACTIVE, IN_PROGRESS, FAILED, ... */
  readonly status: string;
  readonly description?: string;
  /** ISO time the scan completed. */
  readonly completedAt?: string;
  /** `findingSeverityCounts` as ECR reports them (a missing key is 0). */
  readonly severityCounts: Readonly<Record<string, number>>;
  /** Every active finding on every page, basic and enhanced. */
  readonly findings: readonly Finding[];
}

export interface PlatformImageFacts {
  /** `os/architecture[/variant]`. */
  readonly platform: string;
  readonly digest: string;
  /** False when the index lists an image the repository does not hold. */
  readonly found: boolean;
  /** Set when the platform image cannot be pulled: `ARCHIVED`, or `ACTIVATING` while ECR restores it. */
  readonly imageStatus?: string;
  readonly scan?: ScanFacts;
}

export interface ImageFacts {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly mediaType?: string;
  readonly pushedAt?: string;
  readonly scan?: ScanFacts;
  /** Present for an image index (multi-architecture): the platform images it lists, attestations excluded. */
  readonly platforms?: readonly PlatformImageFacts[];
}

export interface Facts {
  readonly repository: RepositoryFacts;
  readonly image: ImageFacts;
  /** ISO time the facts were read from ECR. */
  readonly gatheredAt: string;
}

/**
 * A pull-through cache rule (`DescribePullThroughCacheRules`): a repository named `prefix/...` (any
 * repository, for the prefix `ROOT`) is created and its image imported from the upstream registry on
 * its first pull, through the registry API.
 */
export interface PullThroughCacheRule {
  readonly prefix: string;
  readonly upstreamRegistryUrl: string;
}

/**
 * A repository creation template (`DescribeRepositoryCreationTemplates`): the settings a repository that
 * ECR creates (`appliedFor`: `PULL_THROUGH_CACHE`, `REPLICATION`, `CREATE_ON_PUSH`) is created with.
 */
export interface CreationTemplate {
  readonly prefix: string;
  readonly appliedFor: readonly string[];
  readonly imageTagMutability: TagMutability;
  readonly tagMutabilityExclusionFilters: readonly string[];
}

/** The prefix that applies to every repository no other prefix names (rules and templates alike). */
export const ROOT_PREFIX = 'ROOT';

/**
 * The rule or template whose prefix names the repository: the longest prefix it is under (ECR appends
 * `/` to every prefix), else the `ROOT` one. None: the repository is under no prefix.
 */
export function longestPrefix<T extends { readonly prefix: string }>(
  entries: readonly T[],
  repositoryName: string,
): T | undefined {
  let best: T | undefined;
  for (const entry of entries) {
    if (entry.prefix === ROOT_PREFIX) continue;
    if (!repositoryName.startsWith(`${entry.prefix}/`)) continue;
    if (!best || entry.prefix.length > best.prefix.length) best = entry;
  }
  return best ?? entries.find((entry) => entry.prefix === ROOT_PREFIX);
}

/**
 * The outcome of a lookup. "Not found" is a fact (denied, never cached); failures are thrown as errors.
 * An image that exists but cannot be pulled (`imageStatus` `ARCHIVED`, or `ACTIVATING` while ECR restores
 * it) is neither: denied with what restores it, and never cached, since a restore can end it any minute.
 */
export type FactsLookup =
  | { readonly status: 'found'; readonly facts: Facts }
  | { readonly status: 'repository-not-found' }
  | { readonly status: 'image-not-found' }
  | { readonly status: 'image-not-active'; readonly digest: string; readonly imageStatus: string }
  /**
   * Not in ECR yet, under a pull-through cache rule: the first pull imports it. `repository` is the
   * existing repository's facts, or, when it does not exist yet, what it will be created with (the
   * creation template `template` names, or ECR's defaults when none applies).
   */
  | {
      readonly status: 'pull-through-pending';
      readonly rule: PullThroughCacheRule;
      readonly repository: RepositoryFacts;
      readonly repositoryExists: boolean;
      readonly template?: string;
    };

/** The facts port: implemented by the live ECR adapter and the registry snapshot adapter. */
export interface FactsSource {
  lookup(image: ImageLookup, signal?: AbortSignal): Promise<FactsLookup>;
}

export interface CatalogPage<T> {
  readonly items: readonly T[];
  readonly cursor?: string;
}

/** Listing a registry for reconciliation: repositories, then the tagged images of each. */
export interface EcrCatalog {
  /** `registryId` absent: the caller's own registry. */
  listRepositories(
    registryId: string | undefined,
    region: string,
    cursor?: string,
  ): Promise<CatalogPage<RepositoryKey>>;
  listImages(key: RepositoryKey, cursor?: string): Promise<CatalogPage<{ digest: string; tags: string[] }>>;
}

export const INDEX_MEDIA_TYPES: readonly string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

export interface IndexEntry {
  readonly digest: string;
  readonly platform: string;
}

/**
 * Reads the platform images an image index lists. A runtime picks a manifest by platform alone (never by
 * annotation), and takes an entry without a platform for any: so only entries whose platform is
 * `unknown/unknown` (attestation manifests, which no node can run) are left out, and an entry without a
 * platform is judged as `unspecified`. Returns undefined when the text is not an index.
 */
export function parseIndexManifest(text: string): IndexEntry[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const manifests = (parsed as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) return undefined;
  const entries: IndexEntry[] = [];
  for (const entry of manifests) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { digest, platform } = entry as {
      digest?: unknown;
      platform?: { os?: unknown; architecture?: unknown; variant?: unknown } | null;
    };
    if (typeof digest !== 'string') continue;
    if (typeof platform !== 'object' || platform === null) {
      entries.push({ digest, platform: 'unspecified' });
      continue;
    }
    const os = typeof platform.os === 'string' ? platform.os : 'unknown';
    const arch = typeof platform.architecture === 'string' ? platform.architecture : 'unknown';
    if (os === 'unknown' && arch === 'unknown') continue;
    const variant = typeof platform.variant === 'string' ? `/${platform.variant}` : '';
    entries.push({ digest, platform: `${os}/${arch}${variant}` });
  }
  return entries;
}

/**
 * Facts read again keep the first-observed time an earlier read of the same image gave each finding
 * (the earliest of the two): a basic finding's only first-observed time is its scan's completion, which
 * a rescan moves forward, so without this a grace period (`countOnly.minAgeDays`) would start again at
 * every rescan. Findings the earlier read did not have keep their own.
 */
export function carryFirstObserved(next: Facts, previous: Facts): Facts {
  if (next.image.digest !== previous.image.digest) return next;
  const carry = (scan: ScanFacts | undefined, before: ScanFacts | undefined): ScanFacts | undefined => {
    if (!scan || !before) return scan;
    const first = new Map<string, string>();
    for (const f of before.findings) {
      const known = first.get(f.id);
      if (f.firstObservedAt && (!known || f.firstObservedAt < known)) first.set(f.id, f.firstObservedAt);
    }
    if (first.size === 0) return scan;
    return {
      ...scan,
      findings: scan.findings.map((f) => {
        const earlier = first.get(f.id);
        return earlier && (!f.firstObservedAt || earlier < f.firstObservedAt)
          ? { ...f, firstObservedAt: earlier }
          : f;
      }),
    };
  };
  const platforms = next.image.platforms?.map((p) => {
    const before = previous.image.platforms?.find((q) => q.digest === p.digest);
    const scan = carry(p.scan, before?.scan);
    return scan ? { ...p, scan } : p;
  });
  const scan = carry(next.image.scan, previous.image.scan);
  return {
    ...next,
    image: { ...next.image, ...(scan && { scan }), ...(platforms && { platforms }) },
  };
}
