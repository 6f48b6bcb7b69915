/**
 * ECR's writes that prepare an image for a Pod: the restore of an archived image (EcrSdkReads) and the
 * import of an image through a pull-through cache rule, done the way a pull does it. ECR has no API
 * call that imports: its registry API (`GET /v2/<repository>/manifests/<reference>`, the Docker
 * Registry HTTP API) creates the repository (from the creation template that applies) and imports the
 * image on the first pull. The token comes from `GetAuthorizationToken` (an SDK call), kept until
 * shortly before it expires.
 *
 * Every pull ends by its own timeout (AWS_CALL_TIMEOUTS.ecrRegistryApi) and by the caller's abort
 * signal. What retrying can mend (throttling, timeouts, server errors, refused credentials) is a
 * FactsUnavailableError; what it cannot (an invalid reference, an answer that is no registry's) is a
 * PreparationError. Neither message holds the registry's error text: only its status and error code.
 */
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { AWS_CALL_TIMEOUTS, MAX_ECR_CLIENTS } from '../contracts/settings';
import { FactsUnavailableError, type FailureCause, PreparationError } from '../domain/errors';
import type { RepositoryKey } from '../domain/facts';
import type { EcrPreparation } from '../domain/refresh';
import { type EcrSdkOptions, EcrSdkReads, MANIFEST_TYPES } from './ecr-sdk';

/**
 * The IAM actions of an import, declared here beside the calls. `authorizationToken` is the SDK call
 * (no resource type: granted on `*`). `registryApiPull` is not an SDK call but what ECR authorizes a
 * registry API pull through a pull-through cache with, on the repository (ECR user guide, "IAM
 * permissions required to sync an upstream registry with an Amazon ECR private registry"): pulling the
 * manifest, importing the upstream image, and creating the repository when it does not exist yet.
 */
export const ECR_IMPORT_ACTIONS = {
  authorizationToken: ['ecr:GetAuthorizationToken'],
  registryApiPull: ['ecr:BatchGetImage', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
} as const;

const ACCEPT = MANIFEST_TYPES.join(', ');
/** The registry API's codes for "no such repository" and "no such image" (404). */
const NOT_FOUND_CODES = new Set(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']);
/** A token is renewed this long before it expires, so that no pull starts with one about to lapse. */
const TOKEN_RENEWAL_MARGIN_MS = 5 * 60_000;
/** When ECR's answer holds no expiry (it always does): a token is renewed after this long. */
const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60_000;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface EcrImportOptions extends EcrSdkOptions {
  /** The registry API pull's timeout, request to last byte (tests inject short ones). */
  readonly registryApiTimeoutMs?: number;
  /** The clock the tokens' expiry is read by. */
  readonly now?: () => number;
}

interface RegistryToken {
  /** `base64(AWS:<password>)`, as ECR hands it out: the Basic credentials of the registry API. */
  readonly token: string;
  /** `https://<account>.dkr.ecr.<region>.amazonaws.com` (the caller's own registry). */
  readonly proxyEndpoint: string;
  readonly renewAt: number;
}

/**
 * The token is good for every registry the identity may pull from, but the endpoint ECR answers names
 * the caller's own: another registry is reached at its own host. An endpoint of another form (a local
 * one) is used as it is.
 */
function registryEndpoint(proxyEndpoint: string, registryId: string): string {
  return proxyEndpoint.replace(/^(https:\/\/)\d{12}(\.dkr\.ecr\.)/, `$1${registryId}$2`).replace(/\/+$/, '');
}

/** The registry API's error codes from an error body (`{"errors":[{"code":...}]}`), nothing else. */
async function errorCodes(response: Response): Promise<string[]> {
  const body = await response.text().catch(() => '');
  try {
    const errors = (JSON.parse(body) as { errors?: { code?: unknown }[] }).errors ?? [];
    return errors.flatMap((e) =>
      typeof e.code === 'string' && /^[A-Z_]{1,64}$/.test(e.code) ? [e.code] : [],
    );
  } catch {
    return [];
  }
}

/** What retrying can mend, by HTTP status; undefined: it cannot. */
function transientCause(status: number): FailureCause | undefined {
  if (status === 401) return { reason: 'no-credentials' };
  // Any of the pull's three actions (ECR_IMPORT_ACTIONS.registryApiPull): the answer does not say which.
  if (status === 403) return { reason: 'access-denied' };
  if (status === 429) return { reason: 'throttled' };
  if (status === 408) return { reason: 'timed-out' };
  if (status >= 500) return { reason: 'unavailable' };
  return undefined;
}

/** A pull that did not answer: ours or the caller's deadline, or a connection that failed. */
function unanswered(error: unknown): FactsUnavailableError {
  const { name, cause } = error as { name?: string; cause?: { code?: string } };
  const timedOut = name === 'TimeoutError' || name === 'AbortError' || cause?.code === 'ECONNRESET';
  return new FactsUnavailableError(
    `ECR registry API pull failed (${timedOut ? 'no answer in time' : 'no connection'})`,
    { cause: error, failure: { reason: timedOut ? 'timed-out' : 'unavailable' } },
  );
}

/** ECR's reads, the restore of an archived image, and the import through a pull-through cache. */
export class EcrSdkPreparation extends EcrSdkReads implements EcrPreparation {
  private readonly tokens = new Map<string, RegistryToken>();
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(options: EcrImportOptions = {}) {
    super(options);
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.registryApiTimeoutMs ?? AWS_CALL_TIMEOUTS.ecrRegistryApi.requestTimeoutMs;
  }

  private async registryToken(
    registryId: string,
    region: string,
    abortSignal?: AbortSignal,
  ): Promise<RegistryToken> {
    const identity = this.identity(registryId, region);
    const cached = this.tokens.get(identity);
    if (cached && cached.renewAt > this.now()) return cached;
    const out = await this.call('GetAuthorizationToken', () =>
      this.client(registryId, region).send(new GetAuthorizationTokenCommand({}), { abortSignal }),
    );
    const data = out?.authorizationData?.[0];
    if (!data?.authorizationToken || !data.proxyEndpoint) {
      throw new FactsUnavailableError('ECR GetAuthorizationToken answered no token');
    }
    const expiresAt = data.expiresAt?.getTime() ?? this.now() + DEFAULT_TOKEN_LIFETIME_MS;
    const token = {
      token: data.authorizationToken,
      proxyEndpoint: data.proxyEndpoint,
      renewAt: expiresAt - TOKEN_RENEWAL_MARGIN_MS,
    };
    this.tokens.delete(identity);
    this.tokens.set(identity, token);
    // As many identities as clients: the oldest token goes first.
    const [oldest] = this.tokens.keys();
    if (oldest !== undefined && this.tokens.size > (this.options.maxClients ?? MAX_ECR_CLIENTS)) {
      this.tokens.delete(oldest);
    }
    return token;
  }

  /**
   * Pulls the image's manifest by digest when it has one (what the kubelet pulls), else by tag
   * (`latest` when neither). A token refused once (revoked, or expired early) is renewed and the pull
   * made again, once.
   */
  async importThroughCache(
    key: RepositoryKey,
    reference: { readonly tag?: string; readonly digest?: string },
    signal?: AbortSignal,
  ): Promise<'started' | 'not-found'> {
    const ref = reference.digest ?? reference.tag ?? 'latest';
    if (!(reference.digest ? DIGEST : TAG).test(ref)) {
      throw new PreparationError(`not a valid image ${reference.digest ? 'digest' : 'tag'}: ${ref}`);
    }
    let response = await this.pull(key, ref, signal);
    if (response.status === 401) {
      await response.body?.cancel();
      this.tokens.delete(this.identity(key.registryId, key.region));
      response = await this.pull(key, ref, signal);
    }
    if (response.ok) {
      await response.body?.cancel();
      return 'started';
    }
    const codes = await errorCodes(response);
    if (response.status === 404 && codes.some((code) => NOT_FOUND_CODES.has(code))) return 'not-found';
    const what = `ECR registry API pull failed (HTTP ${response.status}${codes.length ? ` ${codes.join(', ')}` : ''})`;
    const cause = transientCause(response.status);
    throw this.failed(
      cause ? new FactsUnavailableError(what, { failure: cause }) : new PreparationError(what),
    );
  }

  /** Told like a failed SDK call (`onError`), then thrown. */
  private failed(error: Error): Error {
    this.options.onError?.('RegistryApiPull', error);
    return error;
  }

  private async pull(key: RepositoryKey, ref: string, signal?: AbortSignal): Promise<Response> {
    const { token, proxyEndpoint } = await this.registryToken(key.registryId, key.region, signal);
    const url = `${registryEndpoint(proxyEndpoint, key.registryId)}/v2/${key.repositoryName}/manifests/${ref}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(url, {
        headers: { Authorization: `Basic ${token}`, Accept: ACCEPT },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throw this.failed(unanswered(error));
    }
  }
}
