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
      ignoreFindings: z._default(
        z.array(
          z.strictObject({
            id: name(),
            expires: isoDate,
            reason: z.optional(z.string()),
          }),
        ),
        [],
      ),
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
  pinDigests: z._default(z.enum(['pods', 'workloads', 'off']), 'pods'),
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
}

/** A validated policy with its globs compiled once, ready for the hot path. */
export interface Policy {
  readonly mode: 'enforce' | 'warn';
  readonly namespaces: { readonly exempt: readonly string[]; readonly warn: readonly string[] };
  readonly images: {
    readonly exempt: readonly string[];
    readonly allowPublicEcr: boolean;
    readonly allowedRegistries: readonly string[];
  };
  readonly rules: {
    readonly requireEcr: boolean;
    readonly requireTagImmutability: boolean;
    readonly requireScanOnPush: boolean;
    /** Limits after merging with the default; a lifted limit is absent. */
    readonly maxSeverityCounts: Readonly<Partial<Record<Severity, number>>>;
    readonly ignoreFindings: readonly IgnoredFinding[];
    readonly unscanned: 'deny' | 'warn' | 'allow';
    readonly maxScanAgeDays: number;
  };
  readonly failureMode: 'deny' | 'allow';
  /** Which objects the mutating webhook pins to digests (docs/adr/0005-pin-digests-on-pods.md). */
  readonly pinDigests: 'pods' | 'workloads' | 'off';
  readonly registries: readonly { readonly accountId: string; readonly roleArn: string }[];
  readonly match: {
    readonly exemptNamespace: Matcher;
    readonly warnNamespace: Matcher;
    readonly exemptImage: Matcher;
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
): Partial<Record<Severity, number>> {
  const merged: Partial<Record<Severity, number | null | undefined>> = {
    ...DEFAULT_MAX_SEVERITY_COUNTS,
    ...given,
  };
  const limits: Partial<Record<Severity, number>> = {};
  for (const severity of SEVERITIES) {
    const limit = merged[severity];
    if (typeof limit === 'number') limits[severity] = limit;
  }
  return limits;
}

function compile(parsed: ParsedPolicy): Policy {
  return {
    ...parsed,
    rules: { ...parsed.rules, maxSeverityCounts: mergeSeverityLimits(parsed.rules.maxSeverityCounts) },
    match: {
      exemptNamespace: compileGlobs(parsed.namespaces.exempt),
      warnNamespace: compileGlobs(parsed.namespaces.warn),
      exemptImage: compileImageGlobs(parsed.images.exempt),
    },
  };
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
