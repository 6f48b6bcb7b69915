/**
 * Reading the whole admitted inventory back from the decision table (`inventory export`, `exposure
 * --table`), against DynamoDB Local behind a counting proxy: a paged Scan filtered on the inventory's
 * records, every page followed, the decision cache's entries and expired records left out.
 */
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { InventoryRecorder } from '../../src/application/inventory-recorder';
import type { AdmittedImage, InventoryRecord } from '../../src/domain/inventory';
import { digestOf, REPO } from '../cases/replacement-cases';
import { type CountedDynamo, createDecisionTable, startCountedDynamo } from '../helpers/dynamodb-local';

jest.setTimeout(60_000);

const AT = new Date('2026-11-27T12:00:00.000Z');
const DAY = 86_400;
const IMAGE = `${REPO.registryId}.dkr.ecr.${REPO.region}.amazonaws.com/${REPO.repositoryName}:1.0.0`;

function admitted(n: number, cluster = 'prod-eu'): AdmittedImage {
  return {
    cluster,
    namespace: `team-${n % 3}`,
    owner: { kind: 'ReplicaSet', name: `web-${n}` },
    image: IMAGE,
    ...REPO,
    digest: digestOf(n % 5),
  };
}

async function scanAll(store: DynamoDecisionStore): Promise<{ records: InventoryRecord[]; pages: number }> {
  const records: InventoryRecord[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const page = await store.scanInventory(cursor);
    records.push(...page.records);
    pages++;
    cursor = page.cursor;
  } while (cursor);
  return { records, pages };
}

describe('scanInventory against DynamoDB Local', () => {
  let local: CountedDynamo | undefined;

  beforeAll(async () => {
    local = await startCountedDynamo();
  });
  afterAll(() => local?.stop());

  it('follows every page of a table mostly of cache entries and returns each live inventory record once', async () => {
    const { client, proxy } = local as CountedDynamo;
    await createDecisionTable(client, 'scan');
    // More cache-like items than one scan page reads: the records are spread over several pages.
    for (let batch = 0; batch < 48; batch++) {
      await client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            scan: Array.from({ length: 25 }, (_, i) => ({
              PutRequest: {
                Item: {
                  pk: {
                    S: `${REPO.registryId}/${REPO.region}/${REPO.repositoryName}@${digestOf(batch * 25 + i)}`,
                  },
                  kind: { S: 'digest' },
                  expiresAt: { N: String(AT.getTime() / 1000 + DAY) },
                },
              },
            })),
          },
        }),
      );
    }
    const store = new DynamoDecisionStore({
      tableName: 'scan',
      client,
      now: () => AT.getTime(),
      inventoryTtlSeconds: 30 * DAY,
    });
    const live = Array.from({ length: 40 }, (_, n) => admitted(n));
    await new InventoryRecorder({ store }).record(live, AT);
    // Expired (TTL has not removed it yet): gone already.
    await new DynamoDecisionStore({ tableName: 'scan', client, inventoryTtlSeconds: 1 }).recordAdmitted(
      admitted(99, 'old'),
      new Date(AT.getTime() - 2 * DAY * 1000),
      0,
    );
    proxy.reset();

    const { records, pages } = await scanAll(store);

    expect(pages).toBeGreaterThan(1);
    expect(proxy.calls.get('Scan')).toBe(pages);
    expect(records).toHaveLength(live.length);
    expect(records.map(({ firstAdmittedAt, lastAdmittedAt, expiresAt, ...image }) => image)).toEqual(
      expect.arrayContaining(live),
    );
    expect(records[0]).toMatchObject({
      firstAdmittedAt: AT.toISOString(),
      lastAdmittedAt: AT.toISOString(),
      expiresAt: AT.getTime() / 1000 + 30 * DAY,
    });
  });

  it('is StoreUnavailableError naming the Scan when the table is missing', async () => {
    const { client } = local as CountedDynamo;
    const store = new DynamoDecisionStore({ tableName: 'no-such-table', client });

    await expect(store.scanInventory()).rejects.toMatchObject({
      name: 'StoreUnavailableError',
      message: 'the admitted inventory could not be listed',
    });
  });
});
