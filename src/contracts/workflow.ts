/**
 * The refresh workflow's tasks: each Lambda Task state of the two ASL files in statemachine/, the
 * `${...}` placeholder CDK fills with its function's ARN, and the export of src/handlers/refresh.ts
 * that runs it. One table: CDK, the handlers and the local runner all derive from it, and a test holds
 * the ASL files' placeholders and the handlers' exports to exactly this.
 */
export const ASL_FILE = 'statemachine/refresh-decision.asl.json';

/**
 * The paged work (listing the cache or the registry, re-judging), started by ASL_FILE's `StartListing`
 * and `StartRejudging` tasks; each of its executions is bounded and continues in a new one.
 */
export const PAGES_ASL_FILE = 'statemachine/refresh-pages.asl.json';

/** The placeholder of ASL_FILE that CDK fills with the pages state machine's ARN. */
export const PAGES_STATE_MACHINE_PLACEHOLDER = 'PagesStateMachineArn';

/** Step Functions' optimized integration that starts an execution and returns at once. */
export const START_EXECUTION_RESOURCE = 'arn:aws:states:::states:startExecution';

/**
 * What one execution of the pages state machine may do before it hands the next page to a new one
 * (the thresholds of its `MoreTargets` and `MoreRejudge` choices; a test holds the file to these).
 * Sized so that the worst case, every target failing after every retry, stays under half of Step
 * Functions' 25,000 history events (src/wiring/execution-history.ts).
 */
export const PAGES_BUDGET = {
  /** Pages listed before the budget check stops the loop (one more page is listed by the check). */
  listPages: 100,
  /** Targets handed to the Maps before the check (the last page may add up to a page more). */
  listTargets: 100,
  rejudgePages: 300,
} as const;

export const REFRESH_TASKS = {
  Plan: { placeholder: 'PlanFunctionArn', handler: 'plan' },
  Refresh: { placeholder: 'RefreshFunctionArn', handler: 'refresh' },
  Delete: { placeholder: 'DeleteFunctionArn', handler: 'deleteImage' },
  ListTargets: { placeholder: 'ListTargetsFunctionArn', handler: 'listTargets' },
  Rejudge: { placeholder: 'RejudgeFunctionArn', handler: 'rejudge' },
  RecordFailure: { placeholder: 'RecordFailureFunctionArn', handler: 'recordFailure' },
  Prepare: { placeholder: 'PrepareFunctionArn', handler: 'prepare' },
} as const;

export type RefreshTask = keyof typeof REFRESH_TASKS;
export type RefreshHandlerName = (typeof REFRESH_TASKS)[RefreshTask]['handler'];

export const REFRESH_TASK_NAMES = Object.keys(REFRESH_TASKS) as RefreshTask[];

/** The workflow's state machines, by the file each is defined in. */
export const WORKFLOW_FILES = { refresh: ASL_FILE, pages: PAGES_ASL_FILE } as const;
export type WorkflowMachine = keyof typeof WORKFLOW_FILES;

/**
 * The buffer between the EventBridge rules and the refresh state machine (ADR 0010): an SQS queue read
 * by the Coalesce function through an event source mapping, which starts one execution per piece of
 * work in a batch. The batching window and the mapping's maximum concurrency are deploy settings.
 */
export const EVENT_BUFFER = {
  /** Messages per batch: the more a batch holds, the more of a storm it coalesces. */
  batchSize: 100,
  /** The Coalesce function's timeout; the queue's visibility timeout is six times it (AWS's guidance). */
  consumerTimeoutSeconds: 60,
  visibilityTimeoutFactor: 6,
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  defaults: { batchWindowSeconds: 20, maxConcurrency: 2 },
} as const;

/**
 * What Lambda accepts for an SQS event source mapping (Lambda developer guide, "Lambda parameters for
 * Amazon SQS event source mappings" and "Configuring maximum concurrency for Amazon SQS event sources").
 */
export const SQS_EVENT_SOURCE_LIMITS = {
  /** MaximumBatchingWindowInSeconds. */
  batchWindowSeconds: { min: 0, max: 300 },
  /** ScalingConfig.MaximumConcurrency. */
  maxConcurrency: { min: 2, max: 1_000 },
  /** BatchSize of a standard queue; above `withoutWindow` it needs a batching window of at least 1 s. */
  batchSize: { min: 1, max: 10_000, withoutWindow: 10 },
} as const;
