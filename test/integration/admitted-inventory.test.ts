/**
 * The admitted inventory in the decision table, against DynamoDB Local behind a counting proxy: one
 * conditional update per record due a write, nothing written for a record admitted within the refresh
 * interval, every record of one digest listed through the inventoryByDigest index, and the decision
 * cache's own listings blind to the inventory.
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { type AdmittedImage, inventoryKey } from '../../src/domain/inventory';
import { digestOf, facts, REPO } from '../cases/replacement-cases';
import {
  type CountedDynamo,
  type CountingProxy,
  createDecisionTable,
  type DynamoLocal,
  startCountedDynamo,
} from '../helpers/dynamodb-local';

jest.setTimeout(60_000);

const HOUR = 3_600_000;
const AT = new Date('2026-11-27T12:00:00.000Z');
const IMAGE = `${REPO.registryId}.dkr.ecr.${REPO.region}.amazonaws.com/${REPO.repositoryName}:1.0.0`;

function admitted(overrides: Partial<AdmittedImage> = {}): AdmittedImage {
  return {
    cluster: 'prod-eu',
    namespace: 'shop',
    owner: { kind: 'ReplicaSet', name: 'web-7d4b9' },
    image: IMAGE,
    ...REPO,
    digest: digestOf(1),
    ...overrides,
  };
}

describe('the admitted inventory against DynamoDB Local', () => {
  let local: CountedDynamo | undefined;
  let dynamo: DynamoLocal;
  let proxy: CountingProxy;
  let client: DynamoDBClient;
  let tableCount = 0;
  let clock = AT.getTime();

  beforeAll(async () => {
    local = await startCountedDynamo();
    ({ dynamo, proxy, client } = local);
  });
  afterAll(() => local?.stop());
  beforeEach(() => {
    clock = AT.getTime();
  });

  async function newStore(): Promise<{ store: DynamoDecisionStore; tableName: string }> {
    const tableName = `inventory-${++tableCount}`;
    await createDecisionTable(dynamo.client(), tableName);
    return {
      tableName,
      store: new DynamoDecisionStore({
        tableName,
        client,
        now: () => clock,
        inventoryTtlSeconds: 30 * 86_400,
      }),
    };
  }

  it('creates a record with one UpdateItem: where it runs, the image as written, its digest and repository, first and last admitted, and its expiry', async () => {
    const { store, tableName } = await newStore();
    proxy.reset();

    const outcome = await store.recordAdmitted(admitted(), AT, HOUR);

    expect(outcome).toEqual({ written: true, lastAdmittedAt: AT.toISOString() });
    expect(proxy.calls.get('UpdateItem')).toBe(1);
    expect(proxy.total()).toBe(1);
    const item = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: inventoryKey(admitted()) } } }),
    );
    expect(item.Item).toMatchObject({
      pk: { S: `inventory#${digestOf(1)}/prod-eu/shop/ReplicaSet/web-7d4b9/${IMAGE}` },
      kind: { S: 'inventory' },
      inventoryDigest: { S: digestOf(1) },
      repositoryName: { S: REPO.repositoryName },
      expiresAt: { N: String(AT.getTime() / 1000 + 30 * 86_400) },
    });
    expect((await store.listInventory(digestOf(1))).records).toEqual([
      {
        ...admitted(),
        firstAdmittedAt: AT.toISOString(),
        lastAdmittedAt: AT.toISOString(),
        expiresAt: AT.getTime() / 1000 + 30 * 86_400,
      },
    ]);
  });

  it('writes nothing for a record admitted within the refresh interval, and says when it was', async () => {
    const { store, tableName } = await newStore();
    await store.recordAdmitted(admitted(), AT, HOUR);
    const later = new Date(AT.getTime() + HOUR - 1000);

    const outcome = await store.recordAdmitted(admitted(), later, HOUR);

    expect(outcome).toEqual({ written: false, lastAdmittedAt: AT.toISOString() });
    const item = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: inventoryKey(admitted()) } } }),
    );
    expect(item.Item?.lastAdmittedAt).toEqual({ S: AT.toISOString() });
  });

  it('moves the last-admitted time and the expiry after the refresh interval, keeping the first-admitted time', async () => {
    const { store } = await newStore();
    await store.recordAdmitted(admitted(), AT, HOUR);
    const later = new Date(AT.getTime() + HOUR + 1000);
    clock = later.getTime();

    const outcome = await store.recordAdmitted(admitted(), later, HOUR);

    expect(outcome.written).toBe(true);
    expect((await store.listInventory(digestOf(1))).records).toEqual([
      expect.objectContaining({
        firstAdmittedAt: AT.toISOString(),
        lastAdmittedAt: later.toISOString(),
        expiresAt: Math.floor(later.getTime() / 1000) + 30 * 86_400,
      }),
    ]);
  });

  it('lists every record of one digest, across clusters, namespaces and owners, with a single Query, and none of another digest', async () => {
    const { store } = await newStore();
    await store.recordAdmitted(admitted(), AT, HOUR);
    await store.recordAdmitted(admitted({ cluster: 'prod-us' }), AT, HOUR);
    await store.recordAdmitted(
      admitted({ namespace: 'payments', owner: { kind: 'Job', name: 'nightly' } }),
      AT,
      HOUR,
    );
    await store.recordAdmitted(admitted({ digest: digestOf(2) }), AT, HOUR);
    proxy.reset();

    const page = await store.listInventory(digestOf(1));

    expect(page.records.map((r) => `${r.cluster} ${r.namespace} ${r.owner.kind}/${r.owner.name}`)).toEqual([
      'prod-eu payments Job/nightly',
      'prod-eu shop ReplicaSet/web-7d4b9',
      'prod-us shop ReplicaSet/web-7d4b9',
    ]);
    expect(page.cursor).toBeUndefined();
    expect(proxy.calls.get('Query')).toBe(1);
    expect(proxy.total()).toBe(1);
  });

  it('pages a digest with more than 100 records by cursor, each record once', async () => {
    const { store } = await newStore();
    const owners = Array.from({ length: 130 }, (_, i) => `web-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < owners.length; i += 26) {
      await Promise.all(
        owners
          .slice(i, i + 26)
          .map((name) => store.recordAdmitted(admitted({ owner: { kind: 'ReplicaSet', name } }), AT, HOUR)),
      );
    }

    const first = await store.listInventory(digestOf(1));
    const second = await store.listInventory(digestOf(1), first.cursor);

    expect(first.records).toHaveLength(100);
    expect(first.cursor).toBeDefined();
    expect(second.cursor).toBeUndefined();
    expect([...first.records, ...second.records].map((r) => r.owner.name)).toEqual(owners);
  });

  it('does not list an expired record that DynamoDB has not removed yet', async () => {
    const { store } = await newStore();
    await store.recordAdmitted(admitted(), AT, HOUR);
    clock = AT.getTime() + 31 * 86_400_000;

    expect((await store.listInventory(digestOf(1))).records).toEqual([]);
  });

  it('keeps the inventory out of the decision cache: no listing, read or index of the cache sees a record', async () => {
    const { store } = await newStore();
    await store.put({ facts: facts({ tags: ['1.0.0'] }) });
    await store.recordAdmitted(admitted(), AT, HOUR);

    const scanned = await store.listImages({});
    const byRepository = await store.listImages(REPO);

    expect(scanned.entries.map((e) => e.facts.image.digest)).toEqual([digestOf(1)]);
    expect(byRepository.entries.map((e) => e.facts.image.digest)).toEqual([digestOf(1)]);
    expect((await store.getMany([{ ...REPO, digest: digestOf(1) }])).size).toBe(1);
  });
});
