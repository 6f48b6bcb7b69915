/**
 * Runs the refresh workflow's very ASL file (the one CDK deploys) on this machine with
 * aws-local-stepfunctions, each Task bound to the local implementation of its Lambda handler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseRefreshEvent } from '../adapters/ecr-events';
import type { RefreshRecord, RefreshService } from '../application/refresh-service';
import { ASL_FILE, REFRESH_TASKS, type RefreshHandlerName, type RefreshTask } from '../contracts/workflow';
import { InvalidEventError } from '../domain/errors';

function localArn(placeholder: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:ecr-admission-${placeholder}`;
}

/** Each Task state of the definition, by name, with the task (function) its Resource runs. */
export function taskStates(definition: Record<string, unknown>): Map<string, RefreshTask> {
  const byArn = new Map(
    Object.entries(REFRESH_TASKS).map(([task, { placeholder }]) => [
      localArn(placeholder),
      task as RefreshTask,
    ]),
  );
  const found = new Map<string, RefreshTask>();
  const visit = (
    states: Record<
      string,
      { Type?: string; Resource?: string; Iterator?: unknown; ItemProcessor?: unknown; Branches?: unknown[] }
    >,
  ) => {
    for (const [name, state] of Object.entries(states)) {
      const task = state.Resource ? byArn.get(state.Resource) : undefined;
      if (state.Type === 'Task' && task) found.set(name, task);
      for (const inner of [state.Iterator, state.ItemProcessor, ...(state.Branches ?? [])]) {
        const nested = (inner as { States?: typeof states } | undefined)?.States;
        if (nested) visit(nested);
      }
    }
  };
  visit(definition.States as never);
  return found;
}

/** Finds the ASL file from the package root, whether running from `src/` or the built `dist/src/`. */
export function aslPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, ASL_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`${ASL_FILE} not found above ${__dirname}`);
}

/** The definition with every `${...}` placeholder filled, as CDK fills them at deploy time. */
export function loadDefinition(substitutions: Record<string, string> = {}): Record<string, unknown> {
  let text = readFileSync(aslPath(), 'utf8');
  for (const { placeholder } of Object.values(REFRESH_TASKS)) {
    const arn = substitutions[placeholder] ?? localArn(placeholder);
    text = text.replaceAll(`\${${placeholder}}`, arn);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

export interface LocalRunOptions {
  /** Milliseconds between retries (tests make them short; the ASL's own backoff applies otherwise). */
  readonly retryIntervalMs?: number;
}

export interface LocalRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** Every record the tasks returned, in the order they finished. */
  readonly records: readonly RefreshRecord[];
  readonly error?: { readonly name: string; readonly message: string };
  /** Why the Plan task refused the event (the execution's error only says that it did). */
  readonly refusal?: string;
  readonly output?: unknown;
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

export async function runWorkflowLocally(
  service: RefreshService,
  event: unknown,
  options: LocalRunOptions = {},
): Promise<LocalRun> {
  polyfill();
  const { StateMachine } = await import('aws-local-stepfunctions');
  const records: RefreshRecord[] = [];
  const refused: { error?: InvalidEventError } = {};
  const keep = (record: RefreshRecord) => {
    records.push(record);
    return record;
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
    refresh: async (input) => {
      const done = await service.refresh(input);
      records.push(...done);
      return done;
    },
    deleteImage: async (input) => keep(await service.deleteImage(input)),
    recordFailure: async (input) => keep(service.recordFailure(input)),
    listTargets: async (input) => service.listTargets(input),
    rejudge: async (input) => {
      const page = await service.rejudge(input);
      records.push(...page.records);
      return page;
    },
  };
  const definition = loadDefinition();
  const handlers = Object.fromEntries(
    [...taskStates(definition)].map(([state, task]) => [state, tasks[REFRESH_TASKS[task].handler]]),
  );
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true } });
  const retry = options.retryIntervalMs;
  const execution = machine.run(event as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      ...(retry !== undefined && {
        retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((state) => [state, retry])),
      }),
    },
  });
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', records, output };
  } catch (error) {
    const failure = error as { name?: string; message?: string; cause?: { name?: string; message?: string } };
    return {
      status: 'FAILED',
      records,
      ...(refused.error && { refusal: refused.error.message }),
      error: {
        name: failure.cause?.name ?? failure.name ?? 'Error',
        message: failure.message ?? String(error),
      },
    };
  }
}
