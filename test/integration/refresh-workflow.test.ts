/**
 * The refresh workflow: the very ASL file CDK deploys, executed locally with every Task bound to its
 * handler's implementation, against DynamoDB Local (the cache) and the local ECR endpoint (live ECR
 * adapter through the AWS SDK).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import aslValidator from 'asl-validator';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { ASL_FILE, PAGES_ASL_FILE } from '../../src/contracts/workflow';
import { lookupKey } from '../../src/domain/decision-store';
import { parsePolicy } from '../../src/domain/policy';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { createAdmissionService } from '../../src/wiring/admission';
import { aslPath, loadDefinition, runWorkflowLocally } from '../../src/wiring/local-workflow';
import { createRefreshService } from '../../src/wiring/refresh';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';

jest.setTimeout(60_000);

const OWN = '111122223333';
const REGION = 'us-east-1';
const HOST = `${OWN}.dkr.ecr.${REGION}.amazonaws.com`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const CLEAN = digest('a');
const VULNERABLE = digest('b');
const UNTRACKED = digest('c');
const FIXTURES = join(__dirname, '../fixtures/events/aws');

function scan(completedAt: string, counts: Record<string, number>) {
  return {
    imageScanStatus: { status: 'COMPLETE' },
    imageScanFindings: { findingSeverityCounts: counts, findings: [], imageScanCompletedAt: completedAt },
  };
}

function snapshot(
  options: {
    mutability?: string;
    cleanScanAt?: string;
    cleanCritical?: number;
    /** What ECR reports for the clean image's scan instead of a COMPLETE one (a rescan that failed). */
    cleanScan?: { imageScanStatus: { status: string; description?: string } };
    /** The repository's effective scan frequency (MANUAL: no scan on push). */
    scanFrequency?: string;
    /** The clean image's `imageStatus` (ARCHIVED: moved to the archive). */
    cleanStatus?: string;
  } = {},
): RawSnapshot {
  return {
    registries: [
      {
        registryId: OWN,
        region: REGION,
        scanningConfiguration: { scanType: 'BASIC', rules: [] },
        repositories: [
          {
            repository: {
              repositoryName: 'team/app',
              registryId: OWN,
              imageTagMutability: options.mutability ?? 'IMMUTABLE',
            },
            scanningConfiguration: {
              repositoryName: 'team/app',
              scanOnPush: (options.scanFrequency ?? 'SCAN_ON_PUSH') !== 'MANUAL',
              scanFrequency: options.scanFrequency ?? 'SCAN_ON_PUSH',
            },
            images: [
              {
                imageDigest: CLEAN,
                imageTags: ['1.0.0'],
                imagePushedAt: '2026-11-20T09:00:00Z',
                ...(options.cleanStatus && { imageStatus: options.cleanStatus }),
                scan:
                  options.cleanScan ??
                  scan(options.cleanScanAt ?? '2026-11-20T10:00:00Z', {
                    CRITICAL: options.cleanCritical ?? 0,
                  }),
              },
              {
                imageDigest: VULNERABLE,
                imageTags: ['2.0.0'],
                imagePushedAt: '2026-11-21T09:00:00Z',
                scan: scan('2026-11-21T10:00:00Z', { CRITICAL: 2 }),
              },
              {
                imageDigest: UNTRACKED,
                imageTags: ['3.0.0'],
                imagePushedAt: '2026-11-22T09:00:00Z',
                scan: scan('2026-11-22T10:00:00Z', {}),
              },
            ],
          },
        ],
      },
    ],
  };
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
}

/** A documented sample event, made to point at one of our images (the samples' digests are placeholders). */
function event(name: string, detail: Record<string, unknown>, top: Record<string, unknown> = {}) {
  const sample = fixture(name);
  return {
    ...sample,
    account: OWN,
    region: REGION,
    ...top,
    detail: { ...(sample.detail as object), ...detail },
  };
}

const scanEvent = (image = CLEAN, tags = ['1.0.0']) =>
  event('ecr-image-scan.json', { 'repository-name': 'team/app', 'image-digest': image, 'image-tags': tags });

/** The admission request of a Pod running one image, as the webhook receives it. */
function podRequest(image: string) {
  return parseAdmissionReview({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'shop',
      object: { spec: { containers: [{ name: 'a', image }] } },
    },
  }).request;
}

function cloudTrail(eventName: string, requestParameters: Record<string, unknown>) {
  return {
    version: '0',
    id: 'cf1d5d9e-0000-4000-8000-000000000001',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.ecr',
    account: OWN,
    time: '2026-11-27T11:00:00Z',
    region: REGION,
    resources: [],
    detail: {
      eventVersion: '1.08',
      eventTime: '2026-11-27T11:00:00Z',
      eventSource: 'ecr.amazonaws.com',
      eventName,
      awsRegion: REGION,
      requestParameters,
      recipientAccountId: OWN,
      eventType: 'AwsApiCall',
    },
  };
}

describe('the refresh workflow', () => {
  let dynamo: DynamoLocal;
  let ecr: LocalEcr;
  let tables = 0;
  const saved = { ...process.env };
  const NOW = new Date('2026-11-27T12:00:00Z');
  const policy = parsePolicy({});

  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    ecr = await startLocalEcr(snapshot(), { ownAccountId: OWN });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: REGION,
    });
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
    await dynamo?.stop();
  });
  beforeEach(() => {
    ecr.setSnapshot(snapshot());
    ecr.reset();
    ecr.faults = {};
  });

  async function setup(now = () => NOW) {
    const tableName = `refresh-${++tables}`;
    await createDecisionTable(dynamo.client(), tableName);
    const service = createRefreshService({ policy, tableName, region: REGION, ownAccountId: OWN, now });
    const store = new DynamoDecisionStore({ tableName, client: new DynamoDBClient({}) });
    const run = (input: unknown) => runWorkflowLocally(service, input, { retryIntervalMs: 1 });
    return { tableName, service, store, run };
  }

  it.each([
    ['refresh', ASL_FILE],
    ['pages', PAGES_ASL_FILE],
  ] as const)('has a %s definition that asl-validator accepts, placeholders and all', (machine, file) => {
    const raw = JSON.parse(readFileSync(aslPath(file), 'utf8'));

    expect(aslValidator(raw).errors).toEqual([]);
    expect(aslValidator(loadDefinition({}, machine)).errors).toEqual([]);
  });

  it('writes, on a scan event, the same verdict the admission path computes for the image', async () => {
    const { run, tableName } = await setup();

    const result = await run(scanEvent(VULNERABLE, ['2.0.0']));

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => r.action)).toEqual(['written']);
    const written = result.records[0]?.verdict;
    const admission = createAdmissionService({ policy, tableName, now: () => NOW, warmCacheTtlMs: 0 });
    const decision = await admission.review(podRequest(`${HOST}/team/app@${VULNERABLE}`));
    expect(decision.cacheHits).toBe(1);
    expect(written?.violations.map((v) => [v.code, v.message])).toEqual(
      decision.violations.map((v) => [v.code, v.message]),
    );
    expect(written?.allowed).toBe(false);
  });

  it.each([
    {
      name: 'an Inspector2 Scan whose repository is an ARN',
      input: () =>
        event('inspector2-scan.json', {
          'repository-name': `arn:aws:ecr:${REGION}:${OWN}:repository/team/app`,
          'image-digest': CLEAN,
          'image-tags': ['1.0.0'],
        }),
    },
    {
      name: 'an ECR Image Action PUSH',
      input: () =>
        event('ecr-image-action-push.json', {
          'repository-name': 'team/app',
          'image-digest': CLEAN,
          'image-tag': '1.0.0',
        }),
    },
    {
      name: 'an Inspector2 Finding on the image',
      input: () => {
        const sample = fixture('inspector2-finding.json') as {
          detail: { resources: { details: Record<string, unknown> }[] };
        };
        const [resource] = sample.detail.resources;
        return {
          ...sample,
          account: OWN,
          region: REGION,
          detail: {
            ...sample.detail,
            resources: [
              {
                ...resource,
                region: REGION,
                details: {
                  awsEcrContainerImage: {
                    imageHash: CLEAN,
                    imageTags: ['1.0.0'],
                    registry: OWN,
                    repositoryName: 'team/app',
                  },
                },
              },
            ],
          },
        };
      },
    },
  ])('writes the image on $name', async ({ input }) => {
    const { run, store } = await setup();

    const result = await run(input());

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => [r.action, r.digest])).toEqual([['written', CLEAN]]);
    const found = await store.getMany([
      { registryId: OWN, region: REGION, repositoryName: 'team/app', tag: '1.0.0' },
    ]);
    expect(found.size).toBe(1);
  });

  it('refreshes a cached image index when one of its platform images is rescanned', async () => {
    const { run, tableName } = await setup(() => new Date());
    const index = digest('1');
    const amd = digest('2');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ digest: amd, platform: { os: 'linux', architecture: 'amd64' } }],
    });
    const withChild = (critical: number, scanAt: string): RawSnapshot => {
      const base = snapshot();
      const repo = base.registries[0]?.repositories?.[0];
      repo?.images?.push(
        {
          imageDigest: index,
          imageTags: ['multi'],
          imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
          manifest,
        },
        { imageDigest: amd, scan: scan(scanAt, { CRITICAL: critical }) },
      );
      return base;
    };
    ecr.setSnapshot(withChild(0, '2026-11-20T10:00:00Z'));
    await run(scanEvent(index, ['multi']));
    ecr.setSnapshot(withChild(3, '2026-11-26T10:00:00Z'));

    const result = await run(scanEvent(amd, []));

    expect(result.records.map((r) => [r.action, r.digest])).toEqual([
      ['written', amd],
      ['written', index],
    ]);
    const admission = createAdmissionService({ policy, tableName, warmCacheTtlMs: 0 });
    const decision = await admission.review(podRequest(`${HOST}/team/app:multi`));
    expect(decision.cacheHits).toBe(1);
    expect(decision.violations.map((v) => [v.code, v.platform])).toEqual([
      ['SEVERITY_LIMIT_EXCEEDED', 'linux/amd64'],
    ]);
  });

  it('removes the image on a DELETE after its PUSH, leaving the other images', async () => {
    const { run, store } = await setup();
    await run(scanEvent(CLEAN));
    await run(scanEvent(VULNERABLE, ['2.0.0']));

    const result = await run(
      event('ecr-image-action-delete.json', {
        'repository-name': 'team/app',
        'image-digest': CLEAN,
        'image-tag': '1.0.0',
      }),
    );

    expect(result.records.map((r) => r.action)).toEqual(['deleted']);
    const repo = { registryId: OWN, region: REGION, repositoryName: 'team/app' };
    const found = await store.getMany([
      { ...repo, tag: '1.0.0' },
      { ...repo, digest: CLEAN },
      { ...repo, tag: '2.0.0' },
    ]);
    expect([...found.keys()]).toEqual([lookupKey({ ...repo, tag: '2.0.0' })]);
  });

  it('removes an archived image on its UPDATE_STORAGE_CLASS event, and caches it again once restored', async () => {
    // The store stamps a deletion with the real clock (as in production), so the reads here use it too.
    const { run, store } = await setup(() => new Date());
    const repo = { registryId: OWN, region: REGION, repositoryName: 'team/app' };
    const storageClass = (target: string) =>
      event('documented/ecr-image-action-archive.json', {
        'repository-name': 'team/app',
        'image-digest': CLEAN,
        'target-storage-class': target,
      });
    await run(scanEvent(CLEAN));

    ecr.setSnapshot(snapshot({ cleanStatus: 'ARCHIVED' }));
    const archived = await run(storageClass('ARCHIVE'));
    const whileArchived = await store.getMany([{ ...repo, digest: CLEAN }]);
    // A restored image is scanned again, as a pushed one is (its earlier findings are gone).
    ecr.setSnapshot(snapshot({ cleanScanAt: new Date().toISOString() }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const restored = await run(storageClass('STANDARD'));
    const afterRestore = await store.getMany([{ ...repo, digest: CLEAN }]);

    expect(archived.status).toBe('SUCCEEDED');
    expect(archived.records.map((r) => [r.action, r.reason])).toEqual([['deleted', 'image-not-active']]);
    expect(whileArchived.size).toBe(0);
    expect(restored.records.map((r) => r.action)).toEqual(['written']);
    expect(afterRestore.size).toBe(1);
  });

  it('judges a replica in its own region on its ECR Replication Action', async () => {
    const { run } = await setup();

    const result = await run(
      event('documented/ecr-replication-action.json', {
        'repository-name': 'team/app',
        'image-digest': VULNERABLE,
        'image-tag': '2.0.0',
      }),
    );

    expect(result.records).toEqual([
      expect.objectContaining({
        action: 'written',
        digest: VULNERABLE,
        verdict: expect.objectContaining({ allowed: false }),
      }),
    ]);
  });

  it('changes nothing on a duplicate event', async () => {
    const { run } = await setup();
    await run(scanEvent());

    const again = await run(scanEvent());

    expect(again.records.map((r) => r.action)).toEqual(['unchanged']);
  });

  it('keeps the newer scan when an older one is processed after it', async () => {
    const { tableName, store } = await setup();
    const newer = createRefreshService({
      policy,
      tableName,
      region: REGION,
      ownAccountId: OWN,
      now: () => new Date('2026-11-27T12:00:00Z'),
    });
    const older = createRefreshService({
      policy,
      tableName,
      region: REGION,
      ownAccountId: OWN,
      now: () => new Date('2026-11-27T12:05:00Z'),
    });
    ecr.setSnapshot(snapshot({ cleanScanAt: '2026-11-26T10:00:00Z', cleanCritical: 0 }));
    await runWorkflowLocally(newer, scanEvent(), { retryIntervalMs: 1 });
    // A read that raced an earlier scan's results, finishing later.
    ecr.setSnapshot(snapshot({ cleanScanAt: '2026-11-20T10:00:00Z', cleanCritical: 5 }));

    const late = await runWorkflowLocally(older, scanEvent(), { retryIntervalMs: 1 });

    expect(late.records.map((r) => r.action)).toEqual(['unchanged']);
    const found = await store.getMany([
      { registryId: OWN, region: REGION, repositoryName: 'team/app', digest: CLEAN },
    ]);
    expect([...found.values()][0]?.facts.image.scan?.completedAt).toBe('2026-11-26T10:00:00.000Z');
  });

  it('judges an image again when its rescan FAILED: the earlier compliant verdict does not stay cached', async () => {
    const { run, store } = await setup(() => new Date());
    const first = await run(scanEvent(CLEAN));
    expect(first.records[0]?.verdict?.allowed).toBe(true);
    ecr.setSnapshot(
      snapshot({
        cleanScan: { imageScanStatus: { status: 'FAILED', description: 'UnsupportedImageError' } },
      }),
    );

    const result = await run({
      ...scanEvent(CLEAN),
      detail: { ...scanEvent(CLEAN).detail, 'scan-status': 'FAILED' },
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => [r.action, r.verdict?.allowed])).toEqual([['written', false]]);
    const found = await store.getMany([
      { registryId: OWN, region: REGION, repositoryName: 'team/app', digest: CLEAN },
    ]);
    const entry = [...found.values()][0];
    expect(entry?.facts.image.scan?.status).toBe('FAILED');
    expect(entry?.verdict?.violations.map((v) => v.code)).toEqual(['UNSCANNED']);
  });

  it('ends an Inspector2 Scan of an EC2 instance, a Lambda function or an AMI as a successful no-op', async () => {
    const { run } = await setup();
    for (const name of [
      'inspector2-scan-ec2.json',
      'inspector2-scan-lambda.json',
      'inspector2-scan-ami.json',
    ]) {
      const result = await run(JSON.parse(readFileSync(join(FIXTURES, 'documented', name), 'utf8')));

      expect({ name, status: result.status, records: result.records }).toEqual({
        name,
        status: 'SUCCEEDED',
        records: [],
      });
    }
  });

  it('re-reads every cached image of a repository whose scan frequency changed (ECR Scan Resource Change)', async () => {
    const { run } = await setup(() => new Date());
    await run(scanEvent(CLEAN));
    await run(scanEvent(VULNERABLE, ['2.0.0']));
    const change = JSON.parse(
      readFileSync(join(FIXTURES, 'documented', 'ecr-scan-resource-change.json'), 'utf8'),
    ) as { detail: { repositories: Record<string, string>[] } };
    const [repository] = change.detail.repositories;
    ecr.setSnapshot(snapshot({ scanFrequency: 'MANUAL' }));

    const result = await run({
      ...change,
      account: OWN,
      region: REGION,
      detail: { ...change.detail, repositories: [{ ...repository, 'repository-name': 'team/app' }] },
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => [r.action, r.digest]).sort()).toEqual(
      [
        ['written', CLEAN],
        ['written', VULNERABLE],
      ].sort(),
    );
    expect(result.records.map((r) => r.verdict?.violations.map((v) => v.code))).toEqual([
      expect.arrayContaining(['SCAN_ON_PUSH_DISABLED']),
      expect.arrayContaining(['SCAN_ON_PUSH_DISABLED']),
    ]);
  });

  it('re-reads every cached image of a repository whose tag mutability changed', async () => {
    const { run, store } = await setup(() => new Date());
    await run(scanEvent(CLEAN));
    await run(scanEvent(VULNERABLE, ['2.0.0']));
    ecr.setSnapshot(snapshot({ mutability: 'MUTABLE' }));

    const result = await run(
      cloudTrail('PutImageTagMutability', { repositoryName: 'team/app', imageTagMutability: 'MUTABLE' }),
    );

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => r.digest).sort()).toEqual([CLEAN, VULNERABLE]);
    expect(result.records.every((r) => r.action === 'written')).toBe(true);
    const found = await store.getMany([
      { registryId: OWN, region: REGION, repositoryName: 'team/app', tag: '1.0.0' },
    ]);
    expect([...found.values()][0]?.facts.repository.imageTagMutability).toBe('MUTABLE');
  });

  it('re-reads every cached image of the registry when its scanning configuration changed', async () => {
    const { run } = await setup(() => new Date());
    await run(scanEvent(CLEAN));

    const result = await run(cloudTrail('PutRegistryScanningConfiguration', { scanType: 'ENHANCED' }));

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => r.digest)).toEqual([CLEAN]);
  });

  it('removes every entry of a deleted repository', async () => {
    const { run, store } = await setup();
    await run(scanEvent(CLEAN));
    await run(scanEvent(VULNERABLE, ['2.0.0']));

    const result = await run(cloudTrail('DeleteRepository', { repositoryName: 'team/app', force: true }));

    expect(result.records.map((r) => r.action)).toEqual(['deleted', 'deleted']);
    const page = await store.listImages({});
    expect(page.entries).toEqual([]);
  });

  it('reconciles on schedule: finds the images events missed, leaving fresh entries alone', async () => {
    const { run } = await setup(() => new Date());
    await run(scanEvent(CLEAN));
    ecr.reset();

    const result = await run({
      version: '0',
      id: 'sched-1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: OWN,
      time: '2026-11-27T12:00:00Z',
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${OWN}:rule/ecr-admission-reconcile`],
      detail: {},
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => r.digest).sort()).toEqual([VULNERABLE, UNTRACKED]);
  });

  it("reconciles on schedule the cached entries close to expiry, another account's images included", async () => {
    const tableName = `refresh-${++tables}`;
    await createDecisionTable(dynamo.client(), tableName);
    // Entries live an hour here, inside the day-long refresh window: every one is close to expiry.
    const service = createRefreshService({
      policy,
      tableName,
      region: REGION,
      ownAccountId: OWN,
      cacheTtlSeconds: 3600,
    });
    const other = (critical: number): RawSnapshot => {
      const base = snapshot();
      base.registries.push({
        registryId: '444455556666',
        region: 'eu-west-1',
        repositories: [
          {
            repository: {
              repositoryName: 'shared/base',
              registryId: '444455556666',
              imageTagMutability: 'IMMUTABLE',
            },
            images: [
              {
                imageDigest: digest('9'),
                imageTags: ['12'],
                scan: scan('2026-11-20T10:00:00Z', { CRITICAL: critical }),
              },
            ],
          },
        ],
      });
      return base;
    };
    ecr.setSnapshot(other(0));
    const cached = await runWorkflowLocally(
      service,
      {
        ...scanEvent(digest('9'), ['12']),
        account: '444455556666',
        region: 'eu-west-1',
        detail: {
          ...scanEvent().detail,
          'repository-name': 'shared/base',
          'image-digest': digest('9'),
          'image-tags': ['12'],
        },
      },
      { retryIntervalMs: 1 },
    );
    expect(cached.records.map((r) => r.action)).toEqual(['written']);
    ecr.setSnapshot(other(4));

    const result = await runWorkflowLocally(
      service,
      {
        version: '0',
        id: 'sched-3',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: OWN,
        time: '2026-11-27T12:00:00Z',
        region: REGION,
        resources: [],
        detail: {},
      },
      { retryIntervalMs: 1 },
    );

    const refreshed = result.records.find((r) => r.digest === digest('9'));
    expect(refreshed).toMatchObject({
      action: 'written',
      registryId: '444455556666',
      verdict: { allowed: false },
    });
  });

  it('reconciles page by page: a repository with more images than a page, and more repositories', async () => {
    const { service } = await setup(() => new Date());
    const many = snapshot();
    const registry = many.registries[0];
    const first = registry?.repositories?.[0];
    for (let i = 0; i < 230; i++) {
      first?.images?.push({
        imageDigest: `sha256:${(1000 + i).toString(16).padStart(64, '0')}`,
        imageTags: [`v${i}`],
        scan: scan('2026-11-20T10:00:00Z', {}),
      });
    }
    registry?.repositories?.push({
      repository: { repositoryName: 'team/other', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
      scanningConfiguration: {
        repositoryName: 'team/other',
        scanOnPush: true,
        scanFrequency: 'SCAN_ON_PUSH',
      },
      images: [{ imageDigest: digest('f'), imageTags: ['1'], scan: scan('2026-11-20T10:00:00Z', {}) }],
    });
    ecr.setSnapshot(many);
    const pages: number[] = [];
    let request: Parameters<typeof service.listTargets>[0] | undefined = {
      source: 'registry',
      scope: { region: REGION, registryId: OWN },
      eventTime: '2026-11-27T12:00:00Z',
      eventId: 'sched-2',
    };

    while (request) {
      const page = await service.listTargets(request);
      pages.push(page.targets.length);
      request = page.next;
    }

    expect(pages).toEqual([100, 100, 33, 1]);
  });

  it('re-judges cached images from their facts when the policy changes, with no ECR call', async () => {
    const { tableName, run } = await setup();
    await run(scanEvent(VULNERABLE, ['2.0.0']));
    ecr.reset();
    const relaxed = createRefreshService({
      policy: parsePolicy({ rules: { maxSeverityCounts: { CRITICAL: 5 } } }),
      tableName,
      region: REGION,
      ownAccountId: OWN,
      now: () => NOW,
    });

    const result = await runWorkflowLocally(relaxed, {
      version: '0',
      id: 'policy-1',
      'detail-type': 'Policy Changed',
      source: 'ecr-admission',
      account: OWN,
      time: '2026-11-27T12:00:00Z',
      region: REGION,
      resources: [],
      detail: { policyHash: 'x' },
    });

    expect(result.records.map((r) => [r.action, r.verdict?.allowed])).toEqual([['rejudged', true]]);
    expect(ecr.totalEcrCalls()).toBe(0);
  });

  it('retries ECR throttling and then writes', async () => {
    const { run } = await setup();
    ecr.faults = { throttle: 4 };

    const result = await run(scanEvent());

    expect(result.records.map((r) => r.action)).toEqual(['written']);
  });

  it('records a persistent failure and caches nothing for it', async () => {
    const { run, store } = await setup();
    ecr.faults = { deny: () => true };

    const result = await run(scanEvent());

    expect(result.status).toBe('SUCCEEDED');
    expect(result.records.map((r) => [r.action, r.reason])).toEqual([['failed', 'FactsUnavailableError']]);
    expect((await store.listImages({})).entries).toEqual([]);
  });

  it.each([
    {
      name: "AWS's documentation sample, whose digest is a placeholder",
      input: () => fixture('ecr-image-scan.json'),
    },
    {
      name: 'an event of an unknown type',
      input: () => ({ ...scanEvent(), 'detail-type': 'ECR Replication Action' }),
    },
    { name: 'something that is not an event', input: () => [1, 2, 3] },
  ])('refuses $name and writes nothing', async ({ input }) => {
    const { run, store } = await setup();

    const result = await run(input());

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidEvent');
    expect(result.refusal).toEqual(expect.any(String));
    expect(result.records).toEqual([]);
    expect((await store.listImages({})).entries).toEqual([]);
  });
});
