/**
 * Exposure: which admitted workloads run an image that the current facts and policy deny. Each record
 * of the admitted inventory is judged by its digest, under its namespace's policy, by the admission
 * core's own judgement (`judgeImages`): the same rules, cache, facts and failure mode as a review.
 */
import { ADMISSION_DEFAULTS } from '../contracts/settings';
import type { ImageJudgement } from '../domain/admission';
import type { FailureCause } from '../domain/errors';
import type { AdmittedRecord, Owner } from '../domain/inventory';
import { type Policy, policyFor } from '../domain/policy';
import type { ViolationCode } from '../domain/verdict';
import type { AdmissionService } from './admission-service';

/**
 * `denied`: a rule denies the image where it runs; `warned`: a rule breaks, in a warn-only namespace;
 * `unverified`: the facts could not be had (the failure mode answered).
 */
export type ExposureResult = 'denied' | 'warned' | 'unverified';

export interface Exposure {
  readonly cluster: string;
  readonly namespace: string;
  readonly owner: Owner;
  /** The image as written in the admitted object. */
  readonly image: string;
  readonly digest: string;
  readonly result: ExposureResult;
  readonly violations: readonly {
    readonly code: ViolationCode;
    readonly message: string;
    readonly platform?: string;
  }[];
  /** For `unverified`: why the facts could not be had. */
  readonly unverified?: FailureCause;
  readonly lastAdmittedAt: string;
}

/** The image as ECR names it by digest: what was admitted, whatever its tag now points at. */
export function digestReference(record: AdmittedRecord): string {
  return `${record.registryId}.dkr.ecr.${record.region}.amazonaws.com/${record.repositoryName}@${record.digest}`;
}

/** Images judged in one call: no more than one review may look up (beyond it, the failure mode answers). */
const IMAGES_PER_CALL = ADMISSION_DEFAULTS.maxLookupsPerReview;

/**
 * Every exposed record, in the records' order. Records in an exempt namespace are not judged (the
 * webhook admits them without judging). Never throws: what cannot be judged is `unverified`.
 */
export async function findExposure(
  service: AdmissionService,
  records: readonly AdmittedRecord[],
  policy: Policy,
): Promise<Exposure[]> {
  const byNamespace = new Map<string, AdmittedRecord[]>();
  for (const record of records) {
    if (record.namespace && policy.match.exemptNamespace(record.namespace)) continue;
    const inNamespace = byNamespace.get(record.namespace);
    if (inNamespace) inNamespace.push(record);
    else byNamespace.set(record.namespace, [record]);
  }
  const judged = new Map<AdmittedRecord, ImageJudgement>();
  for (const [namespace, inNamespace] of byNamespace) {
    const { policy: applies } = policyFor(policy, namespace);
    const references = [...new Set(inNamespace.map(digestReference))];
    const byReference = new Map<string, ImageJudgement>();
    for (let at = 0; at < references.length; at += IMAGES_PER_CALL) {
      const images = references.slice(at, at + IMAGES_PER_CALL).map((ref) => ({ path: ref, image: ref }));
      for (const judgement of await service.judgeImages(images, applies)) {
        byReference.set(judgement.path, judgement);
      }
    }
    for (const record of inNamespace) {
      const judgement = byReference.get(digestReference(record));
      if (judgement) judged.set(record, judgement);
    }
  }
  return records.flatMap((record) => {
    const judgement = judged.get(record);
    if (!judgement) return [];
    const exposure = exposureOf(record, judgement, warnOnly(policy, record.namespace));
    return exposure ? [exposure] : [];
  });
}

/** As the review decides it: a scope's explicit mode wins over `namespaces.warn`. */
function warnOnly(policy: Policy, namespace: string): boolean {
  const { policy: applies, mode } = policyFor(policy, namespace);
  if (mode !== undefined) return mode === 'warn';
  return applies.mode === 'warn' || (namespace !== '' && policy.match.warnNamespace(namespace));
}

function exposureOf(record: AdmittedRecord, judgement: ImageJudgement, warn: boolean): Exposure | undefined {
  const all = judgement.verdict?.violations ?? [];
  const broken = all.filter((v) => v.code !== 'NOT_VERIFIED');
  const result: ExposureResult | undefined =
    broken.length > 0 ? (warn ? 'warned' : 'denied') : judgement.unverified ? 'unverified' : undefined;
  if (!result) return undefined;
  return {
    cluster: record.cluster,
    namespace: record.namespace,
    owner: record.owner,
    image: record.image,
    digest: record.digest,
    result,
    violations: (result === 'unverified' ? all : broken).map((v) => ({
      code: v.code,
      message: v.message,
      ...(v.platform && { platform: v.platform }),
    })),
    ...(judgement.unverified && { unverified: judgement.unverified }),
    lastAdmittedAt: record.lastAdmittedAt,
  };
}
