/**
 * AWS's documented example events (test/fixtures/events/aws/documented, copied from the ECR,
 * Inspector and CloudTrail user guides) against the synthesized rule patterns, by the offline
 * EventBridge matcher: which events reach the workflow, and that every event that reaches it is
 * handled or deliberately ignored by the Plan task, never a failure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { InvalidEventError } from '../../src/domain/errors';
import { matchesPattern } from '../cdk/event-pattern';
import { REPO_ROOT, removeTemporaryDirectories, synthesizeInProcess } from '../cdk/synth';

const DIR = join(REPO_ROOT, 'test/fixtures/events/aws/documented');
type Event = Record<string, unknown>;
const events = new Map(
  readdirSync(DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name, JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Event]),
);

/** The rule each documented event starts (none: `null`). */
const REACHES: Record<string, string | null> = {
  'cloudtrail-delete-repository.json': 'EcrSettingChange',
  'cloudtrail-put-image-tag-mutability.json': 'EcrSettingChange',
  'cloudtrail-put-image-tag-mutability-failed.json': null,
  'cloudtrail-put-registry-scanning-configuration.json': 'EcrSettingChange',
  'ecr-image-action-push.json': 'EcrImageAction',
  'ecr-image-action-delete.json': 'EcrImageAction',
  // Archived images cannot be pulled, restored ones can (issue 16).
  'ecr-image-action-archive.json': 'EcrImageAction',
  'ecr-image-scan.json': 'EcrImageScan',
  // A replica in this region is judged here before anyone deploys it (issue 16).
  'ecr-replication-action.json': 'EcrReplicationAction',
  // An image imported through a pull-through cache rule is judged before its Pods are retried (issue 16).
  'ecr-pull-through-cache-action.json': 'EcrPullThroughCacheAction',
  // Scan-frequency changes, delivered without CloudTrail (issue 11, item 11).
  'ecr-scan-resource-change.json': 'EcrScanResourceChange',
  'inspector2-finding-ecr.json': 'Inspector2Finding',
  'inspector2-finding-ecr-region-na.json': 'Inspector2Finding',
  'inspector2-finding-ec2.json': null,
  'inspector2-scan-ecr.json': 'Inspector2Scan',
  // Scans of EC2 instances, Lambda functions and AMIs are not the workflow's (issue 11, item 5).
  'inspector2-scan-ec2.json': null,
  'inspector2-scan-lambda.json': null,
  'inspector2-scan-ami.json': null,
  // Delivered by the schedule rule itself, not by a pattern.
  'scheduled-event.json': null,
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
    test(name, () => {
      expect(() => parseRefreshEvent(events.get(name))).not.toThrow();
    });
  }
});

describe('every image Plan targets is in a real region', () => {
  const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
  for (const name of delivered) {
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

describe('a basic scan that ends FAILED (issue 11, item 11)', () => {
  const failed = () => {
    const event = structuredClone(events.get('ecr-image-scan.json')) as Event & { detail: Event };
    event.detail['scan-status'] = 'FAILED';
    event.detail['finding-severity-counts'] = {};
    return event;
  };

  test('reaches the workflow by the EcrImageScan rule', () => {
    expect(reached(failed())).toEqual(['EcrImageScan']);
  });

  test('asks for the image to be judged again from what ECR now reports, so no earlier verdict outlives it', () => {
    const event = failed();
    expect(parseRefreshEvent(event)).toMatchObject({
      kind: 'refresh-image',
      reason: 'ECR Image Scan FAILED',
      image: {
        registryId: event.account,
        region: event.region,
        repositoryName: event.detail['repository-name'],
        digest: event.detail['image-digest'],
      },
    });
  });

  test('a scan still IN_PROGRESS reaches nothing', () => {
    const event = failed();
    event.detail['scan-status'] = 'IN_PROGRESS';
    expect(reached(event)).toEqual([]);
  });
});

describe('an ECR Scan Resource Change (issue 11, item 11)', () => {
  type Repository = { 'repository-name': string; 'repository-arn': string; 'scan-frequency': string };
  const change = () =>
    structuredClone(events.get('ecr-scan-resource-change.json')) as Event & {
      account: string;
      region: string;
      detail: { 'action-type': string; repositories: Repository[] };
    };
  const another = (name: string): Repository => ({
    'repository-name': name,
    'repository-arn': `arn:aws:ecr:us-east-1:123456789012:repository/${name}`,
    'scan-frequency': 'CONTINUOUS_SCAN',
  });

  test('of one repository re-judges that repository', () => {
    const event = change();
    expect(parseRefreshEvent(event)).toMatchObject({
      kind: 'refresh-repository',
      reason: 'ECR Scan Resource Change SCAN_FREQUENCY_CHANGE',
      scope: { registryId: event.account, region: event.region, repositoryName: 'repository-1' },
    });
  });

  test('of several repositories (as in the ECR user guide) re-judges their registry, a scope of one', () => {
    const event = change();
    event.detail.repositories.push(another('repository-2'), another('repository-3'));
    expect(reached(event)).toEqual(['EcrScanResourceChange']);
    const trigger = parseRefreshEvent(event) as unknown as { kind: string; scope: Record<string, string> };
    expect(trigger).toMatchObject({ kind: 'refresh-repository' });
    expect(trigger.scope).toEqual({ registryId: event.account, region: event.region });
  });

  test('of no repository is a no-op', () => {
    const event = change();
    event.detail.repositories = [];
    expect(parseRefreshEvent(event).kind).toBe('ignore');
  });

  test('of another action is not subscribed, and is a no-op if it is handed over anyway', () => {
    const event = change();
    event.detail['action-type'] = 'SOME_FUTURE_ACTION';
    expect(reached(event)).toEqual([]);
    expect(parseRefreshEvent(event).kind).toBe('ignore');
  });

  test('naming a repository that ECR could not have is refused', () => {
    const event = change();
    event.detail.repositories = [another('Not A Repository')];
    expect(() => parseRefreshEvent(event)).toThrow(InvalidEventError);
  });
});

describe('an Inspector2 Scan of something other than an ECR image (issue 11, item 5)', () => {
  const others = ['inspector2-scan-ec2.json', 'inspector2-scan-lambda.json', 'inspector2-scan-ami.json'];

  test.each(others)('%s, handed to Plan anyway (refresh --event), is a no-op, not a failure', (name) => {
    expect(parseRefreshEvent(events.get(name))).toMatchObject({
      kind: 'ignore',
      reason: 'an Inspector2 Scan of a resource that is not an ECR image',
    });
  });

  test('an Inspector2 Scan of an ECR image that is malformed still fails with InvalidEvent', () => {
    const event = structuredClone(events.get('inspector2-scan-ecr.json')) as Event & { detail: Event };
    event.detail['image-digest'] = 'sha256:not-a-digest';
    expect(reached(event)).toEqual(['Inspector2Scan']);
    expect(() => parseRefreshEvent(event)).toThrow(InvalidEventError);
  });

  test('an Inspector2 Scan with no detail at all fails with InvalidEvent', () => {
    const { detail: _detail, ...event } = events.get('inspector2-scan-ec2.json') as Event;
    expect(() => parseRefreshEvent(event)).toThrow(InvalidEventError);
  });
});

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

describe('archived and replicated images (issue 16)', () => {
  test('an image moved to the archive is judged again, so that its cached entries go', () => {
    const event = events.get('ecr-image-action-archive.json') as Event & { detail: Event };
    expect(parseRefreshEvent(event)).toMatchObject({
      kind: 'refresh-image',
      reason: 'ECR Image Action UPDATE_STORAGE_CLASS ARCHIVE',
      image: { repositoryName: 'ubuntu', digest: event.detail['image-digest'], region: 'us-east-1' },
    });
  });

  test('an image restored to the standard class is judged again', () => {
    const event = structuredClone(events.get('ecr-image-action-archive.json')) as Event & { detail: Event };
    event.detail['target-storage-class'] = 'STANDARD';
    expect(parseRefreshEvent(event)).toMatchObject({
      kind: 'refresh-image',
      reason: 'ECR Image Action UPDATE_STORAGE_CLASS STANDARD',
    });
  });

  test("a replica is judged in the destination's account and region, with its tag", () => {
    const event = events.get('ecr-replication-action.json') as Event & { detail: Event };
    expect(parseRefreshEvent(event)).toEqual({
      kind: 'refresh-image',
      eventId: event.id,
      eventTime: event.time,
      reason: 'ECR Replication Action REPLICATE',
      image: {
        registryId: '123456789012',
        region: 'us-east-1',
        repositoryName: 'docker-hub/alpine',
        digest: event.detail['image-digest'],
        tags: ['3.17.2'],
      },
    });
  });

  test('a failed replication reaches nothing, and is ignored if handed over anyway', () => {
    const event = structuredClone(events.get('ecr-replication-action.json')) as Event & { detail: Event };
    event.detail.result = 'FAILURE';
    expect(reached(event)).toEqual([]);
    expect(parseRefreshEvent(event)).toMatchObject({ kind: 'ignore' });
  });
});

describe('an ECR Pull Through Cache Action (issue 16)', () => {
  const sync = (status: string) => {
    const event = structuredClone(events.get('ecr-pull-through-cache-action.json')) as Event & {
      detail: Event;
    };
    event.detail['sync-status'] = status;
    return event;
  };

  test('a sync that succeeded asks for the imported image to be judged', () => {
    const event = sync('SUCCESS');
    expect(parseRefreshEvent(event)).toMatchObject({
      kind: 'refresh-image',
      image: {
        registryId: '123456789012',
        region: 'us-west-2',
        repositoryName: 'docker-hub/alpine',
        digest: event.detail['image-digest'],
        tags: ['3.17.2'],
      },
    });
  });

  test('a sync that failed reaches nothing, and is ignored if delivered', () => {
    const event = sync('FAILED');
    expect(reached(event)).toEqual([]);
    expect(parseRefreshEvent(event)).toMatchObject({ kind: 'ignore' });
  });

  test('a successful sync without a digest is refused, naming the field', () => {
    const event = sync('SUCCESS');
    delete event.detail['image-digest'];
    expect(() => parseRefreshEvent(event)).toThrow(/detail\.image-digest/);
  });
});
