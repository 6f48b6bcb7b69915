import * as z from 'zod';
import { compileGlobs, compileImageGlobs, type Matcher } from './glob';

/** Severities ECR and Inspector report, highest first. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;
export type Severity = (typeof SEVERITIES)[number];

const DEFAULT_MAX_SEVERITY_COUNTS: Partial<Record<Severity, number>> = { CRITICAL: 0 };

const isoDate = z.union([z.string(), z.date()]).transform((value, ctx) => {
  const text = value instanceof Date ? value.toISOString().slice(0, 10) : value;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const date = match ? new Date(`${text}T00:00:00Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
    ctx.addIssue({ code: 'custom', message: `expected a date written YYYY-MM-DD, got "${text}"` });
    return z.NEVER;
  }
  return text;
});

const severityLimits = z
  .strictObject(
    Object.fromEntries(
      SEVERITIES.map((s) => [s, z.number().int().nonnegative().nullable().optional()]),
    ) as Record<Severity, z.ZodOptional<z.ZodNullable<z.ZodNumber>>>,
  )
  .default({});

const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');

export const policySchema = z.strictObject({
  mode: z.enum(['enforce', 'warn']).default('enforce'),
  namespaces: z
    .strictObject({
      exempt: z.array(z.string().min(1)).default(['kube-system']),
      warn: z.array(z.string().min(1)).default([]),
    })
    .default({ exempt: ['kube-system'], warn: [] }),
  images: z
    .strictObject({
      exempt: z.array(z.string().min(1)).default([]),
      allowPublicEcr: z.boolean().default(false),
      allowedRegistries: z.array(accountId).default([]),
    })
    .default({ exempt: [], allowPublicEcr: false, allowedRegistries: [] }),
  rules: z
    .strictObject({
      requireEcr: z.boolean().default(true),
      requireTagImmutability: z.boolean().default(true),
      requireScanOnPush: z.boolean().default(true),
      maxSeverityCounts: severityLimits,
      ignoreFindings: z
        .array(
          z.strictObject({
            id: z.string().min(1),
            expires: isoDate,
            reason: z.string().optional(),
          }),
        )
        .default([]),
      unscanned: z.enum(['deny', 'warn', 'allow']).default('deny'),
      maxScanAgeDays: z.number().int().nonnegative().default(0),
    })
    .default({
      requireEcr: true,
      requireTagImmutability: true,
      requireScanOnPush: true,
      maxSeverityCounts: {},
      ignoreFindings: [],
      unscanned: 'deny',
      maxScanAgeDays: 0,
    }),
  failureMode: z.enum(['deny', 'allow']).default('deny'),
  pinDigests: z.enum(['pods', 'workloads', 'off']).default('pods'),
  registries: z
    .array(
      z
        .strictObject({
          accountId,
          roleArn: z
            .string()
            .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected an IAM role ARN'),
        })
        .refine((entry) => entry.roleArn.split(':')[4] === entry.accountId, {
          message: 'the role must belong to the account it reads',
          path: ['roleArn'],
          // Only compare two well-formed values; otherwise the field's own issue says what is wrong.
          when: (payload) => payload.issues.length === 0,
        }),
    )
    .default([]),
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

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(message);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** Formats zod issues as `path: message`, naming unknown keys by their full path. */
export function describeIssues(error: z.ZodError): string[] {
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
