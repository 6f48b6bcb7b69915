/**
 * ECR's reads through the AWS SDK, and the restore of an archived image. Every call targets the
 * registry (`registryId`) and region of the image's host, never the caller's own by default. One client
 * per region (and per cross-account role), kept in a bounded cache (the least recently used is closed
 * first). Every call ends by its own timeouts (connection, request, socket; STS included) and by the
 * caller's abort signal. The registry-level APIs (scanning configurations, pull-through cache rules,
 * creation templates) answer only for the calling account's own registry: another account's registry is
 * read with the role configured for it, or its settings are reported as "could not be read"
 * (undefined), never taken from the caller's registry.
 *
 * Not found is an answer (undefined); every other failure (throttling after retries, access denied,
 * timeouts, server errors) is a FactsUnavailableError whose message holds no AWS error text. A restore
 * ECR will not make, or of an image gone, is a PreparationError (permanent).
 */
import {
  BatchGetImageCommand,
  BatchGetRepositoryScanningConfigurationCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  type ECRClientConfig,
  GetRegistryScanningConfigurationCommand,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { AWS_CALL_TIMEOUTS, MAX_ECR_CLIENTS } from '../contracts/settings';
import { FactsUnavailableError, PreparationError } from '../domain/errors';
import { type EcrCatalog, INDEX_MEDIA_TYPES, type RepositoryKey } from '../domain/facts';
import type { EcrPreparation } from '../domain/refresh';
import { classifyAwsError } from './aws-errors';
import { boundedRequestHandler, type CallTimeouts } from './aws-http';
import type { EcrReads } from './ecr-facts';
import {
  creationTemplateShape,
  imageDetailShape,
  pullThroughCacheRuleShape,
  registryScanningShape,
  repositoryScanningShape,
  repositoryShape,
  type ScanShape,
  scanShape,
} from './ecr-shapes';

/**
 * The IAM actions each method performs, declared here beside the calls so that CDK's grants and the
 * contract tests (test/contract/iam.test.ts) derive from one list.
 */
export const ECR_ACTIONS = {
  describeRepository: ['ecr:DescribeRepositories'],
  describeImage: ['ecr:DescribeImages'],
  registryScanning: ['ecr:GetRegistryScanningConfiguration'],
  repositoryScanning: ['ecr:BatchGetRepositoryScanningConfiguration'],
  imageManifest: ['ecr:BatchGetImage'],
  scanFindings: ['ecr:DescribeImageScanFindings'],
  pullThroughCacheRules: ['ecr:DescribePullThroughCacheRules'],
  repositoryCreationTemplates: ['ecr:DescribeRepositoryCreationTemplates'],
  listRepositories: ['ecr:DescribeRepositories'],
  listImages: ['ecr:DescribeImages'],
  // An image ECR will not move is looked at: already restored (or being restored) is done.
  restoreImage: ['ecr:UpdateImageStorageClass', 'ecr:DescribeImages'],
} as const satisfies Record<EcrSdkMethod, readonly string[]>;

type EcrSdkMethod = keyof EcrReads | keyof EcrCatalog | keyof Pick<EcrPreparation, 'restoreImage'>;

/**
 * The methods whose actions act on the registry itself: no resource type in IAM (the service
 * authorization reference), so they are granted on `*`. Every other method's actions act on a
 * repository. The contract tests hold this list to IAM's own data.
 */
export const REGISTRY_LEVEL_METHODS = [
  'registryScanning',
  'pullThroughCacheRules',
  'repositoryCreationTemplates',
] as const satisfies readonly (keyof typeof ECR_ACTIONS)[];

/**
 * On a registry with Amazon Inspector enhanced scanning, ECR answers scan reads from Inspector with the
 * caller's own permissions: without these, `DescribeImageScanFindings` is denied (ECR user guide, "IAM
 * permissions required for enhanced scanning"). Neither action takes a resource type: granted on `*`.
 */
export const ENHANCED_SCANNING_ACTIONS = ['inspector2:ListFindings', 'inspector2:ListCoverage'] as const;

/** Another account's registry is read with the role the policy's `registries` names for it. */
export const REGISTRY_ROLE_ACTIONS = ['sts:AssumeRole'] as const;

const NOT_FOUND = new Set(['RepositoryNotFoundException', 'ImageNotFoundException', 'ScanNotFoundException']);

/**
 * For a second ask that a registry may not support (an older or partitioned endpoint that rejects the
 * filter): its rejection leaves the first answer standing; every other failure is a failure.
 */
function unlessRejectedParameter(error: unknown): undefined {
  const cause = (error as { cause?: { name?: string } }).cause;
  if (cause?.name === 'InvalidParameterException') return undefined;
  throw error;
}
/** Every manifest a pull accepts: an image index as well as a single image, OCI and Docker alike. */
export const MANIFEST_TYPES = [
  ...INDEX_MEDIA_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
/** Pages are bounded so that a runaway pagination cannot hold a lookup forever. */
const MAX_FINDING_PAGES = 50;
const MAX_REGISTRY_SETTING_PAGES = 20;
/** ECR's answer to a storage class update it will not make (the image is not archived, for one). */
const UPDATE_NOT_SUPPORTED = 'ImageStorageClassUpdateNotSupportedException';

export interface EcrSdkOptions {
  /** Roles to read other accounts' registries with (the policy's `registries`). */
  readonly registryRoles?: readonly { readonly accountId: string; readonly roleArn: string }[];
  /** The caller's own account, when known (else learnt from the first registry scanning read). */
  readonly ownAccountId?: string;
  /** Extra client settings (retry strategy, request handler, endpoint) applied to every client. */
  readonly clientConfig?: Omit<ECRClientConfig, 'region' | 'credentials'>;
  /** Told of every failed call, with its operation and error name (for metrics and logs). */
  readonly onError?: (operation: string, error: unknown) => void;
  /** Per-call timeouts of ECR and STS (tests inject short ones). */
  readonly timeouts?: CallTimeouts;
  /** Clients kept at once (one per region and role). */
  readonly maxClients?: number;
}

export class EcrSdkReads implements EcrReads, EcrCatalog, Pick<EcrPreparation, 'restoreImage'> {
  private readonly clients = new Map<string, ECRClient>();
  protected readonly roles: Map<string, string>;
  private ownAccountId: string | undefined;

  constructor(protected readonly options: EcrSdkOptions = {}) {
    this.roles = new Map((options.registryRoles ?? []).map((r) => [r.accountId, r.roleArn]));
    this.ownAccountId = options.ownAccountId;
  }

  /** Clients alive now (for tests and metrics): never more than `maxClients`. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Who the calls about a registry are made as: one client (and one registry API token) each. */
  protected identity(registryId: string, region: string): string {
    return `${region}|${this.roles.get(registryId) ?? ''}`;
  }

  protected client(registryId: string, region: string): ECRClient {
    const roleArn = this.roles.get(registryId);
    const id = this.identity(registryId, region);
    let client = this.clients.get(id);
    if (client) {
      // Map order is the recency order: re-inserting marks the client as just used.
      this.clients.delete(id);
      this.clients.set(id, client);
      return client;
    }
    const timeouts = this.options.timeouts ?? AWS_CALL_TIMEOUTS.ecr;
    const http = { requestHandler: boundedRequestHandler(timeouts), maxAttempts: timeouts.maxAttempts };
    client = new ECRClient({
      ...http,
      ...this.options.clientConfig,
      region,
      ...(roleArn && {
        credentials: fromTemporaryCredentials({
          params: { RoleArn: roleArn, RoleSessionName: 'ecr-admission', DurationSeconds: 3600 },
          clientConfig: { region, ...http },
        }),
      }),
    });
    this.clients.set(id, client);
    const max = this.options.maxClients ?? MAX_ECR_CLIENTS;
    while (this.clients.size > max) {
      const [oldestId, oldest] = this.clients.entries().next().value as [string, ECRClient];
      this.clients.delete(oldestId);
      // Calls still on their way finish or time out; the client's sockets are released after.
      oldest.destroy();
    }
    return client;
  }

  /**
   * Whether the registry-level APIs would answer for this registry: they answer for the caller's own
   * (or the configured role's), whatever registry is asked about.
   */
  private canReadRegistrySettings(registryId: string): boolean {
    return this.roles.has(registryId) || this.ownAccountId === undefined || this.ownAccountId === registryId;
  }

  protected async call<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      if (NOT_FOUND.has(name)) return undefined;
      this.options.onError?.(operation, error);
      throw new FactsUnavailableError(`ECR ${operation} failed (${name})`, {
        cause: error,
        failure: classifyAwsError(error, 'ecr', operation),
      });
    }
  }

  async describeRepository(key: RepositoryKey, abortSignal?: AbortSignal) {
    const out = await this.call('DescribeRepositories', () =>
      this.client(key.registryId, key.region).send(
        new DescribeRepositoriesCommand({
          registryId: key.registryId,
          repositoryNames: [key.repositoryName],
        }),
        { abortSignal },
      ),
    );
    const repository = out?.repositories?.[0];
    return repository ? repositoryShape.parse(repository) : undefined;
  }

  async describeImage(
    key: RepositoryKey,
    image: { tag?: string; digest?: string },
    abortSignal?: AbortSignal,
  ) {
    const imageId = image.digest ? { imageDigest: image.digest } : { imageTag: image.tag ?? 'latest' };
    const describe = (filter?: { imageStatus: 'ANY' }) =>
      this.call('DescribeImages', () =>
        this.client(key.registryId, key.region).send(
          new DescribeImagesCommand({
            registryId: key.registryId,
            repositoryName: key.repositoryName,
            imageIds: [imageId],
            ...(filter && { filter }),
          }),
          { abortSignal },
        ),
      );
    // DescribeImages answers for ACTIVE images unless its filter asks for others. An image that is not
    // active is archived or being restored: real, and never to be called "not found", so it is asked
    // for again with any status (only then: the common case costs one call).
    const detail =
      (await describe())?.imageDetails?.[0] ??
      (await describe({ imageStatus: 'ANY' }).catch(unlessRejectedParameter))?.imageDetails?.[0];
    return detail ? imageDetailShape.parse(detail) : undefined;
  }

  async registryScanning(registryId: string, region: string, abortSignal?: AbortSignal) {
    if (!this.canReadRegistrySettings(registryId)) return undefined;
    const out = await this.call('GetRegistryScanningConfiguration', () =>
      this.client(registryId, region).send(new GetRegistryScanningConfigurationCommand({}), { abortSignal }),
    );
    // The API answers for the caller's registry: learn which one it is, and never lend it to another.
    if (out?.registryId && !this.roles.has(registryId)) this.ownAccountId ??= out.registryId;
    if (!out?.scanningConfiguration || out.registryId !== registryId) return undefined;
    return registryScanningShape.parse(out.scanningConfiguration);
  }

  async repositoryScanning(key: RepositoryKey, abortSignal?: AbortSignal) {
    if (!this.canReadRegistrySettings(key.registryId)) return undefined;
    const out = await this.call('BatchGetRepositoryScanningConfiguration', () =>
      this.client(key.registryId, key.region).send(
        new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: [key.repositoryName] }),
        { abortSignal },
      ),
    );
    const config = out?.scanningConfigurations?.find((c) => c.repositoryName === key.repositoryName);
    // The ARN names the registry that answered; a same-named repository of the caller's own registry is no answer.
    if (!config || config.repositoryArn?.split(':')[4] !== key.registryId) return undefined;
    return repositoryScanningShape.parse(config);
  }

  async imageManifest(key: RepositoryKey, digest: string, abortSignal?: AbortSignal) {
    const out = await this.call('BatchGetImage', () =>
      this.client(key.registryId, key.region).send(
        new BatchGetImageCommand({
          registryId: key.registryId,
          repositoryName: key.repositoryName,
          imageIds: [{ imageDigest: digest }],
          acceptedMediaTypes: MANIFEST_TYPES,
        }),
        { abortSignal },
      ),
    );
    const failure = out?.failures?.find((f) => f.failureCode !== 'ImageNotFound');
    // KMS, upstream (pull-through cache) and other failures say nothing about the image: not a fact.
    if (failure) throw new FactsUnavailableError(`ECR BatchGetImage failed (${failure.failureCode})`);
    return out?.images?.[0]?.imageManifest;
  }

  /**
   * Every page of a paginated read, at most `maxPages`: undefined when the first page is "not found".
   * More pages than that is a failure, never a partial answer.
   */
  private async allPages<P extends { nextToken?: string | undefined }>(
    operation: string,
    maxPages: number,
    page: (nextToken: string | undefined) => Promise<P>,
  ): Promise<P[] | undefined> {
    const pages: P[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const out = await this.call(operation, () => page(token));
      if (!out) return undefined;
      pages.push(out);
      nextToken = out.nextToken;
      if (pages.length >= maxPages && nextToken) {
        throw new FactsUnavailableError(`ECR ${operation} answered more than ${maxPages} pages`);
      }
    } while (nextToken);
    return pages;
  }

  async scanFindings(
    key: RepositoryKey,
    digest: string,
    abortSignal?: AbortSignal,
  ): Promise<ScanShape | undefined> {
    const pages = await this.allPages('DescribeImageScanFindings', MAX_FINDING_PAGES, (nextToken) =>
      this.client(key.registryId, key.region).send(
        new DescribeImageScanFindingsCommand({
          registryId: key.registryId,
          repositoryName: key.repositoryName,
          imageId: { imageDigest: digest },
          maxResults: 1000,
          ...(nextToken && { nextToken }),
        }),
        { abortSignal },
      ),
    );
    if (!pages) return undefined;

    const [first] = pages;
    const findings = pages.flatMap((p) => p.imageScanFindings?.findings ?? []);
    const enhancedFindings = pages.flatMap((p) => p.imageScanFindings?.enhancedFindings ?? []);
    return scanShape.parse({
      imageScanStatus: first?.imageScanStatus,
      imageScanFindings: first?.imageScanFindings && {
        ...first.imageScanFindings,
        findings,
        enhancedFindings,
      },
    });
  }

  /**
   * Whether a registry-level answer is the asked registry's. Without a role it is the caller's own,
   * learnt from the answer when it names its registry; an answer that does not is the asked registry's
   * only when that is known to be the caller's own.
   */
  private answersFor(registryId: string, answeredFor: string | undefined): boolean {
    if (this.roles.has(registryId)) return answeredFor === undefined || answeredFor === registryId;
    if (answeredFor) this.ownAccountId ??= answeredFor;
    return (answeredFor ?? this.ownAccountId) === registryId;
  }

  async pullThroughCacheRules(registryId: string, region: string, abortSignal?: AbortSignal) {
    if (!this.canReadRegistrySettings(registryId)) return undefined;
    const pages = await this.allPages(
      'DescribePullThroughCacheRules',
      MAX_REGISTRY_SETTING_PAGES,
      (nextToken) =>
        this.client(registryId, region).send(
          new DescribePullThroughCacheRulesCommand({ registryId, maxResults: 100, nextToken }),
          { abortSignal },
        ),
    );
    const rules = pages?.flatMap((p) => p.pullThroughCacheRules ?? []) ?? [];
    // Each rule names its registry; no rule at all names none.
    const answeredFor = [...new Set(rules.map((rule) => rule.registryId))];
    if (answeredFor.length > 1 || !this.answersFor(registryId, answeredFor[0])) return undefined;
    return rules.map((rule) => pullThroughCacheRuleShape.parse(rule));
  }

  async repositoryCreationTemplates(registryId: string, region: string, abortSignal?: AbortSignal) {
    if (!this.canReadRegistrySettings(registryId)) return undefined;
    const pages = await this.allPages(
      'DescribeRepositoryCreationTemplates',
      MAX_REGISTRY_SETTING_PAGES,
      (nextToken) =>
        this.client(registryId, region).send(
          new DescribeRepositoryCreationTemplatesCommand({ maxResults: 100, nextToken }),
          { abortSignal },
        ),
    );
    if (!pages || !this.answersFor(registryId, pages[0]?.registryId)) return undefined;
    return pages
      .flatMap((p) => p.repositoryCreationTemplates ?? [])
      .map((template) => creationTemplateShape.parse(template));
  }

  /**
   * Restores an archived image to the STANDARD storage class. ECR refuses an update it will not make
   * (ImageStorageClassUpdateNotSupportedException): the image is then looked at, and one already active
   * or being restored is done; otherwise (and for an image that no longer exists) the restore is refused
   * for good (PreparationError). Other failures are FactsUnavailableErrors, retried by the workflow.
   */
  async restoreImage(key: RepositoryKey, digest: string, abortSignal?: AbortSignal): Promise<void> {
    const answer = await this.call('UpdateImageStorageClass', () =>
      this.client(key.registryId, key.region)
        .send(
          new UpdateImageStorageClassCommand({
            registryId: key.registryId,
            repositoryName: key.repositoryName,
            imageId: { imageDigest: digest },
            targetStorageClass: 'STANDARD',
          }),
          { abortSignal },
        )
        .catch((error: { name?: string }) => {
          // An answer, not a failure: what the image is now says whether anything is left to do.
          if (error.name === UPDATE_NOT_SUPPORTED) return 'refused' as const;
          throw error;
        }),
    );
    if (answer && answer !== 'refused') return;
    const detail = answer && (await this.describeImage(key, { digest }, abortSignal));
    // An answer without a status is from before the archive: the image is active.
    const status = detail && (detail.imageStatus ?? 'ACTIVE');
    if (status === 'ACTIVE' || status === 'ACTIVATING') return;
    throw new PreparationError(
      detail
        ? `ECR does not support restoring this image (it is ${status})`
        : 'the image to restore no longer exists',
    );
  }

  async listRepositories(registryId: string | undefined, region: string, cursor?: string) {
    const out = await this.call('DescribeRepositories', () =>
      this.client(registryId ?? this.ownAccountId ?? '', region).send(
        new DescribeRepositoriesCommand({
          ...(registryId && { registryId }),
          maxResults: 50,
          ...(cursor && { nextToken: cursor }),
        }),
      ),
    );
    const items = (out?.repositories ?? []).flatMap((r) =>
      r.repositoryName && r.registryId
        ? [{ registryId: r.registryId, region, repositoryName: r.repositoryName }]
        : [],
    );
    return { items, ...(out?.nextToken && { cursor: out.nextToken }) };
  }

  async listImages(key: RepositoryKey, cursor?: string) {
    const out = await this.call('DescribeImages', () =>
      this.client(key.registryId, key.region).send(
        new DescribeImagesCommand({
          registryId: key.registryId,
          repositoryName: key.repositoryName,
          filter: { tagStatus: 'TAGGED' },
          maxResults: 100,
          ...(cursor && { nextToken: cursor }),
        }),
      ),
    );
    const items = (out?.imageDetails ?? []).flatMap((d) =>
      d.imageDigest ? [{ digest: d.imageDigest, tags: d.imageTags ?? [] }] : [],
    );
    return { items, ...(out?.nextToken && { cursor: out.nextToken }) };
  }
}
