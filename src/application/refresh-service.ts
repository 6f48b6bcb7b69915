/**
 * The refresh workflow's tasks, one method each (the state machine in statemachine/ orchestrates them;
 * the Lambda handlers and the local `refresh` command bind to these very methods). They gather facts
 * through the same facts port as the admission path, judge them with the same judgement, and write
 * through the same decision store, conditionally.
 */
import {
  type CachedImage,
  type Claims,
  type DecisionStore,
  factsContent,
  lookupKey,
  preparationKey,
  type StoredVerdict,
} from '../domain/decision-store';
import { type ExposureEvents, exposureEvent, turnsDenied, violatingSince } from '../domain/exposure';
import {
  carryFirstObserved,
  type EcrCatalog,
  type Facts,
  type FactsSource,
  type RepositoryKey,
} from '../domain/facts';
import { ecrDigestReference } from '../domain/image-ref';
import type { InventoryRecord, InventoryStore } from '../domain/inventory';
import { type Policy, policyHash } from '../domain/policy';
import type {
  EcrPreparation,
  ImageTarget,
  PreparationTarget,
  RefreshTrigger,
  RepositoryScope,
} from '../domain/refresh';
import { judgeFacts, type Verdict } from '../domain/verdict';

/** A target of the workflow's Map: one image, and the event time it is refreshed for. */
export interface RefreshTarget extends ImageTarget {
  readonly eventTime: string;
  /** The EventBridge event's id: with the image, the idempotency key of the Refresh task. */
  readonly eventId: string;
}

/** What the Plan task tells the state machine to do. */
export type Plan =
  | { readonly kind: 'refresh'; readonly targets: readonly RefreshTarget[]; readonly eventTime: string }
  | { readonly kind: 'delete'; readonly targets: readonly RefreshTarget[]; readonly eventTime: string }
  | { readonly kind: 'list'; readonly list: ListRequest; readonly eventTime: string }
  | { readonly kind: 'rejudge'; readonly eventTime: string }
  | { readonly kind: 'prepare'; readonly target: PreparationTarget; readonly eventTime: string }
  | { readonly kind: 'ignore'; readonly reason: string; readonly eventTime: string };

/** What the Prepare task did for an image. */
export interface PreparationRecord extends PreparationTarget {
  readonly outcome:
    | 'import-started'
    | 'restore-started'
    /** Asked for within the claim of an earlier ask: that one does it. */
    | 'already-asked'
    /** Nothing to do: the image is there, or not archived, or not under a pull-through cache rule. */
    | 'not-needed'
    /** The upstream registry has no such image. */
    | 'not-found-upstream'
    /** `restore` asked of a deployment whose policy says `archived: deny`. */
    | 'not-enabled';
  readonly reason?: string;
}

/**
 * How long one ask of an image's preparation stands for all: the replicas that ask meanwhile start
 * nothing more. An import or a restore that has not made the image pullable by then is asked again.
 */
export const PREPARATION_CLAIM_SECONDS = 30 * 60;

/**
 * Pages of targets: the cached images of a scope (a setting changed); or, for reconciliation, first the
 * cached images of any registry that are close to expiry (`expiring`: other accounts' images too, whose
 * events never reach this account), then the own registry's images the cache lacks (`registry`).
 */
export interface ListRequest {
  readonly source: 'cache' | 'expiring' | 'registry';
  readonly scope: RepositoryScope;
  readonly eventTime: string;
  readonly eventId: string;
  readonly cursor?: string;
  /** Only for the cache: delete the entries instead of refreshing them (the repository was deleted). */
  readonly delete?: boolean;
}

export interface ListResult {
  readonly targets: readonly RefreshTarget[];
  /** The request for the next page; absent on the last page. */
  readonly next?: ListRequest;
}

/** One cache record the workflow wrote, deleted or failed on. */
export interface RefreshRecord {
  readonly action: 'written' | 'unchanged' | 'deleted' | 'rejudged' | 'failed';
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
  readonly digest: string;
  readonly tags: readonly string[];
  /** The cache keys written or deleted. */
  readonly keys: readonly string[];
  readonly verdict?: {
    readonly allowed: boolean;
    readonly violations: Verdict['violations'];
    readonly policyHash: string;
  };
  readonly reason?: string;
  /**
   * Set when the image turned from admitted to denied and the inventory shows it running: the
   * workloads the exposure event named, or why it could not be announced (`failed`: the cache write
   * stands; the handler logs and counts it), or `published: false` where nothing publishes (the
   * `refresh` command).
   */
  readonly exposure?: { readonly workloads: number; readonly failed?: string; readonly published?: false };
}

export interface RefreshServiceOptions {
  readonly policy: Policy;
  readonly facts: FactsSource;
  readonly catalog: EcrCatalog;
  readonly store: DecisionStore;
  /** Where the Prepare task claims an image's preparation (the decision table). */
  readonly claims?: Claims;
  /** ECR's writes of the Prepare task; absent: preparations are refused (nothing can do them). */
  readonly preparation?: EcrPreparation;
  /** The region of the deployment, and its account when known: the registry that reconciliation lists. */
  readonly region: string;
  readonly ownAccountId?: string;
  /** Cached entries expiring within this many seconds are refreshed by reconciliation. */
  readonly refreshWindowSeconds?: number;
  readonly now?: () => Date;
  /**
   * Where an image that turned denied is looked up, and where it is announced: without the inventory,
   * nothing is looked up; without a publisher, the record only says where it runs.
   */
  readonly inventory?: Pick<InventoryStore, 'listInventory'>;
  readonly exposure?: ExposureEvents;
}

/** Where reconciliation is in a registry: repositories left on the current page, and ECR's cursors. */
interface RegistryCursor {
  readonly queue: readonly RepositoryKey[];
  readonly started: boolean;
  /** ECR's cursor for the next page of repositories. */
  readonly repositories?: string;
  /** ECR's cursor for the next page of images of `queue[0]`. */
  readonly images?: string;
}

function encodeCursor(cursor: RegistryCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): RegistryCursor {
  return JSON.parse(Buffer.from(text, 'base64url').toString()) as RegistryCursor;
}

export class RefreshService {
  private readonly hash: string;
  private readonly now: () => Date;
  private readonly windowSeconds: number;

  constructor(private readonly options: RefreshServiceOptions) {
    this.hash = policyHash(options.policy);
    this.now = options.now ?? (() => new Date());
    this.windowSeconds = options.refreshWindowSeconds ?? 86_400;
  }

  /** Task Plan: what to do for an event's trigger. */
  plan(trigger: RefreshTrigger): Plan {
    const { eventTime, eventId } = trigger;
    switch (trigger.kind) {
      case 'refresh-image':
        return { kind: 'refresh', targets: [{ ...trigger.image, eventTime, eventId }], eventTime };
      case 'delete-image':
        return { kind: 'delete', targets: [{ ...trigger.image, eventTime, eventId }], eventTime };
      case 'refresh-repository':
        return {
          kind: 'list',
          list: { source: 'cache', scope: trigger.scope, eventTime, eventId },
          eventTime,
        };
      case 'delete-repository':
        return {
          kind: 'list',
          list: { source: 'cache', scope: trigger.scope, eventTime, eventId, delete: true },
          eventTime,
        };
      case 'reconcile':
        return {
          kind: 'list',
          list: {
            source: 'expiring',
            scope: {
              region: this.options.region,
              ...(this.options.ownAccountId && { registryId: this.options.ownAccountId }),
            },
            eventTime,
            eventId,
          },
          eventTime,
        };
      case 'rejudge-all':
        return { kind: 'rejudge', eventTime };
      case 'prepare-image':
        return { kind: 'prepare', target: trigger.target, eventTime };
      case 'ignore':
        return { kind: 'ignore', reason: trigger.reason, eventTime };
    }
  }

  /**
   * Task Prepare: imports an image through its pull-through cache rule, or restores it from the archive,
   * once per image however many ask (a claim in the decision table, for PREPARATION_CLAIM_SECONDS). The
   * image is looked up first: one that is already there, or not archived, needs nothing. A failure
   * gives the claim up, so that the state machine's retry (or the next ask) tries again.
   */
  async prepare(target: PreparationTarget): Promise<PreparationRecord> {
    const { claims, preparation } = this.options;
    if (target.action === 'restore' && this.options.policy.archived !== 'restore') {
      return { ...target, outcome: 'not-enabled' };
    }
    if (!claims || !preparation) {
      return { ...target, outcome: 'not-enabled', reason: 'this workflow cannot write to ECR' };
    }
    const claim = preparationKey(target);
    if (!(await claims.claim(claim, PREPARATION_CLAIM_SECONDS)))
      return { ...target, outcome: 'already-asked' };
    try {
      const key = {
        registryId: target.registryId,
        region: target.region,
        repositoryName: target.repositoryName,
      };
      const lookup = await this.options.facts.lookup(target);
      if (target.action === 'import') {
        if (lookup.status !== 'pull-through-pending')
          return { ...target, outcome: 'not-needed', reason: lookup.status };
        const started = await preparation.importThroughCache(key, target);
        return { ...target, outcome: started === 'started' ? 'import-started' : 'not-found-upstream' };
      }
      if (lookup.status !== 'image-not-active' || lookup.imageStatus !== 'ARCHIVED') {
        return {
          ...target,
          outcome: 'not-needed',
          reason: lookup.status === 'image-not-active' ? lookup.imageStatus : lookup.status,
        };
      }
      await preparation.restoreImage(key, lookup.digest);
      return { ...target, outcome: 'restore-started' };
    } catch (error) {
      await claims.release(claim).catch(() => {});
      throw error;
    }
  }

  /**
   * Task Refresh: gathers one image's facts, judges them, writes them unless a newer entry is there.
   * A platform image's scan also changes the verdict of every image index that lists it, so the cached
   * indexes of the repository that list the image are refreshed with it.
   */
  async refresh(target: RefreshTarget): Promise<RefreshRecord[]> {
    const record = await this.refreshImage(target);
    const indexes = await this.indexesListing(target);
    const related = await Promise.all(
      indexes.map((index) => this.refreshImage({ ...target, digest: index.digest, tags: index.tags })),
    );
    return [record, ...related];
  }

  private async refreshImage(target: RefreshTarget): Promise<RefreshRecord> {
    const lookup = await this.options.facts.lookup({
      registryId: target.registryId,
      region: target.region,
      repositoryName: target.repositoryName,
      digest: target.digest,
    });
    if (lookup.status !== 'found') {
      // Gone from ECR (deleted since the event): its entries go too, never a cached "not found".
      const deleted = await this.deleteImage(target);
      return { ...deleted, reason: lookup.status };
    }
    // A finding keeps the first-observed time the cache already holds for it (a rescan does not restart
    // its grace period).
    const key = lookupKey({ ...target, digest: target.digest });
    const previous = (await this.options.store.getMany([{ ...target, digest: target.digest }])).get(key);
    const facts = previous ? carryFirstObserved(lookup.facts, previous.facts) : lookup.facts;
    const verdict = this.judge(facts, previous?.verdict);
    const { written } = await this.options.store.put({ facts, verdict });
    // The same facts, stored without a verdict (the admission path's write-through on a miss): the put
    // only extends their life, so the verdict is stored on them here, or no transition would be seen.
    const judgedHere =
      written.includes(key) ||
      (previous !== undefined &&
        previous.verdict === undefined &&
        factsContent(previous.facts) === factsContent(facts) &&
        (await this.options.store.updateVerdict(previous, verdict)));
    const record = this.record(written.length > 0 ? 'written' : 'unchanged', facts, written, verdict);
    // Announced only by the write that stored the change: a redelivered event, or one that lost to a
    // newer entry, finds nothing to announce.
    return judgedHere && turnsDenied(previous?.verdict, verdict)
      ? { ...record, ...(await this.announce(facts, verdict.violations)) }
      : record;
  }

  /**
   * Publishes one exposure event for an image that turned denied, naming where the inventory shows it
   * admitted; nothing when nothing runs it. Never throws: the verdict is stored already, and a failure
   * is returned for the handler to log and count.
   */
  private async announce(
    facts: Facts,
    violations: Verdict['violations'],
  ): Promise<Pick<RefreshRecord, 'exposure'>> {
    const { inventory, exposure } = this.options;
    if (!inventory) return {};
    try {
      const records: InventoryRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await inventory.listInventory(facts.image.digest, cursor);
        records.push(...page.records);
        cursor = page.cursor;
      } while (cursor);
      const event = exposureEvent(facts, violations, records);
      if (!event) return {};
      const workloads = event.workloads.length + (event.workloadsOmitted ?? 0);
      if (!exposure) return { exposure: { workloads, published: false } };
      await exposure.publish([event]);
      return { exposure: { workloads } };
    } catch (error) {
      return { exposure: { workloads: 0, failed: error instanceof Error ? error.message : String(error) } };
    }
  }

  /** The cached image indexes of the target's repository that list the target as a platform image. */
  private async indexesListing(
    target: RefreshTarget,
  ): Promise<{ digest: string; tags: readonly string[] }[]> {
    const scope = {
      registryId: target.registryId,
      region: target.region,
      repositoryName: target.repositoryName,
    };
    const found: { digest: string; tags: readonly string[] }[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.options.store.listImages(scope, cursor);
      for (const { facts } of page.entries) {
        if (facts.image.platforms?.some((p) => p.digest === target.digest)) {
          found.push({ digest: facts.image.digest, tags: facts.image.tags });
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return found;
  }

  /** Task Delete: deletes an image's entries (its digest, and tags still pointing at it). */
  async deleteImage(target: ImageTarget): Promise<RefreshRecord> {
    const keys = await this.options.store.deleteImage(
      { registryId: target.registryId, region: target.region, repositoryName: target.repositoryName },
      target.digest,
      target.tags,
    );
    return {
      action: 'deleted',
      registryId: target.registryId,
      region: target.region,
      repositoryName: target.repositoryName,
      digest: target.digest,
      tags: target.tags,
      keys,
    };
  }

  /** Task ListTargets: one page of targets, from the cache or from the registry. */
  async listTargets(request: ListRequest): Promise<ListResult> {
    if (request.source === 'cache') return this.listCached(request);
    if (request.source === 'expiring') return this.listExpiring(request);
    return this.listRegistry(request);
  }

  /** One page of the cache: the entries that expire within the refresh window, whatever their registry. */
  private async listExpiring(request: ListRequest): Promise<ListResult> {
    const page = await this.options.store.listImages({}, request.cursor);
    const soon = this.now().getTime() / 1000 + this.windowSeconds;
    const { cursor: _done, ...rest } = request;
    return {
      targets: page.entries
        .filter((e) => e.expiresAt !== undefined && e.expiresAt < soon)
        .map((e) => targetOf(e, request)),
      next: page.cursor ? { ...request, cursor: page.cursor } : { ...rest, source: 'registry' },
    };
  }

  private async listCached(request: ListRequest): Promise<ListResult> {
    const page = await this.options.store.listImages(request.scope, request.cursor);
    return {
      targets: page.entries.map((entry) => targetOf(entry, request)),
      ...(page.cursor && { next: { ...request, cursor: page.cursor } }),
    };
  }

  /**
   * One page of the registry: at most one page of one repository's tagged images (so the targets of a
   * page stay within Step Functions' payload limit and ECR is never flooded), those the cache lacks or
   * holds close to expiry. The cursor carries the repositories still to visit and both ECR cursors.
   */
  private async listRegistry(request: ListRequest): Promise<ListResult> {
    const { catalog, store } = this.options;
    const region = request.scope.region ?? this.options.region;
    let state = request.cursor ? decodeCursor(request.cursor) : { queue: [], started: false };
    if (state.queue.length === 0) {
      if (state.started && !state.repositories) return { targets: [] };
      const page = await catalog.listRepositories(request.scope.registryId, region, state.repositories);
      state = { queue: [...page.items], started: true, ...(page.cursor && { repositories: page.cursor }) };
    }

    const [repository, ...rest] = state.queue;
    const targets: RefreshTarget[] = [];
    let images: string | undefined;
    if (repository) {
      const page = await catalog.listImages(repository, state.images);
      images = page.cursor;
      const soon = this.now().getTime() / 1000 + this.windowSeconds;
      const cached = await store.getMany(
        page.items.map((image) => ({ ...repository, digest: image.digest })),
      );
      for (const image of page.items) {
        const entry = cached.get(lookupKey({ ...repository, digest: image.digest }));
        if (!entry || (entry.expiresAt !== undefined && entry.expiresAt < soon)) {
          targets.push({
            ...repository,
            digest: image.digest,
            tags: image.tags,
            eventTime: request.eventTime,
            eventId: request.eventId,
          });
        }
      }
    }
    const next: RegistryCursor = {
      queue: images && repository ? [repository, ...rest] : rest,
      started: true,
      ...(state.repositories && { repositories: state.repositories }),
      ...(images && { images }),
    };
    const more = next.queue.length > 0 || next.repositories !== undefined;
    return { targets, ...(more && { next: { ...request, cursor: encodeCursor(next) } }) };
  }

  /** Task Rejudge: one page of cached images judged again from their cached facts (no ECR call). */
  async rejudge(request: { cursor?: string }): Promise<{ records: RefreshRecord[]; cursor?: string }> {
    const page = await this.options.store.listImages({}, request.cursor);
    const records: RefreshRecord[] = [];
    for (const entry of page.entries) {
      const verdict = this.judge(entry.facts, entry.verdict);
      if (entry.verdict && sameVerdict(entry.verdict, verdict)) continue;
      if (await this.options.store.updateVerdict(entry, verdict)) {
        const record = this.record('rejudged', entry.facts, [], verdict);
        records.push(
          turnsDenied(entry.verdict, verdict)
            ? { ...record, ...(await this.announce(entry.facts, verdict.violations)) }
            : record,
        );
      }
    }
    return { records, ...(page.cursor && { cursor: page.cursor }) };
  }

  /** Task RecordFailure: what failed, for the execution's output (the handler logs it and counts it). */
  recordFailure(input: RefreshTarget & { error?: { Error?: string; Cause?: string } }): RefreshRecord {
    return {
      action: 'failed',
      registryId: input.registryId,
      region: input.region,
      repositoryName: input.repositoryName,
      digest: input.digest,
      tags: input.tags,
      keys: [],
      reason: input.error?.Error ?? 'unknown error',
    };
  }

  /**
   * The verdict stored with an image's facts: judged as a reference by digest (tags are judged on
   * admission) under the top-level policy, with when it turned denied (kept from `previous`).
   */
  private judge(
    facts: Facts,
    previous: StoredVerdict | undefined,
  ): NonNullable<RefreshRecord['verdict']> & StoredVerdict {
    const { registryId, region, repositoryName } = facts.repository;
    const ref = ecrDigestReference(registryId, region, repositoryName, facts.image.digest);
    const now = this.now();
    const verdict = judgeFacts(facts, ref, this.options.policy, now);
    const since = violatingSince(previous, verdict, now);
    return {
      allowed: verdict.violations.length === 0,
      violations: verdict.violations,
      policyHash: this.hash,
      judgedAt: now.toISOString(),
      ...(since && { violatingSince: since }),
    };
  }

  private record(
    action: RefreshRecord['action'],
    facts: Facts,
    keys: readonly string[],
    verdict: RefreshRecord['verdict'],
  ): RefreshRecord {
    const { registryId, region, repositoryName } = facts.repository;
    return {
      action,
      registryId,
      region,
      repositoryName,
      digest: facts.image.digest,
      tags: facts.image.tags,
      keys,
      ...(verdict && {
        verdict: { allowed: verdict.allowed, violations: verdict.violations, policyHash: verdict.policyHash },
      }),
    };
  }
}

function targetOf(entry: CachedImage, request: ListRequest): RefreshTarget {
  const { registryId, region, repositoryName } = entry.facts.repository;
  const { eventTime, eventId } = request;
  return {
    registryId,
    region,
    repositoryName,
    digest: entry.facts.image.digest,
    tags: entry.facts.image.tags,
    eventTime,
    eventId,
  };
}

function sameVerdict(
  stored: { violations: readonly { code: string; message: string }[]; policyHash: string },
  next: { violations: readonly { code: string; message: string }[]; policyHash: string },
): boolean {
  return (
    stored.policyHash === next.policyHash &&
    JSON.stringify(stored.violations.map((v) => [v.code, v.message])) ===
      JSON.stringify(next.violations.map((v) => [v.code, v.message]))
  );
}
