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
  /** How long the admission function's warm in-process layer keeps an entry. */
  warmCacheTtlSeconds: { env: 'WARM_CACHE_TTL_SECONDS', min: 0, max: 3_600, default: 30 },
  warmCacheMaxEntries: { env: 'WARM_CACHE_MAX_ENTRIES', min: 1, max: 1_000_000, default: 5_000 },
  /** How long a decision cache entry lives when nothing refreshes it. */
  cacheTtlSeconds: { env: 'CACHE_TTL_SECONDS', min: 3_600, max: 90 * 86_400, default: 7 * 86_400 },
} as const satisfies Record<string, IntegerSetting>;

export const ADMISSION_DEFAULTS = {
  deadlineMs: SETTINGS.deadlineMs.default,
  warmCacheTtlSeconds: SETTINGS.warmCacheTtlSeconds.default,
  warmCacheMaxEntries: SETTINGS.warmCacheMaxEntries.default,
} as const;

export const STORE_DEFAULTS = { cacheTtlSeconds: SETTINGS.cacheTtlSeconds.default } as const;

/** A long-running `serve` or CLI process without a table keeps facts in process this long. */
export const IN_PROCESS_CACHE_TTL_SECONDS = 5 * 60;
