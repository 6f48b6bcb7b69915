/**
 * End to end, offline, as a newcomer would run it: `refresh` on a scan event writes the image's facts to
 * the cache in DynamoDB Local; `review --table` of a Pod using the image by tag then answers from the
 * cache with zero ECR calls, counted at the local ECR endpoint.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuiltCli, runCli } from '../helpers/cli';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';

jest.setTimeout(60_000);

const OWN = '111122223333';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const SNAPSHOT: RawSnapshot = {
  registries: [
    {
      registryId: OWN,
      region: 'us-east-1',
      scanningConfiguration: { scanType: 'BASIC', rules: [] },
      repositories: [
        {
          repository: { repositoryName: 'team/api', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
          scanningConfiguration: {
            repositoryName: 'team/api',
            scanOnPush: true,
            scanFrequency: 'SCAN_ON_PUSH',
          },
          images: [
            {
              imageDigest: DIGEST,
              imageTags: ['1.4.2'],
              imagePushedAt: '2026-11-20T09:00:00Z',
              scan: {
                imageScanStatus: { status: 'COMPLETE' },
                imageScanFindings: {
                  findingSeverityCounts: { CRITICAL: 1 },
                  imageScanCompletedAt: '2026-11-20T10:00:00Z',
                },
              },
            },
          ],
        },
      ],
    },
  ],
};

describe('refresh, then review from the cache', () => {
  let dynamo: DynamoLocal;
  let ecr: LocalEcr;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'ecr-admission-e2e-'));

  beforeAll(async () => {
    requireBuiltCli();
    dynamo = await startDynamoLocal();
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
    await createDecisionTable(dynamo.client(), 'decisions');
    env = {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    };
  });
  afterAll(async () => {
    await ecr?.close();
    await dynamo?.stop();
  });

  it('answers the admission from the cache the refresh wrote, with no ECR call', async () => {
    const event = join(dir, 'scan.json');
    writeFileSync(
      event,
      JSON.stringify({
        version: '0',
        id: '85fc3613-e913-7fc4-a80c-a3753e4aa9ae',
        'detail-type': 'ECR Image Scan',
        source: 'aws.ecr',
        account: OWN,
        time: '2026-11-20T10:00:05Z',
        region: 'us-east-1',
        resources: [`arn:aws:ecr:us-east-1:${OWN}:repository/team/api`],
        detail: {
          'scan-status': 'COMPLETE',
          'repository-name': 'team/api',
          'finding-severity-counts': { CRITICAL: 1 },
          'image-digest': DIGEST,
          'image-tags': ['1.4.2'],
        },
      }),
    );

    const refreshed = await runCli(['refresh', '--event', event, '--table', 'decisions'], { env });

    expect(refreshed.stderr).toBe('');
    expect(refreshed.code).toBe(0);
    const records = JSON.parse(refreshed.stdout);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'written', digest: DIGEST, verdict: { allowed: false } });

    ecr.reset();
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'e2e-1',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace: 'shop',
        operation: 'CREATE',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'api' },
          spec: {
            containers: [{ name: 'api', image: `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/api:1.4.2` }],
          },
        },
      },
    };
    const answered = await runCli(['review', '--table', 'decisions'], { env, stdin: JSON.stringify(review) });

    expect(answered.code).toBe(0);
    const response = JSON.parse(answered.stdout).response;
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain('[SEVERITY_LIMIT_EXCEEDED]');
    expect(response.auditAnnotations.cache).toBe('hit=1,miss=0');
    expect(ecr.totalEcrCalls()).toBe(0);
  });

  it('refuses an invalid event with a one-line error naming the file, and writes nothing', async () => {
    const event = join(dir, 'bad.json');
    writeFileSync(event, JSON.stringify({ source: 'aws.ecr', 'detail-type': 'ECR Image Scan', detail: {} }));

    const result = await runCli(['refresh', '--event', event, '--table', 'decisions'], { env });

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`${event}: invalid ECR Image Scan event`);
  });
});
