/**
 * The continuity guard (policy `continuity`): a Pod that its controller re-creates (a node drained, a
 * Pod evicted), whose image the admitted inventory shows admitted for the same owner before a findings
 * violation appeared, is admitted with a warning for `graceDays` after the violation appeared, instead
 * of leaving the workload short of replicas. New rollouts are judged as ever (docs/design.md, "The
 * continuity guard").
 */
import type { AdmissionRequest, ImageJudgement } from './admission';
import type { Owner } from './inventory';
import { shortWarning, type Verdict, type Violation, type ViolationCode } from './verdict';

const DAY_MS = 86_400_000;

/** The controllers that re-create Pods of a template they already ran. */
export const CONTROLLER_KINDS: readonly string[] = ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'];

/**
 * The violations about an image's findings, which appear on an image already running: only these get
 * grace. An image not from ECR, a movable tag, a repository setting, an image missing or archived never
 * do: they were true when it was admitted, or are not about what was found in it.
 */
export const GRACED_CODES: readonly ViolationCode[] = [
  'SEVERITY_LIMIT_EXCEEDED',
  'UNSCANNED',
  'SCAN_TOO_OLD',
];

/** The owner a Pod CREATE re-creates under: its controlling owner, when that is a controller kind. */
export function recreatingOwner(request: AdmissionRequest): Owner | undefined {
  if (request.operation !== 'CREATE' || request.kind.kind !== 'Pod' || request.kind.group !== '') {
    return undefined;
  }
  const owner = request.owner;
  return owner && CONTROLLER_KINDS.includes(owner.kind) ? owner : undefined;
}

/**
 * When an image's violations appeared (ISO), if every one of them may get grace: the time the workflow
 * first stored a denying verdict (`violatingSince`); without it, the first-observed time of the newest
 * counted finding. Undefined when a violation never gets grace, or no time is known.
 */
export function violationAppeared(
  violations: readonly Violation[],
  violatingSince: string | undefined,
): string | undefined {
  if (violations.length === 0 || violations.some((v) => !GRACED_CODES.includes(v.code))) return undefined;
  if (violatingSince) return violatingSince;
  const observed = violations
    .flatMap((v) => v.findings ?? [])
    .filter((f) => f.counted && f.firstObservedAt && !Number.isNaN(Date.parse(f.firstObservedAt)))
    .map((f) => new Date(Date.parse(f.firstObservedAt as string)).toISOString())
    .sort();
  return observed.at(-1);
}

/**
 * The end of the grace (ISO) for an owner first admitted at `firstAdmittedAt`: only when it was admitted
 * before the violation appeared, and `now` is within `graceDays` of that. Undefined: no grace.
 */
export function graceEnds(
  firstAdmittedAt: string,
  appearedAt: string,
  graceDays: number,
  now: Date,
): string | undefined {
  const appeared = Date.parse(appearedAt);
  const admitted = Date.parse(firstAdmittedAt);
  if (Number.isNaN(appeared) || Number.isNaN(admitted) || admitted >= appeared) return undefined;
  const ends = appeared + graceDays * DAY_MS;
  return now.getTime() < ends ? new Date(ends).toISOString() : undefined;
}

/**
 * The judgement of a re-created Pod's image admitted by the guard: its violations become a warning
 * naming each and the end of the grace, and the judgement says why (`continuity`, for the audit log).
 */
export function graced(judgement: ImageJudgement, owner: Owner, until: string): ImageJudgement {
  const verdict = judgement.verdict as Verdict;
  const day = until.slice(0, 10);
  return {
    ...judgement,
    verdict: {
      violations: [],
      warnings: [
        ...verdict.violations.map((v) =>
          shortWarning(
            v.code,
            judgement.image,
            `grace ends ${day}: admitted as a re-creation of ${owner.kind} ${owner.name}, which ran it before the violation`,
          ),
        ),
        ...verdict.warnings,
      ],
      notes: [
        ...verdict.violations.map(
          (v) =>
            `${judgement.image}: ${v.message}; admitted by the continuity guard until ${until} (continuity.graceDays): roll out a fixed image before then`,
        ),
        ...verdict.notes,
      ],
    },
    continuity: { codes: [...new Set(verdict.violations.map((v) => v.code))], until },
  };
}
