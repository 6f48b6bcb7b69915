/**
 * What the refresh workflow is asked to do: each EventBridge event, parsed at the boundary
 * (src/adapters/ecr-events.ts), becomes one trigger.
 */
import type { RepositoryKey } from './facts';

/** An image of a repository, with the tags an event named for it. */
export interface ImageTarget extends RepositoryKey {
  readonly digest: string;
  readonly tags: readonly string[];
}

/**
 * Which repositories: a registry in a region, or one repository of it; every registry when empty.
 * Absent `repositoryName`: every repository of the registry (a registry-wide setting changed).
 */
export interface RepositoryScope {
  readonly registryId?: string;
  readonly region?: string;
  readonly repositoryName?: string;
}

/**
 * What the workflow does ahead of a Pod so that its image can be pulled at all: import it through the
 * registry's pull-through cache (its repository or image does not exist yet), or restore it from the
 * ECR archive (policy `archived: restore`). Asked for by the admission webhook, done once per image.
 */
export type PreparationAction = 'import' | 'restore';

export interface PreparationTarget extends RepositoryKey {
  readonly action: PreparationAction;
  readonly tag?: string;
  readonly digest?: string;
}

/** ECR's writes that prepare an image (the workflow's Prepare task). */
export interface EcrPreparation {
  /**
   * Pulls the image's manifest through the registry API (`GET /v2/<repository>/manifests/<reference>`
   * with a token from `GetAuthorizationToken`), which makes ECR create the repository and import the
   * image through its pull-through cache rule. `not-found`: the upstream registry has no such image.
   */
  importThroughCache(
    key: RepositoryKey,
    reference: { readonly tag?: string; readonly digest?: string },
    signal?: AbortSignal,
  ): Promise<'started' | 'not-found'>;
  /** Moves an archived image back to the STANDARD storage class (`UpdateImageStorageClass`). */
  restoreImage(key: RepositoryKey, digest: string, signal?: AbortSignal): Promise<void>;
}

/**
 * Where the admission webhook asks the workflow to prepare images (on AWS, an event on the default
 * bus). Fire and forget: the workflow does each once, however often it is asked.
 */
export interface PreparationRequests {
  request(targets: readonly PreparationTarget[], signal?: AbortSignal): Promise<void>;
}

/** What an event asks the workflow to do, with the event's time for the event-to-verdict lag. */
export type TriggerBody =
  | {
      readonly kind: 'refresh-image';
      readonly image: ImageTarget;
      readonly reason: string;
      readonly eventTime: string;
    }
  | { readonly kind: 'delete-image'; readonly image: ImageTarget; readonly eventTime: string }
  | {
      readonly kind: 'refresh-repository';
      readonly scope: RepositoryScope;
      readonly reason: string;
      readonly eventTime: string;
    }
  | {
      readonly kind: 'delete-repository';
      readonly scope: RepositoryKey;
      readonly eventTime: string;
    }
  | { readonly kind: 'reconcile'; readonly eventTime: string }
  | { readonly kind: 'rejudge-all'; readonly eventTime: string }
  | { readonly kind: 'prepare-image'; readonly target: PreparationTarget; readonly eventTime: string }
  | { readonly kind: 'ignore'; readonly reason: string; readonly eventTime: string };

/**
 * A trigger with its EventBridge `id`: a redelivered event has the same id, two events about one image
 * (a push and its scan in the same second) do not.
 */
export type RefreshTrigger = TriggerBody & { readonly eventId: string };

/**
 * The repositories whose scan frequency changed (an `ECR Scan Resource Change`): one repository is
 * refreshed alone; several are refreshed as their whole registry, so that the workflow's state carries
 * one scope however many repositories a registry-wide change names. None: nothing to refresh.
 */
export function scopeOfRepositories(
  registry: Required<Pick<RepositoryScope, 'registryId' | 'region'>>,
  repositoryNames: readonly string[],
): RepositoryScope | undefined {
  const [only, ...others] = new Set(repositoryNames);
  if (only === undefined) return undefined;
  return others.length === 0 ? { ...registry, repositoryName: only } : registry;
}
