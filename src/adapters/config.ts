/**
 * The Lambda functions' configuration: read from the environment once, at cold start, and validated.
 * A bad setting fails the cold start with a message naming it. Nothing else reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { type IntegerSetting, SETTINGS } from '../contracts/settings';
import { ACCOUNT_ID, ACCOUNT_ID_MESSAGE } from '../domain/aws-names';
import { ConfigError, oneLine } from '../domain/errors';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../domain/policy';

type Environment = Record<string, string | undefined>;

const integer = (setting: IntegerSetting) =>
  z._default(z.coerce.number().check(z.int(), z.gte(setting.min), z.lte(setting.max)), setting.default);

/** What every function reads: the decision table, the policy, the cache's TTL, the deployment's account. */
const common = {
  TABLE_NAME: z.string({ error: 'is required' }).check(z.minLength(1, 'is required')),
  /** The policy document as JSON; or POLICY_FILE, a JSON file in the deployment package. */
  POLICY: z.optional(z.string()),
  POLICY_FILE: z.optional(z.string()),
  [SETTINGS.cacheTtlSeconds.env]: integer(SETTINGS.cacheTtlSeconds),
  OWN_ACCOUNT_ID: z.optional(z.string().check(z.regex(ACCOUNT_ID, ACCOUNT_ID_MESSAGE))),
};

interface CommonConfig {
  readonly tableName: string;
  readonly policy: Policy;
  readonly cacheTtlSeconds: number;
  readonly ownAccountId?: string;
}

function parseEnvironment<T extends z.core.$ZodShape>(
  shape: T,
  env: Environment,
): { config: CommonConfig; values: z.output<z.ZodMiniObject<T & typeof common>> } {
  const result = z.object({ ...common, ...shape }).safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  const values = result.data as z.output<z.ZodMiniObject<T & typeof common>>;
  const e = result.data as z.output<z.ZodMiniObject<typeof common>>;
  return {
    values,
    config: {
      tableName: e.TABLE_NAME,
      policy: loadPolicy(e.POLICY, e.POLICY_FILE),
      cacheTtlSeconds: e.CACHE_TTL_SECONDS,
      ...(e.OWN_ACCOUNT_ID && { ownAccountId: e.OWN_ACCOUNT_ID }),
    },
  };
}

/**
 * The policy as JSON (CDK validates the policy file at synth and delivers it as JSON): the functions
 * need no YAML parser at cold start.
 */
function loadPolicy(inline: string | undefined, file: string | undefined): Policy {
  if (!inline && !file) return DEFAULT_POLICY;
  const source = inline ? 'environment variable POLICY' : `policy file ${file}`;
  let document: unknown;
  try {
    document = JSON.parse(inline ?? readFileSync(file as string, 'utf8'));
  } catch (error) {
    throw new ConfigError(oneLine(`${source}: not valid JSON (${(error as Error).message})`), {
      cause: error,
    });
  }
  try {
    return parsePolicy(document);
  } catch (error) {
    throw new ConfigError(`${source}: invalid policy: ${(error as Error).message}`, { cause: error });
  }
}

export interface AdmissionConfig extends CommonConfig {
  readonly deadlineMs: number;
  readonly warmCacheTtlMs: number;
  readonly warmCacheMaxEntries: number;
  readonly cacheReadSharePercent: number;
  readonly maxLookupsPerReview: number;
  readonly maxLookupsInFlight: number;
  /** The admitted inventory: the function records every admission in the decision table. */
  readonly inventory: { readonly ttlSeconds: number; readonly refreshSeconds: number };
}

export function loadAdmissionConfig(env: Environment): AdmissionConfig {
  const { config, values } = parseEnvironment(
    {
      [SETTINGS.deadlineMs.env]: integer(SETTINGS.deadlineMs),
      [SETTINGS.warmCacheTtlSeconds.env]: integer(SETTINGS.warmCacheTtlSeconds),
      [SETTINGS.warmCacheMaxEntries.env]: integer(SETTINGS.warmCacheMaxEntries),
      [SETTINGS.cacheReadSharePercent.env]: integer(SETTINGS.cacheReadSharePercent),
      [SETTINGS.maxLookupsPerReview.env]: integer(SETTINGS.maxLookupsPerReview),
      [SETTINGS.maxLookupsInFlight.env]: integer(SETTINGS.maxLookupsInFlight),
      [SETTINGS.inventoryTtlSeconds.env]: integer(SETTINGS.inventoryTtlSeconds),
      [SETTINGS.inventoryRefreshSeconds.env]: integer(SETTINGS.inventoryRefreshSeconds),
    },
    env,
  );
  return {
    ...config,
    deadlineMs: values.DEADLINE_MS,
    warmCacheTtlMs: values.WARM_CACHE_TTL_SECONDS * 1000,
    warmCacheMaxEntries: values.WARM_CACHE_MAX_ENTRIES,
    cacheReadSharePercent: values.CACHE_READ_SHARE_PERCENT,
    maxLookupsPerReview: values.MAX_LOOKUPS_PER_REVIEW,
    maxLookupsInFlight: values.MAX_LOOKUPS_IN_FLIGHT,
    inventory: {
      ttlSeconds: values.INVENTORY_TTL_SECONDS,
      refreshSeconds: values.INVENTORY_REFRESH_SECONDS,
    },
  };
}

export interface RefreshConfig extends CommonConfig {
  readonly region: string;
  readonly idempotencyTableName?: string;
}

export function loadRefreshConfig(env: Environment): RefreshConfig {
  const { config, values } = parseEnvironment(
    {
      AWS_REGION: z.string({ error: 'is required' }).check(z.minLength(1, 'is required')),
      IDEMPOTENCY_TABLE_NAME: z.optional(z.string().check(z.minLength(1))),
    },
    env,
  );
  return {
    ...config,
    region: values.AWS_REGION,
    ...(values.IDEMPOTENCY_TABLE_NAME && { idempotencyTableName: values.IDEMPOTENCY_TABLE_NAME }),
  };
}

/** The refresh state machine the buffer's consumer starts (its ARN, from CDK). */
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

export interface CoalesceConfig {
  readonly stateMachineArn: string;
}

/** The buffer's consumer reads no table and no policy: it only starts executions. */
export function loadCoalesceConfig(env: Environment): CoalesceConfig {
  const result = z
    .object({
      STATE_MACHINE_ARN: z
        .string({ error: 'is required' })
        .check(z.regex(STATE_MACHINE_ARN, 'expected a Step Functions state machine ARN')),
    })
    .safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  return { stateMachineArn: result.data.STATE_MACHINE_ARN };
}
