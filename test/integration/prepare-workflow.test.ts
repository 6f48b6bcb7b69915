/**
 * Issue 16, end to end on one machine: the admission service and the refresh workflow (the very ASL
 * files CDK deploys, run locally) against DynamoDB Local and the local ECR endpoint, which imports
 * through a pull-through cache rule on a registry API pull and restores archived images. The request
 * the webhook puts reaches the workflow as the rule, the buffer and the Coalesce function deliver it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { preparationDetail } from '../../src/adapters/preparation-events';
import { CoalesceService } from '../../src/application/coalesce-service';
import { PREPARATION_REQUESTED } from '../../src/contracts/events';
import { lookupKey } from '../../src/domain/decision-store';
import { parsePolicy } from '../../src/domain/policy';
import type { PreparationRequests, PreparationTarget } from '../../src/domain/refresh';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { createAdmissionService } from '../../src/wiring/admission';
import { runWorkflowLocally } from '../../src/wiring/local-workflow';
import { createRefreshService } from '../../src/wiring/refresh';
import { useLocalAws } from '../helpers/local-aws';
import type { RawImage, RawSnapshot } from '../helpers/local-ecr';
import { podReview, review, workload } from '../helpers/reviews';

jest.setTimeout(60_000);

const OWN = '111122223333';
const REGION = 'us-east-1';
const REPLICA_REGION = 'eu-west-1';
const host = (region = REGION) => `${OWN}.dkr.ecr.${region}.amazonaws.com`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const NGINX = digest('e');
const OLD = digest('f');
const REPLICA = digest('d');
const NOW = new Date('2026-12-02T12:00:00Z');
const FIXTURES = join(__dirname, '../fixtures/events/aws/documented');

const cleanScan = {
  imageScanStatus: { status: 'COMPLETE' },
  imageScanFindings: {
    findingSeverityCounts: {},
    findings: [],
    imageScanCompletedAt: '2026-12-02T11:00:00Z',
  },
};
const upstreamNginx: RawImage = {
  imageDigest: NGINX,
  imageTags: ['1.27'],
  imagePushedAt: '2026-12-01T09:00:00Z',
  scan: cleanScan,
} as RawImage;

function snapshot(): RawSnapshot {
  const app = (images: RawImage[]) => ({
    repository: { repositoryName: 'team/app', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
    scanningConfiguration: { repositoryName: 'team/app', scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
    images,
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
        pullThroughCacheRules: [
          {
            ecrRepositoryPrefix: 'docker-hub',
            upstreamRegistryUrl: 'registry-1.docker.io',
            upstreamRegistry: 'docker-hub',
          },
        ],
        repositoryCreationTemplates: [
          { prefix: 'docker-hub', appliedFor: ['PULL_THROUGH_CACHE'], imageTagMutability: 'IMMUTABLE' },
        ],
        repositories: [
          app([
            {
              imageDigest: OLD,
              imageTags: ['0.9'],
              imagePushedAt: '2026-01-01T09:00:00Z',
              imageStatus: 'ARCHIVED',
              scan: cleanScan,
            } as RawImage,
          ]),
        ],
      },
      {
        registryId: OWN,
        region: REPLICA_REGION,
        scanningConfiguration: {
          scanType: 'BASIC',
          rules: [
            { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] },
          ],
        },
        repositories: [
          app([
            {
              imageDigest: REPLICA,
              imageTags: ['1.0.0'],
              imagePushedAt: '2026-12-01T09:00:00Z',
              scan: cleanScan,
            } as RawImage,
          ]),
        ],
      },
    ],
  } as RawSnapshot;
}

/** What the webhook puts, kept to be delivered to the workflow as EventBridge would. */
class Bus implements PreparationRequests {
  readonly events: Record<string, unknown>[] = [];
  async request(targets: readonly PreparationTarget[]): Promise<void> {
    for (const target of targets) {
      this.events.push({
        version: '0',
        id: `prepare-${this.events.length}`,
        source: PREPARATION_REQUESTED.source,
        'detail-type': PREPARATION_REQUESTED.detailType,
        account: OWN,
        region: REGION,
        time: NOW.toISOString(),
        resources: [],
        detail: preparationDetail(target),
      });
    }
  }
}

function sample(name: string, detail: Record<string, unknown>, top: Record<string, unknown> = {}) {
  const event = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
  return {
    ...event,
    account: OWN,
    region: REGION,
    ...top,
    detail: { ...(event.detail as object), ...detail },
  };
}

const podRequest = (image: string, options: { dryRun?: boolean } = {}) =>
  parseAdmissionReview(podReview({ containers: [image] }, options)).request;

describe('images the workflow prepares ahead of their Pods (issue 16)', () => {
  const local = useLocalAws(
    snapshot,
    { ownAccountId: OWN, upstream: { 'library/nginx': [upstreamNginx] } },
    REGION,
  );

  async function setup(policyDocument: object = {}) {
    const tableName = await local.newTable('prepare');
    const policy = parsePolicy(policyDocument);
    const bus = new Bus();
    const now = () => NOW;
    // Two admission processes (two Lambda instances), one cache.
    const admissions = [1, 2].map(() =>
      createAdmissionService({ policy, tableName, ownAccountId: OWN, now, preparations: bus }),
    );
    const workflow = createRefreshService({ policy, tableName, region: REGION, ownAccountId: OWN, now });
    const run = (event: unknown) => runWorkflowLocally(workflow, event, { retryIntervalMs: 1 });
    const store = new DynamoDecisionStore({ tableName, client: new DynamoDBClient({}) });
    return { admissions, bus, run, store };
  }

  test('A pull-through image: Pods denied while it is imported once, the scan caches it, the retry is admitted.', async () => {
    const { admissions, bus, run, store } = await setup();
    const image = `${host()}/docker-hub/library/nginx:1.27`;

    // Act: a dry run, then a Deployment, then its replicas' Pods on two instances.
    const dryRun = await admissions[0]?.review(podRequest(image, { dryRun: true }));
    expect(dryRun?.allowed).toBe(false);
    expect(bus.events).toEqual([]);
    const deployment = await admissions[0]?.review(
      parseAdmissionReview(review(workload('Deployment', { containers: [image] }))).request,
    );
    const pods = await Promise.all(
      Array.from({ length: 6 }, (_, i) => admissions[i % 2]?.review(podRequest(image))),
    );

    // Assess: admitted with a warning, then denied with the import message; asked once per instance.
    expect(deployment?.allowed).toBe(true);
    expect(deployment?.warnings.join('\n')).toContain('is not in ECR yet');
    for (const pod of pods) {
      expect(pod?.allowed).toBe(false);
      expect(pod?.message).toContain('[IMAGE_IMPORTING] tag "1.27" is not in ECR yet');
      expect(pod?.message).not.toContain('does not exist');
    }
    expect(bus.events).toHaveLength(2);

    // Act: the rule puts both asks in the buffer; one batch coalesces them into one execution.
    const started: string[] = [];
    const coalescer = new CoalesceService({
      parse: parseRefreshEvent,
      starter: {
        start: async (_name, input) => {
          started.push(input);
          return 'started';
        },
      },
    });
    const report = await coalescer.startExecutions(
      bus.events.map((event, i) => ({ messageId: `m-${i}`, body: JSON.stringify(event) })),
    );
    expect(report).toMatchObject({ coalesced: 1, failed: [], refused: [] });
    expect(started).toHaveLength(1);
    const first = await run(JSON.parse(started[0] ?? ''));
    // An ask of a later batch (another instance, after the window) finds the claim: nothing more.
    const later = await run(bus.events[1]);
    expect([first.status, later.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect([...first.preparations, ...later.preparations].map((p) => p.outcome)).toEqual([
      'import-started',
      'already-asked',
    ]);
    expect(local.ecr.imports('docker-hub/library/nginx', NGINX)).toBe(1);

    // The import's scan on push ends; its event caches the facts.
    const scanned = await run(
      sample('ecr-image-scan.json', {
        'repository-name': 'docker-hub/library/nginx',
        'image-digest': NGINX,
        'image-tags': ['1.27'],
        'scan-status': 'COMPLETE',
      }),
    );
    expect(scanned.records.map((r) => r.action)).toEqual(['written']);
    const cached = await store.getMany([
      { registryId: OWN, region: REGION, repositoryName: 'docker-hub/library/nginx', tag: '1.27' },
    ]);
    expect(cached.size).toBe(1);

    // The ReplicaSet's next retry is admitted from the cache, and asks for nothing more.
    const retried = await admissions[1]?.review(podRequest(image));
    expect(retried).toMatchObject({ allowed: true, cacheHits: 1 });
    expect(bus.events).toHaveLength(2);
  });

  test('An archived image: denied with the restore command; under archived: restore, restored once and admitted after.', async () => {
    const image = `${host()}/team/app:0.9`;
    const denying = await setup();
    const denied = await denying.admissions[0]?.review(podRequest(image));
    expect(denied?.message).toContain('[IMAGE_ARCHIVED]');
    expect(denied?.message).toContain(
      `aws ecr update-image-storage-class --registry-id ${OWN} --region ${REGION} --repository-name team/app --image-id imageDigest=${OLD} --target-storage-class STANDARD`,
    );
    expect(denying.bus.events).toEqual([]);

    const { admissions, bus, run, store } = await setup({ archived: 'restore' });
    await Promise.all(admissions.map((a) => a.review(podRequest(image))));
    const restoring = await admissions[0]?.review(podRequest(image));
    expect(restoring?.message).toContain('[IMAGE_RESTORING]');
    expect(bus.events).toHaveLength(2);

    const runs = [];
    for (const event of bus.events) runs.push(await run(event));
    expect(runs.flatMap((r) => r.preparations.map((p) => p.outcome)).sort()).toEqual([
      'already-asked',
      'restore-started',
    ]);
    expect(local.ecr.calls.get('UpdateImageStorageClass')).toBe(1);

    // The restore ends: ECR's UPDATE_STORAGE_CLASS event caches the image, and the next Pod is admitted.
    const restored = await run(
      sample('ecr-image-action-archive.json', {
        'repository-name': 'team/app',
        'image-digest': OLD,
        'image-tag': '0.9',
        'target-storage-class': 'STANDARD',
      }),
    );
    expect(restored.records.map((r) => r.action)).toContain('written');
    expect(
      (await store.getMany([{ registryId: OWN, region: REGION, repositoryName: 'team/app', digest: OLD }]))
        .size,
    ).toBe(1);
    const admitted = await admissions[1]?.review(podRequest(image));
    expect(admitted?.allowed).toBe(true);
  });

  test("A replication event warms the replica's region: its first admission there is a cache hit.", async () => {
    const { admissions, run, store } = await setup();
    const replicated = await run(
      sample(
        'ecr-replication-action.json',
        { 'repository-name': 'team/app', 'image-digest': REPLICA, 'image-tag': '1.0.0' },
        { region: REPLICA_REGION },
      ),
    );
    expect(replicated.status).toBe('SUCCEEDED');
    const key = { registryId: OWN, region: REPLICA_REGION, repositoryName: 'team/app', tag: '1.0.0' };
    expect([...(await store.getMany([key])).keys()]).toEqual([lookupKey(key)]);
    const decision = await admissions[0]?.review(podRequest(`${host(REPLICA_REGION)}/team/app:1.0.0`));
    expect(decision).toMatchObject({ allowed: true, cacheHits: 1 });
  });
});
