/**
 * Runs the refresh workflow's very ASL file (the one CDK deploys) on this machine with
 * aws-local-stepfunctions, each Task bound to the local implementation of its Lambda handler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RefreshRecord, RefreshService } from '../application/refresh-service';

export const ASL_FILE = 'statemachine/refresh-decision.asl.json';

/** The Lambda placeholders of the ASL file, filled by CDK's `definitionSubstitutions`. */
export const TASK_PLACEHOLDERS = [
  'PlanFunctionArn',
  'RefreshFunctionArn',
  'DeleteFunctionArn',
  'ListTargetsFunctionArn',
  'RejudgeFunctionArn',
  'RecordFailureFunctionArn',
] as const;

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
  for (const name of TASK_PLACEHOLDERS) {
    const arn = substitutions[name] ?? `arn:aws:lambda:us-east-1:123456789012:function:ecr-admission-${name}`;
    text = text.replaceAll(`\${${name}}`, arn);
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
  const keep = (record: RefreshRecord) => {
    records.push(record);
    return record;
  };
  const handlers: Record<string, (input: never) => Promise<unknown>> = {
    Plan: async (input) => service.plan(input),
    Refresh: async (input) => {
      const done = await service.refresh(input);
      records.push(...done);
      return done;
    },
    Delete: async (input) => keep(await service.remove(input)),
    RecordFailure: async (input) => keep(service.recordFailure(input)),
    RecordDeleteFailure: async (input) => keep(service.recordFailure(input)),
    ListTargets: async (input) => service.listTargets(input),
    Rejudge: async (input) => {
      const page = await service.rejudge(input);
      records.push(...page.records);
      return page;
    },
  };
  const machine = new StateMachine(loadDefinition() as never, { validationOptions: { checkArn: true } });
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
      error: {
        name: failure.cause?.name ?? failure.name ?? 'Error',
        message: failure.message ?? String(error),
      },
    };
  }
}
