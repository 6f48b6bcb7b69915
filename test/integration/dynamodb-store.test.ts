/**
 * The DynamoDB decision cache against DynamoDB Local, with a counting proxy in front of it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  COMPRESS_ABOVE_BYTES,
  DynamoDecisionStore,
  FACTS_LAYOUT,
  itemBytes,
} from '../../src/adapters/dynamodb-store';
import { factsContent, lookupKey, scanTime } from '../../src/domain/decision-store';
import { EntryTooLargeError } from '../../src/domain/errors';
import type { Finding } from '../../src/domain/facts';
import { expectStoreFollows } from '../cases/replacement';
import { digestOf, facts, REPLACEMENT_CASES, REPO } from '../cases/replacement-cases';
import {
  type CountedDynamo,
  type CountingProxy,
  createDecisionTable,
  type DynamoLocal,
  startCountedDynamo,
  TEST_CREDENTIALS,
} from '../helpers/dynamodb-local';
import { manyFindings } from '../helpers/many-findings';

jest.setTimeout(60_000);

const LATER = '2026-11-27T11:00:00.000Z';

describe('DynamoDecisionStore against DynamoDB Local', () => {
  let local: CountedDynamo | undefined;
  let dynamo: DynamoLocal;
  let proxy: CountingProxy;
  let client: DynamoDBClient;
  let tableCount = 0;

  beforeAll(async () => {
    local = await startCountedDynamo();
    ({ dynamo, proxy, client } = local);
  });
  afterAll(() => local?.stop());
  afterEach(() => {
    proxy.transform = undefined;
    proxy.down = false;
  });

  async function newStore(now = () => Date.now()): Promise<DynamoDecisionStore> {
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

  // The same table as the pure rule and the in-process store (test/unit/decision-store.test.ts).
  it.each(REPLACEMENT_CASES)('follows the replacement rule: $name', async (c) => {
    await expectStoreFollows(await newStore(), c);
  });

  it('writes the TTL attribute and answers an expired entry as a miss even before DynamoDB removes it', async () => {
    // The store's clock runs ahead of DynamoDB Local's, whose TTL sweep deletes items whose expiresAt
    // has passed by the real clock: the entry must expire for the store before it does for the sweep.
    let now = Date.now();
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

  it('answers an item of an older facts layout as a miss, and a later read replaces it', async () => {
    const store = await newStore();
    await store.put({ facts: facts() });
    const tableName = `decisions-${tableCount}`;
    const key = { pk: { S: lookupKey({ ...REPO, digest: digestOf(1) }) } };
    const written = await client.send(new GetItemCommand({ TableName: tableName, Key: key }));
    expect(JSON.parse(written.Item?.facts?.S ?? '{}').layout).toBe(FACTS_LAYOUT);
    // What the previous layout wrote: the facts without a layout, fingerprinted without one.
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET facts = :facts, fingerprint = :fingerprint',
        ExpressionAttributeValues: {
          ':facts': { S: JSON.stringify(facts()) },
          ':fingerprint': { S: createHash('sha256').update(factsContent(facts())).digest('base64url') },
        },
      }),
    );

    const missed = await store.getMany([{ ...REPO, digest: digestOf(1) }]);
    await store.put({ facts: facts({ gatheredAt: LATER }) });
    const found = await store.getMany([{ ...REPO, digest: digestOf(1) }]);

    expect(missed.size).toBe(0);
    expect(found.get(lookupKey({ ...REPO, digest: digestOf(1) }))?.facts).toEqual(
      facts({ gatheredAt: LATER }),
    );
  });

  it('decodes an entry read again only when it has changed: the same facts come back as the same object', async () => {
    const store = await newStore();
    const digest = { ...REPO, digest: digestOf(1) };
    const key = lookupKey(digest);
    await store.put({ facts: facts({ tags: ['1.0.0'] }) });

    const first = (await store.getMany([digest, { ...REPO, tag: '1.0.0' }])).get(key);
    const again = await store.getMany([digest, { ...REPO, tag: '1.0.0' }]);
    proxy.reset();
    await store.updateVerdict(
      { facts: facts({ tags: ['1.0.0'] }) },
      { violations: [], policyHash: 'p', judgedAt: LATER },
    );
    const judged = (await store.getMany([digest])).get(key);
    await store.put({ facts: facts({ tags: ['1.0.0'], critical: 2, gatheredAt: LATER }) });
    const newer = (await store.getMany([digest])).get(key);

    // Every read went to the table; the tag's entry and the digest's hold the same facts, decoded once.
    expect(proxy.calls.get('BatchGetItem')).toBe(2);
    expect(again.get(key)?.facts).toBe(first?.facts);
    expect(again.get(lookupKey({ ...REPO, tag: '1.0.0' }))?.facts).toBe(first?.facts);
    expect(judged?.facts).toBe(first?.facts);
    expect(judged?.verdict).toEqual({ violations: [], policyHash: 'p', judgedAt: LATER });
    expect(newer?.facts).not.toBe(first?.facts);
    expect(newer?.facts.image.scan?.severityCounts).toEqual({ CRITICAL: 2 });
  });

  it('remembers decoded entries within its bound, the oldest out first, and never one larger than the bound', async () => {
    const tableName = `decisions-${++tableCount}`;
    await createDecisionTable(dynamo.client(), tableName);
    const writer = new DynamoDecisionStore({ tableName, client });
    const one = facts({ digest: digestOf(1), tags: [] });
    const bytes = JSON.stringify({ ...one, layout: FACTS_LAYOUT }).length;
    // Room for two entries of this size, not three.
    const store = new DynamoDecisionStore({ tableName, client, decodedMaxBytes: 2 * bytes + bytes / 2 });
    const at = (n: number) => ({ ...REPO, digest: digestOf(n) });
    const read = async (n: number) => (await store.getMany([at(n)])).get(lookupKey(at(n)))?.facts;
    for (const n of [1, 2, 3]) await writer.put({ facts: facts({ digest: digestOf(n), tags: [] }) });
    const big = facts({ digest: digestOf(4), tags: [], findings: manyFindings(200) });
    await writer.put({ facts: big });

    const first = await read(1);
    const second = await read(2);
    expect(await read(1)).toBe(first);
    await read(3);
    // The third pushed the oldest out: read again, the first is decoded again; the second stayed.
    expect(await read(2)).toBe(second);
    expect(await read(1)).not.toBe(first);
    // An entry larger than the bound is answered, and pushes nothing out.
    const third = await read(3);
    expect((await read(4))?.image.scan?.findings).toHaveLength(200);
    expect(await read(3)).toBe(third);
  });

  describe('an image with very many findings', () => {
    const scanOf = (findings: Finding[]) => ({
      status: 'ACTIVE',
      completedAt: '2026-11-20T10:00:00.000Z',
      severityCounts: {},
      findings,
    });

    it('caches 20,000 findings compressed and answers them with one read', async () => {
      const store = await newStore();
      const big = facts();
      const entry = { ...big, image: { ...big.image, scan: scanOf(manyFindings(20_000)) } };

      await store.put({ facts: entry });
      proxy.reset();
      const found = await store.getMany([
        { ...REPO, digest: digestOf(1) },
        { ...REPO, tag: '1.0.0' },
      ]);

      expect(found.get(lookupKey({ ...REPO, digest: digestOf(1) }))?.facts).toEqual(entry);
      expect(found.get(lookupKey({ ...REPO, tag: '1.0.0' }))?.facts.image.scan?.findings).toHaveLength(
        20_000,
      );
      expect(proxy.calls.get('BatchGetItem')).toBe(1);
    });

    it('caches an index of 4 platforms with 5,000 findings each', async () => {
      const store = await newStore();
      const big = facts();
      const platforms = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/s390x'].map((platform, p) => ({
        platform,
        digest: digestOf(100 + p),
        found: true,
        scan: scanOf(manyFindings(5_000, (i) => `CVE-2026-${p}${10_000 + i}`)),
      }));
      const entry = { ...big, image: { ...big.image, scan: undefined, platforms } };
      delete (entry.image as { scan?: unknown }).scan;

      await store.put({ facts: entry });
      const found = await store.getMany([{ ...REPO, digest: digestOf(1) }]);

      expect(found.get(lookupKey({ ...REPO, digest: digestOf(1) }))?.facts).toEqual(entry);
    });

    it('refuses facts that do not fit one item even compressed with a permanent error, and drops the older entry', async () => {
      const store = await newStore();
      await store.put({ facts: facts() });
      const big = facts({ gatheredAt: LATER });
      // Ids with no pattern to compress: 30,000 random 32-character ids.
      const random = manyFindings(30_000, () => `GHSA-${randomBytes(16).toString('hex')}`);
      const entry = { ...big, image: { ...big.image, scan: scanOf(random) } };
      proxy.reset();

      const attempt = store.put({ facts: entry });

      await expect(attempt).rejects.toBeInstanceOf(EntryTooLargeError);
      await expect(attempt).rejects.toThrow(/more than DynamoDB's 409600-byte item limit: not cached/);
      // Only tombstones are written: the smaller, older facts no longer answer for the image.
      expect(
        await store.getMany([
          { ...REPO, digest: digestOf(1) },
          { ...REPO, tag: '1.0.0' },
        ]),
      ).toEqual(new Map());
    });

    it('stores ordinary facts as plain text', async () => {
      const store = await newStore();
      await store.put({ facts: facts() });
      const item = await client.send(
        new GetItemCommand({
          TableName: `decisions-${tableCount}`,
          Key: { pk: { S: lookupKey({ ...REPO, digest: digestOf(1) }) } },
        }),
      );
      expect(item.Item?.facts?.S).toBeDefined();
      expect(itemBytes(item.Item ?? {})).toBeLessThan(COMPRESS_ABOVE_BYTES);
    });
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

  it('claims a preparation once until it is released, and a released claim expires now, for the TTL to delete', async () => {
    const store = await newStore();
    const key = `import#${lookupKey({ ...REPO, tag: '1.27' })}`;
    await expect(store.claim(key, 1800)).resolves.toBe(true);
    await expect(store.claim(key, 1800)).resolves.toBe(false);
    await store.release(key);
    const item = await client.send(
      new GetItemCommand({
        TableName: `decisions-${tableCount}`,
        Key: { pk: { S: `claim#${key}` } },
      }),
    );
    // DynamoDB's TTL leaves alone an item whose expiry is more than five years past: never 0.
    expect(Math.abs(Number(item.Item?.expiresAt?.N) - Date.now() / 1000)).toBeLessThan(60);
    await expect(store.claim(key, 1800)).resolves.toBe(true);
    // Claims are none of the cache's entries.
    await expect(store.listImages({})).resolves.toMatchObject({ entries: [] });
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
