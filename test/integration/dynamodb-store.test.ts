/**
 * The DynamoDB decision cache against DynamoDB Local, with a counting proxy in front of it.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { lookupKey, scanTime } from '../../src/domain/decision-store';
import type { Facts } from '../../src/domain/facts';
import {
  type CountingProxy,
  createDecisionTable,
  type DynamoLocal,
  startCountingProxy,
  startDynamoLocal,
  TEST_CREDENTIALS,
} from '../helpers/dynamodb-local';

jest.setTimeout(60_000);

const REPO = { registryId: '111122223333', region: 'us-east-1', repositoryName: 'team/app' };

function digestOf(n: number): string {
  return `sha256:${n.toString(16).padStart(64, '0')}`;
}

function facts(
  overrides: {
    digest?: string;
    tags?: string[];
    scanAt?: string;
    gatheredAt?: string;
    pushedAt?: string;
    critical?: number;
  } = {},
): Facts {
  return {
    repository: {
      ...REPO,
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
      repositoryScanning: { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
    },
    image: {
      digest: overrides.digest ?? digestOf(1),
      tags: overrides.tags ?? ['1.0.0'],
      pushedAt: overrides.pushedAt ?? '2026-11-20T09:00:00.000Z',
      scan: {
        status: 'COMPLETE',
        completedAt: overrides.scanAt ?? '2026-11-20T10:00:00.000Z',
        severityCounts: { CRITICAL: overrides.critical ?? 0 },
        findings: [],
      },
    },
    gatheredAt: overrides.gatheredAt ?? '2026-11-20T10:01:00.000Z',
  };
}

describe('DynamoDecisionStore against DynamoDB Local', () => {
  let dynamo: DynamoLocal;
  let proxy: CountingProxy;
  let client: DynamoDBClient;
  let tableCount = 0;

  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    proxy = await startCountingProxy(dynamo.endpoint);
    client = new DynamoDBClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
    await dynamo?.stop();
  });
  afterEach(() => {
    proxy.transform = undefined;
    proxy.down = false;
  });

  async function newStore(now = () => Date.parse('2026-11-27T12:00:00Z')): Promise<DynamoDecisionStore> {
    const tableName = `decisions-${++tableCount}`;
    await createDecisionTable(dynamo.client(), tableName);
    return new DynamoDecisionStore({ tableName, client, now });
  }

  it('answers a reference by tag and by digest from the same single BatchGetItem', async () => {
    const store = await newStore();
    await store.put({ facts: facts({ tags: ['1.0.0', 'stable'] }) });
    proxy.reset();

    const found = await store.getMany([
      { ...REPO, tag: '1.0.0' },
      { ...REPO, tag: 'stable' },
      { ...REPO, digest: digestOf(1) },
    ]);

    expect(found.size).toBe(3);
    expect(found.get(lookupKey({ ...REPO, tag: 'stable' }))?.facts.image.digest).toBe(digestOf(1));
    expect(proxy.calls.get('BatchGetItem')).toBe(1);
    expect(proxy.total()).toBe(1);
  });

  it('reads more than 100 keys in chunks of 100 and finds every one', async () => {
    const store = await newStore();
    await Promise.all(
      Array.from({ length: 230 }, (_, i) =>
        store.put({ facts: facts({ digest: digestOf(i + 1), tags: [] }) }),
      ),
    );
    proxy.reset();

    const found = await store.getMany(
      Array.from({ length: 230 }, (_, i) => ({ ...REPO, digest: digestOf(i + 1) })),
    );

    expect(found.size).toBe(230);
    expect(proxy.calls.get('BatchGetItem')).toBe(3);
  });

  it('retries keys that DynamoDB leaves unprocessed until every one is read', async () => {
    const store = await newStore();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.put({ facts: facts({ digest: digestOf(i + 1), tags: [] }) }),
      ),
    );
    let first = true;
    proxy.transform = (operation, body) => {
      if (operation !== 'BatchGetItem' || !first) return body;
      first = false;
      // Hand back only half of the items and leave the other half unprocessed, as DynamoDB may.
      const responses = body.Responses as Record<string, Record<string, unknown>[]>;
      const [table] = Object.keys(responses);
      const items = responses[table as string] ?? [];
      const kept = items.slice(0, 5);
      const left = items.slice(5).map((item) => ({ pk: item.pk }));
      return {
        Responses: { [table as string]: kept },
        UnprocessedKeys: { [table as string]: { Keys: left } },
      };
    };
    proxy.reset();

    const found = await store.getMany(
      Array.from({ length: 10 }, (_, i) => ({ ...REPO, digest: digestOf(i + 1) })),
    );

    expect(found.size).toBe(10);
    expect(proxy.calls.get('BatchGetItem')).toBe(2);
  });

  const LATER = '2026-11-27T11:00:00.000Z';

  it.each([
    {
      name: 'an older scan read after a newer one does not replace it',
      first: { scanAt: '2026-11-21T10:00:00.000Z', critical: 0 },
      second: { scanAt: '2026-11-20T10:00:00.000Z', critical: 3, gatheredAt: LATER },
      kept: 0,
    },
    {
      name: 'a newer scan replaces an older one',
      first: { scanAt: '2026-11-20T10:00:00.000Z', critical: 3 },
      second: { scanAt: '2026-11-21T10:00:00.000Z', critical: 0, gatheredAt: LATER },
      kept: 0,
    },
    {
      name: 'facts read later for the same scan replace those read earlier',
      first: { gatheredAt: '2026-11-21T10:00:00.000Z', critical: 3 },
      second: { gatheredAt: '2026-11-21T11:00:00.000Z', critical: 1 },
      kept: 1,
    },
    {
      name: 'facts read earlier never replace those read later',
      first: { gatheredAt: '2026-11-21T11:00:00.000Z', critical: 1 },
      second: { gatheredAt: '2026-11-21T10:00:00.000Z', critical: 3 },
      kept: 1,
    },
    {
      name: 'a duplicate write changes nothing',
      first: { critical: 2 },
      second: { critical: 2, gatheredAt: LATER },
      kept: 2,
    },
  ])('$name', async ({ first, second, kept }) => {
    const store = await newStore();
    await store.put({ facts: facts(first) });
    const outcome = await store.put({ facts: facts(second) });

    const found = await store.getMany([
      { ...REPO, digest: digestOf(1) },
      { ...REPO, tag: '1.0.0' },
    ]);

    for (const entry of found.values()) expect(entry.facts.image.scan?.severityCounts.CRITICAL).toBe(kept);
    expect(found.size).toBe(2);
    expect(outcome.written.length > 0).toBe(kept === second.critical && kept !== first.critical);
  });

  it('replaces a completed scan with a newer read that shows none (a scan that failed or expired)', async () => {
    const store = await newStore();
    await store.put({ facts: facts() });
    const later = facts({ gatheredAt: LATER });
    const expired: Facts = {
      ...later,
      image: {
        ...later.image,
        scan: { status: 'SCAN_ELIGIBILITY_EXPIRED', severityCounts: {}, findings: [] },
      },
    };

    await store.put({ facts: expired });
    const found = await store.getMany([{ ...REPO, tag: '1.0.0' }]);

    expect([...found.values()][0]?.facts.image.scan?.status).toBe('SCAN_ELIGIBILITY_EXPIRED');
  });

  it('moves a tag to the image pushed later, even when that image is not scanned yet', async () => {
    const store = await newStore();
    await store.put({
      facts: facts({ digest: digestOf(1), tags: ['latest'], pushedAt: '2026-11-20T09:00:00.000Z' }),
    });
    const newer = facts({
      digest: digestOf(2),
      tags: ['latest'],
      pushedAt: '2026-11-22T09:00:00.000Z',
      gatheredAt: LATER,
    });
    const unscanned: Facts = { ...newer, image: { ...newer.image, scan: undefined } };
    await store.put({ facts: unscanned });

    const found = await store.getMany([{ ...REPO, tag: 'latest' }]);

    expect(found.get(lookupKey({ ...REPO, tag: 'latest' }))?.facts.image.digest).toBe(digestOf(2));
  });

  it("moves a tag back to an older image it is re-tagged to (ECR keeps that image's push time)", async () => {
    const store = await newStore();
    await store.put({
      facts: facts({ digest: digestOf(2), tags: ['prod'], pushedAt: '2026-11-10T00:00:00.000Z' }),
    });

    await store.put({
      facts: facts({
        digest: digestOf(1),
        tags: ['prod'],
        pushedAt: '2026-11-01T00:00:00.000Z',
        gatheredAt: LATER,
      }),
    });
    const found = await store.getMany([{ ...REPO, tag: 'prod' }]);

    expect(found.get(lookupKey({ ...REPO, tag: 'prod' }))?.facts.image.digest).toBe(digestOf(1));
  });

  it('writes the TTL attribute and answers an expired entry as a miss even before DynamoDB removes it', async () => {
    let now = Date.parse('2026-11-27T12:00:00Z');
    const tableName = `decisions-${++tableCount}`;
    await createDecisionTable(dynamo.client(), tableName);
    const store = new DynamoDecisionStore({ tableName, client, ttlSeconds: 3600, now: () => now });
    await store.put({ facts: facts() });
    const item = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: lookupKey({ ...REPO, digest: digestOf(1) }) } },
      }),
    );
    expect(Number(item.Item?.expiresAt?.N)).toBe(Math.floor(now / 1000) + 3600);
    expect(item.Item?.scanAt?.S).toBe(scanTime(facts()));
    expect(item.Item?.gatheredAt?.S).toBe(facts().gatheredAt);

    now += 3601 * 1000;
    const found = await store.getMany([{ ...REPO, digest: digestOf(1) }]);

    expect(found.size).toBe(0);
  });

  it('deletes the entries of a deleted image, leaving a tag that has moved to another image', async () => {
    const store = await newStore();
    await store.put({ facts: facts({ digest: digestOf(1), tags: ['1.0.0', 'latest'] }) });
    await store.put({
      facts: facts({
        digest: digestOf(2),
        tags: ['latest'],
        pushedAt: '2026-11-23T00:00:00.000Z',
        gatheredAt: LATER,
      }),
    });

    const removed = await store.deleteImage(REPO, digestOf(1), []);
    const found = await store.getMany([
      { ...REPO, digest: digestOf(1) },
      { ...REPO, tag: '1.0.0' },
      { ...REPO, tag: 'latest' },
    ]);

    expect([...found.keys()]).toEqual([lookupKey({ ...REPO, tag: 'latest' })]);
    expect(removed.sort()).toEqual(
      [lookupKey({ ...REPO, digest: digestOf(1) }), lookupKey({ ...REPO, tag: '1.0.0' })].sort(),
    );
  });

  it('keeps a deleted image deleted: a refresh that read ECR before the DELETE but writes after it restores nothing', async () => {
    // Prepare: cached; a PUSH refresh read ECR at 11:59; the DELETE refresh runs at 12:00.
    const store = await newStore(() => Date.parse('2026-11-27T12:00:00Z'));
    await store.put({ facts: facts({ tags: ['1.0.0'], gatheredAt: '2026-11-27T11:00:00.000Z' }) });
    const readBeforeDelete = facts({ tags: ['1.0.0'], gatheredAt: '2026-11-27T11:59:00.000Z', critical: 1 });

    // Act
    const removed = await store.deleteImage(REPO, digestOf(1), []);
    const late = await store.put({ facts: readBeforeDelete });
    const afterLate = await store.getMany([
      { ...REPO, digest: digestOf(1) },
      { ...REPO, tag: '1.0.0' },
    ]);
    const listed = await store.listImages({});
    const repushed = await store.put({
      facts: facts({ tags: ['1.0.0'], gatheredAt: '2026-11-27T12:05:00.000Z' }),
    });
    const afterRepush = await store.getMany([{ ...REPO, digest: digestOf(1) }]);

    // Assess
    expect(removed).toHaveLength(2);
    expect(late.written).toEqual([]);
    expect(afterLate.size).toBe(0);
    expect(listed.entries).toEqual([]);
    expect(repushed.written).toHaveLength(2);
    expect(afterRepush.size).toBe(1);
  });

  it('reports an unreachable DynamoDB as StoreUnavailableError, not as a miss', async () => {
    proxy.down = true;
    const unreachable = new DynamoDecisionStore({
      tableName: 'decisions-1',
      client: new DynamoDBClient({
        endpoint: proxy.endpoint,
        region: 'us-east-1',
        credentials: TEST_CREDENTIALS,
        maxAttempts: 1,
      }),
    });

    await expect(unreachable.getMany([{ ...REPO, tag: '1.0.0' }])).rejects.toThrow('could not be read');
  });
});
