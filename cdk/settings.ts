/**
 * The deployment's infrastructure settings, from CDK context (`cdk.json`, or `-c key=value` on the
 * command line). Everything about what is admitted lives in the policy file instead. Read once and
 * validated: a bad setting fails synth with a message naming the context key.
 */
import { isIP } from 'node:net';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { type IntegerSetting, SETTINGS } from '../src/contracts/settings';
import { EVENT_BUFFER, SQS_EVENT_SOURCE_LIMITS } from '../src/contracts/workflow';
import { SettingsError } from '../src/domain/errors';

/** `-c key=a,b` arrives as a string; cdk.json can hold a real array. */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  )
  .default([]);

/** A CIDR that IAM's `aws:SourceIp` takes: a valid address, a prefix within its family's bounds. */
function isCidr(value: string): boolean {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (!match) return false;
  const family = isIP(match[1] ?? '');
  const prefix = Number(match[2]);
  return family === 4 ? prefix <= 32 : family === 6 ? prefix <= 128 : false;
}

const cidr = z.string().refine(isCidr, 'expected an IPv4 or IPv6 CIDR such as 203.0.113.0/24');

/** A setting the functions also read: the same bounds and default as their cold-start check. */
const bounded = (setting: IntegerSetting) =>
  z.coerce.number().int().min(setting.min).max(setting.max).default(setting.default);

const RETENTION_DAYS = new Set(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);

const settingsSchema = z
  .object({
    /** The policy file (docs/design.md, "Policy"): the one source for rules, failure mode and registry roles. */
    policyFile: z.string().min(1).default('deploy/policy.yaml'),
    /** `retain` keeps the decision cache when the stack is deleted (production); `destroy` removes it. */
    tableRemoval: z.enum(['retain', 'destroy']).default('retain'),
    logRetentionDays: z.coerce
      .number()
      .int()
      .refine(
        (days) => RETENTION_DAYS.has(days),
        'expected a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, ...)',
      )
      .default(30),
    /** The webhook configuration's `timeoutSeconds`; the API and the function give up at the same time. */
    webhookTimeoutSeconds: z.coerce.number().int().min(1).max(29).default(5),
    /** How long a cache miss may spend gathering facts live before the failure mode answers. */
    deadlineMs: bounded(SETTINGS.deadlineMs),
    warmCacheTtlSeconds: bounded(SETTINGS.warmCacheTtlSeconds),
    /** How long a cache entry lives when nothing refreshes it. */
    cacheTtlSeconds: bounded(SETTINGS.cacheTtlSeconds),
    /** How long an admitted inventory record lives after its last admission (default 30 days). */
    inventoryTtlSeconds: bounded(SETTINGS.inventoryTtlSeconds),
    /** A repeated admission rewrites its inventory record only when older than this (default 1 h). */
    inventoryRefreshSeconds: bounded(SETTINGS.inventoryRefreshSeconds),
    reconcileEveryHours: z.coerce.number().int().min(1).max(24).default(6),
    /**
     * How long the buffer gathers events before the Coalesce function starts executions for them: a
     * refresh waits up to this long, and events about one image within it start one execution (ADR 0010).
     * At least 1 s: a batch of more than 10 messages needs a window.
     */
    refreshBatchWindowSeconds: z.coerce
      .number()
      .int()
      .min(
        EVENT_BUFFER.batchSize > SQS_EVENT_SOURCE_LIMITS.batchSize.withoutWindow
          ? 1
          : SQS_EVENT_SOURCE_LIMITS.batchWindowSeconds.min,
      )
      .max(SQS_EVENT_SOURCE_LIMITS.batchWindowSeconds.max)
      .default(EVENT_BUFFER.defaults.batchWindowSeconds),
    /** Batches the buffer hands the Coalesce function at once (the event source mapping's maximum concurrency). */
    refreshMaxConcurrency: z.coerce
      .number()
      .int()
      .min(SQS_EVENT_SOURCE_LIMITS.maxConcurrency.min)
      .max(SQS_EVENT_SOURCE_LIMITS.maxConcurrency.max)
      .default(EVENT_BUFFER.defaults.maxConcurrency),
    /** `private`: reachable only through the listed execute-api VPC endpoints (ADR 0002). */
    endpointType: z.enum(['regional', 'private']).default('regional'),
    vpcEndpointIds: list.pipe(z.array(z.string().regex(/^vpce-[0-9a-f]+$/, 'expected a VPC endpoint id'))),
    /** Source addresses allowed to call the API, e.g. the cluster VPC's NAT gateway addresses. */
    allowedSourceCidrs: list.pipe(z.array(cidr)),
    /** An existing regional AWS WAF web ACL to associate with the API stage. */
    webAclArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/.+$/,
        'expected a regional WAFv2 web ACL ARN',
      )
      .optional(),
    throttleRateLimit: z.coerce.number().int().min(1).max(10_000).default(50),
    throttleBurstLimit: z.coerce.number().int().min(1).max(5_000).default(100),
    /**
     * Concurrency reserved for the admission function, so that a burst of refreshes (or anything else in
     * the account) cannot throttle admissions. Off by default: the account must keep 100 unreserved, so a
     * new account (limit 10) cannot reserve any (docs/deploy.md).
     */
    admissionReservedConcurrency: z.coerce.number().int().min(1).max(10_000).optional(),
    /**
     * API Gateway logs through one role per account and region. `create` sets it to a role of this stack
     * (replacing any role set before); `existing` leaves the account's setting alone, which must then
     * already name a role, or the stage's logging fails to deploy (docs/deploy.md).
     */
    apiGatewayAccountRole: z.enum(['create', 'existing']).default('create'),
    /** The admission latency p99 (ms) above which the latency alarm fires. */
    latencyAlarmMs: z.coerce.number().int().min(10).max(29_000).default(1_000),
  })
  .superRefine((s, ctx) => {
    if (s.deadlineMs >= s.webhookTimeoutSeconds * 1000) {
      ctx.addIssue({
        code: 'custom',
        path: ['deadlineMs'],
        message: `must be below webhookTimeoutSeconds (${s.webhookTimeoutSeconds} s), so that the failure mode answers before the API server gives up`,
      });
    }
    if (s.endpointType === 'private' && s.vpcEndpointIds.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['vpcEndpointIds'],
        message: 'a private endpoint needs at least one execute-api VPC endpoint id',
      });
    }
  });

export type DeploySettings = z.output<typeof settingsSchema>;
export type DeploySettingsInput = z.input<typeof settingsSchema>;

const KEYS = Object.keys(settingsSchema.shape) as (keyof DeploySettings)[];

/** Validates settings given directly (tests, other apps). */
export function parseSettings(input: DeploySettingsInput): DeploySettings {
  const result = settingsSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new SettingsError(`context key ${issue?.path.join('.') || '(settings)'}: ${issue?.message}`);
}

/** Reads the settings from CDK context. */
export function settingsFromContext(node: Node): DeploySettings {
  const input: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = node.tryGetContext(key);
    if (value !== undefined) input[key] = value;
  }
  return parseSettings(input as DeploySettingsInput);
}
