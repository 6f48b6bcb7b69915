/**
 * The judgement: a pure, cheap function of (reference, facts, policy, clock) into a verdict, a list of
 * violations (empty means the image passes). Used alike by the admission path, the refresh workflow,
 * the CLI and the server. A verdict is remembered per facts, policy and reference until the first
 * instant its answer could change (docs/adr/0015-reuse-a-verdict-until-its-first-change.md).
 */
import type {
  Facts,
  FactsLookup,
  Finding,
  ImageLookup,
  RepositoryFacts,
  RepositoryKey,
  ScanFacts,
} from './facts';
import { compileGlobs, compileImageGlobs, type Matcher } from './glob';
import { formatReference, type ImageReference, PUBLIC_ECR_HOST } from './image-ref';
import {
  type CountOnly,
  type EXPLOIT_AVAILABILITY,
  type FIX_AVAILABILITY,
  type IgnoredFinding,
  type Policy,
  type Rules,
  SEVERITIES,
  type Severity,
} from './policy';
import type { PreparationTarget } from './refresh';

export type ViolationCode =
  | 'INVALID_REFERENCE'
  | 'INVALID_OBJECT'
  | 'NOT_ECR'
  | 'REGISTRY_NOT_ALLOWED'
  | 'REPOSITORY_NOT_FOUND'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_ARCHIVED'
  | 'IMAGE_IMPORTING'
  | 'IMAGE_RESTORING'
  | 'TAG_MUTABLE'
  | 'SCAN_ON_PUSH_DISABLED'
  | 'SCAN_ON_PUSH_UNVERIFIED'
  | 'UNSCANNED'
  | 'SEVERITY_LIMIT_EXCEEDED'
  | 'SCAN_TOO_OLD'
  | 'NOT_VERIFIED';

export interface Violation {
  readonly code: ViolationCode;
  /** The image reference as written. */
  readonly image: string;
  /** Plain words a developer can act on; never AWS error text. */
  readonly message: string;
  /** For a multi-architecture image: the platform image that breaks the rule. */
  readonly platform?: string;
  /**
   * For SEVERITY_LIMIT_EXCEEDED: the findings of the severities over their limits, those that count
   * first (most severe first), each with whether it counts and why.
   */
  readonly findings?: readonly JudgedFinding[];
  /**
   * Set when the workflow can make the image pullable (import it through a pull-through cache, restore
   * it from the archive): what to ask of it. Such a violation waits on that work: a Pod is denied until
   * it is done (its controller retries), a workload object is admitted with a warning (nothing retries
   * it, and its Pods are judged one by one).
   */
  readonly preparation?: PreparationTarget;
}

export interface Verdict {
  readonly violations: readonly Violation[];
  /** Allowed but worth knowing: unscanned images under `unscanned: warn`, exceptions about to expire. */
  readonly warnings: readonly string[];
  /** How the verdict was reached where it matters (registry rules that could not be read). */
  readonly notes: readonly string[];
}

/** What the reference alone decides, before any facts are needed. */
export type ReferenceJudgement =
  | { readonly kind: 'exempt'; readonly reason: string }
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | { readonly kind: 'needs-facts'; readonly lookup: ImageLookup };

/** Kubernetes truncates long warnings and asks for short ones: one short line each. */
export const MAX_WARNING_LENGTH = 120;

/** The image as a reader scans for it: the repository's last segment and the tag (or a short digest). */
export function shortImageName(image: string): string {
  const [name = image, digest] = image.split('@');
  const last = name.slice(name.lastIndexOf('/') + 1) || name;
  return digest ? `${last.split(':')[0]}@${digest.slice(0, 19)}` : last;
}

/** `[CODE] image-short-name: one clause`, at most MAX_WARNING_LENGTH characters. */
export function shortWarning(code: string, image: string, clause: string): string {
  const text = `[${code}] ${image ? `${shortImageName(image)}: ` : ''}${clause}`;
  return text.length <= MAX_WARNING_LENGTH ? text : `${text.slice(0, MAX_WARNING_LENGTH - 3)}...`;
}

const DAY_MS = 86_400_000;
const EXPIRY_WARNING_DAYS = 7;
const SCANNED_STATUSES = new Set(['COMPLETE', 'ACTIVE']);
const SCANNING_FREQUENCIES = new Set(['SCAN_ON_PUSH', 'CONTINUOUS_SCAN']);

/**
 * The clock as a judgement reads it: the instant judged at, and the first later instant at which the
 * same facts, reference and policy may be judged otherwise (an exception's end or warning day, a scan's
 * or a finding's age crossing a limit, the next day of a message's "known N days" or of the date its
 * advice names). Every read of the clock in a judgement goes through one, so that a verdict can be
 * reused until then, and never past it.
 */
class Moment {
  /** Epoch ms; judgements at any instant in [t, until) are the same. */
  until = Number.POSITIVE_INFINITY;
  constructor(readonly t: number) {}
  /** The judgement read something that holds until `at` (epoch ms) and no longer. */
  changesAt(at: number): void {
    if (at > this.t && at < this.until) this.until = at;
  }
}

function deny(image: string, code: ViolationCode, message: string): Verdict {
  return { violations: [{ code, image, message }], warnings: [], notes: [] };
}

/** Rules that need no facts: exemptions, and rule 1 (the image comes from a private ECR registry). */
export function judgeReference(
  raw: string,
  parsed: ImageReference | string,
  policy: Policy,
): ReferenceJudgement {
  // An invalid reference is never exempt: exemptions match a valid reference written out in full.
  if (typeof parsed === 'string') {
    return { kind: 'verdict', verdict: deny(raw, 'INVALID_REFERENCE', `invalid image reference: ${parsed}`) };
  }
  const ref = parsed;
  if (policy.match.exemptImage(formatReference(ref)))
    return { kind: 'exempt', reason: 'image exempt by policy' };
  if (!ref.ecr) {
    if (!policy.rules.requireEcr) return { kind: 'exempt', reason: 'ECR not required by policy' };
    if (ref.registry.toLowerCase() === PUBLIC_ECR_HOST) {
      if (policy.images.allowPublicEcr) return { kind: 'exempt', reason: 'ECR Public allowed by policy' };
      return {
        kind: 'verdict',
        verdict: deny(
          raw,
          'NOT_ECR',
          'ECR Public images are not allowed; copy the image into a private ECR repository',
        ),
      };
    }
    return {
      kind: 'verdict',
      verdict: deny(
        raw,
        'NOT_ECR',
        `registry "${ref.registry}" is not a private Amazon ECR registry; push the image to ECR and reference it from there`,
      ),
    };
  }
  const { accountId, region } = ref.ecr;
  const allowed = policy.images.allowedRegistries;
  if (allowed.length > 0 && !allowed.includes(accountId)) {
    return {
      kind: 'verdict',
      verdict: deny(
        raw,
        'REGISTRY_NOT_ALLOWED',
        `ECR registry of account ${accountId} is not in the allowed registries`,
      ),
    };
  }
  return {
    kind: 'needs-facts',
    lookup: {
      registryId: accountId,
      region,
      repositoryName: ref.repository,
      ...(ref.digest ? { digest: ref.digest } : { tag: ref.tag ?? 'latest' }),
    },
  };
}

/** Judges the outcome of a lookup: "not found" is a denial; found facts go through rules 2 to 4. */
export function judgeLookup(lookup: FactsLookup, ref: ImageReference, policy: Policy, now: Date): Verdict {
  if (lookup.status === 'repository-not-found') {
    return deny(
      ref.raw,
      'REPOSITORY_NOT_FOUND',
      `repository "${ref.repository}" does not exist in ${ref.registry}`,
    );
  }
  if (lookup.status === 'image-not-found') {
    const what = ref.digest ? `digest ${ref.digest}` : `tag "${ref.tag}"`;
    return deny(ref.raw, 'IMAGE_NOT_FOUND', `${what} does not exist in repository "${ref.repository}"`);
  }
  if (lookup.status === 'image-not-active') {
    if (policy.archived === 'restore') {
      const key = repositoryOf(ref);
      if (key) return { violations: [restoring(ref.raw, key, lookup.digest)], warnings: [], notes: [] };
    }
    return deny(ref.raw, 'IMAGE_ARCHIVED', notActiveMessage(lookup, ref));
  }
  if (lookup.status === 'pull-through-pending') return judgePullThrough(lookup, ref, policy);
  return judgeFacts(lookup.facts, ref, policy, now);
}

/** The repository an ECR reference names (none for a reference that is not to a private registry). */
function repositoryOf(ref: ImageReference): RepositoryKey | undefined {
  return ref.ecr
    ? { registryId: ref.ecr.accountId, region: ref.ecr.region, repositoryName: ref.repository }
    : undefined;
}

/** An archived image under `archived: restore`: the workflow restores it, and a retry is judged. */
function restoring(image: string, key: RepositoryKey, digest: string, platform?: string): Violation {
  return {
    code: 'IMAGE_RESTORING',
    image,
    ...(platform && { platform }),
    message: `${platform ? `${platform}: ` : ''}image ${digest} is archived and is being restored (it takes up to 20 minutes); it is judged once restored, and a retry is admitted if it passes`,
    preparation: { ...key, action: 'restore', digest },
  };
}

/**
 * An image not in ECR yet, under a pull-through cache rule: the workflow imports it, and it is judged
 * once its scan completes. The repository is judged now (rules 2 and 3), as it is or as its creation
 * template will make it: an image that would break them is denied at once, and not imported.
 */
function judgePullThrough(
  lookup: Extract<FactsLookup, { status: 'pull-through-pending' }>,
  ref: ImageReference,
  policy: Policy,
): Verdict {
  const made = lookup.repositoryExists
    ? undefined
    : lookup.template
      ? `the repository creation template "${lookup.template}"`
      : "ECR's defaults (no repository creation template applies)";
  const repository = judgeRepository(lookup.repository, ref, policy, [], made);
  const through = `the pull-through cache rule "${lookup.rule.prefix}" (${lookup.rule.upstreamRegistryUrl})`;
  if (repository.violations.length > 0) {
    return {
      ...repository,
      notes: [
        ...repository.notes,
        `${ref.raw}: not imported through ${through}: the repository breaks the policy`,
      ],
    };
  }
  const what = ref.digest ? `digest ${ref.digest}` : `tag "${ref.tag ?? 'latest'}"`;
  return {
    violations: [
      {
        code: 'IMAGE_IMPORTING',
        image: ref.raw,
        message: `${what} is not in ECR yet: its first pull imports it through ${through}; it is judged when its scan completes, and a retry is admitted if it passes (an image the upstream registry does not have is never imported)`,
        preparation: {
          registryId: lookup.repository.registryId,
          region: lookup.repository.region,
          repositoryName: lookup.repository.repositoryName,
          action: 'import',
          ...(ref.digest ? { digest: ref.digest } : { tag: ref.tag ?? 'latest' }),
        },
      },
    ],
    warnings: [],
    notes: repository.notes,
  };
}

/** What a developer can do about an archived image: the command that restores it, exactly. */
function notActiveMessage(lookup: { digest: string; imageStatus: string }, ref: ImageReference): string {
  if (lookup.imageStatus === 'ACTIVATING') {
    return `image ${lookup.digest} is being restored from the ECR archive (it takes up to 20 minutes) and cannot be pulled yet; retry when it is restored`;
  }
  const state = lookup.imageStatus === 'ARCHIVED' ? 'archived' : `in status ${lookup.imageStatus}`;
  return `image ${lookup.digest} is ${state} and cannot be pulled; restore it: ${restoreCommand(lookup.digest, repositoryOf(ref), ref.repository)}`;
}

/** The command that restores an archived image, exactly (the registry and region where the reference names them). */
function restoreCommand(digest: string, key: RepositoryKey | undefined, repositoryName: string): string {
  const where = key ? `--registry-id ${key.registryId} --region ${key.region} ` : '';
  return `aws ecr update-image-storage-class ${where}--repository-name ${repositoryName} --image-id imageDigest=${digest} --target-storage-class STANDARD`;
}

/**
 * A verdict where nothing asks the workflow to prepare images (the command line, `serve`): a violation
 * that would wait on an import or a restore says what a person can do instead, and denies any kind.
 */
export function withoutPreparation(verdict: Verdict): Verdict {
  if (!verdict.violations.some((v) => v.preparation)) return verdict;
  return {
    ...verdict,
    violations: verdict.violations.map((violation) => {
      const { preparation, ...rest } = violation;
      if (!preparation) return violation;
      if (preparation.action === 'import') {
        return {
          ...rest,
          message: `${rest.message}; nothing here asks for the import: pull the image once to start it`,
        };
      }
      const digest = preparation.digest ?? '';
      return {
        ...rest,
        code: 'IMAGE_ARCHIVED' as const,
        message: `${rest.platform ? `${rest.platform}: ` : ''}image ${digest} is archived and cannot be pulled; restore it: ${restoreCommand(digest, preparation, preparation.repositoryName)}`,
      };
    }),
  };
}

/** Rules 2 to 4 on gathered facts, for the tag the object references, the current policy and clock. */
export function judgeFacts(facts: Facts, ref: ImageReference, policy: Policy, now: Date): Verdict {
  // The same facts, reference and policy give the same verdict until the clock crosses the first
  // instant the judgement read (never per calendar day): judged once, reused by every review until then.
  let byPolicy = verdictMemo.get(facts);
  if (!byPolicy) {
    byPolicy = new WeakMap();
    verdictMemo.set(facts, byPolicy);
  }
  let byImage = byPolicy.get(policy);
  if (!byImage) {
    byImage = new Map();
    byPolicy.set(policy, byImage);
  }
  const t = now.getTime();
  const memo = byImage.get(ref.raw);
  if (memo && t >= memo.from && t < memo.until && memo.tag === ref.tag && memo.digest === ref.digest) {
    return memo.verdict;
  }
  const judged = judgeFactsUntil(facts, ref, policy, now);
  if (byImage.size >= MAX_REFERENCES_PER_FACTS) byImage.clear();
  byImage.set(ref.raw, { ...judged, from: t, tag: ref.tag, digest: ref.digest });
  return judged.verdict;
}

/** Verdicts reused per facts, policy and reference, each until its first instant of change. */
const verdictMemo = new WeakMap<
  Facts,
  WeakMap<
    Policy,
    Map<string, { verdict: Verdict; from: number; until: number; tag?: string; digest?: string }>
  >
>();

/** References to one image judged under one policy (tags and digests as written): few in practice. */
const MAX_REFERENCES_PER_FACTS = 64;

/**
 * `judgeFacts` without reuse: the verdict at `now` (frozen, as it is shared), and the first instant
 * (epoch ms, or infinity) at which the same facts, reference and policy may be judged otherwise.
 */
export function judgeFactsUntil(
  facts: Facts,
  ref: ImageReference,
  policy: Policy,
  now: Date,
): { verdict: Verdict; until: number } {
  const moment = new Moment(now.getTime());
  const verdict = judgeFactsAt(facts, ref, policy, moment);
  for (const violation of verdict.violations) {
    if (violation.findings) for (const finding of violation.findings) Object.freeze(finding);
    Object.freeze(violation.findings);
    Object.freeze(violation.preparation);
    Object.freeze(violation);
  }
  Object.freeze(verdict.violations);
  Object.freeze(verdict.warnings);
  Object.freeze(verdict.notes);
  return { verdict: Object.freeze(verdict), until: moment.until };
}

function judgeFactsAt(facts: Facts, ref: ImageReference, policy: Policy, now: Moment): Verdict {
  const statuses = [facts.image.scan?.status, ...(facts.image.platforms ?? []).map((p) => p.scan?.status)];
  const { violations, warnings, notes } = judgeRepository(facts.repository, ref, policy, statuses);
  const image = ref.raw;
  const archived = policy.archived === 'restore' ? repositoryOf(ref) : undefined;

  const platforms = facts.image.platforms;
  if (platforms) {
    if (platforms.length === 0) {
      // Not "unscanned" (which a policy may allow): there is nothing a node could run that was judged.
      violations.push({
        code: 'UNSCANNED',
        image,
        message:
          'the image index lists no platform image that can be judged; push an image index with platform images',
      });
    }
    for (const child of platforms) {
      if (!child.found) {
        violations.push({
          code: 'IMAGE_NOT_FOUND',
          image,
          platform: child.platform,
          message: `${child.platform}: the index lists ${child.digest}, which is not in the repository`,
        });
        continue;
      }
      if (child.imageStatus) {
        // A node of that platform could not pull it: archived (or being restored), whatever its scan says.
        if (archived) {
          violations.push(restoring(image, archived, child.digest, child.platform));
          continue;
        }
        violations.push({
          code: 'IMAGE_ARCHIVED',
          image,
          platform: child.platform,
          message: `${child.platform}: ${notActiveMessage({ digest: child.digest, imageStatus: child.imageStatus }, ref)}`,
        });
        continue;
      }
      judgeScan(child.scan, image, child.platform, policy, now, violations, warnings);
    }
  } else {
    judgeScan(facts.image.scan, image, undefined, policy, now, violations, warnings);
  }
  return { violations, warnings, notes };
}

/**
 * Rules 2 and 3, on the repository's settings. `made`: the repository does not exist yet, and this
 * will create it (a creation template, or ECR's defaults). `statuses`: the image's scan statuses, which
 * show continuous scanning where the registry's rules cannot be read.
 */
function judgeRepository(
  repository: RepositoryFacts,
  ref: ImageReference,
  policy: Policy,
  statuses: readonly (string | undefined)[],
  made?: string,
): Verdict & { violations: Violation[]; warnings: string[]; notes: string[] } {
  const violations: Violation[] = [];
  const notes: string[] = [];
  const image = ref.raw;
  const { rules } = policy;
  const settings = made
    ? `repository "${repository.repositoryName}" will be created by ${made} with`
    : 'repository';

  if (rules.requireTagImmutability && !ref.digest) {
    const tag = ref.tag ?? 'latest';
    if (tagIsMutable(repository, tag)) {
      violations.push({
        code: 'TAG_MUTABLE',
        image,
        message: `tag "${tag}" can be moved (${settings} tag mutability ${repository.imageTagMutability}); make the tag immutable or reference the image by digest`,
      });
    }
  }

  if (rules.requireScanOnPush) {
    const scanning = judgeScanOnPush(repository, statuses);
    if (scanning.note) notes.push(scanning.note);
    if (scanning.violation) violations.push({ ...scanning.violation, image });
  }
  return { violations, warnings: [], notes };
}

/**
 * ECR's tag and repository filters come with the facts, so they are compiled on the hot path: each
 * list once, not per judgement (bounded, for a long-running server).
 */
const filterMatchers = new Map<string, Matcher>();
const MAX_FILTER_MATCHERS = 1_000;

function filterMatcher(patterns: readonly string[]): Matcher {
  const key = patterns.join('\u0000');
  let matcher = filterMatchers.get(key);
  if (!matcher) {
    if (filterMatchers.size >= MAX_FILTER_MATCHERS) filterMatchers.clear();
    matcher = compileGlobs(patterns);
    filterMatchers.set(key, matcher);
  }
  return matcher;
}

/**
 * A registry scanning rule's repository filter as a glob. ECR's user guide ("Filters to choose which
 * repositories are scanned in Amazon ECR", image-scanning-filters): "a filter with no wildcard will match
 * all repository names that contain the filter"; with a wildcard, `*` replaces zero or more characters.
 */
export function scanningFilterGlob(filter: string): string {
  return filter.includes('*') ? filter : `*${filter}*`;
}

export function tagIsMutable(repository: RepositoryFacts, tag: string): boolean {
  const matchesFilter = () => filterMatcher(repository.tagMutabilityExclusionFilters)(tag);
  switch (repository.imageTagMutability) {
    case 'IMMUTABLE':
      return false;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return matchesFilter();
    case 'MUTABLE_WITH_EXCLUSION':
      return !matchesFilter();
    default:
      return true;
  }
}

function judgeScanOnPush(
  repo: RepositoryFacts,
  statuses: readonly (string | undefined)[],
): {
  violation?: Omit<Violation, 'image'>;
  note?: string;
} {
  const basic = repo.registryScanning?.scanType === 'BASIC';
  if (repo.repositoryScanning) {
    const { scanOnPush, scanFrequency } = repo.repositoryScanning;
    // ECR's effective configuration for the repository: it wins over the deprecated repository flag.
    if (scanOnPush || (scanFrequency && SCANNING_FREQUENCIES.has(scanFrequency))) return {};
    return { violation: { code: 'SCAN_ON_PUSH_DISABLED', message: scanOnPushAdvice(repo) } };
  }
  if (repo.registryScanning) {
    const scanned = repo.registryScanning.rules.some(
      (rule) =>
        SCANNING_FREQUENCIES.has(rule.scanFrequency) &&
        filterMatcher(rule.repositoryFilters.map(scanningFilterGlob))(repo.repositoryName),
    );
    if (scanned || (basic && repo.legacyScanOnPush)) return {};
    return { violation: { code: 'SCAN_ON_PUSH_DISABLED', message: scanOnPushAdvice(repo) } };
  }
  const unread = `the registry scanning rules of account ${repo.registryId} could not be read`;
  if (statuses.includes('ACTIVE')) {
    return { note: `${unread}; continuous scanning is shown by the image's active enhanced scan` };
  }
  if (repo.legacyScanOnPush) return { note: `${unread}; judged by the repository's scan-on-push flag` };
  return {
    violation: {
      code: 'SCAN_ON_PUSH_UNVERIFIED',
      message: `scan on push could not be confirmed: ${unread} and the repository does not show it; configure a registry role for that account or enable scan on push`,
    },
  };
}

function scanOnPushAdvice(repo: RepositoryFacts): string {
  return `repository "${repo.repositoryName}" does not scan images on push; add a registry scanning rule (scan on push or continuous) that covers it`;
}

function judgeScan(
  scan: ScanFacts | undefined,
  image: string,
  platform: string | undefined,
  policy: Policy,
  now: Moment,
  violations: Violation[],
  warnings: string[],
): void {
  const { rules } = policy;
  const on = platform ? `${platform}: ` : '';
  const at = platform ? { platform } : {};
  if (!scan || !SCANNED_STATUSES.has(scan.status)) {
    if (rules.unscanned === 'allow') return;
    const state = scan ? `scan status is ${scan.status}` : 'the image has not been scanned';
    const message = `${on}no usable vulnerability scan (${state}); scan the image and wait for the scan to complete`;
    if (rules.unscanned === 'deny') violations.push({ code: 'UNSCANNED', image, message, ...at });
    else warnings.push(shortWarning('UNSCANNED', image, `${on}no usable vulnerability scan (${state})`));
    return;
  }

  if (rules.maxScanAgeDays > 0) {
    const completed = scan.completedAt ? Date.parse(scan.completedAt) : Number.NaN;
    const ageDays = (now.t - completed) / DAY_MS;
    if (Number.isNaN(completed) || ageDays > rules.maxScanAgeDays) {
      // Too old from then on; the message's "N days old" changes with each day.
      if (!Number.isNaN(completed)) now.changesAt(completed + (Math.floor(ageDays) + 1) * DAY_MS);
      const when = Number.isNaN(completed) ? 'has no completion time' : `is ${Math.floor(ageDays)} days old`;
      violations.push({
        code: 'SCAN_TOO_OLD',
        image,
        message: `${on}the last scan ${when}, more than the ${rules.maxScanAgeDays} days allowed; rescan the image`,
        ...at,
      });
    } else {
      // Too old from the first millisecond past the limit.
      now.changesAt(completed + rules.maxScanAgeDays * DAY_MS + 1);
    }
  }

  const { counts, judged } = countFindings(scan, rules, now, image, warnings);
  const overSeverities = SEVERITIES.filter((severity) => {
    const limit = rules.maxSeverityCounts[severity];
    return limit !== undefined && (counts.get(severity) ?? 0) > limit;
  });
  if (overSeverities.length > 0) {
    const over = overSeverities.map(
      (severity) => `${counts.get(severity)} ${severity} (limit ${rules.maxSeverityCounts[severity]})`,
    );
    const offending = offendingFindings(scan, overSeverities, judged, rules.countOnly, now);
    const counted = offending.filter((f) => f.counted);
    const named = counted.slice(0, MAX_NAMED_FINDINGS);
    const more = counted.length > named.length ? ` and ${counted.length - named.length} more` : '';
    const ids = named.length > 0 ? `: ${named.map((f) => describeFinding(f, now)).join('; ')}${more}` : '';
    const advice =
      named.length > 0
        ? `fix them or add a dated exception to the policy: ${exceptionLines(
            named.map((f) => f.id),
            now,
          )}`
        : 'fix them or add a dated exception';
    violations.push({
      code: 'SEVERITY_LIMIT_EXCEEDED',
      image,
      message: `${on}vulnerability findings above the policy limits: ${over.join(', ')}${ids}; ${advice}`,
      ...at,
      ...(offending.length > 0 && { findings: offending }),
    });
  }
}

/** How many finding ids a message names; `--output json` holds them all. */
export const MAX_NAMED_FINDINGS = 5;
const EXCEPTION_DAYS = 30;

/**
 * The findings of the severities over their limits, each id once: those that count first (most severe,
 * then highest score first), then those that do not, each saying why.
 */
function offendingFindings(
  scan: ScanFacts,
  severities: readonly Severity[],
  judged: ReadonlyMap<Finding, FindingJudgement> | undefined,
  countOnly: CountOnly | undefined,
  now: Moment,
): JudgedFinding[] {
  const seen = new Set<string>();
  const rank = (f: Finding) => SEVERITIES.indexOf(normaliseSeverity(f.severity));
  return scan.findings
    .filter((f) => severities.includes(normaliseSeverity(f.severity)))
    .map((f): JudgedFinding => ({ ...f, ...(judged?.get(f) ?? judgeFinding(f, countOnly, now)) }))
    .sort(
      (a, b) =>
        Number(b.counted) - Number(a.counted) ||
        rank(a) - rank(b) ||
        (b.score ?? -1) - (a.score ?? -1) ||
        a.id.localeCompare(b.id),
    )
    .filter((f) => !seen.has(f.id) && Boolean(seen.add(f.id)));
}

/** One finding in a denial: "CVE-2026-1111 CRITICAL, fix available (openssl 3.0.15), known 21 days". */
function describeFinding(f: JudgedFinding, now: Moment): string {
  const parts = [`${f.id} ${normaliseSeverity(f.severity)}`];
  if (f.score !== undefined) parts.push(`score ${f.score}`);
  const pkg = f.package ? `${f.package}${f.fixedInVersion ? ` ${f.fixedInVersion}` : ''}` : undefined;
  if (f.fixAvailable === 'YES') parts.push(`fix available${pkg ? ` (${pkg})` : ''}`);
  else if (f.fixAvailable === 'PARTIAL') parts.push(`partial fix${pkg ? ` (${pkg})` : ''}`);
  else if (f.fixAvailable === 'NO') parts.push('no fix yet');
  if (f.exploitAvailable === 'YES') parts.push('exploit available');
  const age = ageDays(f, now);
  if (age !== undefined) parts.push(`known ${age} day${age === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function ageDays(f: Finding, now: Moment): number | undefined {
  const first = f.firstObservedAt ? Date.parse(f.firstObservedAt) : Number.NaN;
  if (Number.isNaN(first)) return undefined;
  const days = Math.max(0, Math.floor((now.t - first) / DAY_MS));
  now.changesAt(first + (days + 1) * DAY_MS);
  return days;
}

/**
 * The policy lines of an exception for these findings, in flow style so that they fit one line of a
 * denial (YAML takes them as they are under `rules:`), expiring in 30 days.
 */
function exceptionLines(ids: readonly string[], now: Moment): string {
  const expires = new Date(now.t + EXCEPTION_DAYS * DAY_MS).toISOString().slice(0, 10);
  // The date named is a UTC day: the next one from the next midnight.
  now.changesAt((Math.floor(now.t / DAY_MS) + 1) * DAY_MS);
  const items = ids.map((id) => `{ id: ${id}, expires: ${expires}, reason: "..." }`);
  return `ignoreFindings: [${items.join(', ')}]`;
}

function normaliseSeverity(severity: string): Severity {
  const upper = severity.toUpperCase();
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : 'UNDEFINED';
}

/** Whether a finding counts against the limits, and why (the `countOnly` key or exception that decided). */
export interface FindingJudgement {
  readonly counted: boolean;
  readonly why: string;
}

export type JudgedFinding = Finding & FindingJudgement;

/** `countOnly`'s keys on one finding, in order; the first that leaves it out says why. */
function judgeFinding(f: Finding, countOnly: CountOnly | undefined, now: Moment): FindingJudgement {
  if (!countOnly) return { counted: true, why: 'counted: every finding counts' };
  const reasons: string[] = [];
  if (countOnly.fixAvailable) {
    const fix = (f.fixAvailable ?? 'UNKNOWN') as (typeof FIX_AVAILABILITY)[number];
    if (!countOnly.fixAvailable.includes(fix)) {
      return { counted: false, why: `not counted: fix availability ${fix} (countOnly.fixAvailable)` };
    }
    reasons.push(`fix ${fix}`);
  }
  if (countOnly.exploitAvailable) {
    const exploit = (f.exploitAvailable ?? 'UNKNOWN') as (typeof EXPLOIT_AVAILABILITY)[number];
    if (!countOnly.exploitAvailable.includes(exploit)) {
      return {
        counted: false,
        why: `not counted: exploit availability ${exploit} (countOnly.exploitAvailable)`,
      };
    }
    reasons.push(`exploit ${exploit}`);
  }
  if (countOnly.minScore !== undefined) {
    if (f.score !== undefined && f.score < countOnly.minScore) {
      return {
        counted: false,
        why: `not counted: score ${f.score} below ${countOnly.minScore} (countOnly.minScore)`,
      };
    }
    reasons.push(f.score === undefined ? 'no score' : `score ${f.score}`);
  }
  if (countOnly.minAgeDays !== undefined) {
    const first = f.firstObservedAt ? Date.parse(f.firstObservedAt) : Number.NaN;
    if (!Number.isNaN(first) && now.t - first < countOnly.minAgeDays * DAY_MS) {
      // Counted from the instant it is old enough.
      now.changesAt(first + countOnly.minAgeDays * DAY_MS);
      return {
        counted: false,
        why: `not counted: first observed ${f.firstObservedAt}, less than ${countOnly.minAgeDays} days ago (countOnly.minAgeDays)`,
      };
    }
    reasons.push(Number.isNaN(first) ? 'first observed at an unknown time' : 'old enough');
  }
  return { counted: true, why: `counted: ${reasons.join(', ')}` };
}

/** The image globs of exceptions, compiled once per list (bounded, as the filter lists are). */
const exceptionImageMatchers = new Map<string, Matcher>();

function exceptionImages(patterns: readonly string[]): Matcher {
  const key = patterns.join('\u0000');
  let matcher = exceptionImageMatchers.get(key);
  if (!matcher) {
    if (exceptionImageMatchers.size >= MAX_FILTER_MATCHERS) exceptionImageMatchers.clear();
    matcher = compileImageGlobs(patterns);
    exceptionImageMatchers.set(key, matcher);
  }
  return matcher;
}

/**
 * Severity counts against the limits. Without `countOnly`: ECR's counts (or the findings, when ECR
 * reports none) minus the findings under an exception. With it: the findings that count; and findings
 * ECR counts but did not list (nothing is known of them) count too, never less.
 */
function countFindings(
  scan: ScanFacts,
  rules: Rules,
  now: Moment,
  image: string,
  warnings: string[],
): Counted {
  const reported = Object.keys(scan.severityCounts).length > 0;
  if (reported && !rules.countOnly && rules.ignoreFindings.length === 0) {
    return countAt(scan, rules, now, image, []);
  }
  // Walking every finding is what costs with thousands of them: the same facts under the same rules
  // give the same counts until the clock crosses a threshold (an exception's expiry or warning day, a
  // finding's grace period), so the walk is remembered per facts, rules and image until then.
  let byRules = countMemo.get(scan);
  if (!byRules) {
    byRules = new WeakMap();
    countMemo.set(scan, byRules);
  }
  let byImage = byRules.get(rules);
  if (!byImage) {
    byImage = new Map();
    byRules.set(rules, byImage);
  }
  const t = now.t;
  let memo = byImage.get(image);
  if (!memo || t < memo.from || t >= memo.until) {
    const said: string[] = [];
    const counting = new Moment(t);
    const counted = countAt(scan, rules, counting, image, said);
    memo = { ...counted, warnings: said, from: t, until: counting.until };
    if (byImage.size >= MAX_FILTER_MATCHERS) byImage.clear();
    byImage.set(image, memo);
  }
  now.changesAt(memo.until);
  warnings.push(...memo.warnings);
  return memo;
}

interface Counted {
  readonly counts: ReadonlyMap<Severity, number>;
  readonly judged?: ReadonlyMap<Finding, FindingJudgement>;
}

const countMemo = new WeakMap<
  ScanFacts,
  WeakMap<Rules, Map<string, Counted & { warnings: readonly string[]; from: number; until: number }>>
>();

function countAt(scan: ScanFacts, rules: Rules, now: Moment, image: string, warnings: string[]): Counted {
  const counts = new Map<Severity, number>();
  const reported = Object.keys(scan.severityCounts).length > 0;
  const active = activeExceptions(rules.ignoreFindings, now, image);
  if (!rules.countOnly && active.size === 0) {
    if (reported) {
      for (const [severity, count] of Object.entries(scan.severityCounts)) {
        const key = normaliseSeverity(severity);
        counts.set(key, (counts.get(key) ?? 0) + count);
      }
    } else {
      for (const finding of scan.findings) {
        const key = normaliseSeverity(finding.severity);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return { counts };
  }

  const judged = new Map<Finding, FindingJudgement>();
  const listed = new Map<Severity, number>();
  const warned = new Set<string>();
  for (const finding of scan.findings) {
    const key = normaliseSeverity(finding.severity);
    listed.set(key, (listed.get(key) ?? 0) + 1);
    const applied = active.get(finding.id);
    if (applied) {
      const { exception, end } = applied;
      // Warned of from its warning day on (its end is read where it is found active).
      now.changesAt(end - EXPIRY_WARNING_DAYS * DAY_MS);
      judged.set(finding, {
        counted: false,
        why: `excepted until ${exception.expires}${ticketOf(exception)}`,
      });
      if (end - now.t <= EXPIRY_WARNING_DAYS * DAY_MS && !warned.has(exception.id)) {
        warned.add(exception.id);
        warnings.push(
          shortWarning(
            'EXCEPTION_EXPIRING',
            image,
            `exception for ${exception.id}${ticketOf(exception)} expires ${exception.expires}`,
          ),
        );
      }
      continue;
    }
    const judgement = judgeFinding(finding, rules.countOnly, now);
    judged.set(finding, judgement);
    if (judgement.counted) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Counted by ECR, never listed: unknown, so they count (an exception names a listed finding).
  // ECR's keys totalled per severity as judged first (UNTRIAGED and UNDEFINED are both UNDEFINED).
  const reportedCounts = new Map<Severity, number>();
  if (reported) {
    for (const [severity, count] of Object.entries(scan.severityCounts)) {
      const key = normaliseSeverity(severity);
      reportedCounts.set(key, (reportedCounts.get(key) ?? 0) + count);
    }
  }
  for (const [key, count] of reportedCounts) {
    const unlisted = count - (listed.get(key) ?? 0);
    if (unlisted > 0) counts.set(key, (counts.get(key) ?? 0) + unlisted);
  }
  return { counts, judged };
}

function ticketOf(exception: IgnoredFinding): string {
  return exception.ticket ? ` (${exception.ticket})` : '';
}

/**
 * The exceptions that apply to this image now: not expired (through the end of their `expires` day,
 * UTC), their image globs matching the reference as written, and not scoped to namespaces (`policyFor`
 * resolves those for the request's namespace; a judgement without a namespace applies none of them).
 */
function activeExceptions(
  exceptions: readonly IgnoredFinding[],
  now: Moment,
  image: string,
): Map<string, { exception: IgnoredFinding; end: number }> {
  const active = new Map<string, { exception: IgnoredFinding; end: number }>();
  for (const exception of exceptions) {
    if (exception.namespaces) continue;
    if (exception.images && !exceptionImages(exception.images)(image)) continue;
    const end = Date.parse(`${exception.expires}T00:00:00Z`) + DAY_MS;
    if (now.t < end) {
      now.changesAt(end);
      active.set(exception.id, { exception, end });
    }
  }
  return active;
}
