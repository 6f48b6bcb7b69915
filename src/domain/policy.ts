import { createHash } from 'node:crypto';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { ACCOUNT_ID, ACCOUNT_ID_MESSAGE } from './aws-names';
import { PolicyError } from './errors';
import { compileGlobs, compileImageGlobs, type Matcher } from './glob';

/** Severities ECR and Inspector report, highest first. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;
export type Severity = (typeof SEVERITIES)[number];

// zod/mini ships no messages of its own: the English locale gives the texts classic zod gives.
z.config(en());

const DEFAULT_MAX_SEVERITY_COUNTS: Partial<Record<Severity, number>> = { CRITICAL: 0 };

const isoDate = z.pipe(
  z.union([z.string(), z.date()]),
  z.transform((value: string | Date, payload) => {
    const text = value instanceof Date ? value.toISOString().slice(0, 10) : value;
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const date = match ? new Date(`${text}T00:00:00Z`) : undefined;
    if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
      payload.issues.push({
        code: 'custom',
        message: `expected a date written YYYY-MM-DD, got "${text}"`,
        input: value,
      });
      return z.NEVER;
    }
    return text;
  }),
);

const count = () => z.int().check(z.nonnegative());

const severityLimits = z._default(
  z.strictObject(
    Object.fromEntries(SEVERITIES.map((s) => [s, z.optional(z.nullable(count()))])) as Record<
      Severity,
      z.ZodMiniOptional<z.ZodMiniNullable<ReturnType<typeof count>>>
    >,
  ),
  {},
);

const accountId = z.string().check(z.regex(ACCOUNT_ID, ACCOUNT_ID_MESSAGE));
const name = () => z.string().check(z.minLength(1));

export const FIX_AVAILABILITY = ['YES', 'PARTIAL', 'NO', 'UNKNOWN'] as const;
export const EXPLOIT_AVAILABILITY = ['YES', 'NO', 'UNKNOWN'] as const;

/**
 * One of ECR's availability words. A YAML 1.1 tool turns an unquoted YES or NO into a boolean: that is
 * an error saying to quote it, never read as some value.
 */
function availability<const T extends readonly string[]>(values: T) {
  return z.pipe(
    z.unknown(),
    z.transform((value: unknown, payload): T[number] => {
      if (typeof value === 'boolean') {
        payload.issues.push({
          code: 'custom',
          message: `${value} is a boolean (a YAML 1.1 tool read an unquoted YES or NO): write it in quotes, one of ${values.join(', ')}`,
          input: value,
        });
        return z.NEVER;
      }
      if (typeof value !== 'string' || !values.includes(value)) {
        payload.issues.push({
          code: 'custom',
          message: `expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`,
          input: value,
        });
        return z.NEVER;
      }
      return value;
    }),
  );
}

/** Which findings count against `maxSeverityCounts`; every key optional, all combined with AND. */
const countOnlySchema = z.strictObject({
  fixAvailable: z.optional(z.array(availability(FIX_AVAILABILITY)).check(z.minLength(1))),
  exploitAvailable: z.optional(z.array(availability(EXPLOIT_AVAILABILITY)).check(z.minLength(1))),
  minScore: z.optional(z.number().check(z.gte(0), z.lte(10))),
  minAgeDays: z.optional(count()),
});

const ignoredFindingSchema = z.strictObject({
  id: name(),
  expires: isoDate,
  reason: z.optional(z.string()),
  ticket: z.optional(name()),
  approvedBy: z.optional(name()),
  /** Namespace globs: the exception applies only there. */
  namespaces: z.optional(z.array(name()).check(z.minLength(1))),
  /** Image globs, matched against the reference as written. */
  images: z.optional(z.array(name()).check(z.minLength(1))),
});

/** The `rules` keys a scope may override, none defaulted: what it leaves out comes from the top level. */
const scopeRulesSchema = z.strictObject({
  requireEcr: z.optional(z.boolean()),
  requireTagImmutability: z.optional(z.boolean()),
  requireScanOnPush: z.optional(z.boolean()),
  maxSeverityCounts: z.optional(
    z.strictObject(
      Object.fromEntries(SEVERITIES.map((s) => [s, z.optional(z.nullable(count()))])) as Record<
        Severity,
        z.ZodMiniOptional<z.ZodMiniNullable<ReturnType<typeof count>>>
      >,
    ),
  ),
  countOnly: z.optional(countOnlySchema),
  ignoreFindings: z.optional(z.array(ignoredFindingSchema)),
  unscanned: z.optional(z.enum(['deny', 'warn', 'allow'])),
  maxScanAgeDays: z.optional(count()),
});

export const policySchema = z.strictObject({
  mode: z._default(z.enum(['enforce', 'warn']), 'enforce'),
  namespaces: z._default(
    z.strictObject({
      exempt: z._default(z.array(name()), ['kube-system']),
      warn: z._default(z.array(name()), []),
    }),
    { exempt: ['kube-system'], warn: [] },
  ),
  images: z._default(
    z.strictObject({
      exempt: z._default(z.array(name()), []),
      allowPublicEcr: z._default(z.boolean(), false),
      allowedRegistries: z._default(z.array(accountId), []),
    }),
    { exempt: [], allowPublicEcr: false, allowedRegistries: [] },
  ),
  rules: z._default(
    z.strictObject({
      requireEcr: z._default(z.boolean(), true),
      requireTagImmutability: z._default(z.boolean(), true),
      requireScanOnPush: z._default(z.boolean(), true),
      maxSeverityCounts: severityLimits,
      countOnly: z.optional(countOnlySchema),
      ignoreFindings: z._default(z.array(ignoredFindingSchema), []),
      unscanned: z._default(z.enum(['deny', 'warn', 'allow']), 'deny'),
      maxScanAgeDays: z._default(count(), 0),
    }),
    {
      requireEcr: true,
      requireTagImmutability: true,
      requireScanOnPush: true,
      maxSeverityCounts: {},
      ignoreFindings: [],
      unscanned: 'deny',
      maxScanAgeDays: 0,
    },
  ),
  failureMode: z._default(z.enum(['deny', 'allow']), 'deny'),
  /** Per-namespace rules: the first scope whose namespaces match applies. */
  scopes: z._default(
    z.array(
      z.strictObject({
        namespaces: z.array(name()).check(z.minLength(1)),
        mode: z.optional(z.enum(['enforce', 'warn'])),
        failureMode: z.optional(z.enum(['deny', 'allow'])),
        rules: z.optional(scopeRulesSchema),
      }),
    ),
    [],
  ),
  pinDigests: z._default(z.enum(['pods', 'workloads', 'off']), 'pods'),
  /** An archived image: denied with the command that restores it, or restored by the workflow. */
  archived: z._default(z.enum(['deny', 'restore']), 'deny'),
  /** The continuity guard: a re-created Pod of a workload admitted before a findings violation appeared. */
  continuity: z._default(
    z.strictObject({
      recreate: z._default(z.enum(['off', 'warn']), 'off'),
      graceDays: z._default(count(), 14),
    }),
    { recreate: 'off', graceDays: 14 },
  ),
  registries: z._default(
    z.array(
      z
        .strictObject({
          accountId,
          roleArn: z
            .string()
            .check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected an IAM role ARN')),
        })
        .check(
          z.refine((entry) => entry.roleArn.split(':')[4] === entry.accountId, {
            message: 'the role must belong to the account it reads',
            path: ['roleArn'],
            // Only compare two well-formed values; otherwise the field's own issue says what is wrong.
            when: (payload) => payload.issues.length === 0,
          }),
        ),
    ),
    [],
  ),
});

export type PolicyDocument = z.input<typeof policySchema>;
type ParsedPolicy = z.output<typeof policySchema>;

export interface IgnoredFinding {
  readonly id: string;
  /** Last day (UTC, inclusive) the exception applies. */
  readonly expires: string;
  readonly reason?: string;
  /** Shown in warnings and reports. */
  readonly ticket?: string;
  readonly approvedBy?: string;
  /**
   * Namespace globs: the exception applies only there. Resolved by `policyFor` for the request's
   * namespace; an exception that still carries them (a judgement without a namespace) never applies.
   */
  readonly namespaces?: readonly string[];
  /** Image globs, matched against the reference as written. */
  readonly images?: readonly string[];
}

/** Which findings count against `maxSeverityCounts` (all keys combined with AND; absent: every one). */
export interface CountOnly {
  readonly fixAvailable?: readonly (typeof FIX_AVAILABILITY)[number][];
  readonly exploitAvailable?: readonly (typeof EXPLOIT_AVAILABILITY)[number][];
  /** Inclusive; a finding without a score counts. */
  readonly minScore?: number;
  /** Inclusive, an exact duration; a finding without a first-observed time counts. */
  readonly minAgeDays?: number;
}

/** The rules of a policy, after merging with the defaults (and, in a scope, over the top level). */
export interface Rules {
  readonly requireEcr: boolean;
  readonly requireTagImmutability: boolean;
  readonly requireScanOnPush: boolean;
  /** Limits after merging with the default; a lifted limit is absent. */
  readonly maxSeverityCounts: Readonly<Partial<Record<Severity, number>>>;
  readonly countOnly?: CountOnly;
  readonly ignoreFindings: readonly IgnoredFinding[];
  readonly unscanned: 'deny' | 'warn' | 'allow';
  readonly maxScanAgeDays: number;
}

/** A scope as written: namespaces and what it overrides. */
export type PolicyScope = ParsedPolicy['scopes'][number];

/** A validated policy with its globs compiled once, ready for the hot path. */
export interface Policy {
  readonly mode: 'enforce' | 'warn';
  readonly namespaces: { readonly exempt: readonly string[]; readonly warn: readonly string[] };
  readonly images: {
    readonly exempt: readonly string[];
    readonly allowPublicEcr: boolean;
    readonly allowedRegistries: readonly string[];
  };
  readonly rules: Rules;
  readonly failureMode: 'deny' | 'allow';
  readonly scopes: readonly PolicyScope[];
  /** Which objects the mutating webhook pins to digests (docs/adr/0005-pin-digests-on-pods.md). */
  readonly pinDigests: 'pods' | 'workloads' | 'off';
  /** `restore`: the workflow restores an archived image that a Pod asks for (once); top-level only. */
  readonly archived: 'deny' | 'restore';
  /**
   * `warn`: a Pod its controller re-creates, whose image the inventory shows admitted for the same
   * owner before a findings violation appeared, is admitted with a warning for `graceDays` after it
   * appeared (docs/design.md, "The continuity guard"); top-level only.
   */
  readonly continuity: { readonly recreate: 'off' | 'warn'; readonly graceDays: number };
  readonly registries: readonly { readonly accountId: string; readonly roleArn: string }[];
  readonly match: {
    readonly exemptNamespace: Matcher;
    readonly warnNamespace: Matcher;
    readonly exemptImage: Matcher;
    /** Each scope's namespaces, with the policy that applies there (its own `scopes` empty). */
    readonly scopes: readonly {
      readonly namespace: Matcher;
      readonly scope: PolicyScope;
      readonly policy: Policy;
    }[];
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/**
 * Formats zod issues as `path: message`, naming unknown keys by their full path. Typed against zod's
 * core so that errors from classic zod and from zod/mini both fit.
 */
export function describeIssues(error: z.core.$ZodError): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`);
    }
    const where = formatPath(issue.path);
    return [`${where || '(top level)'}: ${issue.message}`];
  });
}

function mergeSeverityLimits(
  given: Partial<Record<Severity, number | null | undefined>>,
  base: Partial<Record<Severity, number>> = DEFAULT_MAX_SEVERITY_COUNTS,
): Partial<Record<Severity, number>> {
  const merged: Partial<Record<Severity, number | null | undefined>> = { ...base };
  // A key written `undefined` (absent in YAML) leaves the base's limit; `null` lifts it.
  for (const [severity, limit] of Object.entries(given)) {
    if (limit !== undefined) merged[severity as Severity] = limit;
  }
  const limits: Partial<Record<Severity, number>> = {};
  for (const severity of SEVERITIES) {
    const limit = merged[severity];
    if (typeof limit === 'number') limits[severity] = limit;
  }
  return limits;
}

/** A scope's rules over the top level's: key by key; limits and `countOnly` merged; exceptions added. */
function mergeRules(top: Rules, scope: NonNullable<PolicyScope['rules']>): Rules {
  const { maxSeverityCounts, countOnly, ignoreFindings, ...plain } = scope;
  const defined = Object.fromEntries(Object.entries(plain).filter(([, value]) => value !== undefined));
  const merged = { ...top.countOnly, ...countOnly };
  return {
    ...top,
    ...defined,
    maxSeverityCounts: mergeSeverityLimits(maxSeverityCounts ?? {}, top.maxSeverityCounts),
    ...(Object.keys(merged).length > 0 ? { countOnly: merged } : {}),
    ignoreFindings: [...top.ignoreFindings, ...(ignoreFindings ?? [])],
  };
}

function compile(parsed: ParsedPolicy): Policy {
  const rules: Rules = {
    ...parsed.rules,
    maxSeverityCounts: mergeSeverityLimits(parsed.rules.maxSeverityCounts),
  };
  const match = {
    exemptNamespace: compileGlobs(parsed.namespaces.exempt),
    warnNamespace: compileGlobs(parsed.namespaces.warn),
    exemptImage: compileImageGlobs(parsed.images.exempt),
  };
  const top: Policy = { ...parsed, rules, match: { ...match, scopes: [] } };
  const scopes = parsed.scopes.map((scope) => ({
    namespace: compileGlobs(scope.namespaces),
    scope,
    policy: {
      ...top,
      ...(scope.mode && { mode: scope.mode }),
      ...(scope.failureMode && { failureMode: scope.failureMode }),
      rules: scope.rules ? mergeRules(rules, scope.rules) : rules,
      scopes: [],
    },
  }));
  return { ...top, match: { ...match, scopes } };
}

/** What applies in one namespace: the policy, and the mode a scope sets explicitly (it wins over `namespaces.warn`). */
export interface NamespacePolicy {
  readonly policy: Policy;
  readonly mode?: 'enforce' | 'warn';
}

const namespaceMatchers = new Map<string, Matcher>();

function namespaceMatcher(patterns: readonly string[]): Matcher {
  const key = patterns.join('\u0000');
  let matcher = namespaceMatchers.get(key);
  if (!matcher) {
    if (namespaceMatchers.size >= 1_000) namespaceMatchers.clear();
    matcher = compileGlobs(patterns);
    namespaceMatchers.set(key, matcher);
  }
  return matcher;
}

/**
 * The policy for a request in `namespace` ('' for none): the first scope whose namespaces match, with
 * the exceptions scoped to namespaces resolved (those of other namespaces left out). Without scopes and
 * namespace-scoped exceptions, the policy itself.
 */
export function policyFor(policy: Policy, namespace: string): NamespacePolicy {
  // The same namespace gets the same objects: judgements remember their work per rules object.
  let memo = namespacePolicies.get(policy);
  if (!memo) {
    memo = new Map();
    namespacePolicies.set(policy, memo);
  }
  let resolved = memo.get(namespace);
  if (!resolved) {
    resolved = resolvePolicy(policy, namespace);
    if (memo.size >= 1_000) memo.clear();
    memo.set(namespace, resolved);
  }
  return resolved;
}

const namespacePolicies = new WeakMap<Policy, Map<string, NamespacePolicy>>();

function resolvePolicy(policy: Policy, namespace: string): NamespacePolicy {
  const scoped = namespace ? policy.match.scopes.find((s) => s.namespace(namespace)) : undefined;
  const base = scoped?.policy ?? policy;
  const mode = scoped?.scope.mode;
  if (!base.rules.ignoreFindings.some((e) => e.namespaces)) return { policy: base, ...(mode && { mode }) };
  const ignoreFindings = base.rules.ignoreFindings.flatMap((exception) => {
    if (!exception.namespaces) return [exception];
    if (!namespace || !namespaceMatcher(exception.namespaces)(namespace)) return [];
    const { namespaces: _resolved, ...applies } = exception;
    return [applies];
  });
  return { policy: { ...base, rules: { ...base.rules, ignoreFindings } }, ...(mode && { mode }) };
}

/** Validates a policy document (already decoded from YAML or JSON). Throws PolicyError naming each bad key. */
export function parsePolicy(document: unknown): Policy {
  const result = policySchema.safeParse(document ?? {});
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw new PolicyError(issues.join('; '), issues);
  }
  return compile(result.data);
}

export const DEFAULT_POLICY: Policy = parsePolicy({});

/** A stable hash of the policy's content, stored with each verdict so reports can tell stale ones. */
export function policyHash(policy: Policy): string {
  const { match: _compiled, ...content } = policy;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
}
