/**
 * Gathers the facts about one image from ECR's reads, whatever answers them (the live SDK or a
 * registry snapshot file): the repository, its effective scanning configuration, the image, its scan
 * findings and, for an image index, every platform image it lists.
 */

import { FactsUnavailableError } from '../domain/errors';
import {
  type Facts,
  type FactsLookup,
  type FactsSource,
  type Finding,
  type ImageLookup,
  INDEX_MEDIA_TYPES,
  longestPrefix,
  parseIndexManifest,
  type RepositoryFacts,
  type RepositoryKey,
  type ScanFacts,
} from '../domain/facts';
import type {
  CreationTemplateShape,
  ImageDetailShape,
  PullThroughCacheRuleShape,
  RegistryScanningShape,
  RepositoryScanningShape,
  RepositoryShape,
  ScanShape,
} from './ecr-shapes';

/**
 * The ECR reads the facts need. `undefined` means "does not exist" for the repository, the image, the
 * manifest and the scan, and "could not be read" for the two scanning configurations. Failures throw.
 */
export interface EcrReads {
  describeRepository(key: RepositoryKey, signal?: AbortSignal): Promise<RepositoryShape | undefined>;
  describeImage(
    key: RepositoryKey,
    image: { tag?: string; digest?: string },
    signal?: AbortSignal,
  ): Promise<ImageDetailShape | undefined>;
  registryScanning(
    registryId: string,
    region: string,
    signal?: AbortSignal,
  ): Promise<RegistryScanningShape | undefined>;
  repositoryScanning(key: RepositoryKey, signal?: AbortSignal): Promise<RepositoryScanningShape | undefined>;
  imageManifest(key: RepositoryKey, digest: string, signal?: AbortSignal): Promise<string | undefined>;
  scanFindings(key: RepositoryKey, digest: string, signal?: AbortSignal): Promise<ScanShape | undefined>;
  /** The registry's pull-through cache rules; undefined when they could not be read (another account's). */
  pullThroughCacheRules(
    registryId: string,
    region: string,
    signal?: AbortSignal,
  ): Promise<PullThroughCacheRuleShape[] | undefined>;
  /** The registry's repository creation templates; undefined when they could not be read. */
  repositoryCreationTemplates(
    registryId: string,
    region: string,
    signal?: AbortSignal,
  ): Promise<CreationTemplateShape[] | undefined>;
}

/** A basic finding's score: its `CVSS3_SCORE` attribute, else `CVSS2_SCORE`, else none. */
function basicScore(attributes: ReadonlyMap<string, string>): number | undefined {
  for (const key of ['CVSS3_SCORE', 'CVSS2_SCORE']) {
    const score = Number.parseFloat(attributes.get(key) ?? '');
    if (Number.isFinite(score)) return score;
  }
  return undefined;
}

/** Only what ECR says: an absent or empty value stays absent (unknown), never a guess. */
function present<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null && value !== '';
}

export function toScanFacts(scan: ScanShape | undefined): ScanFacts | undefined {
  if (!scan?.imageScanStatus) return undefined;
  const findings = scan.imageScanFindings;
  const completedAt = findings?.imageScanCompletedAt ?? undefined;
  const basic = (findings?.findings ?? []).map((f): Finding => {
    const attributes = new Map(
      (f.attributes ?? []).flatMap((a) => (present(a.value) ? [[a.key, a.value] as const] : [])),
    );
    const score = basicScore(attributes);
    const name = attributes.get('package_name');
    const version = attributes.get('package_version');
    return {
      id: f.name ?? '',
      severity: f.severity ?? 'UNDEFINED',
      ...(score !== undefined && { score }),
      ...(name && { package: name }),
      ...(version && { version }),
      ...(completedAt && { firstObservedAt: completedAt }),
    };
  });
  const enhanced = (findings?.enhancedFindings ?? [])
    .filter((f) => f.status === undefined || f.status === 'ACTIVE')
    .map((f): Finding => {
      const pkg = f.packageVulnerabilityDetails?.vulnerablePackages?.[0];
      return {
        id: f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? '',
        severity: f.severity ?? 'UNDEFINED',
        ...(present(f.score) && { score: f.score }),
        ...(present(f.fixAvailable) && { fixAvailable: f.fixAvailable }),
        ...(present(f.exploitAvailable) && { exploitAvailable: f.exploitAvailable }),
        ...(present(pkg?.name) && { package: pkg.name }),
        ...(present(pkg?.version) && { version: pkg.version }),
        // Inspector writes `NotAvailable` where no fixed version exists.
        ...(present(pkg?.fixedInVersion) &&
          pkg.fixedInVersion !== 'NotAvailable' && { fixedInVersion: pkg.fixedInVersion }),
        ...(present(f.firstObservedAt) && { firstObservedAt: f.firstObservedAt }),
      };
    });
  return {
    status: scan.imageScanStatus.status,
    ...(scan.imageScanStatus.description && { description: scan.imageScanStatus.description }),
    ...(findings?.imageScanCompletedAt && { completedAt: findings.imageScanCompletedAt }),
    severityCounts: findings?.findingSeverityCounts ?? {},
    findings: [...basic, ...enhanced],
  };
}

export function isIndex(image: ImageDetailShape): boolean {
  const type = image.imageManifestMediaType ?? image.artifactMediaType;
  return type !== undefined && INDEX_MEDIA_TYPES.includes(type);
}

export class EcrFactsSource implements FactsSource {
  constructor(
    private readonly reads: EcrReads,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async lookup(lookup: ImageLookup, signal?: AbortSignal): Promise<FactsLookup> {
    const key: RepositoryKey = {
      registryId: lookup.registryId,
      region: lookup.region,
      repositoryName: lookup.repositoryName,
    };
    const ref = lookup.digest ? { digest: lookup.digest } : { tag: lookup.tag ?? 'latest' };
    const [repository, image, registryScanning, repositoryScanning] = await Promise.all([
      this.reads.describeRepository(key, signal),
      this.reads.describeImage(key, ref, signal),
      this.reads.registryScanning(key.registryId, key.region, signal),
      this.reads.repositoryScanning(key, signal),
    ]);
    if (!repository || !image) {
      const pending = await this.pullThroughPending(
        key,
        repository,
        registryScanning,
        repositoryScanning,
        signal,
      );
      if (pending) return pending;
      return { status: repository ? 'image-not-found' : 'repository-not-found' };
    }
    if (image.imageStatus !== undefined && image.imageStatus !== 'ACTIVE') {
      return { status: 'image-not-active', digest: image.imageDigest, imageStatus: image.imageStatus };
    }

    const index = isIndex(image);
    const [scan, platforms] = await Promise.all([
      index ? undefined : this.reads.scanFindings(key, image.imageDigest, signal),
      index ? this.platformImages(key, image.imageDigest, signal) : undefined,
    ]);

    const scanFacts = toScanFacts(scan);
    const facts: Facts = {
      repository: repositoryFacts(key, repository, registryScanning, repositoryScanning),
      image: {
        digest: image.imageDigest,
        tags: image.imageTags ?? [],
        ...((image.imageManifestMediaType ?? image.artifactMediaType) && {
          mediaType: image.imageManifestMediaType ?? image.artifactMediaType,
        }),
        ...(image.imagePushedAt && { pushedAt: image.imagePushedAt }),
        ...(scanFacts && { scan: scanFacts }),
        ...(platforms && { platforms }),
      },
      gatheredAt: this.now().toISOString(),
    };
    return { status: 'found', facts };
  }

  /**
   * An image not in ECR (yet) under a pull-through cache rule: its first pull imports it. Judged by the
   * repository as it is, or, before it exists, as the creation template that applies will make it. A
   * registry whose rules cannot be read (another account's, without a role) has none, as far as we know.
   */
  private async pullThroughPending(
    key: RepositoryKey,
    repository: RepositoryShape | undefined,
    registryScanning: RegistryScanningShape | undefined,
    repositoryScanning: RepositoryScanningShape | undefined,
    signal?: AbortSignal,
  ): Promise<FactsLookup | undefined> {
    const rules = await this.reads
      .pullThroughCacheRules(key.registryId, key.region, signal)
      .catch(unlessAccessDenied);
    const rule = longestPrefix(
      (rules ?? []).map((r) => ({
        prefix: r.ecrRepositoryPrefix,
        upstreamRegistryUrl: r.upstreamRegistryUrl,
      })),
      key.repositoryName,
    );
    if (!rule) return undefined;
    if (repository) {
      return {
        status: 'pull-through-pending',
        rule,
        repositoryExists: true,
        repository: repositoryFacts(key, repository, registryScanning, repositoryScanning),
      };
    }
    const templates = await this.reads
      .repositoryCreationTemplates(key.registryId, key.region, signal)
      .catch(unlessAccessDenied);
    const template = longestPrefix(
      (templates ?? []).filter((t) => t.appliedFor.includes(PULL_THROUGH_CACHE)),
      key.repositoryName,
    );
    // Without a template, ECR creates the repository with its defaults: mutable tags.
    const created = template ?? {
      imageTagMutability: 'MUTABLE' as const,
      imageTagMutabilityExclusionFilters: [],
    };
    return {
      status: 'pull-through-pending',
      rule,
      repositoryExists: false,
      ...(template && { template: template.prefix }),
      repository: repositoryFacts(
        key,
        {
          imageTagMutability: created.imageTagMutability,
          imageTagMutabilityExclusionFilters: created.imageTagMutabilityExclusionFilters,
        },
        registryScanning,
        undefined,
      ),
    };
  }

  private async platformImages(key: RepositoryKey, digest: string, signal?: AbortSignal) {
    const manifest = await this.reads.imageManifest(key, digest, signal);
    // The index exists (it was just described): a manifest that cannot be had is a failure, not a fact.
    if (manifest === undefined)
      throw new FactsUnavailableError(`the manifest of image index ${digest} could not be read`);
    const entries = parseIndexManifest(manifest) ?? [];
    return Promise.all(
      entries.map(async (entry) => {
        const [child, scan] = await Promise.all([
          this.reads.describeImage(key, { digest: entry.digest }, signal),
          this.reads.scanFindings(key, entry.digest, signal),
        ]);
        const scanFacts = toScanFacts(scan);
        const inactive = child?.imageStatus !== undefined && child.imageStatus !== 'ACTIVE';
        return {
          platform: entry.platform,
          digest: entry.digest,
          found: child !== undefined,
          ...(inactive && { imageStatus: child.imageStatus }),
          ...(scanFacts && { scan: scanFacts }),
        };
      }),
    );
  }
}

/**
 * A registry role of another account made before these reads existed may not allow them: its rules are
 * then unknown (as when no role is configured), and a missing image stays "not found", not a failure.
 */
function unlessAccessDenied(error: unknown): undefined {
  if (error instanceof FactsUnavailableError && error.reason === 'access-denied') return undefined;
  throw error;
}

/** `appliedFor` of a creation template that applies to repositories a pull-through cache creates. */
const PULL_THROUGH_CACHE = 'PULL_THROUGH_CACHE';

/** A repository's facts from ECR's answers: its settings and the scanning configuration in effect. */
function repositoryFacts(
  key: RepositoryKey,
  repository: Pick<RepositoryShape, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'> &
    Partial<Pick<RepositoryShape, 'imageScanningConfiguration'>>,
  registryScanning: RegistryScanningShape | undefined,
  repositoryScanning: RepositoryScanningShape | undefined,
): RepositoryFacts {
  return {
    ...key,
    imageTagMutability: repository.imageTagMutability,
    tagMutabilityExclusionFilters: (repository.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter),
    legacyScanOnPush: repository.imageScanningConfiguration?.scanOnPush ?? false,
    ...(registryScanning && {
      registryScanning: {
        scanType: registryScanning.scanType,
        rules: registryScanning.rules.map((rule) => ({
          scanFrequency: rule.scanFrequency,
          repositoryFilters: rule.repositoryFilters.map((f) => f.filter),
        })),
      },
    }),
    ...(repositoryScanning && {
      repositoryScanning: {
        scanOnPush: repositoryScanning.scanOnPush,
        ...(repositoryScanning.scanFrequency && { scanFrequency: repositoryScanning.scanFrequency }),
      },
    }),
  };
}
