/**
 * The decision cache on DynamoDB (item layout: docs/decision-cache.md). One item per image digest and
 * one per tag, each holding the image's facts, so that any reference is answered by one BatchGetItem.
 * Writes are conditional: an entry is replaced only by one at least as new (scan time, then the time
 * the facts were read; for tags, the push time first), so an older scan never overwrites a newer one
 * and a duplicate write changes nothing.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type CachedImage, type DecisionStore, lookupKey } from '../domain/decision-store';
import type { Facts, ImageLookup, RepositoryKey } from '../domain/facts';

export const BATCH_GET_LIMIT = 100;
const DEFAULT_TTL_SECONDS = 7 * 86_400;
const PROJECTION = 'pk, facts, verdict, expiresAt';

export interface DynamoStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  /** How long an entry lives when nothing refreshes it (the table's TTL attribute is `expiresAt`). */
  readonly ttlSeconds?: number;
  /** Attempts at keys that DynamoDB leaves unprocessed. */
  readonly maxBatchAttempts?: number;
  readonly now?: () => number;
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** The newest scan among the image and its platform images; '0' when none completed. */
function scanTime(facts: Facts): string {
  const times = [
    facts.image.scan?.completedAt,
    ...(facts.image.platforms ?? []).map((p) => p.scan?.completedAt),
  ];
  return (
    times
      .filter((t): t is string => t !== undefined)
      .sort()
      .at(-1) ?? '0'
  );
}

/** Orders entries of one key: later scans win, then later reads. Tags: the later push wins first. */
export function entryVersion(facts: Facts, kind: 'digest' | 'tag'): string {
  const digestVersion = `${scanTime(facts)}|${facts.gatheredAt}`;
  return kind === 'tag' ? `${facts.image.pushedAt ?? '0'}|${digestVersion}` : digestVersion;
}

export class DynamoDecisionStore implements DecisionStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly ttlSeconds: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client ?? new DynamoDBClient({});
    this.table = options.tableName;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.maxAttempts = options.maxBatchAttempts ?? 5;
    this.now = options.now ?? Date.now;
  }

  async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    const keys = [...new Set(lookups.map(lookupKey))];
    const found = new Map<string, CachedImage>();
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) chunks.push(keys.slice(i, i + BATCH_GET_LIMIT));
    await Promise.all(chunks.map((chunk) => this.getChunk(chunk, found)));
    return found;
  }

  private async getChunk(keys: string[], found: Map<string, CachedImage>): Promise<void> {
    let pending: Record<string, AttributeValue>[] = keys.map((pk) => ({ pk: { S: pk } }));
    const nowSeconds = Math.floor(this.now() / 1000);
    for (let attempt = 0; pending.length > 0 && attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) await sleep(Math.random() * 10 * 2 ** attempt);
      let out: BatchGetItemCommandOutput;
      try {
        out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.table]: { Keys: pending, ProjectionExpression: PROJECTION } },
          }),
        );
      } catch (error) {
        throw new StoreUnavailableError('the decision cache could not be read', { cause: error });
      }
      for (const item of out.Responses?.[this.table] ?? []) {
        const entry = decode(item, nowSeconds);
        if (entry && item.pk?.S) found.set(item.pk.S, entry);
      }
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    // Keys still unprocessed are answered as misses: the caller gathers their facts instead.
  }

  async put(entry: CachedImage): Promise<void> {
    const { repository, image } = entry.facts;
    const base: RepositoryKey = {
      registryId: repository.registryId,
      region: repository.region,
      repositoryName: repository.repositoryName,
    };
    const facts = JSON.stringify(entry.facts);
    const verdict = entry.verdict ? JSON.stringify(entry.verdict) : undefined;
    const expiresAt = String(Math.floor(this.now() / 1000) + this.ttlSeconds);
    const common: Record<string, AttributeValue> = {
      registryId: { S: base.registryId },
      region: { S: base.region },
      repositoryName: { S: base.repositoryName },
      digest: { S: image.digest },
      facts: { S: facts },
      ...(verdict && { verdict: { S: verdict } }),
      expiresAt: { N: expiresAt },
      updatedAt: { S: new Date(this.now()).toISOString() },
    };
    const items: Record<string, AttributeValue>[] = [
      {
        pk: { S: lookupKey({ ...base, digest: image.digest }) },
        kind: { S: 'digest' },
        version: { S: entryVersion(entry.facts, 'digest') },
        ...common,
      },
      ...image.tags.map((tag) => ({
        pk: { S: lookupKey({ ...base, tag }) },
        kind: { S: 'tag' },
        tag: { S: tag },
        version: { S: entryVersion(entry.facts, 'tag') },
        ...common,
      })),
    ];
    await Promise.all(items.map((item) => this.conditionalPut(item)));
  }

  /** Writes unless the stored entry is at least as new; returns whether it wrote. */
  private async conditionalPut(item: Record<string, AttributeValue>): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #version < :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': item.version as AttributeValue },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreUnavailableError('the decision cache could not be written', { cause: error });
    }
  }

  /** Removes entries that still point at `digest` (a tag moved elsewhere since is left alone). */
  async delete(lookups: readonly ImageLookup[], digest: string): Promise<void> {
    await Promise.all(
      lookups.map(async (lookup) => {
        try {
          await this.client.send(
            new DeleteItemCommand({
              TableName: this.table,
              Key: { pk: { S: lookupKey(lookup) } },
              ConditionExpression: 'attribute_not_exists(pk) OR digest = :digest',
              ExpressionAttributeValues: { ':digest': { S: digest } },
            }),
          );
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) return;
          throw new StoreUnavailableError('the decision cache could not be written', { cause: error });
        }
      }),
    );
  }
}

function decode(item: Record<string, AttributeValue>, nowSeconds: number): CachedImage | undefined {
  // DynamoDB deletes expired items lazily (within days): an expired entry is a miss.
  const expiresAt = Number(item.expiresAt?.N ?? 0);
  if (expiresAt <= nowSeconds || !item.facts?.S) return undefined;
  try {
    const facts = JSON.parse(item.facts.S) as Facts;
    const verdict = item.verdict?.S ? JSON.parse(item.verdict.S) : undefined;
    return { facts, ...(verdict && { verdict }) };
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
