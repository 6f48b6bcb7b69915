/**
 * The EventBridge rules that start the refresh workflow, as synthesized: each pattern matches its
 * sample events and no other sample, every rule delivers to the workflow's buffer queue with retries and
 * a dead-letter queue, and the policy-change announcement matches its own rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { REFRESH_TASKS } from '../../src/contracts/workflow';
import { matchesPattern } from './event-pattern';
import { REPO_ROOT, removeTemporaryDirectories, synthesizeInProcess } from './synth';

// AWS's documented samples, copied from ../shared/fixtures/events so the repository's tests stand alone.
const SHARED_EVENTS = resolve(REPO_ROOT, 'test/fixtures/events/aws');
const OWN_EVENTS = resolve(REPO_ROOT, 'test/fixtures/events');

/** Which rule each sample event must start, and no other (`null`: no rule at all). */
const EXPECTED: Record<string, string | null> = {
  'ecr-image-scan.json': 'EcrImageScan',
  'inspector2-scan.json': 'Inspector2Scan',
  'ecr-image-action-push.json': 'EcrImageAction',
  'ecr-image-action-delete.json': 'EcrImageAction',
  'inspector2-finding.json': 'Inspector2Finding',
  'cloudtrail-put-image-tag-mutability.json': 'EcrSettingChange',
  'cloudtrail-put-image-scanning-configuration.json': 'EcrSettingChange',
  'cloudtrail-put-registry-scanning-configuration.json': 'EcrSettingChange',
  'cloudtrail-delete-repository.json': 'EcrSettingChange',
  'cloudtrail-put-image-tag-mutability-denied.json': null,
  'cloudtrail-create-repository.json': null,
  'scheduled-event.json': null,
  'policy-changed.json': 'PolicyChanged',
};

type Event = Record<string, unknown> & { detail: Record<string, unknown> };

function loadEvents(dir: string): Map<string, Event> {
  return new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => [name, JSON.parse(readFileSync(join(dir, name), 'utf8')) as Event]),
  );
}

const shared = loadEvents(SHARED_EVENTS);
const own = loadEvents(OWN_EVENTS);
const events = new Map([...shared, ...own]);

interface RuleResource {
  Properties: {
    EventPattern?: Record<string, unknown>;
    ScheduleExpression?: string;
    Targets: { Arn: unknown; DeadLetterConfig?: { Arn: unknown }; RetryPolicy?: Record<string, number> }[];
  };
}

let template: Template;
let rules: Map<string, RuleResource>;

/** Rules by construct name (`Refresh<Name><hash>` logical ids). */
function rulesByName(t: Template): Map<string, RuleResource> {
  return new Map(
    Object.entries(t.findResources('AWS::Events::Rule') as Record<string, RuleResource>).map(([id, rule]) => [
      id.replace(/^Refresh/, '').replace(/[0-9A-F]{8}$/, ''),
      rule,
    ]),
  );
}

function matchingRules(event: Event): string[] {
  return [...rules]
    .filter(([, rule]) => rule.Properties.EventPattern && matchesPattern(rule.Properties.EventPattern, event))
    .map(([name]) => name);
}

beforeAll(() => {
  template = synthesizeInProcess().template;
  rules = rulesByName(template);
}, 60_000);

afterAll(removeTemporaryDirectories);

describe('the event-pattern matcher itself', () => {
  test.each([
    ['a literal in the list', { a: ['x', 'y'] }, { a: 'y' }, true],
    ['a literal not in the list', { a: ['x'] }, { a: 'z' }, false],
    ['an array in the event, one element matching', { a: ['x'] }, { a: ['z', 'x'] }, true],
    ['a missing field', { a: ['x'] }, {}, false],
    ['exists: false on a missing field', { a: [{ exists: false }] }, {}, true],
    ['exists: false on a present field', { a: [{ exists: false }] }, { a: 'x' }, false],
    ['a nested object', { d: { b: ['x'] } }, { d: { b: 'x' } }, true],
    ['a nested object in an array of objects', { d: { b: ['x'] } }, { d: [{ b: 'y' }, { b: 'x' }] }, true],
    ['a prefix', { a: [{ prefix: 'ab' }] }, { a: 'abc' }, true],
    ['anything-but', { a: [{ 'anything-but': ['x'] }] }, { a: 'x' }, false],
  ])('%s', (_, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

describe('EventBridge rules', () => {
  test('every sample event has an expected rule (a new sample needs a decision here)', () => {
    expect([...events.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test('there is one rule per event type, plus the reconciliation schedule', () => {
    expect([...rules.keys()].sort()).toEqual(
      [
        'EcrImageAction',
        'EcrImageScan',
        'EcrPullThroughCacheAction',
        'EcrScanResourceChange',
        'EcrReplicationAction',
        'EcrSettingChange',
        'Inspector2Finding',
        'Inspector2Scan',
        'PolicyChanged',
        'PreparationRequested',
        'Reconcile',
      ].sort(),
    );
  });

  test.each(Object.entries(EXPECTED))('%s starts %s and no other rule', (name, expected) => {
    const event = events.get(name) as Event;
    expect(matchingRules(event)).toEqual(expected ? [expected] : []);
  });

  test.each([
    ['a basic scan still in progress', 'ecr-image-scan.json', { 'scan-status': 'IN_PROGRESS' }],
    ['a push that failed', 'ecr-image-action-push.json', { result: 'FAILURE' }],
    [
      'an Inspector finding on an EC2 instance',
      'inspector2-finding.json',
      { resources: [{ type: 'AWS_EC2_INSTANCE', id: 'i-0123456789abcdef0' }] },
    ],
  ])('%s starts no rule', (_, base, detail) => {
    const event = events.get(base) as Event;
    expect(matchingRules({ ...event, detail: { ...event.detail, ...detail } })).toEqual([]);
  });

  test('an Inspector2 Scan of anything but an ECR image (an EC2 instance here) starts no rule', () => {
    const event = events.get('inspector2-scan.json') as Event;
    const { 'repository-name': _name, 'image-digest': _digest, 'image-tags': _tags, ...rest } = event.detail;
    expect(matchingRules({ ...event, detail: { ...rest, 'instance-id': 'i-0123456789abcdef0' } })).toEqual(
      [],
    );
  });

  test('a basic scan that FAILED starts EcrImageScan: its image is judged again, never left with an older verdict', () => {
    const event = events.get('ecr-image-scan.json') as Event;
    expect(matchingRules({ ...event, detail: { ...event.detail, 'scan-status': 'FAILED' } })).toEqual([
      'EcrImageScan',
    ]);
  });

  test('every event of our own samples that a rule admits is one the workflow acts on, and the others it ignores', () => {
    for (const [name, event] of own) {
      const trigger = parseRefreshEvent(event);
      const admitted = matchingRules(event).length > 0 || name === 'scheduled-event.json';
      expect({ name, acts: trigger.kind !== 'ignore' }).toEqual({ name, acts: admitted });
    }
  });

  test('the reconciliation runs on a schedule, every 6 hours by default', () => {
    expect(rules.get('Reconcile')?.Properties).toMatchObject({ ScheduleExpression: 'rate(6 hours)' });
    expect(rules.get('Reconcile')?.Properties.EventPattern).toBeUndefined();
  });

  test("every rule puts its events on the workflow's buffer, with retries and a dead-letter queue", () => {
    // The buffer is the queue that redrives to the other: the dead-letter queue of both.
    const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    const [buffer] = queues.filter(([, q]) => q.Properties.RedrivePolicy).map(([id]) => id);
    const [deadLetters] = queues.filter(([, q]) => !q.Properties.RedrivePolicy).map(([id]) => id);
    for (const [name, rule] of rules) {
      expect({ name, targets: rule.Properties.Targets }).toEqual({
        name,
        targets: [
          expect.objectContaining({
            Arn: { 'Fn::GetAtt': [buffer, 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [deadLetters, 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
          }),
        ],
      });
    }
  });

  test('no rule starts a state machine itself: the Coalesce function does, from the buffer', () => {
    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    for (const [name, rule] of rules) {
      const arns = JSON.stringify(rule.Properties.Targets.map((t) => t.Arn));
      expect({ name, startsMachine: machines.some((id) => arns.includes(id)) }).toEqual({
        name,
        startsMachine: false,
      });
    }
  });
});

describe('the policy-change announcement', () => {
  interface SdkCall {
    service: string;
    action: string;
    parameters: { Entries: { Source: string; DetailType: string; Detail: string; EventBusName: string }[] };
    physicalResourceId: { id: string };
  }
  const announcement = (t: Template): { call: SdkCall; dependsOn: string[] } => {
    const [resource] = Object.values(t.findResources('Custom::AWS')) as {
      Properties: { Create: string; Update: string };
      DependsOn: string[];
    }[];
    expect(resource?.Properties.Update).toEqual(resource?.Properties.Create);
    return { call: JSON.parse(resource?.Properties.Create ?? '{}'), dependsOn: resource?.DependsOn ?? [] };
  };

  test('puts a Policy Changed event on the default bus that starts the PolicyChanged rule and no other', () => {
    const { call } = announcement(template);
    expect(call).toMatchObject({ service: 'EventBridge', action: 'PutEvents' });
    const [entry] = call.parameters.Entries;
    expect(entry?.EventBusName).toBe('default');
    const event = {
      ...(events.get('policy-changed.json') as Event),
      source: entry?.Source,
      'detail-type': entry?.DetailType,
      detail: JSON.parse(entry?.Detail ?? '{}'),
    };
    expect(matchingRules(event)).toEqual(['PolicyChanged']);
    expect(parseRefreshEvent(event).kind).toBe('rejudge-all');
  });

  test('is sent again exactly when the policy changes: its physical id carries the policy hash', () => {
    const { call } = announcement(template);
    const hash = JSON.parse(call.parameters.Entries[0]?.Detail ?? '{}').policyHash;
    expect(call.physicalResourceId.id).toBe(`policy-${hash}`);

    const stricter = synthesizeInProcess({
      policyText: 'rules: { maxSeverityCounts: { HIGH: 0 } }\n',
    }).template;
    const changed = announcement(stricter).call;
    expect(changed.physicalResourceId.id).not.toBe(call.physicalResourceId.id);
    expect(changed.physicalResourceId.id).toBe(
      `policy-${JSON.parse(changed.parameters.Entries[0]?.Detail ?? '{}').policyHash}`,
    );
  });

  test('runs after the rule, the buffer (and its policy), its consumer, the state machine and the functions carry the new policy', () => {
    const { dependsOn } = announcement(template);
    const ids = (type: string) => Object.keys(template.findResources(type));
    const policyRule = ids('AWS::Events::Rule').find((id) => id.startsWith('RefreshPolicyChanged'));
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        policyRule,
        ...ids('AWS::StepFunctions::StateMachine'),
        ...ids('AWS::SQS::QueuePolicy').filter((id) => id.startsWith('RefreshBuffer')),
        ...ids('AWS::Lambda::EventSourceMapping'),
      ]),
    );
    const handlers = new Set(Object.values(REFRESH_TASKS).map(({ handler }) => `index.${handler}`));
    const refreshFunctions = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => handlers.has(String(fn.Properties.Handler)))
      .map(([id]) => id);
    expect(refreshFunctions).toHaveLength(handlers.size);
    expect(dependsOn).toEqual(expect.arrayContaining(refreshFunctions));
  });
});
