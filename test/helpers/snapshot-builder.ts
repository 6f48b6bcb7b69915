/**
 * Builders for registry snapshot documents (docs/design.md, "Registry snapshot"): ECR's own API output
 * shapes, as `DescribeRepositories`, `BatchGetRepositoryScanningConfiguration`,
 * `GetRegistryScanningConfiguration`, `DescribeImages`, `DescribeImageScanFindings` and `BatchGetImage`
 * return them. Everything built here is plain JSON, so a case can be served by a local ECR endpoint too.
 */
import { createHash } from 'node:crypto';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const REGION = 'us-east-1';
/** Scans in the builders complete a week before the cases' default clock. */
export const SCANNED_AT = '2026-11-20T10:00:00Z';
export const PUSHED_AT = '2026-11-20T09:58:00Z';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SnapshotDocument {
  registries: RegistryEntry[];
}
export interface RegistryEntry extends JsonObject {
  registryId: string;
  region: string;
  repositories: RepositoryEntry[];
}
export interface RepositoryEntry extends JsonObject {
  repository: JsonObject & { repositoryName: string };
  images: ImageEntry[];
}
export interface ImageEntry extends JsonObject {
  imageDigest: string;
}

/** A valid sha256 digest derived from a name, so a case can name images instead of spelling hashes. */
export function digestOf(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/** The private registry host of an account in a region (China regions live under `.com.cn`). */
export function ecrHost(account = ACCOUNT, region = REGION): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${suffix}`;
}

export function snapshot(...registries: RegistryEntry[]): SnapshotDocument {
  return { registries };
}

// Registry scanning configuration (GetRegistryScanningConfiguration's `scanningConfiguration`).

export type ScanFrequency = 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';

export interface ScanRule {
  scanFrequency: ScanFrequency;
  filters: string[];
}

export function rule(scanFrequency: ScanFrequency, ...filters: string[]): ScanRule {
  return { scanFrequency, filters: filters.length > 0 ? filters : ['*'] };
}

export function registryScanning(scanType: 'BASIC' | 'ENHANCED', ...rules: ScanRule[]): JsonObject {
  return {
    scanType,
    rules: rules.map((r) => ({
      scanFrequency: r.scanFrequency,
      repositoryFilters: r.filters.map((filter) => ({ filter, filterType: 'WILDCARD' })),
    })),
  };
}

export interface RegistryOptions {
  registryId?: string;
  region?: string;
  /**
   * The registry scanning configuration; `null` when it cannot be read (another account's registry).
   * Default: basic scanning with a scan-on-push rule for every repository.
   */
  scanning?: JsonObject | null;
  /** `DescribePullThroughCacheRules` entries (`pullThroughCache` builds one). */
  pullThroughCacheRules?: JsonObject[];
  /** `DescribeRepositoryCreationTemplates` entries (`creationTemplate` builds one). */
  repositoryCreationTemplates?: JsonObject[];
}

/** A pull-through cache rule: repositories named `prefix/...` are imported from the upstream registry. */
export function pullThroughCache(prefix: string, upstreamRegistryUrl = 'registry-1.docker.io'): JsonObject {
  return { ecrRepositoryPrefix: prefix, upstreamRegistryUrl, upstreamRegistry: 'docker-hub' };
}

/** A repository creation template that applies to repositories a pull-through cache creates. */
export function creationTemplate(prefix: string, imageTagMutability: TagMutability): JsonObject {
  return { prefix, appliedFor: ['PULL_THROUGH_CACHE'], imageTagMutability };
}

export function registry(options: RegistryOptions, ...repositories: RepositoryEntry[]): RegistryEntry {
  const registryId = options.registryId ?? ACCOUNT;
  const region = options.region ?? REGION;
  const scanning =
    options.scanning === undefined ? registryScanning('BASIC', rule('SCAN_ON_PUSH')) : options.scanning;
  return {
    registryId,
    region,
    ...(scanning !== null && { scanningConfiguration: scanning }),
    ...(options.pullThroughCacheRules && { pullThroughCacheRules: options.pullThroughCacheRules }),
    ...(options.repositoryCreationTemplates && {
      repositoryCreationTemplates: options.repositoryCreationTemplates,
    }),
    // Recorded output names the registry in every repository; fill it in from the registry.
    repositories: repositories.map((entry) => {
      const name = entry.repository.repositoryName;
      return {
        ...entry,
        repository: {
          repositoryArn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`,
          registryId,
          repositoryUri: `${ecrHost(registryId, region)}/${name}`,
          ...entry.repository,
        },
        ...(entry.scanningConfiguration !== undefined && {
          scanningConfiguration: {
            repositoryArn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`,
            ...(entry.scanningConfiguration as JsonObject),
          },
        }),
        images: entry.images.map((image) => ({ registryId, repositoryName: name, ...image })),
      };
    }),
  };
}

// Repositories (DescribeRepositories entry, plus the BatchGetRepositoryScanningConfiguration entry).

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface RepositoryScanning {
  scanOnPush: boolean;
  scanFrequency: ScanFrequency;
}

export interface RepositoryOptions {
  mutability?: TagMutability;
  exclusionFilters?: string[];
  /** The deprecated repository-level `imageScanningConfiguration.scanOnPush`. Default false. */
  legacyScanOnPush?: boolean;
  /**
   * The effective scanning configuration; `null` when it cannot be read. Default: scanned on push.
   */
  scanning?: RepositoryScanning | null;
}

export const SCANNED_ON_PUSH: RepositoryScanning = { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' };

export function repository(
  name: string,
  options: RepositoryOptions,
  ...images: ImageEntry[]
): RepositoryEntry {
  const scanning = options.scanning === undefined ? SCANNED_ON_PUSH : options.scanning;
  return {
    repository: {
      repositoryName: name,
      createdAt: '2026-01-10T09:00:00Z',
      imageTagMutability: options.mutability ?? 'IMMUTABLE',
      imageTagMutabilityExclusionFilters: (options.exclusionFilters ?? []).map((filter) => ({
        filter,
        filterType: 'WILDCARD',
      })),
      imageScanningConfiguration: { scanOnPush: options.legacyScanOnPush ?? false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    },
    ...(scanning !== null && {
      scanningConfiguration: {
        repositoryName: name,
        scanOnPush: scanning.scanOnPush,
        scanFrequency: scanning.scanFrequency,
        appliedScanFilters:
          scanning.scanFrequency === 'MANUAL' ? [] : [{ filter: '*', filterType: 'WILDCARD' }],
      },
    }),
    images,
  };
}

// Scan results (DescribeImageScanFindings output without nextToken).

export type SeverityName =
  | 'CRITICAL'
  | 'HIGH'
  | 'MEDIUM'
  | 'LOW'
  | 'INFORMATIONAL'
  | 'UNDEFINED'
  | 'UNTRIAGED';

export interface BasicFinding {
  id: string;
  severity: SeverityName;
  /** The `CVSS3_SCORE` and `CVSS2_SCORE` attributes, as ECR writes them (strings). */
  cvss3?: string;
  cvss2?: string;
}

export interface EnhancedFinding {
  id: string;
  severity: SeverityName;
  /** ACTIVE, SUPPRESSED or CLOSED; Inspector counts only active findings. */
  status?: 'ACTIVE' | 'SUPPRESSED' | 'CLOSED';
  fixAvailable?: 'YES' | 'NO' | 'PARTIAL';
  exploitAvailable?: 'YES' | 'NO';
  score?: number;
  /** Default: the scan time. */
  firstObservedAt?: string;
  /** The vulnerable package; default openssl 3.0.13, no fixed version. */
  package?: { name: string; version: string; fixedInVersion?: string };
}

/** An enhanced finding with Inspector's details. */
export function detailedFinding(
  id: string,
  severity: SeverityName,
  details: Omit<EnhancedFinding, 'id' | 'severity'>,
): EnhancedFinding {
  return { id, severity, status: 'ACTIVE', ...details };
}

export function finding(id: string, severity: SeverityName): BasicFinding {
  return { id, severity };
}

export function enhancedFinding(
  id: string,
  severity: SeverityName,
  status: EnhancedFinding['status'] = 'ACTIVE',
): EnhancedFinding {
  return { id, severity, status };
}

/** `count` findings of one severity with numbered ids, to fill pages. */
export function manyFindings(prefix: string, count: number, severity: SeverityName): BasicFinding[] {
  return Array.from({ length: count }, (_, index) => finding(`${prefix}-${index + 1}`, severity));
}

export interface ScanOptions {
  findings?: BasicFinding[];
  enhancedFindings?: EnhancedFinding[];
  /**
   * `findingSeverityCounts`. Default: counted from the findings and the active enhanced findings, as ECR
   * does; `null` leaves the key out.
   */
  counts?: Record<string, number> | null;
  /** `imageScanCompletedAt`; `null` leaves it out. */
  completedAt?: string | number | null;
}

function severityCounts(options: ScanOptions): Record<string, number> {
  const counts: Record<string, number> = {};
  const active = (options.enhancedFindings ?? []).filter((f) => (f.status ?? 'ACTIVE') === 'ACTIVE');
  for (const f of [...(options.findings ?? []), ...active])
    counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}

function scanResult(status: string, options: ScanOptions): JsonObject {
  const counts = options.counts === undefined ? severityCounts(options) : options.counts;
  const completedAt = options.completedAt === undefined ? SCANNED_AT : options.completedAt;
  return {
    imageScanStatus: {
      status,
      description:
        status === 'ACTIVE'
          ? 'Continuous scan is selected for image.'
          : 'The scan was completed successfully.',
    },
    imageScanFindings: {
      ...(completedAt !== null && { imageScanCompletedAt: completedAt }),
      vulnerabilitySourceUpdatedAt: SCANNED_AT,
      ...(counts !== null && { findingSeverityCounts: counts }),
      findings: (options.findings ?? []).map((f) => ({
        name: f.id,
        uri: `https://security-tracker.debian.org/tracker/${f.id}`,
        severity: f.severity,
        attributes: [
          { key: 'package_name', value: 'openssl' },
          ...(f.cvss3 !== undefined ? [{ key: 'CVSS3_SCORE', value: f.cvss3 }] : []),
          ...(f.cvss2 !== undefined ? [{ key: 'CVSS2_SCORE', value: f.cvss2 }] : []),
        ],
      })),
      enhancedFindings: (options.enhancedFindings ?? []).map((f) => ({
        awsAccountId: ACCOUNT,
        findingArn: `arn:aws:inspector2:${REGION}:${ACCOUNT}:finding/${f.id.toLowerCase()}`,
        title: `${f.id} - openssl`,
        type: 'PACKAGE_VULNERABILITY',
        severity: f.severity,
        status: f.status ?? 'ACTIVE',
        firstObservedAt: f.firstObservedAt ?? SCANNED_AT,
        lastObservedAt: SCANNED_AT,
        updatedAt: SCANNED_AT,
        ...(f.score !== undefined && { score: f.score }),
        ...(f.fixAvailable && { fixAvailable: f.fixAvailable }),
        ...(f.exploitAvailable && { exploitAvailable: f.exploitAvailable }),
        packageVulnerabilityDetails: {
          vulnerabilityId: f.id,
          source: 'NVD',
          vulnerablePackages: [
            {
              name: f.package?.name ?? 'openssl',
              version: f.package?.version ?? '3.0.13',
              fixedInVersion: f.package?.fixedInVersion ?? 'NotAvailable',
              packageManager: 'OS',
            },
          ],
        },
      })),
    },
  };
}

/** A finished basic scan (`COMPLETE`). */
export function basicScan(options: ScanOptions = {}): JsonObject {
  return scanResult('COMPLETE', options);
}

/** An enhanced (Inspector) scan, continuously monitored (`ACTIVE`). */
export function enhancedScan(options: ScanOptions = {}): JsonObject {
  return scanResult('ACTIVE', options);
}

/** A scan that has not produced usable findings (IN_PROGRESS, FAILED, ...): status only. */
export function scanWithStatus(status: string): JsonObject {
  return { imageScanStatus: { status, description: `The scan status is ${status}.` } };
}

// Images (DescribeImages entry plus `scan`, and `manifest` for an index).

export interface ImageOptions {
  tags?: string[];
  /** The scan; `null` when the image was never scanned. Default: a clean basic scan. */
  scan?: JsonObject | null;
  mediaType?: string;
  /** `DescribeImages`' `imageStatus`: `ARCHIVED` or `ACTIVATING` (absent: active, as older answers are). */
  imageStatus?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
}

export function image(name: string, options: ImageOptions = {}): ImageEntry {
  const scan = options.scan === undefined ? basicScan() : options.scan;
  return {
    imageDigest: digestOf(name),
    imageTags: options.tags ?? [],
    imageSizeInBytes: 31_457_280,
    imagePushedAt: PUSHED_AT,
    imageManifestMediaType: options.mediaType ?? OCI_MANIFEST,
    ...(options.imageStatus && { imageStatus: options.imageStatus }),
    ...(scan !== null && { scan }),
  };
}

export interface MultiArchOptions {
  tags?: string[];
  /** Platform (`os/arch[/variant]`) to the scan of its image; `null` for a never-scanned image. */
  platforms: Record<string, JsonObject | null>;
  /** Platforms the index lists whose images are not in the repository. */
  missing?: string[];
  /** Platforms whose images are archived in ECR (`imageStatus` ARCHIVED). */
  archived?: string[];
  /** The index's media type: OCI index (default) or Docker manifest list. */
  mediaType?: string;
  /** Whether the index carries a BuildKit attestation manifest (default true). */
  attestation?: boolean;
}

export function platformDigest(name: string, platform: string): string {
  return digestOf(`${name}@${platform}`);
}

function platformObject(platform: string): JsonObject {
  const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
  return { os, architecture, ...(variant !== undefined && { variant }) };
}

/**
 * An image index with its platform images (untagged, each with its own scan) and an attestation
 * manifest (unknown/unknown, never scanned: UNSUPPORTED_IMAGE), as `docker buildx` pushes them.
 * Returns every image entry, the index first, to spread into a repository.
 */
export function multiArch(name: string, options: MultiArchOptions): ImageEntry[] {
  const mediaType = options.mediaType ?? OCI_INDEX;
  const platforms = Object.keys(options.platforms);
  const attestation = options.attestation ?? true;
  const first = platforms[0];
  const childType =
    mediaType === OCI_INDEX ? OCI_MANIFEST : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifests: JsonObject[] = platforms.map((platform) => ({
    mediaType: childType,
    digest: platformDigest(name, platform),
    size: 1234,
    platform: platformObject(platform),
  }));
  if (attestation && first !== undefined) {
    manifests.push({
      mediaType: OCI_MANIFEST,
      digest: digestOf(`${name}@attestation`),
      size: 566,
      annotations: {
        'vnd.docker.reference.digest': platformDigest(name, first),
        'vnd.docker.reference.type': 'attestation-manifest',
      },
      platform: { architecture: 'unknown', os: 'unknown' },
    });
  }
  const index: ImageEntry = {
    ...image(name, { tags: options.tags ?? [], scan: null, mediaType }),
    manifest: JSON.stringify({ schemaVersion: 2, mediaType, manifests }),
  };
  const missing = new Set(options.missing ?? []);
  const children = platforms
    .filter((platform) => !missing.has(platform))
    .map((platform) =>
      image(`${name}@${platform}`, {
        scan: options.platforms[platform] ?? null,
        mediaType: childType,
        ...(options.archived?.includes(platform) && { imageStatus: 'ARCHIVED' as const }),
      }),
    );
  const attestations =
    attestation && first !== undefined
      ? [image(`${name}@attestation`, { scan: scanWithStatus('UNSUPPORTED_IMAGE') })]
      : [];
  return [index, ...children, ...attestations];
}
