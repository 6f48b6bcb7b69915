/**
 * examples/cluster/protect-ignore-label.yaml, evaluated: its ValidatingAdmissionPolicy expression run by
 * a CEL evaluator on namespace requests as the apiserver sends them. Only the group
 * ecr-admission:break-glass may set, change or remove the label ecr-admission.io/ignore; everything
 * else about a namespace is left alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OPT_OUT_LABEL } from '../../src/cli/manifest';
import { compile, evaluateOnRequest, POLICY_VALIDATIONS } from '../helpers/cel';
import { REPO_ROOT } from '../helpers/cli';

const BREAK_GLASS = 'ecr-admission:break-glass';

const [policy] = parseAllDocuments(
  readFileSync(join(REPO_ROOT, 'examples/cluster/protect-ignore-label.yaml'), 'utf8'),
).map((doc) => doc.toJS() as { spec: { validations: { expression: string }[] } });
const validations = policy?.spec.validations ?? [];

type Labels = Record<string, string> | undefined;

function namespace(labels: Labels): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'shop', ...(labels && { labels }) },
    spec: { finalizers: ['kubernetes'] },
  };
}

/** A namespace request as the apiserver sends it; `groups` undefined leaves the field out. */
function request(
  operation: 'CREATE' | 'UPDATE',
  groups: string[] | undefined,
  labels: Labels,
  oldLabels?: Labels,
): Record<string, unknown> {
  const gvk = { group: '', version: 'v1', kind: 'Namespace' };
  const gvr = { group: '', version: 'v1', resource: 'namespaces' };
  return {
    uid: '00000000-0000-4000-8000-00000000abcd',
    kind: gvk,
    resource: gvr,
    requestKind: gvk,
    requestResource: gvr,
    name: 'shop',
    operation,
    userInfo: { username: 'alice', ...(groups && { groups }) },
    object: namespace(labels),
    oldObject: operation === 'UPDATE' ? namespace(oldLabels) : null,
    dryRun: false,
  };
}

const USER = ['developers', 'system:authenticated'];
const MEMBER = [BREAK_GLASS, 'system:authenticated'];
const ON = { [OPT_OUT_LABEL]: 'true', team: 'shop' };
const OFF = { team: 'shop' };

/** Whether the policy admits the request: every validation true; an error refuses (failurePolicy Fail). */
function admits(req: Record<string, unknown>): boolean {
  return validations.every(({ expression }) => {
    const outcome = evaluateOnRequest(POLICY_VALIDATIONS, expression, req);
    if ('error' in outcome) return false;
    return outcome.value === true;
  });
}

describe('protect-ignore-label.yaml', () => {
  test('holds one validation that compiles to a bool against the typed request', () => {
    expect(validations).toHaveLength(1);
    for (const { expression } of validations) {
      expect(compile(POLICY_VALIDATIONS, expression)).toEqual({ type: 'bool' });
    }
  });

  test.each<[string, Record<string, unknown>, boolean]>([
    ['a user creating a namespace with the label is refused', request('CREATE', USER, ON), false],
    ['a user adding the label is refused', request('UPDATE', USER, ON, OFF), false],
    [
      'a user changing its value is refused',
      request('UPDATE', USER, { ...ON, [OPT_OUT_LABEL]: 'yes' }, ON),
      false,
    ],
    ['a user removing it is refused', request('UPDATE', USER, OFF, ON), false],
    ['a user removing every label, it with them, is refused', request('UPDATE', USER, undefined, ON), false],
    ['a member of the break-glass group may create a namespace with it', request('CREATE', MEMBER, ON), true],
    ['a member may add it', request('UPDATE', MEMBER, ON, OFF), true],
    ['a member may change it', request('UPDATE', MEMBER, { ...ON, [OPT_OUT_LABEL]: 'yes' }, ON), true],
    ['a member may remove it', request('UPDATE', MEMBER, OFF, ON), true],
    ['a user may create a namespace without it', request('CREATE', USER, OFF), true],
    ['a user may create a namespace with no labels at all', request('CREATE', USER, undefined), true],
    ['a user may change other labels', request('UPDATE', USER, { team: 'payments' }, OFF), true],
    [
      'a user may change other labels of a namespace that keeps it',
      request('UPDATE', USER, { ...ON, team: 'payments' }, ON),
      true,
    ],
    ['a user may update a namespace that has no labels', request('UPDATE', USER, undefined, undefined), true],
    [
      'a request whose user has no groups is judged on the label alone (allowed)',
      request('UPDATE', undefined, { team: 'payments' }, OFF),
      true,
    ],
    [
      'a request whose user has no groups is judged on the label alone (refused)',
      request('UPDATE', undefined, ON, OFF),
      false,
    ],
  ])('%s', (_, req, admitted) => {
    expect(admits(req)).toBe(admitted);
  });
});
