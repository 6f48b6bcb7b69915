/**
 * The admission decision: each image's verdict combined with the namespace rules, the mode and the
 * request into allowed or denied, a message naming every reason with its path, warnings and audit
 * annotations. Computed per request, never cached. Knows nothing of the AdmissionReview wire format.
 */

import type { FailureCause } from './errors';
import type { RepositoryKey } from './facts';
import type { Owner } from './inventory';
import { shortWarning, type Verdict, type Violation } from './verdict';
import type { GroupKind } from './workload';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** One admission request, whatever the wire version it came in. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupKind;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  readonly operation: Operation;
  readonly object: unknown;
  /** The object before an UPDATE. */
  readonly oldObject?: unknown;
  readonly dryRun: boolean;
  /**
   * What the object runs under, for the admitted inventory: a Pod's controlling owner, else the object
   * itself (the default when absent).
   */
  readonly owner?: Owner;
}

/** The owner an admitted object's images are recorded under. */
export function ownerOf(request: AdmissionRequest): Owner {
  return request.owner ?? { kind: request.kind.kind, name: request.name };
}

/** How one image at one path was judged. */
export interface ImageJudgement {
  readonly path: string;
  readonly image: string;
  /** Absent when the policy admits the image without judging it. */
  readonly verdict?: Verdict;
  readonly exempt?: string;
  readonly cache: 'hit' | 'miss' | 'none';
  /** Set when the facts could not be had and the failure mode answered: why. */
  readonly unverified?: FailureCause;
  /** Set when judged on facts: the repository and the digest the verdict was judged for. */
  readonly judged?: RepositoryKey & { readonly digest: string };
  /** From the cache: when the workflow first stored a denying verdict for the image (ISO). */
  readonly violatingSince?: string;
  /** Set when the continuity guard admitted the image: the violations it graced, and until when. */
  readonly continuity?: { readonly codes: readonly string[]; readonly until: string };
}

/** An image the failure mode answered for, with the cause class. */
export interface UnverifiedImage extends FailureCause {
  readonly path: string;
  readonly image: string;
}

export interface Decision {
  readonly allowed: boolean;
  /** Set when denied: every reason, each with its path. */
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly auditAnnotations: Readonly<Record<string, string>>;
  /** Every violation with its path, also when only warned about (for `check` and reports). */
  readonly violations: readonly (Violation & { readonly path: string })[];
  readonly notes: readonly string[];
  /** Set when the whole object is admitted without judging it because the policy exempts it. */
  readonly exempt?: string;
  /** Images the policy admits without judging them (exempt images), with the reason. */
  readonly exemptImages: readonly {
    readonly path: string;
    readonly image: string;
    readonly reason: string;
  }[];
  /** Images that could not be judged: the failure mode answered for them. */
  readonly unverified: readonly UnverifiedImage[];
  /** Images answered from the decision cache, and images whose facts had to be gathered. */
  readonly cacheHits: number;
  readonly cacheMisses: number;
}

/** Kubernetes keeps warnings short and printable: 4096 characters in total. */
const WARNINGS_BUDGET = 4096;
const MAX_WARNING = 512;
const TRUNCATED = '...';

/** Admitted without judging: not judged at all, or (`exempt`) exempt by the policy. */
export function allowUntouched(reason: string, how: { exempt?: boolean } = {}): Decision {
  return {
    allowed: true,
    warnings: [],
    auditAnnotations: { decision: 'allowed', reason },
    violations: [],
    notes: [],
    ...(how.exempt && { exempt: reason }),
    exemptImages: [],
    unverified: [],
    cacheHits: 0,
    cacheMisses: 0,
  };
}

export interface DecideInput {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Violations become warnings (policy `mode: warn`, or a warn namespace). */
  readonly warnOnly: boolean;
  readonly judgements: readonly ImageJudgement[];
}

export function decide(input: DecideInput): Decision {
  const violations = input.judgements.flatMap((j) =>
    (j.verdict?.violations ?? []).map((v) => ({ ...v, path: j.path })),
  );
  const imageWarnings = input.judgements.flatMap((j) => j.verdict?.warnings ?? []);
  const notes = [...new Set(input.judgements.flatMap((j) => j.verdict?.notes ?? []))];
  const lines = violations.map(describeViolation);
  const hits = input.judgements.filter((j) => j.cache === 'hit').length;
  const misses = input.judgements.filter((j) => j.cache === 'miss').length;
  const codes = [...new Set(violations.map((v) => v.code))];
  // A violation that waits on the workflow's work (an import, a restore) denies a Pod, which its
  // controller retries; a workload object, which nothing retries, is admitted with a warning.
  const retried = input.kind === 'Pod';
  const blocking = violations.filter((v) => retried || v.preparation === undefined);
  const denied = blocking.length > 0 && !input.warnOnly;
  const exemptImages = input.judgements.flatMap((j) =>
    j.exempt !== undefined ? [{ path: j.path, image: j.image, reason: j.exempt }] : [],
  );
  const unverified = input.judgements.flatMap((j) =>
    j.unverified ? [{ path: j.path, image: j.image, ...j.unverified }] : [],
  );

  const audit: Record<string, string> = {
    decision: denied ? 'denied' : violations.length > 0 ? 'warned' : 'allowed',
    cache: `hit=${hits},miss=${misses}`,
  };
  if (codes.length > 0) audit.violations = codes.join(',');
  // Why the failure mode answered: for the cluster's operators (audit log), never AWS's own text.
  if (unverified.length > 0) {
    audit.unverified = [
      ...new Set(unverified.map((u) => `${u.reason}${u.action ? `(${u.action})` : ''}`)),
    ].join(',');
  }
  if (exemptImages.length > 0) audit.exempt = String(exemptImages.length);
  const counted = countedFindings(violations);
  if (counted) audit.findings = counted;
  // Admitted by the continuity guard: what was graced, and until when (`CODE until DATE`).
  const graced = input.judgements.flatMap((j) =>
    j.continuity ? j.continuity.codes.map((code) => `${code} until ${j.continuity?.until.slice(0, 10)}`) : [],
  );
  if (graced.length > 0) {
    audit.continuity = [...new Set(graced)].join(',');
    if (!denied) audit.decision = 'warned';
  }

  const warned = denied ? [] : violations.map((v) => shortWarning(v.code, v.image, firstClause(v.message)));
  const warnings = [...new Set([...warned, ...imageWarnings])];
  const object = `${input.kind} ${input.namespace ? `${input.namespace}/` : ''}${input.name || '(unnamed)'}`;
  const offending = new Set(violations.map((v) => v.path)).size;
  return {
    allowed: !denied,
    ...(denied && {
      message: `ecr-admission denied ${object}: ${offending} image${offending === 1 ? '' : 's'} break${offending === 1 ? 's' : ''} the image policy\n${lines.map((l) => `- ${l}`).join('\n')}`,
    }),
    warnings: limitWarnings(warnings),
    auditAnnotations: audit,
    violations,
    notes,
    exemptImages,
    unverified,
    cacheHits: hits,
    cacheMisses: misses,
  };
}

/** How many counted findings the audit annotation names (the rest are counted: `+N more`). */
export const MAX_AUDIT_FINDINGS = 10;

/**
 * The counted findings of severity violations, in short, for the audit log: `CVE-2026-1111(CRITICAL,
 * fix,exploit)`, most severe first, each id once, bounded.
 */
function countedFindings(violations: readonly Violation[]): string | undefined {
  const seen = new Set<string>();
  const all = violations
    .flatMap((v) => v.findings ?? [])
    .filter((f) => f.counted && !seen.has(f.id) && Boolean(seen.add(f.id)));
  if (all.length === 0) return undefined;
  const named = all.slice(0, MAX_AUDIT_FINDINGS).map((f) => {
    const marks = [
      f.severity,
      ...(f.fixAvailable === 'YES' ? ['fix'] : []),
      ...(f.exploitAvailable === 'YES' ? ['exploit'] : []),
    ];
    return `${f.id}(${marks.join(',')})`;
  });
  const more = all.length - named.length;
  return `${named.join(',')}${more > 0 ? ` +${more} more` : ''}`;
}

/** The part of a message before its advice (`...; fix it`), for a short warning. */
function firstClause(message: string): string {
  const cut = message.indexOf('; ');
  return cut > 0 ? message.slice(0, cut) : message;
}

export function describeViolation(v: Violation & { path: string }): string {
  return printable(`${v.path} "${v.image}": [${v.code}] ${v.message}`);
}

/** Control characters (from an image string as written, say) never reach a terminal or a log. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

/** Strips control characters and keeps the warnings within the Kubernetes budget. */
export function limitWarnings(warnings: readonly string[]): string[] {
  const kept: string[] = [];
  let used = 0;
  for (const [index, warning] of warnings.entries()) {
    let text = printable(warning);
    if (text.length > MAX_WARNING) text = `${text.slice(0, MAX_WARNING - TRUNCATED.length)}${TRUNCATED}`;
    const left = warnings.length - index - 1;
    const reserve = left > 0 ? 40 : 0;
    if (used + text.length + reserve > WARNINGS_BUDGET) {
      kept.push(`${warnings.length - index} more warnings not shown`);
      break;
    }
    kept.push(text);
    used += text.length;
  }
  return kept;
}
