/**
 * A local HTTP endpoint speaking ECR's JSON 1.1 protocol (and STS AssumeRole), served from a registry
 * snapshot, so that the real AWS SDK can be exercised offline. It behaves like ECR where the product
 * depends on it: registry and region scoping, the scanning-configuration APIs answering for the
 * caller's own account only, pagination of findings, modeled errors. It counts what crossed the socket
 * and can inject faults (delay, throttling, access denied).
 *
 * Beside ECR's API it serves the registry API's manifest pull (`GET /v2/<repository>/manifests/<ref>`,
 * the `proxyEndpoint` its GetAuthorizationToken hands out) the way ECR does for a pull-through cache: a
 * repository under a rule's prefix is created (with the creation template that applies) and the image
 * imported from an upstream catalog the test provides. Writes (imports, restores) change the snapshot it
 * serves: set a fresh one to start over.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface RawImage extends Json {
  imageDigest: string;
  imageTags?: string[];
  manifest?: string;
  scan?: {
    imageScanStatus?: Json;
    imageScanFindings?: Json & { findings?: Json[]; enhancedFindings?: Json[] };
  };
}
interface RawRepository {
  repository: Json & { repositoryName: string };
  scanningConfiguration?: Json;
  images?: RawImage[];
}
interface RawRegistry {
  registryId: string;
  region: string;
  scanningConfiguration?: Json;
  /** DescribePullThroughCacheRules entries: `ecrRepositoryPrefix`, `upstreamRegistryUrl`, ... */
  pullThroughCacheRules?: (Json & { ecrRepositoryPrefix: string; upstreamRepositoryPrefix?: string })[];
  /** DescribeRepositoryCreationTemplates entries: `prefix`, `appliedFor`, `imageTagMutability`, ... */
  repositoryCreationTemplates?: (Json & { prefix: string; appliedFor?: string[] })[];
  repositories?: RawRepository[];
}
export interface RawSnapshot {
  registries: RawRegistry[];
}

export interface Faults {
  /** Delay every ECR answer by this many milliseconds. */
  delayMs?: number;
  /** Answer ThrottlingException this many times per operation (Infinity: always). */
  throttle?: number;
  /** BatchGetImage reports this failure code for every image (KmsError, UpstreamUnavailable, ...). */
  manifestFailure?: string;
  /** Answer AccessDeniedException to calls this returns true for. */
  deny?: (operation: string, body: Json, callerAccount: string) => boolean;
  /** Answer InvalidParameterException to calls this returns true for (a parameter the endpoint rejects). */
  rejectParameter?: (operation: string, body: Json) => boolean;
  /** Hold every call open, answering nothing, until the fault is cleared (then the held sockets are cut). */
  hang?: boolean;
  /** Answer every call with this HTTP status and a ServiceUnavailable-style body (a 5xx). */
  serverError?: number;
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean;
  /** Destroy the connection as soon as a call arrives. */
  drop?: boolean;
  /** Registry API pulls (the faults above are the ECR API's): hold every pull open, answering nothing. */
  registryHang?: boolean;
  /** Registry API pulls: answer every pull with this HTTP status and a registry API error body. */
  registryStatus?: number;
}

/** The faults the fault tier injects, one at a time, by name. */
export const ECR_FAULTS: Readonly<Record<string, Faults>> = {
  hang: { hang: true },
  slow: { delayMs: 60_000 },
  throttle: { throttle: Number.POSITIVE_INFINITY },
  '5xx': { serverError: 503 },
  'access denied': { deny: () => true },
  'malformed body': { malformed: true },
  'dropped connection': { drop: true },
};

export interface LocalEcr {
  readonly url: string;
  /** Calls per ECR operation (and `AssumeRole`), counted as they arrived. */
  readonly calls: Map<string, number>;
  totalEcrCalls(): number;
  /** Calls held open by `hang` or `delayMs` right now. */
  held(): number;
  /** Clears every fault and cuts the connections held by one. */
  heal(): void;
  reset(): void;
  setSnapshot(snapshot: RawSnapshot): void;
  faults: Faults;
  /** Images imported through a pull-through cache into this repository (of any registry), by digest. */
  imports(repositoryName: string, digest: string): number;
  /** Every registry API token handed out so far is refused from now on (revoked, or expired early). */
  revokeTokens(): void;
  /** What UpdateImageStorageClass makes of an archived image (LocalEcrOptions.restore, changeable). */
  restore: 'immediate' | 'activating';
  /** Every image restored as ACTIVATING becomes ACTIVE (ECR finishing its restores). */
  finishRestores(): void;
  close(): Promise<void>;
}

export interface LocalEcrOptions {
  /** The account of the default credentials (the caller's own registry). */
  ownAccountId: string;
  /** Findings per page of DescribeImageScanFindings, whatever maxResults asks (to exercise pagination). */
  findingsPageSize?: number;
  /** Entries per page of DescribePullThroughCacheRules and DescribeRepositoryCreationTemplates. */
  registrySettingsPageSize?: number;
  /**
   * The upstream registries' images, by upstream repository name: the name in the registry with the
   * rule's prefix (and the `/` after it) taken off, and its `upstreamRepositoryPrefix` put on
   * (`docker-hub/library/nginx` is `library/nginx` for the prefix `docker-hub`). Imported with their
   * scan, as scan on push would give them.
   */
  upstream?: Record<string, RawImage[]>;
  /** What UpdateImageStorageClass makes of an archived image: ACTIVE at once (default) or ACTIVATING. */
  restore?: 'immediate' | 'activating';
}

/**
 * The environment that points the SDK's default chain at a local ECR (ECR and STS), as the caller's own
 * account (any access key that is not a role's acts as `ownAccountId`).
 */
export function sdkEnvironment(local: Pick<LocalEcr, 'url'>, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_ECR: local.url,
    AWS_ENDPOINT_URL_STS: local.url,
    AWS_ACCESS_KEY_ID: 'AKIDOWN',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: region,
  };
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

class EcrError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function toEpochSeconds(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return Date.parse(value) / 1000;
  return value;
}

function wire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(wire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json).map(([k, v]) => [k, k.endsWith('At') ? toEpochSeconds(v) : wire(v)]),
    );
  }
  return value;
}

/** Credential scope `AKID/date/region/service/aws4_request` gives the region and the caller. */
function signature(req: IncomingMessage): { accessKeyId: string; region: string } {
  const match = /Credential=([^/]+)\/\d+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
  return { accessKeyId: match?.[1] ?? '', region: match?.[2] ?? '' };
}

export async function startLocalEcr(snapshot: RawSnapshot, options: LocalEcrOptions): Promise<LocalEcr> {
  let data = snapshot;
  const calls = new Map<string, number>();
  const throttled = new Map<string, number>();
  const pageSize = options.findingsPageSize ?? 1000;
  const roleKeys = new Map<string, string>();
  /** Registry API passwords handed out by GetAuthorizationToken, and whose they are. */
  const tokens = new Map<string, { account: string; region: string } | undefined>();
  const imported = new Map<string, number>();

  const registry = (registryId: string, region: string) =>
    data.registries.find((r) => r.registryId === registryId && r.region === region);
  const repository = (registryId: string, region: string, name: string) => {
    const found = registry(registryId, region)?.repositories?.find(
      (r) => r.repository.repositoryName === name,
    );
    if (!found) {
      throw new EcrError(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
      );
    }
    return found;
  };
  const image = (repo: RawRepository, id: { imageTag?: string; imageDigest?: string }) =>
    repo.images?.find((i) =>
      id.imageDigest
        ? i.imageDigest === id.imageDigest && (!id.imageTag || (i.imageTags ?? []).includes(id.imageTag))
        : (i.imageTags ?? []).includes(id.imageTag ?? ''),
    );
  /** A registry API reference: a digest (it has a `:`) or a tag. */
  const matchesReference = (i: RawImage, ref: string) =>
    ref.includes(':') ? i.imageDigest === ref : (i.imageTags ?? []).includes(ref);
  /**
   * DescribeImages' filter on `imageStatus`: ACTIVE when absent (the API reference: "If not specified,
   * only images with ACTIVE status are returned"), or one status, or ANY.
   */
  const visible = (i: RawImage, filter: Json | undefined) => {
    const wanted = String(filter?.imageStatus ?? 'ACTIVE');
    return wanted === 'ANY' || String(i.imageStatus ?? 'ACTIVE') === wanted;
  };
  const detail = (registryId: string, repositoryName: string, i: RawImage) => {
    const { manifest: _m, scan: _s, ...rest } = i;
    return { registryId, repositoryName, ...rest };
  };

  /** One page of a registry-level list: `nextToken` is the next entry's index. */
  const settingsPage = (entries: Json[], body: Json, key: string, registryId: string) => {
    const start = Number(body.nextToken ?? 0);
    const size = Math.min(Number(body.maxResults ?? 100), options.registrySettingsPageSize ?? 100);
    return {
      registryId,
      [key]: entries.slice(start, start + size),
      ...(start + size < entries.length && { nextToken: String(start + size) }),
    };
  };

  const operations: Record<string, (body: Json, ctx: { region: string; caller: string }) => Json> = {
    // The registry-level APIs answer for the caller's own registry, whatever `registryId` asks.
    DescribePullThroughCacheRules(body, { region, caller }) {
      const rules = (registry(caller, region)?.pullThroughCacheRules ?? []).map((rule) => ({
        registryId: caller,
        ...rule,
      }));
      const { registryId: _answeredFor, ...page } = settingsPage(
        rules,
        body,
        'pullThroughCacheRules',
        caller,
      );
      return page;
    },
    DescribeRepositoryCreationTemplates(body, { region, caller }) {
      const templates = registry(caller, region)?.repositoryCreationTemplates ?? [];
      return settingsPage(templates, body, 'repositoryCreationTemplates', caller);
    },
    UpdateImageStorageClass(body, { region, caller }) {
      const registryId = String(body.registryId ?? caller);
      const repo = repository(registryId, region, String(body.repositoryName));
      const found = image(repo, body.imageId as Json);
      if (!found) throw new EcrError('ImageNotFoundException', 'The image does not exist');
      const status = String(found.imageStatus ?? 'ACTIVE');
      const target = String(body.targetStorageClass);
      const next =
        target === 'STANDARD' && status === 'ARCHIVED'
          ? local.restore === 'activating'
            ? 'ACTIVATING'
            : 'ACTIVE'
          : target === 'ARCHIVE' && status === 'ACTIVE'
            ? 'ARCHIVED'
            : undefined;
      if (!next) {
        throw new EcrError(
          'ImageStorageClassUpdateNotSupportedException',
          `The image is ${status}: it cannot be moved to ${target}`,
        );
      }
      found.imageStatus = next;
      return {
        registryId,
        repositoryName: repo.repository.repositoryName,
        imageId: { imageDigest: found.imageDigest },
        imageStatus: next,
      };
    },
    GetAuthorizationToken(_body, { region, caller }) {
      const password = `local-${tokens.size + 1}`;
      tokens.set(password, { account: caller, region });
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: new Date(Date.now() + 12 * 3600_000).toISOString(),
            proxyEndpoint: local.url,
          },
        ],
      };
    },
    DescribeRepositories(body, { region, caller }) {
      const registryId = String(body.registryId ?? caller);
      const names = (body.repositoryNames as string[] | undefined) ?? [];
      const all = registry(registryId, region)?.repositories ?? [];
      const repos = names.length > 0 ? names.map((n) => repository(registryId, region, n)) : all;
      const start = Number(body.nextToken ?? 0);
      const max = Number(body.maxResults ?? 1000);
      const page = repos.slice(start, start + max);
      return {
        repositories: page.map((r) => r.repository),
        ...(start + max < repos.length && { nextToken: String(start + max) }),
      };
    },
    DescribeImages(body, { region, caller }) {
      const registryId = String(body.registryId ?? caller);
      const repo = repository(registryId, region, String(body.repositoryName));
      const ids = (body.imageIds as Json[] | undefined) ?? [];
      if (ids.length === 0) {
        const start = Number(body.nextToken ?? 0);
        const max = Number(body.maxResults ?? 100);
        const tagged = (body.filter as Json | undefined)?.tagStatus;
        const images = (repo.images ?? []).filter((i) =>
          !visible(i, body.filter as Json | undefined)
            ? false
            : tagged === 'TAGGED'
              ? (i.imageTags ?? []).length > 0
              : tagged === 'UNTAGGED'
                ? !(i.imageTags ?? []).length
                : true,
        );
        return {
          imageDetails: images
            .slice(start, start + max)
            .map((i) => detail(registryId, repo.repository.repositoryName, i)),
          ...(start + max < images.length && { nextToken: String(start + max) }),
        };
      }
      const found = ids
        .map((id) => image(repo, id))
        .map((i) => (i && visible(i, body.filter as Json) ? i : undefined));
      if (found.some((f) => !f)) {
        throw new EcrError(
          'ImageNotFoundException',
          `The image with imageId ${JSON.stringify(ids[0])} does not exist`,
        );
      }
      return {
        imageDetails: found.map((i) => detail(registryId, repo.repository.repositoryName, i as RawImage)),
      };
    },
    GetRegistryScanningConfiguration(_body, { region, caller }) {
      return {
        registryId: caller,
        scanningConfiguration: registry(caller, region)?.scanningConfiguration ?? {
          scanType: 'BASIC',
          rules: [],
        },
      };
    },
    BatchGetRepositoryScanningConfiguration(body, { region, caller }) {
      const configs: Json[] = [];
      const failures: Json[] = [];
      for (const name of (body.repositoryNames as string[]) ?? []) {
        const repo = registry(caller, region)?.repositories?.find(
          (r) => r.repository.repositoryName === name,
        );
        if (!repo)
          throw new EcrError('RepositoryNotFoundException', `The repository '${name}' does not exist`);
        if (repo.scanningConfiguration) {
          configs.push({
            repositoryArn: `arn:aws:ecr:${region}:${caller}:repository/${name}`,
            ...repo.scanningConfiguration,
          });
        } else {
          failures.push({
            repositoryName: name,
            failureCode: 'REPOSITORY_NOT_FOUND',
            failureReason: 'no configuration',
          });
        }
      }
      return { scanningConfigurations: configs, failures };
    },
    BatchGetImage(body, { region, caller }) {
      const registryId = String(body.registryId ?? caller);
      const repo = repository(registryId, region, String(body.repositoryName));
      const images: Json[] = [];
      const failures: Json[] = [];
      for (const id of (body.imageIds as Json[]) ?? []) {
        const found = image(repo, id);
        if (local.faults.manifestFailure) {
          failures.push({
            imageId: id,
            failureCode: local.faults.manifestFailure,
            failureReason: 'injected',
          });
        } else if (found?.manifest) {
          images.push({
            registryId,
            repositoryName: repo.repository.repositoryName,
            imageId: { imageDigest: found.imageDigest },
            imageManifest: found.manifest,
            imageManifestMediaType: found.imageManifestMediaType,
          });
        } else {
          failures.push({
            imageId: id,
            failureCode: 'ImageNotFound',
            failureReason: 'Requested image not found',
          });
        }
      }
      return { images, failures };
    },
    DescribeImageScanFindings(body, { region, caller }) {
      const registryId = String(body.registryId ?? caller);
      const repo = repository(registryId, region, String(body.repositoryName));
      const found = image(repo, body.imageId as Json);
      if (!found) throw new EcrError('ImageNotFoundException', 'The image does not exist');
      if (!found.scan) {
        throw new EcrError(
          'ScanNotFoundException',
          `Image scan does not exist for the image with '${found.imageDigest}'`,
        );
      }
      const start = Number(body.nextToken ?? 0);
      const findings = found.scan.imageScanFindings?.findings ?? [];
      const enhanced = found.scan.imageScanFindings?.enhancedFindings ?? [];
      const total = Math.max(findings.length, enhanced.length);
      const end = start + pageSize;
      return {
        registryId,
        repositoryName: repo.repository.repositoryName,
        imageId: { imageDigest: found.imageDigest },
        imageScanStatus: found.scan.imageScanStatus,
        ...(found.scan.imageScanFindings && {
          imageScanFindings: {
            ...found.scan.imageScanFindings,
            findings: findings.slice(start, end),
            enhancedFindings: enhanced.slice(start, end),
          },
        }),
        ...(end < total && { nextToken: String(end) }),
      };
    },
  };

  /** A prefix names a repository under it (ECR adds the `/`); `ROOT` names every other one. */
  const under = <T>(entries: T[], prefixOf: (entry: T) => string, name: string): T | undefined => {
    const named = entries
      .filter((e) => prefixOf(e) !== 'ROOT' && name.startsWith(`${prefixOf(e)}/`))
      .sort((a, b) => prefixOf(b).length - prefixOf(a).length);
    return named[0] ?? entries.find((e) => prefixOf(e) === 'ROOT');
  };
  /** The registry's scanning rules as BatchGetRepositoryScanningConfiguration would apply them. */
  const appliedScanning = (reg: RawRegistry, name: string): Json => {
    const rules = (reg.scanningConfiguration?.rules ?? []) as {
      scanFrequency: string;
      repositoryFilters?: Json[];
    }[];
    const matches = (filter: unknown) =>
      new RegExp(
        `^${String(filter)
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ).test(name);
    const rule =
      rules.find(
        (r) => r.scanFrequency === 'CONTINUOUS_SCAN' && r.repositoryFilters?.some((f) => matches(f.filter)),
      ) ?? rules.find((r) => r.repositoryFilters?.some((f) => matches(f.filter)));
    const frequency = rule?.scanFrequency ?? 'MANUAL';
    return { repositoryName: name, scanOnPush: frequency !== 'MANUAL', scanFrequency: frequency };
  };
  /** A repository created by a pull through the cache: with the template for PULL_THROUGH_CACHE, if any. */
  const createCacheRepository = (reg: RawRegistry, name: string): RawRepository => {
    const templates = (reg.repositoryCreationTemplates ?? []).filter((t) =>
      (t.appliedFor ?? []).includes('PULL_THROUGH_CACHE'),
    );
    const template = under(templates, (t) => t.prefix, name);
    const created: RawRepository = {
      repository: {
        repositoryName: name,
        registryId: reg.registryId,
        repositoryArn: `arn:aws:ecr:${reg.region}:${reg.registryId}:repository/${name}`,
        imageTagMutability: template?.imageTagMutability ?? 'MUTABLE',
        ...(template?.imageTagMutabilityExclusionFilters !== undefined && {
          imageTagMutabilityExclusionFilters: template.imageTagMutabilityExclusionFilters,
        }),
        imageScanningConfiguration: { scanOnPush: false },
        createdAt: new Date().toISOString(),
      },
      scanningConfiguration: appliedScanning(reg, name),
      images: [],
    };
    reg.repositories = [...(reg.repositories ?? []), created];
    return created;
  };
  const registryError = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      ...(status === 401 && { 'www-authenticate': 'Basic realm="local-ecr",service="ecr.amazonaws.com"' }),
    });
    res.end(JSON.stringify({ errors: [{ code, message, detail: null }] }));
  };
  /**
   * The image a pull of `name` asks for, imported from the upstream catalog through the rule whose
   * prefix names the repository (created if need be): undefined when no rule applies or the upstream
   * registry has no such image. An index brings the platform images it lists, as a pull of each would.
   */
  const importThroughCache = (reg: RawRegistry, name: string, ref: string): RawImage | undefined => {
    const rule = under(reg.pullThroughCacheRules ?? [], (r) => r.ecrRepositoryPrefix, name);
    if (!rule) return undefined;
    const rest = rule.ecrRepositoryPrefix === 'ROOT' ? name : name.slice(rule.ecrRepositoryPrefix.length + 1);
    const upstreamPrefix = rule.upstreamRepositoryPrefix;
    const upstreamName = upstreamPrefix && upstreamPrefix !== 'ROOT' ? `${upstreamPrefix}/${rest}` : rest;
    const catalog = options.upstream?.[upstreamName] ?? [];
    const source = catalog.find((i) => matchesReference(i, ref));
    if (!source) return undefined;
    const repo =
      reg.repositories?.find((r) => r.repository.repositoryName === name) ?? createCacheRepository(reg, name);
    const importImage = (upstreamImage: RawImage, tag?: string) => {
      const existing = repo.images?.find((i) => i.imageDigest === upstreamImage.imageDigest);
      if (existing) {
        if (tag && !(existing.imageTags ?? []).includes(tag)) {
          existing.imageTags = [...(existing.imageTags ?? []), tag];
        }
        return existing;
      }
      const copy: RawImage = {
        ...structuredClone(upstreamImage),
        imageTags: tag ? [tag] : [],
        imageStatus: 'ACTIVE',
        imagePushedAt: new Date().toISOString(),
      };
      repo.images = [...(repo.images ?? []), copy];
      const id = `${name}@${copy.imageDigest}`;
      imported.set(id, (imported.get(id) ?? 0) + 1);
      return copy;
    };
    const found = importImage(source, ref.includes(':') ? undefined : ref);
    const listed =
      (JSON.parse(found.manifest ?? '{}') as { manifests?: { digest?: string }[] }).manifests ?? [];
    for (const entry of listed) {
      const platform = catalog.find((i) => i.imageDigest === entry.digest);
      if (platform) importImage(platform);
    }
    return found;
  };
  /**
   * `GET /v2/<repository>/manifests/<tag or digest>`, with the Basic token GetAuthorizationToken gave.
   * An image the repository has is pulled; one it does not have, under a pull-through cache rule, is
   * imported first. One it has but not ACTIVE (archived, being restored) is not served: MANIFEST_UNKNOWN
   * stands in for ECR's own answer, which is not modeled.
   */
  const pullManifest = (req: IncomingMessage, res: ServerResponse) => {
    calls.set('RegistryApiPull', (calls.get('RegistryApiPull') ?? 0) + 1);
    if (local.faults.registryHang) {
      holding.add(res);
      res.once('close', () => holding.delete(res));
      return;
    }
    if (local.faults.registryStatus) {
      const status = local.faults.registryStatus;
      registryError(res, status, status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', 'injected');
      return;
    }
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.method === 'GET' ? (req.url ?? '') : '');
    if (!match) return registryError(res, 405, 'UNSUPPORTED', 'only manifest pulls are served');
    const [, name = '', ref = ''] = match;
    const basic = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const [user, password = ''] = Buffer.from(basic, 'base64').toString().split(':');
    const identity = user === 'AWS' ? tokens.get(password) : undefined;
    if (!identity) return registryError(res, 401, 'UNAUTHORIZED', 'authentication required');
    const reg = registry(identity.account, identity.region);
    const repo = reg?.repositories?.find((r) => r.repository.repositoryName === name);
    const held = repo?.images?.find((i) => matchesReference(i, ref));
    const found = held
      ? String(held.imageStatus ?? 'ACTIVE') === 'ACTIVE'
        ? held
        : undefined
      : reg && importThroughCache(reg, name, ref);
    if (!found) {
      return reg?.repositories?.some((r) => r.repository.repositoryName === name)
        ? registryError(res, 404, 'MANIFEST_UNKNOWN', 'Requested image not found')
        : registryError(res, 404, 'NAME_UNKNOWN', `The repository with name '${name}' does not exist`);
    }
    res.writeHead(200, {
      'content-type': String(found.imageManifestMediaType ?? 'application/vnd.oci.image.manifest.v1+json'),
      'docker-content-digest': found.imageDigest,
    });
    res.end(found.manifest ?? JSON.stringify({ schemaVersion: 2 }));
  };

  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/x-amz-json-1.1') => {
    const text = typeof body === 'string' ? body : JSON.stringify(wire(body));
    res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': `local-${Date.now()}` });
    res.end(text);
  };

  const holding = new Set<ServerResponse>();
  const local: LocalEcr = {
    url: '',
    calls,
    faults: {},
    held: () => holding.size,
    restore: options.restore ?? 'immediate',
    revokeTokens: () => {
      for (const password of tokens.keys()) tokens.set(password, undefined);
    },
    imports: (repositoryName, digest) => imported.get(`${repositoryName}@${digest}`) ?? 0,
    finishRestores: () => {
      for (const reg of data.registries)
        for (const repo of reg.repositories ?? [])
          for (const i of repo.images ?? []) if (i.imageStatus === 'ACTIVATING') i.imageStatus = 'ACTIVE';
    },
    heal: () => {
      local.faults = {};
      for (const res of holding) res.destroy();
      holding.clear();
    },
    totalEcrCalls: () =>
      [...calls.entries()].filter(([op]) => op !== 'AssumeRole').reduce((n, [, c]) => n + c, 0),
    reset: () => {
      calls.clear();
      throttled.clear();
      imported.clear();
    },
    setSnapshot: (next) => {
      data = next;
    },
    close: () =>
      new Promise((resolve) => {
        local.heal();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.url?.startsWith('/v2/')) return pullManifest(req, res);
      const text = Buffer.concat(chunks).toString();
      const { accessKeyId, region } = signature(req);
      const target = String(req.headers['x-amz-target'] ?? '');

      if (!target) {
        // STS (query protocol): AssumeRole hands out keys that act as the role's account.
        const params = new URLSearchParams(text);
        calls.set('AssumeRole', (calls.get('AssumeRole') ?? 0) + 1);
        const account = params.get('RoleArn')?.split(':')[4] ?? '';
        const key = `ASIA${account}`;
        roleKeys.set(key, account);
        const expiration = new Date(Date.now() + 3600_000).toISOString();
        send(
          res,
          200,
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${params.get('RoleArn')}/ecr-admission</Arn><AssumedRoleId>AROA:ecr-admission</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></AssumeRoleResponse>`,
          'text/xml',
        );
        return;
      }

      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      calls.set(operation, (calls.get(operation) ?? 0) + 1);
      const caller = roleKeys.get(accessKeyId) ?? options.ownAccountId;
      if (local.faults.drop) {
        req.socket.destroy();
        return;
      }
      if (local.faults.hang) {
        holding.add(res);
        res.once('close', () => holding.delete(res));
        return;
      }
      if (local.faults.serverError) {
        send(res, local.faults.serverError, { __type: 'ServiceUnavailableException', message: 'injected' });
        return;
      }
      if (local.faults.malformed) {
        send(res, 200, '<html>not json at all', 'application/x-amz-json-1.1');
        return;
      }
      try {
        if (local.faults.delayMs) {
          holding.add(res);
          await new Promise((r) => {
            const timer = setTimeout(r, local.faults.delayMs);
            res.once('close', () => {
              clearTimeout(timer);
              r(undefined);
            });
          });
          holding.delete(res);
          if (res.destroyed) return;
        }
        const body = (text ? JSON.parse(text) : {}) as Json;
        const limit = local.faults.throttle ?? 0;
        if ((throttled.get(operation) ?? 0) < limit) {
          throttled.set(operation, (throttled.get(operation) ?? 0) + 1);
          throw new EcrError('ThrottlingException', 'Rate exceeded');
        }
        if (local.faults.deny?.(operation, body, caller)) {
          throw new EcrError(
            'AccessDeniedException',
            `User: arn:aws:iam::${caller}:user/x is not authorized to perform: ecr:${operation}`,
          );
        }
        if (local.faults.rejectParameter?.(operation, body)) {
          throw new EcrError('InvalidParameterException', 'Invalid parameter at filter');
        }
        const handler = operations[operation];
        if (!handler) throw new EcrError('UnknownOperationException', `unknown operation ${operation}`);
        send(res, 200, handler(body, { region, caller }));
      } catch (error) {
        if (error instanceof EcrError)
          send(res, error.status, { __type: error.type, message: error.message });
        else send(res, 500, { __type: 'ServerException', message: String(error) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(local, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return local;
}
