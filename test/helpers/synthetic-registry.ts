/**
 * A synthetic registry of thousands of repositories, for the workflow at scale: ECR's catalog and
 * facts, and an in-memory decision store that knows which images are cached without holding
 * hundreds of thousands of entries (MemoryDecisionStore sorts its entries on every page: right for a
 * server, far too slow here). Images are numbered; the cache's state of each is a rule of its number.
 */
import { RefreshService } from '../../src/application/refresh-service';
import type { CachedImage, DecisionStore, ListPage, PutOutcome } from '../../src/domain/decision-store';
import { lookupKey } from '../../src/domain/decision-store';
import type {
  EcrCatalog,
  Facts,
  FactsLookup,
  FactsSource,
  ImageLookup,
  RepositoryKey,
} from '../../src/domain/facts';
import { parsePolicy } from '../../src/domain/policy';
import type { RepositoryScope } from '../../src/domain/refresh';

export interface SyntheticRegistryOptions {
  readonly registryId: string;
  readonly region: string;
  readonly repositories: number;
  readonly imagesPerRepository: number;
  /** Tags of each image of a repository (each about 25 characters). */
  readonly tagsPerImage: (repository: number) => number;
  /** How many of a repository's images (its first ones) the cache lacks. */
  readonly missing: (repository: number) => number;
  /** How many of its next images the cache holds close to expiry. */
  readonly expiring: (repository: number) => number;
  readonly now: Date;
}

const PAGE = 100;
/** ECR's DescribeRepositories page size, as src/adapters/ecr-sdk.ts asks for. */
const REPOSITORY_PAGE = 50;

export class SyntheticRegistry implements FactsSource {
  /** Keys written by the workflow (then cached and fresh). */
  readonly written = new Set<string>();
  private readonly nowSeconds: number;

  constructor(private readonly options: SyntheticRegistryOptions) {
    this.nowSeconds = Math.floor(options.now.getTime() / 1000);
  }

  private key(repository: number): RepositoryKey {
    const { registryId, region } = this.options;
    return { registryId, region, repositoryName: `team-${String(repository).padStart(5, '0')}/service` };
  }

  private indexOf(name: string): number {
    return Number(/^team-(\d+)\//.exec(name)?.[1] ?? Number.NaN);
  }

  private digest(repository: number, image: number): string {
    return `sha256:${repository.toString(16).padStart(8, '0')}${image.toString(16).padStart(56, '0')}`;
  }

  private imageOf(digest: string): number {
    return Number.parseInt(digest.slice(7 + 8), 16);
  }

  private tags(repository: number, image: number): string[] {
    return Array.from(
      { length: this.options.tagsPerImage(repository) },
      (_, t) => `release-2026.${image}.${t}-build.${repository}`,
    );
  }

  /** Epoch seconds the image's entry expires, or undefined when the cache lacks it. */
  private expiresAt(repository: number, image: number): number | undefined {
    const key = lookupKey({ ...this.key(repository), digest: this.digest(repository, image) });
    if (this.written.has(key)) return this.nowSeconds + 7 * 86_400;
    const missing = this.options.missing(repository);
    if (image < missing) return undefined;
    if (image < missing + this.options.expiring(repository)) return this.nowSeconds + 3600;
    return this.nowSeconds + 6 * 86_400;
  }

  private facts(repository: number, image: number): Facts {
    return {
      repository: {
        ...this.key(repository),
        imageTagMutability: 'IMMUTABLE',
        tagMutabilityExclusionFilters: [],
        legacyScanOnPush: true,
      },
      image: {
        digest: this.digest(repository, image),
        tags: this.tags(repository, image),
        pushedAt: '2026-11-20T09:00:00Z',
        scan: { status: 'COMPLETE', completedAt: '2026-11-20T10:00:00Z', severityCounts: {}, findings: [] },
      },
      gatheredAt: this.options.now.toISOString(),
    };
  }

  private cached(repository: number, image: number): CachedImage | undefined {
    const expiresAt = this.expiresAt(repository, image);
    return expiresAt === undefined ? undefined : { facts: this.facts(repository, image), expiresAt };
  }

  private async listRepositories(cursor?: string) {
    const start = Number(cursor ?? 0);
    const end = Math.min(this.options.repositories, start + REPOSITORY_PAGE);
    return {
      items: Array.from({ length: end - start }, (_, i) => this.key(start + i)),
      ...(end < this.options.repositories && { cursor: String(end) }),
    };
  }

  /** The catalog's and the store's views of one synthetic registry, as the service's two ports. */
  get catalog(): EcrCatalog {
    return {
      listRepositories: (_registryId, _region, cursor) => this.listRepositories(cursor),
      listImages: async (key, cursor) => {
        const repository = this.indexOf(key.repositoryName);
        const start = Number(cursor ?? 0);
        const end = Math.min(this.options.imagesPerRepository, start + PAGE);
        return {
          items: Array.from({ length: end - start }, (_, i) => ({
            digest: this.digest(repository, start + i),
            tags: this.tags(repository, start + i),
          })),
          ...(end < this.options.imagesPerRepository && { cursor: String(end) }),
        };
      },
    };
  }

  get store(): DecisionStore {
    return {
      getMany: (lookups) => this.getMany(lookups),
      put: (entry) => this.put(entry),
      deleteImage: async () => [],
      listImages: (scope, cursor) => this.listCached(scope, cursor),
      updateVerdict: async () => true,
    };
  }

  // FactsSource

  async lookup(image: ImageLookup): Promise<FactsLookup> {
    const repository = this.indexOf(image.repositoryName);
    if (!(repository < this.options.repositories) || !image.digest) return { status: 'image-not-found' };
    return { status: 'found', facts: this.facts(repository, this.imageOf(image.digest)) };
  }

  // DecisionStore

  private async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    const found = new Map<string, CachedImage>();
    for (const lookup of lookups) {
      if (!lookup.digest) continue;
      const entry = this.cached(this.indexOf(lookup.repositoryName), this.imageOf(lookup.digest));
      if (entry) found.set(lookupKey(lookup), entry);
    }
    return found;
  }

  private async put(entry: CachedImage): Promise<PutOutcome> {
    const key = lookupKey({ ...entry.facts.repository, digest: entry.facts.image.digest });
    this.written.add(key);
    return { written: [key] };
  }

  /** Cached entries in image order; the cursor is the position of the next one. */
  private async listCached(scope: RepositoryScope, cursor?: string): Promise<ListPage> {
    const per = this.options.imagesPerRepository;
    const only = scope.repositoryName === undefined ? undefined : this.indexOf(scope.repositoryName);
    let position = Number(cursor ?? (only === undefined ? 0 : only * per));
    const end = only === undefined ? this.options.repositories * per : (only + 1) * per;
    const entries: CachedImage[] = [];
    while (position < end && entries.length < PAGE) {
      const entry = this.cached(Math.floor(position / per), position % per);
      if (entry) entries.push(entry);
      position += 1;
    }
    return { entries, ...(position < end && { cursor: String(position) }) };
  }
}

/** Where the scale scenario's registry is, and its clock. */
export const SCALE_REGISTRY = {
  registryId: '111122223333',
  region: 'us-east-1',
  now: new Date('2026-11-27T12:00:00Z'),
} as const;

/**
 * The registry the scale test and the bench reconcile: repository 0 holds a page of images of 20 tags
 * each, none cached (the largest page of targets); every tenth repository has one image missing and one
 * close to expiry; the rest are cached and fresh.
 */
export function scaleScenario(repositories: number, imagesPerRepository: number): SyntheticRegistry {
  return new SyntheticRegistry({
    ...SCALE_REGISTRY,
    repositories,
    imagesPerRepository,
    tagsPerImage: (repository) => (repository === 0 ? 20 : 1),
    missing: (repository) => (repository === 0 ? imagesPerRepository : repository % 10 === 0 ? 1 : 0),
    expiring: (repository) => (repository !== 0 && repository % 10 === 0 ? 1 : 0),
  });
}

/** The refresh service over a synthetic registry (its store unless another is given), as deployed. */
export function refreshServiceOver(
  registry: SyntheticRegistry,
  store: DecisionStore = registry.store,
): RefreshService {
  return new RefreshService({
    policy: parsePolicy({}),
    facts: registry,
    catalog: registry.catalog,
    store,
    region: SCALE_REGISTRY.region,
    ownAccountId: SCALE_REGISTRY.registryId,
    now: () => SCALE_REGISTRY.now,
  });
}

/** The reconciliation schedule's event for the scale registry. */
export const RECONCILE_EVENT = {
  version: '0',
  id: 'a7f1c2de-0000-4000-8000-000000000001',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: SCALE_REGISTRY.registryId,
  time: SCALE_REGISTRY.now.toISOString(),
  region: SCALE_REGISTRY.region,
  resources: [
    `arn:aws:events:${SCALE_REGISTRY.region}:${SCALE_REGISTRY.registryId}:rule/ecr-admission-reconcile`,
  ],
  detail: {},
};
