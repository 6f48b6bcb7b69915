/**
 * The contracts that cross a boundary, each held to its one source: the workflow's task table against
 * the ASL file and the handlers' exports, the error names the ASL matches against the error module,
 * and the error classes' names as bundles (minified) will still report them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ASL_FILE,
  PAGES_ASL_FILE,
  PAGES_BUDGET,
  PAGES_STATE_MACHINE_PLACEHOLDER,
  REFRESH_TASKS,
  START_EXECUTION_RESOURCE,
} from '../../src/contracts/workflow';
import * as errors from '../../src/domain/errors';
import { startStates, taskStates } from '../../src/wiring/local-workflow';
import { coldStart } from '../helpers/lambda';

const ROOT = resolve(__dirname, '../..');
const refreshText = readFileSync(join(ROOT, ASL_FILE), 'utf8');
const pagesText = readFileSync(join(ROOT, PAGES_ASL_FILE), 'utf8');
const aslText = refreshText + pagesText;

describe('the refresh workflow task table', () => {
  test("the ASL files' placeholders are exactly the table's, and the pages state machine's", () => {
    const placeholders = new Set([...aslText.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(
      [...Object.values(REFRESH_TASKS).map((t) => t.placeholder), PAGES_STATE_MACHINE_PLACEHOLDER].sort(),
    );
  });

  test("the pages state machine's budget is PAGES_BUDGET", () => {
    const { States } = JSON.parse(pagesText);
    const thresholds = (choice: { Choices: unknown[] }) =>
      [
        ...JSON.stringify(choice.Choices).matchAll(
          /"Variable":"\$\.spent\.(\w+)","NumericGreaterThanEquals":(\d+)/g,
        ),
      ].map((m) => [m[1], Number(m[2])]);
    expect(thresholds(States.MoreTargets)).toEqual([
      ['pages', PAGES_BUDGET.listPages],
      ['targets', PAGES_BUDGET.listTargets],
    ]);
    expect(thresholds(States.MoreRejudge)).toEqual([['pages', PAGES_BUDGET.rejudgePages]]);
  });

  test("the refresh handlers' exports are exactly the table's handlers", () => {
    const handlers = coldStart(() => require('../../src/handlers/refresh'), {
      TABLE_NAME: 'decisions',
      AWS_REGION: 'us-east-1',
    }) as Record<string, unknown>;
    const functions = Object.entries(handlers)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    expect(functions.sort()).toEqual(
      Object.values(REFRESH_TASKS)
        .map((t) => t.handler)
        .sort(),
    );
  });

  test.each(['refresh', 'pages'])(
    'every Task state of the %s ASL file runs a task of the table or starts the pages state machine',
    (machine) => {
      const { loadDefinition } = require('../../src/wiring/local-workflow');
      const definition = loadDefinition({}, machine);
      const taskStateNames: string[] = [];
      const visit = (
        states: Record<
          string,
          { Type: string; Iterator?: { States: never }; ItemProcessor?: { States: never } }
        >,
      ) => {
        for (const [name, state] of Object.entries(states)) {
          if (state.Type === 'Task') taskStateNames.push(name);
          const nested = state.ItemProcessor?.States ?? state.Iterator?.States;
          if (nested) visit(nested);
        }
      };
      visit(definition.States);
      expect([...taskStates(definition).keys(), ...startStates(definition)].sort()).toEqual(
        taskStateNames.sort(),
      );
      const started = JSON.stringify(definition).match(/arn:aws:states:::[\w:.]+/g) ?? [];
      expect(new Set(started)).toEqual(new Set([START_EXECUTION_RESOURCE]));
    },
  );

  test('every task of the table runs in one of the two ASL files', () => {
    const { loadDefinition } = require('../../src/wiring/local-workflow');
    const tasks = new Set([
      ...taskStates(loadDefinition({}, 'refresh')).values(),
      ...taskStates(loadDefinition({}, 'pages')).values(),
    ]);
    expect(tasks).toEqual(new Set(Object.keys(REFRESH_TASKS)));
  });
});

describe('the errors the workflow matches by name', () => {
  const matched = new Set(
    [...aslText.matchAll(/"ErrorEquals":\s*\[([^\]]*)\]/g)].flatMap((m) =>
      [...(m[1] as string).matchAll(/"([^"]+)"/g)].map((n) => n[1] as string),
    ),
  );
  const ours = [...matched].filter(
    (name) =>
      !name.startsWith('States.') && !name.startsWith('Lambda.') && !name.startsWith('StepFunctions.'),
  );

  test('are all errors of the error module, retried or invalid-event', () => {
    expect(ours.sort()).toEqual(
      [...errors.WORKFLOW_ERRORS.retried, errors.WORKFLOW_ERRORS.invalidEvent]
        .filter((name) => matched.has(name))
        .sort(),
    );
    for (const name of errors.WORKFLOW_ERRORS.retried) expect(matched).toContain(name);
  });

  test.each(
    Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && /Error$/.test((value as { name: string }).name))
      .map(([exported]) => ({ exported })),
  )('$exported reports its own name, minified or not, and is an EcrAdmissionError', ({ exported }) => {
    const ErrorClass = (errors as unknown as Record<string, new (...args: string[]) => Error>)[exported];
    const error = new (ErrorClass as new (...args: string[]) => Error)('a', 'b');
    expect(error.name).toBe(exported);
    expect(error).toBeInstanceOf(errors.EcrAdmissionError);
    // The literal name survives minification: it is an own property, not the class's name.
    expect(Object.hasOwn(error, 'name')).toBe(true);
  });
});
