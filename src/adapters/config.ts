/**
 * The Lambda functions' configuration: read from the environment once, at cold start, and validated.
 * A bad setting fails the cold start with a message naming it. Nothing else reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_POLICY, type Policy } from '../domain/policy';
import { parsePolicyText } from './files';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const integer = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const environmentSchema = z.object({
  TABLE_NAME: z.string({ error: 'is required' }).min(1, 'is required'),
  POLICY: z.string().optional(),
  POLICY_FILE: z.string().optional(),
  DEADLINE_MS: integer(100, 25_000, 2_500),
  WARM_CACHE_TTL_SECONDS: integer(0, 3_600, 30),
  WARM_CACHE_MAX_ENTRIES: integer(1, 1_000_000, 5_000),
  CACHE_TTL_SECONDS: integer(60, 90 * 86_400, 7 * 86_400),
  OWN_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
    .optional(),
});

export interface AdmissionConfig {
  readonly tableName: string;
  readonly policy: Policy;
  readonly deadlineMs: number;
  readonly warmCacheTtlMs: number;
  readonly warmCacheMaxEntries: number;
  readonly cacheTtlSeconds: number;
  readonly ownAccountId?: string;
}

export function loadAdmissionConfig(env: Record<string, string | undefined>): AdmissionConfig {
  const result = environmentSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  const e = result.data;
  return {
    tableName: e.TABLE_NAME,
    policy: loadPolicy(e.POLICY, e.POLICY_FILE),
    deadlineMs: e.DEADLINE_MS,
    warmCacheTtlMs: e.WARM_CACHE_TTL_SECONDS * 1000,
    warmCacheMaxEntries: e.WARM_CACHE_MAX_ENTRIES,
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    ...(e.OWN_ACCOUNT_ID && { ownAccountId: e.OWN_ACCOUNT_ID }),
  };
}

function loadPolicy(inline: string | undefined, file: string | undefined): Policy {
  try {
    if (inline) return parsePolicyText(inline, 'environment variable POLICY');
    if (file) return parsePolicyText(readFileSync(file, 'utf8'), `policy file ${file}`);
    return DEFAULT_POLICY;
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
}

const refreshEnvironmentSchema = z.object({
  TABLE_NAME: z.string({ error: 'is required' }).min(1, 'is required'),
  AWS_REGION: z.string({ error: 'is required' }).min(1, 'is required'),
  POLICY: z.string().optional(),
  POLICY_FILE: z.string().optional(),
  IDEMPOTENCY_TABLE_NAME: z.string().min(1).optional(),
  CACHE_TTL_SECONDS: integer(60, 90 * 86_400, 7 * 86_400),
  OWN_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
    .optional(),
});

export interface RefreshConfig {
  readonly tableName: string;
  readonly region: string;
  readonly policy: Policy;
  readonly idempotencyTableName?: string;
  readonly cacheTtlSeconds: number;
  readonly ownAccountId?: string;
}

export function loadRefreshConfig(env: Record<string, string | undefined>): RefreshConfig {
  const result = refreshEnvironmentSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  const e = result.data;
  return {
    tableName: e.TABLE_NAME,
    region: e.AWS_REGION,
    policy: loadPolicy(e.POLICY, e.POLICY_FILE),
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    ...(e.IDEMPOTENCY_TABLE_NAME && { idempotencyTableName: e.IDEMPOTENCY_TABLE_NAME }),
    ...(e.OWN_ACCOUNT_ID && { ownAccountId: e.OWN_ACCOUNT_ID }),
  };
}
