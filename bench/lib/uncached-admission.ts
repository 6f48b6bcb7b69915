/**
 * The baseline of the rollout burst: the pattern of the AWS sample webhooks ("Building serverless
 * admission webhooks for Kubernetes with AWS SAM", jicowan/ecr-validation-webhook), where every
 * admission asks ECR about every image of the object, with no cache and nothing shared between
 * admissions that ask about the same image at the same time.
 *
 * To compare like with like, it gathers the same facts through the same ECR adapter (the live SDK
 * reads) and judges them with the same rules as the product: the difference measured is the cache and
 * the shared lookups, not how much is judged. Within one admission, images are looked up in parallel,
 * which favours the baseline's latency. An image whose facts cannot be had (the SDK timing out behind
 * its queue of requests, say) is denied as "not verified", as the product's default failure mode does.
 */

import type { AdmissionRequest } from '../../src/domain/admission';
import { type Decision, decide, type ImageJudgement } from '../../src/domain/admission';
import type { FactsSource } from '../../src/domain/facts';
import { parseImageReference } from '../../src/domain/image-ref';
import type { Policy } from '../../src/domain/policy';
import { judgeLookup, judgeReference } from '../../src/domain/verdict';
import { extractImages } from '../../src/domain/workload';

export class UncachedAdmission {
  /** Images whose lookup failed. */
  failures = 0;
  /** Why, as the SDK put it (the cause of the adapter's error). */
  readonly failureCauses = new Set<string>();

  constructor(
    private readonly policy: Policy,
    private readonly facts: FactsSource,
    private readonly now: () => Date,
  ) {}

  async review(request: AdmissionRequest): Promise<Decision> {
    const extraction = extractImages(request.kind, request.object, request.subresource);
    if (extraction.kind !== 'images')
      throw new Error(`the baseline judges pod specs only (${extraction.kind})`);
    const judgements = await Promise.all(
      extraction.images.map(async ({ path, image }): Promise<ImageJudgement> => {
        const raw = String(image);
        const parsed = parseImageReference(image);
        const judged = judgeReference(raw, parsed.ok ? parsed.ref : parsed.error, this.policy);
        if (judged.kind === 'exempt') return { path, image: raw, exempt: judged.reason, cache: 'none' };
        if (judged.kind === 'verdict' || !parsed.ok) {
          return {
            path,
            image: raw,
            cache: 'none',
            ...(judged.kind === 'verdict' && { verdict: judged.verdict }),
          };
        }
        try {
          const lookup = await this.facts.lookup(judged.lookup);
          return {
            path,
            image: raw,
            verdict: judgeLookup(lookup, parsed.ref, this.policy, this.now()),
            cache: 'miss',
          };
        } catch (error) {
          this.failures++;
          const cause = (error as { cause?: { name?: string; message?: string } }).cause;
          this.failureCauses.add(`${cause?.name ?? 'Error'}: ${cause?.message ?? (error as Error).message}`);
          const message = 'could not be verified (ECR could not be reached); retry in a moment';
          const verdict = {
            violations: [{ code: 'NOT_VERIFIED' as const, image: raw, message }],
            warnings: [],
            notes: [],
          };
          return { path, image: raw, verdict, cache: 'miss' };
        }
      }),
    );
    return decide({
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      warnOnly: this.policy.mode === 'warn',
      judgements,
    });
  }
}
