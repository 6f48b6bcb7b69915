/**
 * AWS's documented example events (test/fixtures/events/aws/documented, copied from the ECR,
 * Inspector and CloudTrail user guides) against the synthesized rule patterns, by the offline
 * EventBridge matcher: which events reach the workflow, and that every event that reaches it is
 * handled or deliberately ignored by the Plan task, never a failure.
 *
 * The rules and the event parser are being changed on another branch for issue 11's items 5, 9 and
 * 11; this file asserts the patterns as they stand here and names each known gap with its item.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { matchesPattern } from '../cdk/event-pattern';
import { REPO_ROOT, removeTemporaryDirectories, synthesizeInProcess } from '../cdk/synth';

const DIR = join(REPO_ROOT, 'test/fixtures/events/aws/documented');
type Event = Record<string, unknown>;
const events = new Map(
  readdirSync(DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name, JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Event]),
);

/** The rule each documented event starts (none: `null`), as the rules stand in this tree. */
const REACHES: Record<string, string | null> = {
  'cloudtrail-delete-repository.json': 'EcrSettingChange',
  'cloudtrail-put-image-tag-mutability.json': 'EcrSettingChange',
  'cloudtrail-put-image-tag-mutability-failed.json': null,
  'cloudtrail-put-registry-scanning-configuration.json': 'EcrSettingChange',
  'ecr-image-action-push.json': 'EcrImageAction',
  'ecr-image-action-delete.json': 'EcrImageAction',
  'ecr-image-action-archive.json': null,
  'ecr-image-scan.json': 'EcrImageScan',
  'ecr-replication-action.json': null,
  // Item 11: scan-frequency changes are not subscribed yet.
  'ecr-scan-resource-change.json': null,
  'inspector2-finding-ecr.json': 'Inspector2Finding',
  'inspector2-finding-ecr-region-na.json': 'Inspector2Finding',
  'inspector2-finding-ec2.json': null,
  'inspector2-scan-ecr.json': 'Inspector2Scan',
  // Item 5: the Inspector2 Scan rule has no detail filter, so scans of EC2 instances, Lambda
  // functions and AMIs reach the workflow too (and fail it: see the todo below).
  'inspector2-scan-ec2.json': 'Inspector2Scan',
  'inspector2-scan-lambda.json': 'Inspector2Scan',
  'inspector2-scan-ami.json': 'Inspector2Scan',
  // Delivered by the schedule rule itself, not by a pattern.
  'scheduled-event.json': null,
};

/** Events that reach the workflow and fail Plan today: issue 11, item 5 (fixed on another branch). */
const KNOWN_PLAN_FAILURES: Record<string, string> = {
  'inspector2-scan-ec2.json': 'item 5',
  'inspector2-scan-lambda.json': 'item 5',
  'inspector2-scan-ami.json': 'item 5',
};

let rules: [string, Record<string, unknown>][];

beforeAll(() => {
  const { template } = synthesizeInProcess();
  rules = Object.entries(
    template.findResources('AWS::Events::Rule') as Record<
      string,
      { Properties: { EventPattern?: Record<string, unknown> } }
    >,
  ).flatMap(([id, rule]) =>
    rule.Properties.EventPattern
      ? [[id.replace(/^Refresh/, '').replace(/[0-9A-F]{8}$/, ''), rule.Properties.EventPattern]]
      : [],
  ) as [string, Record<string, unknown>][];
}, 60_000);

afterAll(removeTemporaryDirectories);

const reached = (event: Event) =>
  rules.filter(([, pattern]) => matchesPattern(pattern, event)).map(([name]) => name);

test('every documented event has a decision here (a new fixture needs one)', () => {
  expect([...events.keys()].sort()).toEqual(Object.keys(REACHES).sort());
});

test.each(Object.entries(REACHES))('%s starts %s', (name, rule) => {
  expect(reached(events.get(name) as Event)).toEqual(rule ? [rule] : []);
});

const delivered = Object.keys(REACHES).filter(
  (name) => REACHES[name] !== null || name === 'scheduled-event.json',
);

describe('every event that reaches the workflow is handled or ignored by Plan, never a failure', () => {
  for (const name of delivered) {
    if (KNOWN_PLAN_FAILURES[name]) {
      test.todo(`${name}: fails Plan with InvalidEventError today (issue 11, ${KNOWN_PLAN_FAILURES[name]})`);
      continue;
    }
    test(name, () => {
      expect(() => parseRefreshEvent(events.get(name))).not.toThrow();
    });
  }
});

describe('every image Plan targets is in a real region', () => {
  const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
  for (const name of delivered.filter((n) => !KNOWN_PLAN_FAILURES[n])) {
    test(name, () => {
      const trigger = parseRefreshEvent(events.get(name)) as {
        image?: { region: string };
        scope?: { region?: string };
      };
      const region = trigger.image?.region ?? trigger.scope?.region;
      if (region !== undefined) expect(region).toMatch(REGION);
    });
  }
});

test.todo(
  'a basic scan that ends FAILED reaches the workflow and clears the stale verdict (issue 11, item 11)',
);
test.todo('ECR Scan Resource Change reaches the workflow and refreshes the repository (issue 11, item 11)');

describe('an Inspector2 finding whose resource region is "N/A" (issue 11, item 9)', () => {
  const example = () =>
    structuredClone(events.get('inspector2-finding-ecr-region-na.json')) as {
      region: string;
      detail: { resources: { id: string }[] };
    };

  test("takes the image's region from the resource ARN, not from the envelope", () => {
    const event = example();
    event.region = 'eu-west-1';
    const trigger = parseRefreshEvent(event) as { image: { region: string } };
    expect(trigger.image.region).toBe(event.detail.resources[0]?.id.split(':')[3]);
  });

  test('is refused when the ARN names no AWS region', () => {
    const event = example();
    const resource = event.detail.resources[0] as { id: string };
    resource.id = resource.id.replace(/^(arn:aws:ecr:)[^:]+/, '$1mars-central-1');
    expect(() => parseRefreshEvent(event)).toThrow(/detail\.resources\[\]\.id: the ARN's region/);
  });
});
