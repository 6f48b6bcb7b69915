/**
 * The functions' settings that CDK context sets and the functions read from their environment: one
 * table of defaults and bounds, so that synth and cold start agree on what is valid. Each entry names
 * the environment variable the function reads.
 */
export interface IntegerSetting {
  readonly env: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

export const SETTINGS = {
  /** How long a cache miss may spend gathering facts live before the failure mode answers. */
  deadlineMs: { env: 'DEADLINE_MS', min: 100, max: 25_000, default: 2_500 },
  /**
   * The share of the deadline (percent) the decision cache read may take before the miss falls back to
   * ECR within the same deadline: a paused cache must not spend the time ECR needs.
   */
  cacheReadSharePercent: { env: 'CACHE_READ_SHARE_PERCENT', min: 5, max: 90, default: 33 },
  /** Distinct images one review may look up live; beyond it the failure mode answers (named as such). */
  maxLookupsPerReview: { env: 'MAX_LOOKUPS_PER_REVIEW', min: 1, max: 1_000, default: 25 },
  /** Live lookups on their way in one process, across reviews: one hostile review cannot starve the next. */
  maxLookupsInFlight: { env: 'MAX_LOOKUPS_IN_FLIGHT', min: 1, max: 10_000, default: 100 },
  /** How long the admission function's warm in-process layer keeps an entry. */
  warmCacheTtlSeconds: { env: 'WARM_CACHE_TTL_SECONDS', min: 0, max: 3_600, default: 30 },
  warmCacheMaxEntries: { env: 'WARM_CACHE_MAX_ENTRIES', min: 1, max: 1_000_000, default: 5_000 },
  /** How long a decision cache entry lives when nothing refreshes it. */
  cacheTtlSeconds: { env: 'CACHE_TTL_SECONDS', min: 3_600, max: 90 * 86_400, default: 7 * 86_400 },
  /** How long an admitted inventory record lives after its last admission. */
  inventoryTtlSeconds: {
    env: 'INVENTORY_TTL_SECONDS',
    min: 86_400,
    max: 365 * 86_400,
    default: 30 * 86_400,
  },
  /** A repeated admission rewrites its inventory record only when the record is older than this. */
  inventoryRefreshSeconds: { env: 'INVENTORY_REFRESH_SECONDS', min: 60, max: 86_400, default: 3_600 },
} as const satisfies Record<string, IntegerSetting>;

export const ADMISSION_DEFAULTS = {
  deadlineMs: SETTINGS.deadlineMs.default,
  warmCacheTtlSeconds: SETTINGS.warmCacheTtlSeconds.default,
  warmCacheMaxEntries: SETTINGS.warmCacheMaxEntries.default,
  cacheReadSharePercent: SETTINGS.cacheReadSharePercent.default,
  maxLookupsPerReview: SETTINGS.maxLookupsPerReview.default,
  maxLookupsInFlight: SETTINGS.maxLookupsInFlight.default,
} as const;

/**
 * Every AWS call (ECR, STS, DynamoDB) ends by its own timeouts, whatever the caller waits for: a silent
 * socket fails the attempt (and is retried within the attempts) instead of holding a lookup forever.
 */
export const AWS_CALL_TIMEOUTS = {
  ecr: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 },
  /** The admission path's cache reads and writes (it also stops waiting at its cache-read budget). */
  dynamodb: { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 2 },
  /** The refresh workflow's, which has time to wait and retries as a whole. */
  dynamodbRefresh: { connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxAttempts: 3 },
  /** The admission path's requests to the workflow (it also stops waiting at its cache budget). */
  events: { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 2 },
  /** The refresh workflow's exposure events (a failure is logged and counted; the verdict is stored). */
  exposureEvents: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 },
  /** The buffer's consumer starting executions: a failed start is delivered again by SQS. */
  stepFunctions: { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 3 },
  /**
   * A pull through the registry API (the refresh workflow's import through a pull-through cache), from
   * the request to the manifest's last byte: ECR fetches the manifest from the upstream registry first.
   * One attempt: the workflow retries as a whole.
   */
  ecrRegistryApi: { requestTimeoutMs: 10_000 },
} as const;

/** ECR clients kept per process (one per region and role): the least recently used is closed first. */
export const MAX_ECR_CLIENTS = 16;

export const STORE_DEFAULTS = {
  cacheTtlSeconds: SETTINGS.cacheTtlSeconds.default,
  inventoryTtlSeconds: SETTINGS.inventoryTtlSeconds.default,
} as const;

export const INVENTORY_DEFAULTS = {
  refreshSeconds: SETTINGS.inventoryRefreshSeconds.default,
  /** Inventory records one process remembers having written (a repeat within the interval asks nothing). */
  maxRemembered: 10_000,
} as const;

/** A long-running `serve` or CLI process without a table keeps facts in process this long. */
export const IN_PROCESS_CACHE_TTL_SECONDS = 5 * 60;
