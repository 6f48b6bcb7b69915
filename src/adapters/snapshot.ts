/**
 * The registry snapshot file (DESIGN.md): ECR's own API output, recorded, answering the same reads as
 * the live adapter. Validated on load; a malformed snapshot is a SnapshotError naming what is wrong.
 */
import { z } from 'zod';
import type { RepositoryKey } from '../domain/facts';
import { describeIssues } from '../domain/policy';
import type { EcrReads } from './ecr-facts';
import {
  type ImageDetailShape,
  imageDetailShape,
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
      registryId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1'),
      scanningConfiguration: registryScanningShape.optional(),
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

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

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

/** Answers ECR's reads from a parsed snapshot, indexed once for constant-time lookups. */
export class SnapshotReads implements EcrReads {
  private readonly registries = new Map<string, RegistryScanningShape | undefined>();
  private readonly repositories = new Map<string, SnapshotRepository>();

  constructor(document: unknown) {
    const result = snapshotSchema.safeParse(document);
    if (!result.success) throw new SnapshotError(describeIssues(result.error).join('; '));
    for (const registry of result.data.registries) {
      const registryKey = `${registry.registryId}/${registry.region}`;
      this.registries.set(registryKey, registry.scanningConfiguration);
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
    return this.registries.get(`${registryId}/${region}`);
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

  /** Every repository in the snapshot, for reconciliation and the local ECR endpoint in tests. */
  listRepositories(): RepositoryKey[] {
    return [...this.repositories.keys()].map((id) => {
      const [registryId = '', region = '', ...name] = id.split('/');
      return { registryId, region, repositoryName: name.join('/') };
    });
  }
}
