/**
 * The refresh workflow's Lambda handlers: configuration at cold start, and idempotency with
 * Powertools against DynamoDB Local, so a redelivered event does no work twice.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';
import { coldStart, lambdaContext } from '../helpers/lambda';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';

jest.setTimeout(60_000);

const OWN = '111122223333';
const DIGEST = `sha256:${'e'.repeat(64)}`;
const SNAPSHOT: RawSnapshot = {
  registries: [
    {
      registryId: OWN,
      region: 'us-east-1',
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
              imageTags: ['1.0.0'],
              scan: {
                imageScanStatus: { status: 'COMPLETE' },
                imageScanFindings: {
                  findingSeverityCounts: {},
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

type Handlers = typeof import('../../src/handlers/refresh');

describe('the refresh Lambda handlers', () => {
  let dynamo: DynamoLocal;
  let ecr: LocalEcr;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
    await createDecisionTable(dynamo.client(), 'decisions');
    await dynamo.client().send(
      new CreateTableCommand({
        TableName: 'idempotency',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
    await dynamo?.stop();
  });

  const load = (env: Record<string, string | undefined>): Handlers =>
    coldStart(() => require('../../src/handlers/refresh'), env);

  it('does the work of a redelivered refresh only once', async () => {
    const handlers = load({
      TABLE_NAME: 'decisions',
      IDEMPOTENCY_TABLE_NAME: 'idempotency',
      OWN_ACCOUNT_ID: OWN,
    });
    const target = {
      registryId: OWN,
      region: 'us-east-1',
      repositoryName: 'team/api',
      digest: DIGEST,
      tags: ['1.0.0'],
      eventTime: '2026-11-20T10:00:05Z',
      eventId: '13cde686-328b-6117-af20-0e5566167482',
    };
    const context = lambdaContext();
    const first = await handlers.refresh(target, context);
    ecr.reset();

    const second = await handlers.refresh(target, context);

    expect(first.map((r) => r.action)).toEqual(['written']);
    expect(second).toEqual(first);
    expect(ecr.totalEcrCalls()).toBe(0);

    // Another event about the same image in the same second (its scan, after its push) is work to do.
    await handlers.refresh({ ...target, eventId: '85fc3613-e913-7fc4-a80c-a3753e4aa9ae' }, context);
    expect(ecr.totalEcrCalls()).toBeGreaterThan(0);
  });

  it('hands the state machine a count and the cursor from Rejudge, never the records (its payload limit)', async () => {
    const handlers = load({ TABLE_NAME: 'decisions', OWN_ACCOUNT_ID: OWN });

    const page = await handlers.rejudge({}, lambdaContext());

    expect(page).toEqual({ rejudged: expect.any(Number) });
  });

  it('refuses an unknown event with an error whose name the state machine catches', async () => {
    const handlers = load({ TABLE_NAME: 'decisions' });

    await expect(
      handlers.plan({ source: 'aws.ecr', 'detail-type': 'Nope' }, lambdaContext()),
    ).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: 'unknown event: source "aws.ecr", detail-type "Nope"',
    });
  });

  it.each([
    { name: 'a missing table name', env: { TABLE_NAME: undefined }, message: 'TABLE_NAME' },
    {
      name: 'an invalid policy',
      env: { TABLE_NAME: 't', POLICY: '{"rules":{"unscanned":"maybe"}}' },
      message: 'rules.unscanned',
    },
    { name: 'a bad account id', env: { TABLE_NAME: 't', OWN_ACCOUNT_ID: '42' }, message: 'OWN_ACCOUNT_ID' },
  ])('fails the cold start on $name, naming it', ({ env, message }) => {
    expect(() => load(env)).toThrow(message);
  });
});
