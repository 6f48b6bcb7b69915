/**
 * The admission core: one implementation, used by the Lambda, the HTTPS server and the CLI. It reads the
 * decision cache once for all images of an object, gathers the facts of misses within a deadline
 * (concurrent misses for one image share one lookup), writes them through, and judges every image with
 * the current policy and clock. An admitted review is recorded in the admitted inventory, when one is
 * wired (./inventory-recorder.ts).
 */

import { ADMISSION_DEFAULTS } from '../contracts/settings';
import {
  type AdmissionRequest,
  allowUntouched,
  type Decision,
  decide,
  type ImageJudgement,
  ownerOf,
} from '../domain/admission';
import { graced, graceEnds, recreatingOwner, violationAppeared } from '../domain/continuity';
import {
  type CachedImage,
  type DecisionCache,
  lookupKey,
  preparationKey,
  repositoryKeyOf,
} from '../domain/decision-store';
import {
  DeadlineExceededError,
  describeCause,
  type FailureCause,
  failureCause,
  LookupLimitError,
} from '../domain/errors';
import { carryFirstObserved, type FactsLookup, type FactsSource, type ImageLookup } from '../domain/facts';
import { type ImageReference, parseImageReference } from '../domain/image-ref';
import { type AdmittedImage, DEFAULT_CLUSTER, type InventoryReader, inventoryKey } from '../domain/inventory';
import { type Mutation, NO_MUTATION, pinCandidates, pinnedReference, toJsonPointer } from '../domain/pinning';
import { type Policy, policyFor } from '../domain/policy';
import type { PreparationRequests, PreparationTarget } from '../domain/refresh';
import { imagesInScope } from '../domain/scope';
import {
  judgeLookup,
  judgeReference,
  shortWarning,
  type Verdict,
  withoutPreparation,
} from '../domain/verdict';
import type { ImageAtPath } from '../domain/workload';
import type { InventoryRecorder } from './inventory-recorder';

export interface AdmissionServiceOptions {
  readonly policy: Policy;
  readonly facts: FactsSource;
  readonly store: DecisionCache;
  readonly now?: () => Date;
  /** Time allowed for cache reads and ECR lookups together, well under the webhook timeout. */
  readonly deadlineMs?: number;
  /** The share of the deadline (percent) the cache read may take before the misses go to ECR. */
  readonly cacheReadSharePercent?: number;
  /** Distinct images one review may look up live; beyond it the failure mode answers. */
  readonly maxLookupsPerReview?: number;
  /** Live lookups on their way in this process, across reviews. */
  readonly maxLookupsInFlight?: number;
  /** Told of every failure that the failure mode answered (for logs and metrics; never shown to users). */
  readonly onFailure?: (what: string, error: unknown) => void;
  /** Where to ask the workflow to import or restore an image a request needs; absent: nothing is asked. */
  readonly preparations?: PreparationRequests;
  /** Told of each ask for preparations, with its error when it failed (for logs and metrics). */
  readonly onPreparationRequest?: (targets: readonly PreparationTarget[], error?: unknown) => void;
  /** Records what the webhook admits (absent: nothing is recorded, as for the CLI's `check` and `review`). */
  readonly inventory?: InventoryRecorder;
  /** Told of an inventory write that failed or ran out of time (the decision stands). */
  readonly onInventoryFailure?: (error: unknown) => void;
  /** Where the continuity guard reads what was admitted (absent: the guard never admits anything). */
  readonly admitted?: Pick<InventoryReader, 'findAdmitted'>;
  /** Told of a guard's inventory read that failed or ran out of time (the request is judged as ever). */
  readonly onContinuityFailure?: (error: unknown) => void;
}

/** Where a review comes from: the cluster named in the webhook's URL. */
export interface ReviewContext {
  readonly cluster?: string;
}

/**
 * How long this process remembers that it asked for an image's preparation: the replicas of one
 * rollout ask once per process (the workflow's claim makes it once in all).
 */
export const PREPARATION_ASKED_MS = 5 * 60_000;
const MAX_PREPARATIONS_REMEMBERED = 1_000;

type Pending = { readonly ref: ImageReference; readonly lookup: ImageLookup };

/** Facts for one image: from the cache or gathered; absent `result` when they could not be had (`failure` says why: src/domain/errors.ts). */
export interface Resolved {
  readonly cache: 'hit' | 'miss';
  readonly result?: FactsLookup;
  readonly failure?: FailureCause;
  /** From a cache hit: when the workflow first stored a denying verdict for the image. */
  readonly violatingSince?: string;
}

/**
 * One live lookup shared by every request that waits on it. It is aborted when the last of them stops
 * waiting (each at its own deadline), so it never outlives them by more than the time an abort takes.
 */
interface SharedLookup {
  readonly promise: Promise<FactsLookup>;
  readonly controller: AbortController;
  waiters: number;
  settled: boolean;
  /** The write-through of what it found, once started. */
  write?: Promise<void>;
}

export class AdmissionService {
  readonly policy: Policy;
  private readonly facts: FactsSource;
  private readonly store: DecisionCache;
  /** Whether live facts take first-observed times from the cache (a policy with a grace period). */
  private readonly carriesHistory: boolean;
  private readonly now: () => Date;
  private readonly deadlineMs: number;
  private readonly onFailure: (what: string, error: unknown) => void;
  private readonly inventory: InventoryRecorder | undefined;
  private readonly onInventoryFailure: (error: unknown) => void;
  private readonly admitted: Pick<InventoryReader, 'findAdmitted'> | undefined;
  private readonly onContinuityFailure: (error: unknown) => void;
  private readonly cacheReadBudgetMs: number;
  private readonly maxLookupsPerReview: number;
  private readonly maxLookupsInFlight: number;
  private readonly inflight = new Map<string, SharedLookup>();
  private running = 0;
  private readonly preparations: PreparationRequests | undefined;
  private readonly onPreparationRequest: (targets: readonly PreparationTarget[], error?: unknown) => void;
  /** Preparations this process asked for, and when. */
  private readonly asked = new Map<string, number>();

  constructor(options: AdmissionServiceOptions) {
    this.policy = options.policy;
    this.facts = options.facts;
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.deadlineMs = options.deadlineMs ?? ADMISSION_DEFAULTS.deadlineMs;
    this.cacheReadBudgetMs = Math.ceil(
      (this.deadlineMs * (options.cacheReadSharePercent ?? ADMISSION_DEFAULTS.cacheReadSharePercent)) / 100,
    );
    this.maxLookupsPerReview = options.maxLookupsPerReview ?? ADMISSION_DEFAULTS.maxLookupsPerReview;
    this.maxLookupsInFlight = options.maxLookupsInFlight ?? ADMISSION_DEFAULTS.maxLookupsInFlight;
    this.onFailure = options.onFailure ?? (() => {});
    this.preparations = options.preparations;
    this.onPreparationRequest = options.onPreparationRequest ?? (() => {});
    this.inventory = options.inventory;
    this.onInventoryFailure = options.onInventoryFailure ?? (() => {});
    this.admitted = options.admitted;
    this.onContinuityFailure = options.onContinuityFailure ?? (() => {});
    this.carriesHistory = [options.policy, ...options.policy.match.scopes.map((s) => s.policy)].some(
      (p) => p.rules.countOnly?.minAgeDays !== undefined,
    );
  }

  /**
   * Under a grace period (`countOnly.minAgeDays`), facts read live keep the first-observed times the
   * cache holds for the same image (its digest entry; a lookup by a new tag finds it), as the workflow's
   * do: a rescan does not make a finding young again. A cache that cannot say leaves the facts as read.
   */
  private async withHistory(result: FactsLookup): Promise<FactsLookup> {
    if (result.status !== 'found') return result;
    const { repository, image } = result.facts;
    const digest = {
      registryId: repository.registryId,
      region: repository.region,
      repositoryName: repository.repositoryName,
      digest: image.digest,
    };
    const previous = await this.store
      .getMany([digest])
      .then((found) => found.get(lookupKey(digest)))
      .catch(() => undefined);
    return previous ? { status: 'found', facts: carryFirstObserved(result.facts, previous.facts) } : result;
  }

  async review(request: AdmissionRequest, context: ReviewContext = {}): Promise<Decision> {
    const started = Date.now();
    const scope = imagesInScope(request, this.policy);
    if (scope.kind === 'untouched') return allowUntouched(scope.reason, { exempt: scope.exempt === true });
    // What applies in this namespace: a scope's rules, and exceptions scoped to it.
    const { policy, mode } = policyFor(this.policy, request.namespace);
    const { judgements: judged, landed } =
      scope.kind === 'malformed'
        ? { judgements: [malformedObject(scope.path, scope.problem)], landed: Promise.resolve() }
        : await this.judge(scope.images, policy);
    // A scope's explicit mode wins over `namespaces.warn`.
    const warnOnly =
      mode !== undefined
        ? mode === 'warn'
        : policy.mode === 'warn' ||
          (request.namespace !== '' && this.policy.match.warnNamespace(request.namespace));
    const judgements = warnOnly ? judged : await this.continuity(request, judged, context, started);
    const decision = decide({
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      warnOnly,
      judgements,
    });
    // The write-throughs of this review's misses, its inventory records and its asks for preparations
    // (whatever the decision: a workload object's images are prepared ahead of its Pods) land side by
    // side. A dry run records and asks for nothing (the webhook declares sideEffects: NoneOnDryRun).
    await Promise.all([
      landed,
      this.inventory && decision.allowed && !request.dryRun
        ? this.recordAdmitted(admittedImages(request, judgements, context), started)
        : undefined,
      request.dryRun ? undefined : this.askPreparations(judgements, started),
    ]);
    return decision;
  }

  /**
   * The continuity guard (policy `continuity.recreate: warn`, src/domain/continuity.ts): for a Pod its
   * controller re-creates, the images that would be denied only for findings that appeared after the
   * owner first ran them are admitted with a warning until the grace ends. Looked up only when such an
   * image is there (one point read for all of them, within the cache's budget), so a compliant
   * admission costs nothing more; a lookup that fails or runs out of time grants no grace.
   */
  private async continuity(
    request: AdmissionRequest,
    judgements: ImageJudgement[],
    context: ReviewContext,
    started: number,
  ): Promise<ImageJudgement[]> {
    const { recreate, graceDays } = this.policy.continuity;
    const owner = recreate === 'warn' && this.admitted ? recreatingOwner(request) : undefined;
    if (!owner || !this.admitted) return judgements;
    const cluster = context.cluster ?? DEFAULT_CLUSTER;
    const candidates = judgements.flatMap((judgement) => {
      if (!judgement.judged || !judgement.verdict) return [];
      const appeared = violationAppeared(judgement.verdict.violations, judgement.violatingSince);
      if (!appeared) return [];
      const admitted: AdmittedImage = {
        ...judgement.judged,
        cluster,
        namespace: request.namespace,
        owner,
        image: judgement.image,
      };
      return [{ judgement, appeared, key: inventoryKey(admitted), admitted }];
    });
    if (candidates.length === 0) return judgements;
    let records: ReadonlyMap<string, { firstAdmittedAt: string }>;
    try {
      const budget = Math.min(this.cacheReadBudgetMs, started + this.deadlineMs - Date.now());
      records = await withDeadline(this.admitted.findAdmitted(candidates.map((c) => c.admitted)), budget);
    } catch (error) {
      this.onContinuityFailure(error);
      return judgements;
    }
    const now = this.now();
    const replaced = new Map<ImageJudgement, ImageJudgement>();
    for (const { judgement, appeared, key } of candidates) {
      const record = records.get(key);
      const until = record && graceEnds(record.firstAdmittedAt, appeared, graceDays, now);
      if (until) replaced.set(judgement, graced(judgement, owner, until));
    }
    return judgements.map((judgement) => replaced.get(judgement) ?? judgement);
  }

  /**
   * Writes the inventory records due a write, awaited (a Lambda runs nothing after its answer) within
   * their own bound: the cache's share of the deadline, and what is left of the deadline. A write that
   * fails or runs out of time is reported and never changes the decision.
   */
  private async recordAdmitted(admitted: readonly AdmittedImage[], started: number): Promise<void> {
    if (!this.inventory || admitted.length === 0) return;
    const budget = Math.min(this.cacheReadBudgetMs, started + this.deadlineMs - Date.now());
    try {
      // No time left (the lookups took the deadline): no write is started, and a later admission writes.
      if (budget <= 0) throw new DeadlineExceededError('no time left for the admitted inventory');
      await withDeadline(this.inventory.record(admitted, this.now()), budget);
    } catch (error) {
      this.onInventoryFailure(error);
    }
  }

  /**
   * Asks the workflow to prepare the images the judgements wait on (an import, a restore), those this
   * process has not asked for lately, within the cache's budget. A failure is told, never answered:
   * the decision stands, and the next request asks again.
   */
  private async askPreparations(judgements: readonly ImageJudgement[], started: number): Promise<void> {
    if (!this.preparations) return;
    const now = Date.now();
    // Within the cache's share of the deadline, and what is left of it: with none left, the next asks.
    const budget = Math.min(this.cacheReadBudgetMs, started + this.deadlineMs - now);
    if (budget <= 0) return;
    const wanted = new Map<string, PreparationTarget>();
    for (const judgement of judgements) {
      for (const { preparation } of judgement.verdict?.violations ?? []) {
        if (!preparation) continue;
        const key = preparationKey(preparation);
        if ((this.asked.get(key) ?? 0) + PREPARATION_ASKED_MS > now) continue;
        wanted.set(key, preparation);
      }
    }
    if (wanted.size === 0) return;
    for (const key of wanted.keys()) {
      this.asked.delete(key);
      this.asked.set(key, now);
    }
    // Map order is the order asked: the oldest are forgotten first.
    for (const key of this.asked.keys()) {
      if (this.asked.size <= MAX_PREPARATIONS_REMEMBERED) break;
      this.asked.delete(key);
    }
    const targets = [...wanted.values()];
    const controller = new AbortController();
    try {
      await withDeadline(this.preparations.request(targets, controller.signal), budget);
      this.onPreparationRequest(targets);
    } catch (error) {
      controller.abort();
      // Not asked after all: the next request asks again.
      for (const key of wanted.keys()) this.asked.delete(key);
      this.onPreparationRequest(targets, error);
    }
  }

  /**
   * The mutating webhook: pins each ECR image referenced by tag to the digest it is judged on (the
   * cache's tag entry, or a live lookup within the deadline). Never throws and never denies: an image
   * whose digest cannot be had is left as written, for the validating webhook to decide.
   */
  async mutate(request: AdmissionRequest): Promise<Mutation> {
    const candidates = pinCandidates(request, this.policy);
    if (candidates.length === 0) return NO_MUTATION;
    const resolved = await this.resolve(candidates.map((c) => c.lookup));
    const pinned: { path: string; from: string; to: string }[] = [];
    const unresolved: { path: string; image: string; reason: string }[] = [];
    for (const candidate of candidates) {
      const facts = resolved.get(lookupKey(candidate.lookup));
      if (facts?.result?.status === 'found') {
        pinned.push({
          path: candidate.path,
          from: candidate.image,
          to: pinnedReference(candidate, facts.result.facts.image.digest),
        });
      } else {
        const failure = facts?.failure ?? { reason: 'timed-out' as const };
        const reason = facts?.result ? facts.result.status : describeCause(failure, 'ECR').what;
        unresolved.push({ path: candidate.path, image: candidate.image, reason });
      }
    }
    return {
      patch: pinned.map((p) => ({ op: 'replace', path: toJsonPointer(p.path), value: p.to })),
      pinned,
      unresolved,
    };
  }

  /** Judges images found at paths. Never throws: failures are answered by the policy's failure mode. */
  async judgeImages(images: readonly ImageAtPath[], policy: Policy = this.policy): Promise<ImageJudgement[]> {
    const { judgements, landed } = await this.judge(images, policy);
    await landed;
    return judgements;
  }

  /** `judgeImages`, with the wait for its write-throughs left to the caller (`landed`: never rejects). */
  private async judge(
    images: readonly ImageAtPath[],
    policy: Policy,
  ): Promise<{ judgements: ImageJudgement[]; landed: Promise<void> }> {
    const started = Date.now();
    const now = this.now();
    const early = new Map<string, Omit<ImageJudgement, 'path'>>();
    const pending = new Map<string, Pending>();

    for (const { image } of images) {
      const raw = rawImage(image);
      if (early.has(raw) || pending.has(raw)) continue;
      const parsed = parseImageReference(image);
      const judged = judgeReference(raw, parsed.ok ? parsed.ref : parsed.error, policy);
      if (judged.kind === 'exempt') early.set(raw, { image: raw, exempt: judged.reason, cache: 'none' });
      else if (judged.kind === 'verdict')
        early.set(raw, { image: raw, verdict: judged.verdict, cache: 'none' });
      else if (parsed.ok) pending.set(raw, { ref: parsed.ref, lookup: judged.lookup });
    }

    const judged = new Map(early);
    let landed = Promise.resolve();
    if (pending.size > 0) {
      const facts = await this.resolveFacts(
        [...pending.values()].map((p) => p.lookup),
        started,
      );
      const resolved = facts.resolved;
      landed = facts.landed;
      for (const [raw, item] of pending) {
        const facts = resolved.get(lookupKey(item.lookup));
        const cache = facts?.cache ?? 'miss';
        if (facts?.result) {
          judged.set(raw, {
            image: raw,
            verdict: this.asWired(judgeLookup(facts.result, item.ref, policy, now)),
            cache,
            ...(facts.result.status === 'found' && {
              judged: { ...repositoryKeyOf(facts.result.facts), digest: facts.result.facts.image.digest },
            }),
            ...(facts.violatingSince && { violatingSince: facts.violatingSince }),
          });
        } else {
          const failure = facts?.failure ?? { reason: 'timed-out' as const };
          judged.set(raw, {
            image: raw,
            verdict: this.failureVerdict(raw, failure, policy),
            cache,
            unverified: failure,
          });
        }
      }
    }

    const judgements = images.map(({ path, image }) => {
      const raw = rawImage(image);
      return { path, ...(judged.get(raw) as Omit<ImageJudgement, 'path'>) };
    });
    return { judgements, landed };
  }

  /** Where nothing asks for preparations, a violation that would wait on one denies, saying what to do. */
  private asWired(verdict: Verdict): Verdict {
    return this.preparations ? verdict : withoutPreparation(verdict);
  }

  /** Lookups on their way in this process (shared ones counted once). */
  get lookupsInFlight(): number {
    return this.running;
  }

  /** Lookups still shared (on their way, or found and waiting for their write): bounded in time. */
  get sharedLookups(): number {
    return this.inflight.size;
  }

  /**
   * One read for all images, within the cache-read budget (a share of the deadline): a cache that does
   * not answer in time is a miss for every image, and ECR answers within the rest of the deadline.
   */
  private async readCache(lookups: ImageLookup[], started: number): Promise<Map<string, CachedImage>> {
    const budget = Math.min(this.cacheReadBudgetMs, this.deadlineMs - (Date.now() - started));
    try {
      // Answered from memory: nothing to wait for, so no deadline timer.
      const atOnce = this.store.getManyAtOnce?.(lookups);
      if (atOnce) return atOnce;
      return await withDeadline(this.store.getMany(lookups), budget);
    } catch (error) {
      this.onFailure('decision cache read', error);
      return new Map();
    }
  }

  /**
   * The facts of images: one cache read for all of them, then the misses gathered within the deadline
   * (shared with concurrent requests, written through). Never throws: a failure is reported per image.
   * At most `maxLookupsPerReview` misses are looked up; the others are answered as too many.
   */
  async resolve(lookups: readonly ImageLookup[], started = Date.now()): Promise<Map<string, Resolved>> {
    const { resolved, landed } = await this.resolveFacts(lookups, started);
    await landed;
    return resolved;
  }

  /** `resolve`, with the wait for this request's write-throughs left to the caller (`landed`: never rejects). */
  private async resolveFacts(
    lookups: readonly ImageLookup[],
    started: number,
  ): Promise<{ resolved: Map<string, Resolved>; landed: Promise<void> }> {
    const unique = [...new Map(lookups.map((lookup) => [lookupKey(lookup), lookup])).values()];
    const cached = await this.readCache(unique, started);
    const resolved = new Map<string, Resolved>();
    const misses: ImageLookup[] = [];
    for (const lookup of unique) {
      const entry = cached.get(lookupKey(lookup));
      if (entry)
        resolved.set(lookupKey(lookup), {
          cache: 'hit',
          result: { status: 'found', facts: entry.facts },
          ...(entry.verdict?.violatingSince && { violatingSince: entry.verdict.violatingSince }),
        });
      else if (misses.length < this.maxLookupsPerReview) misses.push(lookup);
      else
        resolved.set(lookupKey(lookup), {
          cache: 'miss',
          failure: { reason: 'too-many-images', limit: this.maxLookupsPerReview },
        });
    }
    if (misses.length === 0) return { resolved, landed: Promise.resolve() };

    const deadline = started + this.deadlineMs;
    const shared = await Promise.all(
      misses.map(async (lookup) => {
        const key = lookupKey(lookup);
        try {
          const { result, lookup: running } = await this.gather(lookup, deadline);
          resolved.set(key, { cache: 'miss', result });
          return running;
        } catch (error) {
          this.onFailure(`facts of ${key}`, error);
          resolved.set(key, { cache: 'miss', failure: failureCause(error) });
          return undefined;
        }
      }),
    );
    // Let this request's own write-throughs land before answering (a Lambda is frozen after), within
    // the cache's budget and the deadline: another request's write never holds this one.
    const writes = shared.flatMap((lookup) => (lookup?.write ? [lookup.write] : []));
    if (writes.length === 0) return { resolved, landed: Promise.resolve() };
    const budget = Math.min(this.cacheReadBudgetMs, deadline - Date.now());
    const landed = withDeadline(Promise.allSettled(writes), budget).then(
      () => {},
      () => {},
    );
    return { resolved, landed };
  }

  /**
   * One lookup per image at a time, whoever asks, waited on until the caller's deadline. Found facts
   * are written through; the lookup stays shared until its write has landed (or for one deadline at
   * most), so a request that missed the cache meanwhile does not look the image up again, and facts
   * held in process never outlive a stuck write.
   */
  private async gather(
    lookup: ImageLookup,
    deadline: number,
  ): Promise<{ result: FactsLookup; lookup: SharedLookup }> {
    const key = lookupKey(lookup);
    let shared = this.inflight.get(key);
    if (!shared) {
      if (this.running >= this.maxLookupsInFlight) {
        throw new LookupLimitError(`${this.running} lookups already in flight`);
      }
      shared = this.startLookup(key, lookup);
    }
    const running = shared;
    running.waiters++;
    try {
      return { result: await withDeadline(running.promise, deadline - Date.now()), lookup: running };
    } finally {
      running.waiters--;
      if (running.waiters === 0 && !running.settled) running.controller.abort();
    }
  }

  private startLookup(key: string, lookup: ImageLookup): SharedLookup {
    const controller = new AbortController();
    this.running++;
    const shared: SharedLookup = {
      promise: this.facts
        .lookup(lookup, controller.signal)
        .then((result) => (this.carriesHistory ? this.withHistory(result) : result)),
      controller,
      waiters: 0,
      settled: false,
    };
    this.inflight.set(key, shared);
    const forget = () => {
      if (this.inflight.get(key) === shared) this.inflight.delete(key);
    };
    shared.promise.then(
      (result) => {
        shared.settled = true;
        this.running--;
        if (result.status !== 'found') return forget();
        // The answer does not wait on the write: a slow cache never turns facts in hand into a failure.
        shared.write = this.store
          .put({ facts: result.facts })
          .then(() => {})
          .catch((error) => this.onFailure('decision cache write', error))
          .finally(forget);
        setTimeout(forget, this.deadlineMs).unref();
      },
      () => {
        shared.settled = true;
        this.running--;
        forget();
      },
    );
    return shared;
  }

  /** The failure mode's answer, naming the cause class and the advice that fits it (never AWS's text). */
  private failureVerdict(image: string, failure: FailureCause, policy: Policy): Verdict {
    const { what, advice } = describeCause(failure, 'ECR');
    if (policy.failureMode === 'allow') {
      return {
        violations: [],
        warnings: [
          shortWarning(
            'NOT_VERIFIED',
            image,
            `not verified (${failure.reason}); admitted by failure mode allow`,
          ),
        ],
        notes: [
          `${image}: could not be verified (${what}); admitted because the failure mode is allow; ${advice}`,
        ],
      };
    }
    return {
      violations: [{ code: 'NOT_VERIFIED', image, message: `could not be verified (${what}); ${advice}` }],
      warnings: [],
      notes: [],
    };
  }
}

/**
 * The image as written, for messages and as the key its judgement is shared under. A value that is not a
 * string is named by its type only, never serialised: it may be nested deeper than the stack allows.
 */
function rawImage(image: unknown): string {
  if (typeof image === 'string') return image;
  if (image === undefined) return '(missing)';
  if (image === null) return 'null';
  if (Array.isArray(image)) return '(a list)';
  if (typeof image === 'object') return '(an object)';
  return String(image);
}

/**
 * The images an admission records (CREATE and UPDATE only reach here): those judged on facts, with the
 * digest they were judged for. Exempt images, images answered by the failure mode and, on UPDATE, the
 * images the update leaves unchanged (not judged) have no digest in hand and are not recorded.
 */
function admittedImages(
  request: AdmissionRequest,
  judgements: readonly ImageJudgement[],
  context: ReviewContext,
): AdmittedImage[] {
  const owner = ownerOf(request);
  return judgements.flatMap(({ image, judged }) =>
    judged
      ? [
          {
            cluster: context.cluster ?? DEFAULT_CLUSTER,
            namespace: request.namespace,
            owner,
            image,
            registryId: judged.registryId,
            region: judged.region,
            repositoryName: judged.repositoryName,
            digest: judged.digest,
          },
        ]
      : [],
  );
}

function malformedObject(path: string, problem: string): ImageJudgement {
  return {
    path: path || '(object)',
    image: '',
    cache: 'none',
    verdict: {
      violations: [{ code: 'INVALID_OBJECT', image: '', message: `the pod spec ${problem}` }],
      warnings: [],
      notes: [],
    },
  };
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return Promise.reject(new DeadlineExceededError('deadline passed'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
