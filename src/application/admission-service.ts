/**
 * The admission core: one implementation, used by the Lambda, the HTTPS server and the CLI. It reads the
 * decision cache once for all images of an object, gathers the facts of misses within a deadline
 * (concurrent misses for one image share one lookup), writes them through, and judges every image with
 * the current policy and clock.
 */

import { ADMISSION_DEFAULTS } from '../contracts/settings';
import {
  type AdmissionRequest,
  allowUntouched,
  type Decision,
  decide,
  type ImageJudgement,
} from '../domain/admission';
import { type CachedImage, type DecisionCache, lookupKey } from '../domain/decision-store';
import { DeadlineExceededError } from '../domain/errors';
import type { FactsLookup, FactsSource, ImageLookup } from '../domain/facts';
import { type ImageReference, parseImageReference } from '../domain/image-ref';
import { type Mutation, NO_MUTATION, pinCandidates, pinnedReference, toJsonPointer } from '../domain/pinning';
import type { Policy } from '../domain/policy';
import { imagesInScope } from '../domain/scope';
import { judgeLookup, judgeReference, type Verdict } from '../domain/verdict';
import type { ImageAtPath } from '../domain/workload';

export interface AdmissionServiceOptions {
  readonly policy: Policy;
  readonly facts: FactsSource;
  readonly store: DecisionCache;
  readonly now?: () => Date;
  /** Time allowed for cache reads and ECR lookups together, well under the webhook timeout. */
  readonly deadlineMs?: number;
  /** Told of every failure that the failure mode answered (for logs and metrics; never shown to users). */
  readonly onFailure?: (what: string, error: unknown) => void;
}

type Pending = { readonly ref: ImageReference; readonly lookup: ImageLookup };

/** Facts for one image: from the cache or gathered; absent `result` when they could not be had in time. */
export interface Resolved {
  readonly cache: 'hit' | 'miss';
  readonly result?: FactsLookup;
  readonly timedOut?: boolean;
}

export class AdmissionService {
  readonly policy: Policy;
  private readonly facts: FactsSource;
  private readonly store: DecisionCache;
  private readonly now: () => Date;
  private readonly deadlineMs: number;
  private readonly onFailure: (what: string, error: unknown) => void;
  private readonly inflight = new Map<string, Promise<FactsLookup>>();
  private readonly writes = new Set<Promise<void>>();

  constructor(options: AdmissionServiceOptions) {
    this.policy = options.policy;
    this.facts = options.facts;
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.deadlineMs = options.deadlineMs ?? ADMISSION_DEFAULTS.deadlineMs;
    this.onFailure = options.onFailure ?? (() => {});
  }

  async review(request: AdmissionRequest): Promise<Decision> {
    const scope = imagesInScope(request, this.policy);
    if (scope.kind === 'untouched') return allowUntouched(scope.reason);
    const judgements: ImageJudgement[] =
      scope.kind === 'malformed'
        ? [malformedObject(scope.path, scope.problem)]
        : await this.judgeImages(scope.images);
    const warnOnly =
      this.policy.mode === 'warn' ||
      (request.namespace !== '' && this.policy.match.warnNamespace(request.namespace));
    return decide({
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      warnOnly,
      judgements,
    });
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
        const reason = facts?.result
          ? facts.result.status
          : facts?.timedOut
            ? 'not resolved in time'
            : 'ECR could not be reached';
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
  async judgeImages(images: readonly ImageAtPath[]): Promise<ImageJudgement[]> {
    const started = Date.now();
    const now = this.now();
    const early = new Map<string, Omit<ImageJudgement, 'path'>>();
    const pending = new Map<string, Pending>();

    for (const { image } of images) {
      const raw = rawImage(image);
      if (early.has(raw) || pending.has(raw)) continue;
      const parsed = parseImageReference(image);
      const judged = judgeReference(raw, parsed.ok ? parsed.ref : parsed.error, this.policy);
      if (judged.kind === 'exempt') early.set(raw, { image: raw, exempt: judged.reason, cache: 'none' });
      else if (judged.kind === 'verdict')
        early.set(raw, { image: raw, verdict: judged.verdict, cache: 'none' });
      else if (parsed.ok) pending.set(raw, { ref: parsed.ref, lookup: judged.lookup });
    }

    const judged = new Map(early);
    if (pending.size > 0) {
      const resolved = await this.resolve(
        [...pending.values()].map((p) => p.lookup),
        started,
      );
      for (const [raw, item] of pending) {
        const facts = resolved.get(lookupKey(item.lookup));
        const verdict = facts?.result
          ? judgeLookup(facts.result, item.ref, this.policy, now)
          : this.failureVerdict(raw, facts?.timedOut ?? true);
        judged.set(raw, { image: raw, verdict, cache: facts?.cache ?? 'miss' });
      }
    }

    return images.map(({ path, image }) => {
      const raw = rawImage(image);
      return { path, ...(judged.get(raw) as Omit<ImageJudgement, 'path'>) };
    });
  }

  private async readCache(lookups: ImageLookup[], started: number): Promise<Map<string, CachedImage>> {
    try {
      return await withDeadline(this.store.getMany(lookups), this.deadlineMs - (Date.now() - started));
    } catch (error) {
      this.onFailure('decision cache read', error);
      return new Map();
    }
  }

  /**
   * The facts of images: one cache read for all of them, then the misses gathered within the deadline
   * (shared with concurrent requests, written through). Never throws: a failure is reported per image.
   */
  async resolve(lookups: readonly ImageLookup[], started = Date.now()): Promise<Map<string, Resolved>> {
    const unique = [...new Map(lookups.map((lookup) => [lookupKey(lookup), lookup])).values()];
    const cached = await this.readCache(unique, started);
    const resolved = new Map<string, Resolved>();
    const misses: ImageLookup[] = [];
    for (const lookup of unique) {
      const entry = cached.get(lookupKey(lookup));
      if (entry)
        resolved.set(lookupKey(lookup), { cache: 'hit', result: { status: 'found', facts: entry.facts } });
      else misses.push(lookup);
    }
    if (misses.length === 0) return resolved;

    const remaining = this.deadlineMs - (Date.now() - started);
    await Promise.all(
      misses.map(async (lookup) => {
        try {
          resolved.set(lookupKey(lookup), {
            cache: 'miss',
            result: await withDeadline(this.gather(lookup), remaining),
          });
        } catch (error) {
          this.onFailure(`facts of ${lookupKey(lookup)}`, error);
          resolved.set(lookupKey(lookup), {
            cache: 'miss',
            timedOut: error instanceof DeadlineExceededError,
          });
        }
      }),
    );
    // Let the write-through land before answering (a Lambda is frozen after), but never past the deadline.
    if (this.writes.size > 0) {
      await withDeadline(
        Promise.allSettled([...this.writes]),
        this.deadlineMs - (Date.now() - started),
      ).catch(() => {});
    }
    return resolved;
  }

  /**
   * One lookup per image at a time, whoever asks; found facts are written through to the cache. The
   * lookup stays shared until its write has landed, so a request that missed the cache meanwhile does
   * not look the image up again.
   */
  private gather(lookup: ImageLookup): Promise<FactsLookup> {
    const key = lookupKey(lookup);
    const running = this.inflight.get(key);
    if (running) return running;
    const promise = this.facts.lookup(lookup);
    this.inflight.set(key, promise);
    promise.then(
      (result) => {
        if (result.status !== 'found') return this.inflight.delete(key);
        // The answer does not wait on the write: a slow cache never turns facts in hand into a failure.
        const write: Promise<void> = this.store
          .put({ facts: result.facts })
          .then(() => {})
          .catch((error) => this.onFailure('decision cache write', error))
          .finally(() => {
            this.writes.delete(write);
            this.inflight.delete(key);
          });
        this.writes.add(write);
      },
      () => this.inflight.delete(key),
    );
    return promise;
  }

  private failureVerdict(image: string, timedOut: boolean): Verdict {
    const why = timedOut ? 'ECR did not answer in time' : 'ECR could not be reached';
    if (this.policy.failureMode === 'allow') {
      return {
        violations: [],
        warnings: [
          `${image}: could not be verified yet (${why}); admitted because the failure mode is allow`,
        ],
        notes: [],
      };
    }
    return {
      violations: [
        { code: 'NOT_VERIFIED', image, message: `could not be verified yet (${why}); retry in a moment` },
      ],
      warnings: [],
      notes: [],
    };
  }
}

function rawImage(image: unknown): string {
  return typeof image === 'string' ? image : (JSON.stringify(image) ?? '(missing)');
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
