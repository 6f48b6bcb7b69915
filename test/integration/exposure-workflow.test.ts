/**
 * Issue 15, items 2 and 3, end to end on one machine: the admission service records what it admits,
 * the refresh workflow (the very ASL files CDK deploys, run locally) stores a new finding and announces
 * the exposure once, against DynamoDB Local and the local ECR endpoint; and the continuity guard admits
 * a re-created Pod of a workload that ran the image before the violation, within the grace only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { lookupKey } from '../../src/domain/decision-store';
import { EventsUnavailableError } from '../../src/domain/errors';
import type { ExposureEvent, ExposureEvents } from '../../src/domain/exposure';
import { parsePolicy } from '../../src/domain/policy';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { createAdmissionService, liveFactsSource } from '../../src/wiring/admission';
import { runWorkflowLocally } from '../../src/wiring/local-workflow';
import { createRefreshService } from '../../src/wiring/refresh';
import { useLocalAws } from '../helpers/local-aws';
import type { RawSnapshot } from '../helpers/local-ecr';
import { review, workload } from '../helpers/reviews';
import type { JsonObject } from '../helpers/snapshot-builder';

jest.setTimeout(60_000);

const OWN = '111122223333';
const REGION = 'us-east-1';
const HOST = `${OWN}.dkr.ecr.${REGION}.amazonaws.com`;
const API = `sha256:${'a'.repeat(64)}`;
const IDLE = `sha256:${'b'.repeat(64)}`;
const ADMITTED_AT = new Date('2026-12-01T12:00:00Z');
const SCANNED_AT = new Date('2026-12-02T12:00:00Z');
const FIXTURES = join(__dirname, '../fixtures/events/aws/documented');

function scan(completedAt: string, counts: Record<string, number>) {
  return {
    imageScanStatus: { status: 'COMPLETE' },
    imageScanFindings: {
      findingSeverityCounts: counts,
      findings: [],
      imageScanCompletedAt: completedAt,
    },
  };
}

/** team/api:1.0 and team/idle:1.0, as first scanned, or with the rescan's findings. */
function snapshot(rescan?: Record<string, number>): RawSnapshot {
  const repository = (name: string, digest: string) => ({
    repository: { repositoryName: name, registryId: OWN, imageTagMutability: 'IMMUTABLE' },
    scanningConfiguration: { repositoryName: name, scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
    images: [
      {
        imageDigest: digest,
        imageTags: ['1.0'],
        imagePushedAt: '2026-11-30T09:00:00Z',
        scan: rescan ? scan(SCANNED_AT.toISOString(), rescan) : scan('2026-11-30T10:00:00Z', { MEDIUM: 1 }),
      },
    ],
  });
  return {
    registries: [
      {
        registryId: OWN,
        region: REGION,
        scanningConfiguration: {
          scanType: 'BASIC',
          rules: [
            { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] },
          ],
        },
        repositories: [repository('team/api', API), repository('team/idle', IDLE)],
      },
    ],
  } as RawSnapshot;
}

/** What the workflow announces, kept; or refused, as EventBridge might. */
class Announcements implements ExposureEvents {
  readonly events: ExposureEvent[] = [];
  refuse = false;
  async publish(events: readonly ExposureEvent[]): Promise<void> {
    if (this.refuse) throw new EventsUnavailableError('EventBridge refused 1 exposure events');
    this.events.push(...events);
  }
}

function scanEvent(repositoryName: string, digest: string, id: string) {
  const event = JSON.parse(readFileSync(join(FIXTURES, 'ecr-image-scan.json'), 'utf8')) as JsonObject;
  return {
    ...event,
    id,
    account: OWN,
    region: REGION,
    time: SCANNED_AT.toISOString(),
    detail: {
      ...(event.detail as object),
      'repository-name': repositoryName,
      'image-digest': digest,
      'image-tags': ['1.0'],
      'scan-status': 'COMPLETE',
    },
  };
}

/** A Pod of the ReplicaSet `api-7d9` (a Deployment's), as the ReplicaSet controller creates it. */
function replicaPod(image: string): JsonObject {
  const pod = workload(
    'Pod',
    { containers: [image] },
    { name: `api-7d9-${Math.random().toString(36).slice(2, 7)}` },
  );
  const metadata = pod.metadata as JsonObject;
  return {
    ...pod,
    metadata: {
      ...metadata,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7d9', uid: 'rs-1', controller: true },
      ],
    },
  };
}

describe('exposure: an admitted image that turns denied (issue 15)', () => {
  const local = useLocalAws(snapshot, { ownAccountId: OWN }, REGION);

  async function setup(policyDocument: object = {}) {
    const tableName = await local.newTable('exposure');
    const policy = parsePolicy(policyDocument);
    let clock = ADMITTED_AT;
    const now = () => clock;
    const admission = () =>
      createAdmissionService({ policy, tableName, ownAccountId: OWN, now, inventory: {} });
    const announcements = new Announcements();
    const workflow = createRefreshService({
      policy,
      tableName,
      region: REGION,
      ownAccountId: OWN,
      now,
      exposure: announcements,
    });
    const run = (event: unknown) => runWorkflowLocally(workflow, event, { retryIntervalMs: 1 });
    const store = new DynamoDecisionStore({ tableName, client: new DynamoDBClient({}) });
    return { admission, announcements, run, store, tableName, at: (date: Date) => (clock = date) };
  }

  const request = (object: JsonObject, operation: 'CREATE' | 'UPDATE' = 'CREATE') =>
    parseAdmissionReview(review(object, { operation })).request;

  test('A scan with a new CRITICAL on a running image publishes exactly one event naming the workload, and none again on redelivery.', async () => {
    const { admission, announcements, run, store, at } = await setup();
    // Prepare: the ReplicaSet's Pod admitted in cluster prod; the idle image admitted nowhere.
    const admitted = await admission().review(request(replicaPod(`${HOST}/team/api:1.0`)), {
      cluster: 'prod',
    });
    expect(admitted.allowed).toBe(true);
    expect((await run(scanEvent('team/idle', IDLE, 'clean-idle'))).status).toBe('SUCCEEDED');

    // Act: the rescans find a CRITICAL in both images.
    local.ecr.setSnapshot(snapshot({ CRITICAL: 1 }));
    at(SCANNED_AT);
    const exposed = await run(scanEvent('team/api', API, 'scan-1'));
    const idle = await run(scanEvent('team/idle', IDLE, 'scan-2'));
    const redelivered = await run(scanEvent('team/api', API, 'scan-1'));

    // Assess: one event, for the running image, naming its workload; the verdict stored with its time.
    expect(exposed.records.map((r) => r.exposure)).toEqual([{ workloads: 1 }]);
    expect(idle.records.map((r) => r.exposure)).toEqual([undefined]);
    expect(redelivered.records.map((r) => r.exposure)).toEqual([undefined]);
    expect(announcements.events).toEqual([
      {
        image: `${HOST}/team/api@${API}`,
        digest: API,
        registryId: OWN,
        region: REGION,
        repository: 'team/api',
        violations: [{ code: 'SEVERITY_LIMIT_EXCEEDED', message: expect.stringContaining('CRITICAL') }],
        workloads: [
          {
            cluster: 'prod',
            namespace: 'shop',
            owner: { kind: 'ReplicaSet', name: 'api-7d9' },
            lastAdmittedAt: ADMITTED_AT.toISOString(),
          },
        ],
      },
    ]);
    const key = { registryId: OWN, region: REGION, repositoryName: 'team/api', digest: API };
    const stored = (await store.getMany([key])).get(lookupKey(key));
    expect(stored?.verdict?.violatingSince).toBe(SCANNED_AT.toISOString());
  });

  test('When an admission cached the same new facts first (no verdict), the refresh still stores the verdict and announces once.', async () => {
    const { admission, announcements, run, store, at } = await setup();
    await admission().review(request(replicaPod(`${HOST}/team/api:1.0`)), { cluster: 'prod' });
    local.ecr.setSnapshot(snapshot({ CRITICAL: 1 }));
    at(SCANNED_AT);
    // Another process's admission missed its cache and wrote the rescanned facts through, no verdict.
    const key = { registryId: OWN, region: REGION, repositoryName: 'team/api', digest: API };
    const live = await liveFactsSource({ policy: parsePolicy({}), ownAccountId: OWN }).lookup(key);
    if (live.status !== 'found') throw new Error(`no facts: ${live.status}`);
    await store.put({ facts: { ...live.facts, gatheredAt: SCANNED_AT.toISOString() } });

    const exposed = await run(scanEvent('team/api', API, 'scan-after-admission'));

    expect(exposed.records.map((r) => r.exposure)).toEqual([{ workloads: 1 }]);
    expect(announcements.events).toHaveLength(1);
    const stored = (await store.getMany([key])).get(lookupKey(key));
    expect(stored?.verdict?.violatingSince).toBe(SCANNED_AT.toISOString());
  });

  test('A policy change that denies a running image announces it from the Rejudge task, once.', async () => {
    const { admission, announcements, run, tableName } = await setup();
    await admission().review(request(replicaPod(`${HOST}/team/api:1.0`)), { cluster: 'prod' });
    expect((await run(scanEvent('team/api', API, 'clean'))).records.map((r) => r.exposure)).toEqual([
      undefined,
    ]);

    // Act: the same cache judged again by a workflow whose policy allows no MEDIUM finding.
    const stricter = createRefreshService({
      policy: parsePolicy({ rules: { maxSeverityCounts: { MEDIUM: 0 } } }),
      tableName,
      region: REGION,
      ownAccountId: OWN,
      now: () => SCANNED_AT,
      exposure: announcements,
    });
    const policyChanged = {
      version: '0',
      id: 'policy-1',
      source: 'ecr-admission',
      'detail-type': 'Policy Changed',
      account: OWN,
      region: REGION,
      time: SCANNED_AT.toISOString(),
      resources: [],
      detail: { policyHash: 'x' },
    };
    const first = await runWorkflowLocally(stricter, policyChanged, { retryIntervalMs: 1 });
    const again = await runWorkflowLocally(
      stricter,
      { ...policyChanged, id: 'policy-2' },
      { retryIntervalMs: 1 },
    );

    expect(first.status).toBe('SUCCEEDED');
    expect(first.records.filter((r) => r.exposure)).toHaveLength(1);
    expect(again.records).toEqual([]);
    expect(announcements.events.map((e) => [e.repository, e.workloads.length])).toEqual([['team/api', 1]]);
  });

  test('Under continuity.recreate: warn, a re-created Pod of that ReplicaSet is admitted with a warning inside the grace and denied after it; a new Deployment is denied throughout.', async () => {
    const { admission, announcements, run, at } = await setup({
      continuity: { recreate: 'warn', graceDays: 14 },
    });
    const image = `${HOST}/team/api:1.0`;
    await admission().review(request(replicaPod(image)), { cluster: 'prod' });
    local.ecr.setSnapshot(snapshot({ CRITICAL: 1 }));
    at(SCANNED_AT);
    await run(scanEvent('team/api', API, 'scan-1'));
    expect(announcements.events).toHaveLength(1);
    const deployment = () => request(workload('Deployment', { containers: [image] }));

    // Inside the grace (a day after the scan): the ReplicaSet's re-created Pod is admitted, warned.
    at(new Date(SCANNED_AT.getTime() + 86_400_000));
    const recreated = await admission().review(request(replicaPod(image)), { cluster: 'prod' });
    const newRollout = await admission().review(deployment(), { cluster: 'prod' });
    const otherCluster = await admission().review(request(replicaPod(image)), { cluster: 'staging' });

    expect(recreated.allowed).toBe(true);
    expect(recreated.warnings.join('\n')).toContain('grace ends 2026-12-16');
    expect(recreated.auditAnnotations.continuity).toBe('SEVERITY_LIMIT_EXCEEDED until 2026-12-16');
    expect(newRollout.allowed).toBe(false);
    expect(otherCluster.allowed).toBe(false);

    // After the grace: denied as any Pod.
    at(new Date(SCANNED_AT.getTime() + 14 * 86_400_000));
    const late = await admission().review(request(replicaPod(image)), { cluster: 'prod' });
    expect(late.allowed).toBe(false);
    expect(late.message).toContain('[SEVERITY_LIMIT_EXCEEDED]');
    expect((await admission().review(deployment(), { cluster: 'prod' })).allowed).toBe(false);
  });

  test('With no publisher (the refresh command), the record says where the image runs and that nothing was published.', async () => {
    const { admission, tableName } = await setup();
    await admission().review(request(replicaPod(`${HOST}/team/api:1.0`)), { cluster: 'prod' });
    local.ecr.setSnapshot(snapshot({ CRITICAL: 1 }));
    const unpublished = createRefreshService({
      policy: parsePolicy({}),
      tableName,
      region: REGION,
      ownAccountId: OWN,
      now: () => SCANNED_AT,
    });

    const result = await runWorkflowLocally(unpublished, scanEvent('team/api', API, 'scan-1'), {
      retryIntervalMs: 1,
    });

    expect(result.records.map((r) => r.exposure)).toEqual([{ workloads: 1, published: false }]);
  });

  test('When publishing fails the verdict is still stored, and the failure is in the record for the handler to count.', async () => {
    const { admission, announcements, run, store, at } = await setup();
    await admission().review(request(replicaPod(`${HOST}/team/api:1.0`)), { cluster: 'prod' });
    local.ecr.setSnapshot(snapshot({ CRITICAL: 1 }));
    at(SCANNED_AT);
    announcements.refuse = true;

    const result = await run(scanEvent('team/api', API, 'scan-1'));

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => [r.action, r.exposure])).toEqual([
      ['written', { workloads: 0, failed: 'EventBridge refused 1 exposure events' }],
    ]);
    const key = { registryId: OWN, region: REGION, repositoryName: 'team/api', digest: API };
    const stored = (await store.getMany([key])).get(lookupKey(key));
    expect(stored?.verdict?.violations.map((v) => v.code)).toEqual(['SEVERITY_LIMIT_EXCEEDED']);
    expect(announcements.events).toEqual([]);
  });
});
