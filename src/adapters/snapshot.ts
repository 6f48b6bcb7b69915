/**
 * The registry snapshot file (docs/design.md, "Registry snapshot"): ECR's own API output, recorded, answering the same reads as
 * the live adapter. Validated on load; a malformed snapshot is a SnapshotError naming what is wrong.
 */
import * as z from 'zod';
import { ACCOUNT_ID, ACCOUNT_ID_MESSAGE, REGION, REGION_MESSAGE } from '../domain/aws-names';
import { SnapshotError } from '../domain/errors';
import type { CatalogPage, EcrCatalog, RepositoryKey } from '../domain/facts';
import { describeIssues } from '../domain/policy';
import type { EcrReads } from './ecr-facts';
import {
  type CreationTemplateShape,
  creationTemplateShape,
  type ImageDetailShape,
  imageDetailShape,
  type PullThroughCacheRuleShape,
  pullThroughCacheRuleShape,
  type RegistryScanningShape,
  type RepositoryScanningShape,
  type RepositoryShape,
  registryScanningShape,
  repositoryScanningShape,
  repositoryShape,
  type ScanShape,
  scanShape,
} from './ecr-shapes';

const snapshotSchema = z.strictObject({
  registries: z.array(
    z.looseObject({
      registryId: z.string().regex(ACCOUNT_ID, ACCOUNT_ID_MESSAGE),
      region: z.string().regex(REGION, REGION_MESSAGE),
      scanningConfiguration: registryScanningShape.optional(),
      // A snapshot says what the registry has: none recorded is none.
      pullThroughCacheRules: z.array(pullThroughCacheRuleShape).default([]),
      repositoryCreationTemplates: z.array(creationTemplateShape).default([]),
      repositories: z
        .array(
          z.looseObject({
            repository: repositoryShape,
            scanningConfiguration: repositoryScanningShape.optional(),
            images: z
              .array(
                imageDetailShape.extend({
                  manifest: z.string().optional(),
                  scan: scanShape.optional(),
                }),
              )
              .default([]),
          }),
        )
        .default([]),
    }),
  ),
});

export type RegistrySnapshot = z.input<typeof snapshotSchema>;

interface SnapshotImage {
  detail: ImageDetailShape;
  manifest?: string;
  scan?: ScanShape;
}

interface SnapshotRepository {
  repository: RepositoryShape;
  scanning?: RepositoryScanningShape;
  byDigest: Map<string, SnapshotImage>;
  byTag: Map<string, SnapshotImage>;
}

interface SnapshotRegistry {
  scanning?: RegistryScanningShape;
  pullThroughCacheRules: PullThroughCacheRuleShape[];
  repositoryCreationTemplates: CreationTemplateShape[];
}

/** Answers ECR's reads from a parsed snapshot, indexed once for constant-time lookups. */
export class SnapshotReads implements EcrReads, EcrCatalog {
  private readonly registries = new Map<string, SnapshotRegistry>();
  private readonly repositories = new Map<string, SnapshotRepository>();

  constructor(document: unknown) {
    const result = snapshotSchema.safeParse(document);
    if (!result.success) throw new SnapshotError(describeIssues(result.error).join('; '));
    for (const registry of result.data.registries) {
      const registryKey = `${registry.registryId}/${registry.region}`;
      this.registries.set(registryKey, {
        ...(registry.scanningConfiguration && { scanning: registry.scanningConfiguration }),
        pullThroughCacheRules: registry.pullThroughCacheRules,
        repositoryCreationTemplates: registry.repositoryCreationTemplates,
      });
      for (const entry of registry.repositories) {
        const repo: SnapshotRepository = {
          repository: entry.repository,
          ...(entry.scanningConfiguration && { scanning: entry.scanningConfiguration }),
          byDigest: new Map(),
          byTag: new Map(),
        };
        for (const image of entry.images) {
          const { manifest, scan, ...detail } = image;
          const stored: SnapshotImage = {
            detail,
            ...(manifest !== undefined && { manifest }),
            ...(scan !== undefined && { scan }),
          };
          repo.byDigest.set(detail.imageDigest, stored);
          for (const tag of detail.imageTags ?? []) repo.byTag.set(tag, stored);
        }
        this.repositories.set(`${registryKey}/${entry.repository.repositoryName}`, repo);
      }
    }
  }

  private repo(key: RepositoryKey): SnapshotRepository | undefined {
    return this.repositories.get(`${key.registryId}/${key.region}/${key.repositoryName}`);
  }

  private image(key: RepositoryKey, digest: string): SnapshotImage | undefined {
    return this.repo(key)?.byDigest.get(digest);
  }

  async describeRepository(key: RepositoryKey) {
    return this.repo(key)?.repository;
  }

  async describeImage(key: RepositoryKey, image: { tag?: string; digest?: string }) {
    const repo = this.repo(key);
    const found = image.digest ? repo?.byDigest.get(image.digest) : repo?.byTag.get(image.tag ?? 'latest');
    return found?.detail;
  }

  async registryScanning(registryId: string, region: string) {
    return this.registries.get(`${registryId}/${region}`)?.scanning;
  }

  async pullThroughCacheRules(registryId: string, region: string) {
    return this.registries.get(`${registryId}/${region}`)?.pullThroughCacheRules;
  }

  async repositoryCreationTemplates(registryId: string, region: string) {
    return this.registries.get(`${registryId}/${region}`)?.repositoryCreationTemplates;
  }

  async repositoryScanning(key: RepositoryKey) {
    return this.repo(key)?.scanning;
  }

  async imageManifest(key: RepositoryKey, digest: string) {
    return this.image(key, digest)?.manifest;
  }

  async scanFindings(key: RepositoryKey, digest: string) {
    return this.image(key, digest)?.scan;
  }

  async listRepositories(registryId: string | undefined, region: string, cursor?: string) {
    const keys = [...this.repositories.keys()]
      .map((id) => {
        const [registry = '', repoRegion = '', ...name] = id.split('/');
        return { registryId: registry, region: repoRegion, repositoryName: name.join('/') };
      })
      .filter((key) => key.region === region && (registryId === undefined || key.registryId === registryId));
    return page(keys, cursor);
  }

  async listImages(key: RepositoryKey, cursor?: string) {
    const images = [...(this.repo(key)?.byDigest.values() ?? [])]
      .filter((image) => (image.detail.imageTags ?? []).length > 0)
      .map((image) => ({ digest: image.detail.imageDigest, tags: [...(image.detail.imageTags ?? [])] }));
    return page(images, cursor);
  }
}

const PAGE = 100;

function page<T>(items: readonly T[], cursor?: string): CatalogPage<T> {
  const start = Number(cursor ?? 0);
  return {
    items: items.slice(start, start + PAGE),
    ...(start + PAGE < items.length && { cursor: String(start + PAGE) }),
  };
}
