/**
 * Runs the refresh workflow's very ASL files (the ones CDK deploys) on this machine with
 * aws-local-stepfunctions, each Lambda Task bound to the local implementation of its handler, and each
 * `states:startExecution` task to an execution of the pages state machine, run after the one that
 * started it (fire and forget, as on AWS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseRefreshEvent } from '../adapters/ecr-events';
import type { PreparationRecord, RefreshRecord, RefreshService } from '../application/refresh-service';
import {
  ASL_FILE,
  PAGES_STATE_MACHINE_PLACEHOLDER,
  REFRESH_TASKS,
  type RefreshHandlerName,
  type RefreshTask,
  START_EXECUTION_RESOURCE,
  WORKFLOW_FILES,
  type WorkflowMachine,
} from '../contracts/workflow';
import { InvalidEventError } from '../domain/errors';
import type { ExecutionTrace } from './execution-history';

function localArn(placeholder: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:ecr-admission-${placeholder}`;
}

const MACHINE_ARN: Record<WorkflowMachine, string> = {
  refresh: 'arn:aws:states:us-east-1:123456789012:stateMachine:ecr-admission-refresh',
  pages: 'arn:aws:states:us-east-1:123456789012:stateMachine:ecr-admission-refresh-pages',
};

type StateTree = Record<
  string,
  { Type?: string; Resource?: string; Iterator?: unknown; ItemProcessor?: unknown; Branches?: unknown[] }
>;

function visitStates(
  definition: Record<string, unknown>,
  see: (name: string, state: StateTree[string]) => void,
) {
  const visit = (states: StateTree) => {
    for (const [name, state] of Object.entries(states)) {
      see(name, state);
      for (const inner of [state.Iterator, state.ItemProcessor, ...(state.Branches ?? [])]) {
        const nested = (inner as { States?: StateTree } | undefined)?.States;
        if (nested) visit(nested);
      }
    }
  };
  visit(definition.States as StateTree);
}

/** Each Lambda Task state of the definition, by name, with the task (function) its Resource runs. */
export function taskStates(definition: Record<string, unknown>): Map<string, RefreshTask> {
  const byArn = new Map(
    Object.entries(REFRESH_TASKS).map(([task, { placeholder }]) => [
      localArn(placeholder),
      task as RefreshTask,
    ]),
  );
  const found = new Map<string, RefreshTask>();
  visitStates(definition, (name, state) => {
    const task = state.Resource ? byArn.get(state.Resource) : undefined;
    if (state.Type === 'Task' && task) found.set(name, task);
  });
  return found;
}

/** The Task states that start an execution of the pages state machine. */
export function startStates(definition: Record<string, unknown>): string[] {
  const found: string[] = [];
  visitStates(definition, (name, state) => {
    if (state.Type === 'Task' && state.Resource === START_EXECUTION_RESOURCE) found.push(name);
  });
  return found;
}

/** Finds an ASL file from the package root, whether running from `src/` or the built `dist/src/`. */
export function aslPath(file: string = ASL_FILE): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, file);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`${file} not found above ${__dirname}`);
}

/** A definition with every `${...}` placeholder filled, as CDK fills them at deploy time. */
export function loadDefinition(
  substitutions: Record<string, string> = {},
  machine: WorkflowMachine = 'refresh',
): Record<string, unknown> {
  let text = readFileSync(aslPath(WORKFLOW_FILES[machine]), 'utf8');
  const placeholders = [
    ...Object.values(REFRESH_TASKS).map(({ placeholder }) => [placeholder, localArn(placeholder)]),
    [PAGES_STATE_MACHINE_PLACEHOLDER, MACHINE_ARN.pages],
  ] as const;
  for (const [placeholder, local] of placeholders) {
    text = text.replaceAll(`\${${placeholder}}`, substitutions[placeholder] ?? local);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

export interface LocalRunOptions {
  /** Milliseconds between retries (tests make them short; the ASL's own backoff applies otherwise). */
  readonly retryIntervalMs?: number;
  /** Record each execution's trace (state visits, retries, largest payload): slower, for measuring. */
  readonly trace?: boolean;
}

export interface LocalRun {
  /** FAILED when any execution of the run failed (the event's, or one it started). */
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** Every record the tasks returned, in the order they finished. */
  readonly records: readonly RefreshRecord[];
  /** What the Prepare task did (an import or a restore asked for by the admission webhook). */
  readonly preparations: readonly PreparationRecord[];
  readonly error?: { readonly name: string; readonly message: string };
  /** Why the Plan task refused the event (the execution's error only says that it did). */
  readonly refusal?: string;
  /** The output of the event's execution. */
  readonly output?: unknown;
  /** Executions run: the event's, then each one started (pages, and their continuations). */
  readonly executions: number;
  /** With `trace`: one per execution, in the order they ran. */
  readonly traces: readonly ExecutionTrace[];
}

function polyfill(): void {
  // aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
  const P = Promise as unknown as { withResolvers?: () => unknown };
  if (!P.withResolvers) {
    P.withResolvers = () => {
      let resolve: unknown;
      let reject: unknown;
      const promise = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };
  }
}

const bytes = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

export async function runWorkflowLocally(
  service: RefreshService,
  event: unknown,
  options: LocalRunOptions = {},
): Promise<LocalRun> {
  polyfill();
  const { StateMachine } = await import('aws-local-stepfunctions');
  const records: RefreshRecord[] = [];
  const preparations: PreparationRecord[] = [];
  const refused: { error?: InvalidEventError } = {};
  const keep = (record: RefreshRecord) => {
    records.push(record);
    return record;
  };
  let largestResult = 0;
  const measured =
    <I, O>(work: (input: I) => Promise<O>) =>
    async (input: I): Promise<O> => {
      const result = await work(input);
      if (options.trace) largestResult = Math.max(largestResult, bytes(result));
      return result;
    };
  // What each task's Lambda handler does (src/handlers/refresh.ts), on this service.
  const tasks: Record<RefreshHandlerName, (input: never) => Promise<unknown>> = {
    plan: async (input) => {
      try {
        return service.plan(parseRefreshEvent(input));
      } catch (error) {
        // The ASL's Catch keeps only that the event was refused: keep why, for the caller.
        if (error instanceof InvalidEventError) refused.error = error;
        throw error;
      }
    },
    refresh: measured(async (input: never) => {
      const done = await service.refresh(input);
      records.push(...done);
      return done;
    }),
    deleteImage: measured(async (input: never) => keep(await service.deleteImage(input))),
    recordFailure: measured(async (input: never) => keep(service.recordFailure(input))),
    listTargets: measured(async (input: never) => service.listTargets(input)),
    prepare: measured(async (input: never) => {
      const record = await service.prepare(input);
      preparations.push(record);
      return record;
    }),
    rejudge: measured(async (input: never) => {
      const page = await service.rejudge(input);
      records.push(...page.records);
      return rejudged(page);
    }),
  };
  // Executions started by a task run after the one that started it, in order: fire and forget.
  const pending: { machine: WorkflowMachine; input: unknown }[] = [{ machine: 'refresh', input: event }];
  const machines = new Map<
    WorkflowMachine,
    { machine: InstanceType<typeof StateMachine>; handlers: object }
  >();
  const build = (name: WorkflowMachine) => {
    const definition = loadDefinition({}, name);
    const handlers: Record<string, (input: never) => unknown> = Object.fromEntries(
      [...taskStates(definition)].map(([state, task]) => [state, tasks[REFRESH_TASKS[task].handler]]),
    );
    for (const state of startStates(definition)) {
      handlers[state] = (input: { StateMachineArn?: string; Input?: unknown }) => {
        if (input.StateMachineArn !== MACHINE_ARN.pages) {
          throw new Error(`${state} starts ${input.StateMachineArn}, not the pages state machine`);
        }
        pending.push({ machine: 'pages', input: input.Input });
        return {
          ExecutionArn: `${MACHINE_ARN.pages}:${pending.length}`,
          StartDate: new Date().toISOString(),
        };
      };
    }
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true } });
    const built = { machine, handlers };
    machines.set(name, built);
    return built;
  };
  const retry = options.retryIntervalMs;
  const traces: ExecutionTrace[] = [];
  let first: { status: 'SUCCEEDED' | 'FAILED'; output?: unknown } | undefined;
  let failure: LocalRun['error'];
  let executions = 0;
  for (let next = pending.shift(); next; next = pending.shift()) {
    executions += 1;
    const { machine, handlers } = machines.get(next.machine) ?? build(next.machine);
    largestResult = 0;
    const execution = machine.run(
      next.input as never,
      {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          ...(retry !== undefined && {
            retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((state) => [state, retry])),
          }),
        },
        context: {
          StateMachine: { Id: MACHINE_ARN[next.machine] },
          Execution: { Id: `${MACHINE_ARN[next.machine]}:${executions}` },
        },
      } as never,
    );
    const traced = options.trace ? traceOf(next.machine, execution.eventLogs) : undefined;
    try {
      const output = await execution.result;
      first ??= { status: 'SUCCEEDED', output };
    } catch (error) {
      const cause = error as { name?: string; message?: string; cause?: { name?: string; message?: string } };
      first ??= { status: 'FAILED' };
      failure ??= {
        name: cause.cause?.name ?? cause.name ?? 'Error',
        message: cause.message ?? String(error),
      };
    }
    if (traced) {
      const trace = await traced;
      traces.push({ ...trace, largestPayloadBytes: Math.max(trace.largestPayloadBytes, largestResult) });
    }
  }
  return {
    status: failure ? 'FAILED' : 'SUCCEEDED',
    records,
    preparations,
    ...(first?.output !== undefined && { output: first.output }),
    ...(refused.error && { refusal: refused.error.message }),
    ...(failure && { error: failure }),
    executions,
    traces,
  };
}

/** What the Rejudge task hands back to the state machine: a count and the cursor, never the records. */
function rejudged(page: { records: readonly unknown[]; cursor?: string }): {
  rejudged: number;
  cursor?: string;
} {
  return { rejudged: page.records.length, ...(page.cursor && { cursor: page.cursor }) };
}

interface LocalEvent {
  type: string;
  input?: unknown;
  state?: { type: string; input?: unknown; output?: unknown };
}

async function traceOf(machine: WorkflowMachine, events: AsyncIterable<unknown>): Promise<ExecutionTrace> {
  const entered: Record<string, number> = {};
  let mapIterations = 0;
  let retries = 0;
  let stateTransitions = 0;
  let largest = 0;
  for await (const raw of events) {
    const event = raw as LocalEvent;
    if (event.type === 'ExecutionStarted') largest = Math.max(largest, bytes(event.input));
    if (event.type === 'MapIterationStarted') mapIterations += 1;
    if (event.type === 'StateRetried') retries += 1;
    if (event.type === 'StateEntered' && event.state) {
      stateTransitions += 1;
      entered[event.state.type] = (entered[event.state.type] ?? 0) + 1;
      largest = Math.max(largest, bytes(event.state.input));
    }
    if (event.type === 'StateExited' && event.state) largest = Math.max(largest, bytes(event.state.output));
  }
  return { machine, entered, mapIterations, retries, stateTransitions, largestPayloadBytes: largest };
}
