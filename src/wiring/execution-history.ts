/**
 * How many events Step Functions records in a Standard execution's history, per state, after the
 * Step Functions documentation's history event types: the model the scale test checks against the
 * local run's state transitions, and that `npm run bench` applies to registries too large to run here.
 * AWS limits a history to 25,000 events (an execution that reaches it fails) and any state's input or
 * output, and any task's result, to 256 KiB (`States.DataLimitExceeded`, which no Catch can catch).
 */
import { PAGES_BUDGET } from '../contracts/workflow';

export const HISTORY_EVENT_LIMIT = 25_000;
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** Events per visit of a state, by its type (a Map's iterations are counted apart). */
export const EVENTS_PER_STATE: Record<string, number> = {
  // TaskStateEntered, TaskScheduled (LambdaFunctionScheduled), TaskStarted, TaskSucceeded, TaskStateExited;
  // fire-and-forget states:startExecution records the same five.
  Task: 5,
  // {Choice,Pass,Succeed,Wait}StateEntered and ...Exited.
  Choice: 2,
  Pass: 2,
  Succeed: 2,
  Wait: 2,
  // FailStateEntered (ExecutionFailed stands in for ExecutionSucceeded).
  Fail: 1,
  // MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited.
  Map: 4,
  // ParallelStateEntered, ParallelStateStarted, ParallelStateSucceeded, ParallelStateExited.
  Parallel: 4,
};
/** ExecutionStarted, and ExecutionSucceeded or ExecutionFailed. */
export const EVENTS_PER_EXECUTION = 2;
/** MapIterationStarted, MapIterationSucceeded. */
export const EVENTS_PER_MAP_ITERATION = 2;
/** A retried attempt: its TaskFailed, then the next attempt's TaskScheduled and TaskStarted. */
export const EVENTS_PER_RETRY = 3;

/** What one local execution did, from aws-local-stepfunctions' event log. */
export interface ExecutionTrace {
  readonly machine: string;
  /** State visits by state type (StateEntered events). */
  readonly entered: Readonly<Record<string, number>>;
  readonly mapIterations: number;
  readonly retries: number;
  /** Every StateEntered: the local run's state transitions. */
  readonly stateTransitions: number;
  /** The largest state input or output, or task result, in UTF-8 bytes. */
  readonly largestPayloadBytes: number;
}

/** The history events AWS would record for an execution that did what `trace` did. */
export function historyEvents(trace: Pick<ExecutionTrace, 'entered' | 'mapIterations' | 'retries'>): number {
  let events = EVENTS_PER_EXECUTION;
  for (const [type, visits] of Object.entries(trace.entered)) {
    const per = EVENTS_PER_STATE[type];
    if (per === undefined) throw new Error(`no history model for a ${type} state`);
    events += per * visits;
  }
  return events + EVENTS_PER_MAP_ITERATION * trace.mapIterations + EVENTS_PER_RETRY * trace.retries;
}

/**
 * The listing path of statemachine/refresh-pages.asl.json, in closed form: one execution's events for
 * the pages it lists (the targets each page yields), ending in `Done` or, past its budget, in
 * `ContinueListing`. `Route` and `ListTargets` are entered once per page, a non-empty page's Map costs
 * 4 events plus a Task and an iteration per target, and a page's `MoreTargets` either loops through
 * `NextTargets` or ends.
 */
export function listingExecutionEvents(
  pageTargets: readonly number[],
  continues: boolean,
  perTarget = EVENTS_PER_MAP_ITERATION + 5,
  perListing = 5,
): number {
  let events = EVENTS_PER_EXECUTION + 2; // Route
  for (const targets of pageTargets) {
    events += perListing + 2 + 2; // ListTargets, RemoveOrRefresh, MoreTargets
    if (targets > 0) events += 4 + targets * perTarget;
  }
  events += 2 * Math.max(0, pageTargets.length - 1); // NextTargets
  return events + (continues ? 5 : 0) + 2; // ContinueListing, Done
}

export interface ChainFigures {
  readonly executions: number;
  readonly largestHistoryEvents: number;
  /** Events of each execution, in order. */
  readonly historyEvents: readonly number[];
}

/**
 * The chain of executions the pages state machine runs for a sequence of pages, cut where its
 * `MoreTargets` choice cuts it (the budget counts the pages and targets before the current page).
 */
export function listingChain(
  pageTargets: Iterable<number>,
  options: { perTarget?: number; perListing?: number } = {},
): ChainFigures {
  const events: number[] = [];
  let current: number[] = [];
  let spent = { pages: 0, targets: 0 };
  const close = (continues: boolean) => {
    events.push(listingExecutionEvents(current, continues, options.perTarget, options.perListing));
    current = [];
    spent = { pages: 0, targets: 0 };
  };
  let pending: number | undefined;
  for (const targets of pageTargets) {
    if (pending !== undefined) {
      // The page before has a next one: continue here, or in a new execution past the budget.
      if (spent.pages >= PAGES_BUDGET.listPages || spent.targets >= PAGES_BUDGET.listTargets) close(true);
      else spent = { pages: spent.pages + 1, targets: spent.targets + pending };
    }
    current.push(targets);
    pending = targets;
  }
  close(false);
  return { executions: events.length, largestHistoryEvents: Math.max(...events), historyEvents: events };
}

/**
 * The largest history one listing execution can have whatever happens: every page's listing retried
 * to the end (4 + 3 attempts more), the most targets the budget lets in, each failing after every retry
 * and recorded by a RecordFailure retried to the end.
 */
export function worstListingExecutionEvents(pageSize = 100): number {
  const perListing = 5 + EVENTS_PER_RETRY * (4 + 3);
  const perTarget = EVENTS_PER_MAP_ITERATION + (5 + EVENTS_PER_RETRY * (4 + 3)) + (5 + EVENTS_PER_RETRY * 3);
  const pages = PAGES_BUDGET.listPages + 1;
  const targets = PAGES_BUDGET.listTargets - 1 + pageSize;
  // The targets fill as few pages as the budget allows (each non-empty page adds its Map's 4 events).
  const full = Math.ceil(targets / pageSize);
  const shape = Array.from({ length: pages }, (_, i) =>
    i < full ? Math.min(pageSize, targets - i * pageSize) : 0,
  );
  return listingExecutionEvents(shape, true, perTarget, perListing);
}
