/**
 * The contracts that cross a boundary, each held to its one source: the workflow's task table against
 * the ASL file and the handlers' exports, the error names the ASL matches against the error module,
 * and the error classes' names as bundles (minified) will still report them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASL_FILE, REFRESH_TASKS } from '../../src/contracts/workflow';
import * as errors from '../../src/domain/errors';
import { taskStates } from '../../src/wiring/local-workflow';
import { coldStart } from '../helpers/lambda';

const ROOT = resolve(__dirname, '../..');
const aslText = readFileSync(join(ROOT, ASL_FILE), 'utf8');

describe('the refresh workflow task table', () => {
  test("the ASL file's placeholders are exactly the table's", () => {
    const placeholders = new Set([...aslText.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(
      Object.values(REFRESH_TASKS)
        .map((t) => t.placeholder)
        .sort(),
    );
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

  test('every Task state of the ASL file runs a task of the table', () => {
    const { loadDefinition } = require('../../src/wiring/local-workflow');
    const definition = loadDefinition();
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
    expect([...taskStates(definition).keys()].sort()).toEqual(taskStateNames.sort());
    expect(new Set(taskStates(definition).values())).toEqual(new Set(Object.keys(REFRESH_TASKS)));
  });
});

describe('the errors the workflow matches by name', () => {
  const matched = new Set(
    [...aslText.matchAll(/"ErrorEquals":\s*\[([^\]]*)\]/g)].flatMap((m) =>
      [...(m[1] as string).matchAll(/"([^"]+)"/g)].map((n) => n[1] as string),
    ),
  );
  const ours = [...matched].filter((name) => !name.startsWith('States.') && !name.startsWith('Lambda.'));

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
