/**
 * The decision cache on DynamoDB (item layout: docs/decision-cache.md). One item per image digest and
 * one per tag, each holding the image's facts, so that any reference is answered by one BatchGetItem.
 * Writes are conditional (`replacement` in src/domain/decision-store.ts): facts read later win, an
 * older scan never overwrites a newer one, and a duplicate write changes nothing.
 */

import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AWS_CALL_TIMEOUTS, STORE_DEFAULTS } from '../contracts/settings';
import {
  type CachedImage,
  type Claims,
  type DecisionStore,
  entryKeys,
  entryStamp,
  factsContent,
  type ListPage,
  lookupKey,
  type PutOutcome,
  type StoredVerdict,
  tombstoneStamp,
} from '../domain/decision-store';
import { EntryTooLargeError, StoreUnavailableError } from '../domain/errors';
import type { Facts, ImageLookup, RepositoryKey } from '../domain/facts';
import {
  type AdmittedImage,
  type InventoryPage,
  type InventoryRecord,
  type InventoryStore,
  inventoryKey,
  type RecordOutcome,
} from '../domain/inventory';
import type { RepositoryScope } from '../domain/refresh';
import { boundedRequestHandler, type CallTimeouts } from './aws-http';

/**
 * The IAM actions each store method performs, on the table (`table`), on its repository index
 * (`index`) or on its inventory index (`inventoryIndex`), declared beside the calls: CDK grants each function the methods it uses, and the contract
 * tests (test/contract/iam.test.ts) simulate them against the synthesized roles.
 */
export const DECISION_TABLE_ACTIONS = {
  getMany: { table: ['dynamodb:BatchGetItem'] },
  /** The conditional put, and the update that extends an entry's life when the put loses. */
  put: { table: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  /** Reads the digest entry for its tags, then puts a tombstone on each key (a conditional put). */
  deleteImage: { table: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'] },
  updateVerdict: { table: ['dynamodb:UpdateItem'] },
  /** `listImages` splits by scope: a whole repository is read through the index, any other scope scans the table. */
  listImagesOfRepository: { index: ['dynamodb:Query'] },
  listImagesByScan: { table: ['dynamodb:Scan'] },
  /** A conditional put of the claim's item; a release puts it expired. */
  claim: { table: ['dynamodb:PutItem'] },
  release: { table: ['dynamodb:PutItem'] },
  /** The admitted inventory: one conditional update per record due a write. */
  recordAdmitted: { table: ['dynamodb:UpdateItem'] },
  /** Point reads of records by their keys: the continuity guard, on the admission path. */
  findAdmitted: { table: ['dynamodb:BatchGetItem'] },
  /** Through the inventory's own index (INVENTORY_INDEX): the workflow's exposure lookup. */
  listInventory: { inventoryIndex: ['dynamodb:Query'] },
  /** Every inventory record, by a paged scan of the table (`inventory export`, `exposure --table`). */
  scanInventory: { table: ['dynamodb:Scan'] },
} as const satisfies Record<
  // `getManyAtOnce` answers from memory only: no call, no action.
  Exclude<keyof (DecisionStore & Claims & InventoryStore), 'listImages' | 'getManyAtOnce'>,
  TableActions
> &
  Record<string, TableActions>;

export interface TableActions {
  readonly table?: readonly string[];
  /** On the repository index (REPOSITORY_INDEX). */
  readonly index?: readonly string[];
  /** On the inventory index (INVENTORY_INDEX). */
  readonly inventoryIndex?: readonly string[];
}

import { classifyAwsError } from './aws-errors';

export const BATCH_GET_LIMIT = 100;

/**
 * The layout of the `facts` JSON this code writes (docs/decision-cache.md). An item of another layout
 * is a miss, looked up again and replaced, never judged with fields it lacks read as unknown.
 * 2: every finding carries its score, fix and exploit availability, package and first-observed time.
 */
export const FACTS_LAYOUT = 2;

/** JSON longer than this is stored brotli-compressed, as binary (typical entries stay plain text). */
export const COMPRESS_ABOVE_BYTES = 64 * 1024;
/** DynamoDB's item limit, names and values included. */
export const ITEM_LIMIT_BYTES = 400 * 1024;

/** A JSON attribute: text, or brotli-compressed binary when long (an image with thousands of findings). */
export function encodeJson(value: unknown): AttributeValue {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) <= COMPRESS_ABOVE_BYTES) return { S: text };
  return {
    B: brotliCompressSync(text, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: 5,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: text.length,
      },
    }),
  };
}

/** A JSON attribute's text: as stored, or decompressed. */
function jsonText(attribute: AttributeValue | undefined): string | undefined {
  if (attribute?.S !== undefined) return attribute.S;
  if (attribute?.B !== undefined) return brotliDecompressSync(attribute.B).toString('utf8');
  return undefined;
}

/** An item's size as DynamoDB counts it: attribute names plus values (strings UTF-8, binaries as bytes). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.B !== undefined) bytes += value.B.byteLength;
    else if (value.N !== undefined) bytes += value.N.length;
  }
  return bytes;
}
/** What a cache read asks of each item (the benches' bare read asks the same). */
export const CACHE_READ_PROJECTION = 'pk, facts, verdict, expiresAt, fingerprint, gatheredAt';
const LIST_PROJECTION = 'pk, facts, verdict, expiresAt, kind';

export interface DynamoStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  /** How long an entry lives when nothing refreshes it (the table's TTL attribute is `expiresAt`). */
  readonly ttlSeconds?: number;
  /** How long an admitted inventory record lives after its last admission. */
  readonly inventoryTtlSeconds?: number;
  /** Attempts at keys that DynamoDB leaves unprocessed. */
  readonly maxBatchAttempts?: number;
  /** The JSON text of the entries remembered decoded, at most, in characters (32 Mi). */
  readonly decodedMaxBytes?: number;
  readonly now?: () => number;
}

/**
 * A client whose calls cannot hang: every attempt ends by its connection, request and socket timeouts
 * (the admission path also stops waiting at its own cache-read budget).
 */
export function decisionTableClient(timeouts: CallTimeouts = AWS_CALL_TIMEOUTS.dynamodb): DynamoDBClient {
  return new DynamoDBClient({
    requestHandler: boundedRequestHandler(timeouts),
    maxAttempts: timeouts.maxAttempts,
  });
}

/** The sparse index over digest entries by repository (docs/decision-cache.md). */
export const REPOSITORY_INDEX = 'byRepository';
/** The sparse index over admitted inventory records by image digest (docs/decision-cache.md). */
export const INVENTORY_INDEX = 'inventoryByDigest';
const LIST_PAGE_SIZE = 100;
/** Items a scan reads per page, before its filter: a page of a table of mostly cache entries. */
const SCAN_PAGE_SIZE = 1_000;

/** The key prefix of claims (docs/decision-cache.md): never an image's key, which starts with an account id. */
export const CLAIM_PREFIX = 'claim#';

export class DynamoDecisionStore implements DecisionStore, Claims, InventoryStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly ttlSeconds: number;
  private readonly inventoryTtlSeconds: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  /**
   * Entries read before, by content (fingerprint and gathering time): an item read again is not decoded
   * again, and its facts are the same object, so the judgement made of them is reused too (issue 17).
   * The read still goes to the table: only the decoding of what it returned is saved.
   */
  private readonly decoded = new Map<string, Decoded>();
  private decodedBytes = 0;
  private readonly decodedMaxBytes: number;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client ?? decisionTableClient();
    this.table = options.tableName;
    this.ttlSeconds = options.ttlSeconds ?? STORE_DEFAULTS.cacheTtlSeconds;
    this.inventoryTtlSeconds = options.inventoryTtlSeconds ?? STORE_DEFAULTS.inventoryTtlSeconds;
    this.maxAttempts = options.maxBatchAttempts ?? 5;
    this.decodedMaxBytes = options.decodedMaxBytes ?? DECODED_BYTES;
    this.now = options.now ?? Date.now;
  }

  async claim(key: string, seconds: number): Promise<boolean> {
    const now = Math.floor(this.now() / 1000);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: `${CLAIM_PREFIX}${key}` },
            kind: { S: 'claim' },
            expiresAt: { N: String(now + seconds) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': { N: String(now) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreUnavailableError('the decision cache could not be written', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'PutItem'),
      });
    }
  }

  async release(key: string): Promise<void> {
    // Expired as of now: the next claim wins, and the table's TTL deletes it (DynamoDB leaves alone an
    // item whose expiry is more than five years past, such as 0).
    const expired = String(Math.floor(this.now() / 1000) - 1);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: `${CLAIM_PREFIX}${key}` }, kind: { S: 'claim' }, expiresAt: { N: expired } },
        }),
      );
    } catch (error) {
      throw new StoreUnavailableError('the decision cache could not be written', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'PutItem'),
      });
    }
  }

  async getMany(lookups: readonly ImageLookup[]): Promise<Map<string, CachedImage>> {
    const keys = [...new Set(lookups.map(lookupKey))];
    const found = new Map<string, CachedImage>();
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) chunks.push(keys.slice(i, i + BATCH_GET_LIMIT));
    const nowSeconds = Math.floor(this.now() / 1000);
    await Promise.all(
      chunks.map((chunk) =>
        this.getChunk(chunk, CACHE_READ_PROJECTION, 'the decision cache', (pk, item) => {
          const entry = this.decodeRead(item, nowSeconds);
          if (entry) found.set(pk, entry);
        }),
      ),
    );
    return found;
  }

  /** `decode`, once per content: the facts and verdict of an item read before are the objects decoded then. */
  private decodeRead(item: Record<string, AttributeValue>, nowSeconds: number): CachedImage | undefined {
    const fingerprint = item.fingerprint?.S;
    const gatheredAt = item.gatheredAt?.S;
    if (!fingerprint || !gatheredAt) return decode(item, nowSeconds);
    const expiresAt = Number(item.expiresAt?.N ?? 0);
    if (expiresAt <= nowSeconds) return undefined;
    const key = `${fingerprint}\n${gatheredAt}`;
    const known = this.decoded.get(key);
    if (known && sameAttribute(known.verdictAttribute, item.verdict)) {
      return { facts: known.facts, ...(known.verdict && { verdict: known.verdict }), expiresAt };
    }
    if (known) {
      // The same facts under another verdict (the workflow's updateVerdict): remembered anew.
      this.decoded.delete(key);
      this.decodedBytes -= known.bytes;
    }
    const decoded = decodeSized(item, nowSeconds);
    if (!decoded) return undefined;
    const { entry, bytes } = decoded;
    // Bounded by the JSON text it holds (facts and verdict, decompressed), the oldest out first.
    if (bytes > this.decodedMaxBytes) return entry;
    for (const [oldest, held] of this.decoded) {
      if (this.decodedBytes + bytes <= this.decodedMaxBytes) break;
      this.decoded.delete(oldest);
      this.decodedBytes -= held.bytes;
    }
    this.decoded.set(key, {
      facts: known?.facts ?? entry.facts,
      verdict: entry.verdict,
      verdictAttribute: item.verdict,
      bytes,
    });
    this.decodedBytes += bytes;
    return known ? { ...entry, facts: known.facts } : entry;
  }

  /** One BatchGetItem of at most BATCH_GET_LIMIT keys, its unprocessed keys retried within the attempts. */
  private async getChunk(
    keys: string[],
    projection: string | undefined,
    what: string,
    onItem: (pk: string, item: Record<string, AttributeValue>) => void,
  ): Promise<void> {
    let pending: Record<string, AttributeValue>[] = keys.map((pk) => ({ pk: { S: pk } }));
    for (let attempt = 0; pending.length > 0 && attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) await sleep(Math.random() * 10 * 2 ** attempt);
      let out: BatchGetItemCommandOutput;
      try {
        out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.table]: { Keys: pending, ...(projection && { ProjectionExpression: projection }) },
            },
          }),
        );
      } catch (error) {
        throw new StoreUnavailableError(`${what} could not be read`, {
          cause: error,
          failure: classifyAwsError(error, 'dynamodb', 'BatchGetItem'),
        });
      }
      for (const item of out.Responses?.[this.table] ?? []) {
        if (item.pk?.S) onItem(item.pk.S, item);
      }
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    // Keys still unprocessed are answered as misses: the caller gathers their facts instead.
  }

  /**
   * The records of the given admissions, by their keys (`inventoryKey`): point reads, one
   * BatchGetItem, for the continuity guard. An expired record is absent; a key still unprocessed after
   * the attempts is absent too (no grace, as for a record never written).
   */
  async findAdmitted(admitted: readonly AdmittedImage[]): Promise<Map<string, InventoryRecord>> {
    const keys = [...new Set(admitted.map(inventoryKey))].slice(0, BATCH_GET_LIMIT);
    const found = new Map<string, InventoryRecord>();
    if (keys.length === 0) return found;
    const nowSeconds = Math.floor(this.now() / 1000);
    await this.getChunk(keys, undefined, 'the admitted inventory', (pk, item) => {
      const record = decodeRecord(item, nowSeconds);
      if (record) found.set(pk, record);
    });
    return found;
  }

  async put(entry: CachedImage): Promise<PutOutcome> {
    const { repository, image } = entry.facts;
    const keys = entryKeys(entry.facts);
    const expiresAt = String(Math.floor(this.now() / 1000) + this.ttlSeconds);
    const stamp = entryStamp(
      entry.facts,
      // The layout is part of the content: an item of an older layout is never "the same facts".
      createHash('sha256')
        .update(`${FACTS_LAYOUT}\n${factsContent(entry.facts)}`)
        .digest('base64url'),
    );
    const common: Record<string, AttributeValue> = {
      registryId: { S: repository.registryId },
      region: { S: repository.region },
      repositoryName: { S: repository.repositoryName },
      digest: { S: image.digest },
      gatheredAt: { S: stamp.gatheredAt },
      scanAt: { S: stamp.scanAt },
      fingerprint: { S: stamp.content },
      facts: encodeJson({ ...entry.facts, layout: FACTS_LAYOUT }),
      ...(entry.verdict && { verdict: encodeJson(entry.verdict) }),
      expiresAt: { N: expiresAt },
      updatedAt: { S: new Date(this.now()).toISOString() },
    };
    const items: Record<string, AttributeValue>[] = [
      {
        pk: { S: keys.digest },
        kind: { S: 'digest' },
        // Only digest entries carry the index key: one index entry per image.
        repository: { S: `${repository.registryId}/${repository.region}/${repository.repositoryName}` },
        ...common,
      },
      ...keys.tags.map(({ tag, key }) => ({
        pk: { S: key },
        kind: { S: 'tag' },
        tag: { S: tag },
        ...common,
      })),
    ];
    const largest = Math.max(...items.map(itemBytes));
    if (largest > ITEM_LIMIT_BYTES) {
      // What the cache holds of the image is older than these facts: it must not answer for them.
      await this.deleteImage(repository, image.digest, image.tags);
      throw new EntryTooLargeError(
        `the facts of ${image.digest} take ${largest} bytes compressed, more than DynamoDB's ${ITEM_LIMIT_BYTES}-byte item limit: not cached`,
      );
    }
    const results = await Promise.all(items.map((item) => this.conditionalPut(item)));
    return { written: items.filter((_, i) => results[i]).map((item) => item.pk?.S as string) };
  }

  /**
   * Writes when `replacement` (src/domain/decision-store.ts) says so, stated as a condition: a newer
   * read with other facts replaces the entry, unless it is an older completed scan of the same image;
   * an expired entry (not yet removed by TTL) is always replaced. When the facts are the same, only the
   * entry's life is extended. Returns whether it wrote.
   */
  private async conditionalPut(item: Record<string, AttributeValue>): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: [
            'attribute_not_exists(pk) OR #expiresAt < :now OR (',
            '#fingerprint <> :fingerprint AND #gatheredAt < :gatheredAt',
            'AND (#digest <> :digest OR :scanAt = :noScan OR #scanAt <= :scanAt))',
          ].join(' '),
          ExpressionAttributeNames: {
            '#expiresAt': 'expiresAt',
            '#fingerprint': 'fingerprint',
            '#gatheredAt': 'gatheredAt',
            '#digest': 'digest',
            '#scanAt': 'scanAt',
          },
          ExpressionAttributeValues: {
            ':now': { N: String(Math.floor(this.now() / 1000)) },
            ':fingerprint': item.fingerprint as AttributeValue,
            ':gatheredAt': item.gatheredAt as AttributeValue,
            ':digest': item.digest as AttributeValue,
            ':scanAt': item.scanAt as AttributeValue,
            ':noScan': { S: '0' },
          },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw new StoreUnavailableError('the decision cache could not be written', {
          cause: error,
          failure: classifyAwsError(error, 'dynamodb', 'PutItem'),
        });
      }
    }
    await this.extendLife(item);
    return false;
  }

  /** The same facts read again: the entry lives on, nothing else changes. */
  private async extendLife(item: Record<string, AttributeValue>): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: item.pk as AttributeValue },
          UpdateExpression: 'SET expiresAt = :expiresAt',
          ConditionExpression: 'fingerprint = :fingerprint AND expiresAt < :expiresAt',
          ExpressionAttributeValues: {
            ':expiresAt': item.expiresAt as AttributeValue,
            ':fingerprint': item.fingerprint as AttributeValue,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw new StoreUnavailableError('the decision cache could not be written', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'UpdateItem'),
      });
    }
  }

  /**
   * Replaces each entry of the deleted image with a tombstone (no facts: a read misses) stamped with the
   * deletion time, which the conditional put honours: facts read before the deletion never bring the
   * image back. A tag that has moved to another image, and facts read after the deletion, are kept.
   */
  async deleteImage(repository: RepositoryKey, digest: string, tags: readonly string[]): Promise<string[]> {
    const digestKey = lookupKey({ ...repository, digest });
    const stored = await this.getMany([{ ...repository, digest }]);
    const known = stored.get(digestKey)?.facts.image.tags ?? [];
    const keys = [
      digestKey,
      ...[...new Set([...tags, ...known])].map((tag) => lookupKey({ ...repository, tag })),
    ];
    const now = this.now();
    const stamp = tombstoneStamp(digest, new Date(now).toISOString());
    const removed = await Promise.all(
      keys.map(async (key) => {
        try {
          const out = await this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: {
                pk: { S: key },
                kind: { S: 'tombstone' },
                registryId: { S: repository.registryId },
                region: { S: repository.region },
                repositoryName: { S: repository.repositoryName },
                digest: { S: digest },
                gatheredAt: { S: stamp.gatheredAt },
                scanAt: { S: stamp.scanAt },
                fingerprint: { S: stamp.content },
                expiresAt: { N: String(Math.floor(now / 1000) + this.ttlSeconds) },
                updatedAt: { S: stamp.gatheredAt },
              },
              ConditionExpression:
                'attribute_not_exists(pk) OR (digest = :digest AND (attribute_not_exists(gatheredAt) OR gatheredAt < :deletedAt))',
              ExpressionAttributeValues: {
                ':digest': { S: digest },
                ':deletedAt': { S: stamp.gatheredAt },
              },
              ReturnValues: 'ALL_OLD',
            }),
          );
          const old = out.Attributes;
          return (old?.facts?.S ?? old?.facts?.B) && Number(old.expiresAt?.N ?? 0) > Math.floor(now / 1000)
            ? key
            : undefined;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) return undefined;
          throw new StoreUnavailableError('the decision cache could not be written', {
            cause: error,
            failure: classifyAwsError(error, 'dynamodb', 'PutItem'),
          });
        }
      }),
    );
    return removed.filter((key): key is string => key !== undefined);
  }

  async listImages(scope: RepositoryScope, cursor?: string): Promise<ListPage> {
    const startKey = cursor ? decodeCursor(cursor) : undefined;
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    let out: { Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, AttributeValue> };
    try {
      if (scope.registryId && scope.region && scope.repositoryName) {
        out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: REPOSITORY_INDEX,
            KeyConditionExpression: '#repository = :repository',
            ExpressionAttributeNames: { '#repository': 'repository' },
            ExpressionAttributeValues: {
              ':repository': { S: `${scope.registryId}/${scope.region}/${scope.repositoryName}` },
            },
            Limit: LIST_PAGE_SIZE,
            ...(startKey && { ExclusiveStartKey: startKey }),
          }),
        );
      } else {
        const filters = ['#kind = :digest'];
        names['#kind'] = 'kind';
        values[':digest'] = { S: 'digest' };
        for (const field of ['registryId', 'region', 'repositoryName'] as const) {
          const value = scope[field];
          if (value === undefined) continue;
          filters.push(`#${field} = :${field}`);
          names[`#${field}`] = field;
          values[`:${field}`] = { S: value };
        }
        out = await this.client.send(
          new ScanCommand({
            TableName: this.table,
            ProjectionExpression: LIST_PROJECTION.split(', ')
              .map((a) => `#p_${a}`)
              .join(', '),
            FilterExpression: filters.join(' AND '),
            ExpressionAttributeNames: {
              ...names,
              ...Object.fromEntries(LIST_PROJECTION.split(', ').map((a) => [`#p_${a}`, a])),
            },
            ExpressionAttributeValues: values,
            Limit: LIST_PAGE_SIZE,
            ...(startKey && { ExclusiveStartKey: startKey }),
          }),
        );
      }
    } catch (error) {
      throw new StoreUnavailableError('the decision cache could not be listed', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'Query'),
      });
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    const entries = (out.Items ?? []).flatMap((item) => decode(item, nowSeconds) ?? []);
    return { entries, ...(out.LastEvaluatedKey && { cursor: encodeCursor(out.LastEvaluatedKey) }) };
  }

  async updateVerdict(entry: CachedImage, verdict: StoredVerdict): Promise<boolean> {
    const keys = entryKeys(entry.facts);
    const encoded = encodeJson(verdict);
    const bytes = itemBytes({
      facts: encodeJson({ ...entry.facts, layout: FACTS_LAYOUT }),
      verdict: encoded,
    });
    // The item's other attributes take well under a kilobyte.
    if (bytes + 1024 > ITEM_LIMIT_BYTES) {
      throw new EntryTooLargeError(
        `the verdict of ${entry.facts.image.digest} does not fit its item beside the facts (${bytes} bytes): not stored`,
      );
    }
    const results = await Promise.all(
      [keys.digest, ...keys.tags.map((t) => t.key)].map(async (key) => {
        try {
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: { pk: { S: key } },
              UpdateExpression: 'SET verdict = :verdict',
              // Only while the entry still holds the facts that were judged.
              ConditionExpression: 'digest = :digest AND gatheredAt = :gatheredAt',
              ExpressionAttributeValues: {
                ':verdict': encoded,
                ':digest': { S: entry.facts.image.digest },
                ':gatheredAt': { S: entry.facts.gatheredAt },
              },
            }),
          );
          return true;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) return false;
          throw new StoreUnavailableError('the decision cache could not be written', {
            cause: error,
            failure: classifyAwsError(error, 'dynamodb', 'UpdateItem'),
          });
        }
      }),
    );
    return results.some(Boolean);
  }

  /**
   * One conditional update: creates the record, or moves its last-admitted time (and its expiry) when
   * it is older than the refresh interval; a record admitted more recently is left alone and its
   * last-admitted time returned (ReturnValuesOnConditionCheckFailure), so the caller knows when to ask
   * again. The first-admitted time is set once (`if_not_exists`).
   */
  async recordAdmitted(admitted: AdmittedImage, at: Date, refreshMs: number): Promise<RecordOutcome> {
    const when = at.toISOString();
    const fields: Record<string, AttributeValue> = {
      kind: { S: 'inventory' },
      inventoryDigest: { S: admitted.digest },
      cluster: { S: admitted.cluster },
      namespace: { S: admitted.namespace },
      ownerKind: { S: admitted.owner.kind },
      ownerName: { S: admitted.owner.name },
      image: { S: admitted.image },
      registryId: { S: admitted.registryId },
      region: { S: admitted.region },
      repositoryName: { S: admitted.repositoryName },
      digest: { S: admitted.digest },
      lastAdmittedAt: { S: when },
      expiresAt: { N: String(Math.floor(at.getTime() / 1000) + this.inventoryTtlSeconds) },
    };
    const names = Object.keys(fields);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: inventoryKey(admitted) } },
          UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(', ')}, #firstAdmittedAt = if_not_exists(#firstAdmittedAt, :lastAdmittedAt)`,
          ConditionExpression: 'attribute_not_exists(#pk) OR #lastAdmittedAt < :staleBefore',
          ExpressionAttributeNames: {
            ...Object.fromEntries(names.map((n) => [`#${n}`, n])),
            '#firstAdmittedAt': 'firstAdmittedAt',
            '#pk': 'pk',
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(names.map((n) => [`:${n}`, fields[n] as AttributeValue])),
            ':staleBefore': { S: new Date(at.getTime() - refreshMs).toISOString() },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { written: true, lastAdmittedAt: when };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { written: false, lastAdmittedAt: error.Item?.lastAdmittedAt?.S ?? when };
      }
      throw new StoreUnavailableError('the admitted inventory could not be written', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'UpdateItem'),
      });
    }
  }

  async listInventory(digest: string, cursor?: string): Promise<InventoryPage> {
    let out: { Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, AttributeValue> };
    try {
      out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INVENTORY_INDEX,
          KeyConditionExpression: '#inventoryDigest = :digest',
          ExpressionAttributeNames: { '#inventoryDigest': 'inventoryDigest' },
          ExpressionAttributeValues: { ':digest': { S: digest } },
          Limit: LIST_PAGE_SIZE,
          ...(cursor && { ExclusiveStartKey: decodeCursor(cursor) }),
        }),
      );
    } catch (error) {
      throw new StoreUnavailableError('the admitted inventory could not be listed', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'Query'),
      });
    }
    return this.inventoryPage(out);
  }

  /** A page of inventory records as read: expired ones left out, the cursor kept. */
  private inventoryPage(out: {
    Items?: Record<string, AttributeValue>[];
    LastEvaluatedKey?: Record<string, AttributeValue>;
  }): InventoryPage {
    const nowSeconds = Math.floor(this.now() / 1000);
    return {
      records: (out.Items ?? []).flatMap((item) => decodeRecord(item, nowSeconds) ?? []),
      ...(out.LastEvaluatedKey && { cursor: encodeCursor(out.LastEvaluatedKey) }),
    };
  }

  /**
   * Every live inventory record, a page at a time: a scan filtered on the records' `kind` (the decision
   * cache's entries are read and left out by the filter, so a page may hold none and still have a cursor).
   */
  async scanInventory(cursor?: string): Promise<InventoryPage> {
    let out: { Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, AttributeValue> };
    try {
      out = await this.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: '#kind = :inventory',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':inventory': { S: 'inventory' } },
          Limit: SCAN_PAGE_SIZE,
          ...(cursor && { ExclusiveStartKey: decodeCursor(cursor) }),
        }),
      );
    } catch (error) {
      throw new StoreUnavailableError('the admitted inventory could not be listed', {
        cause: error,
        failure: classifyAwsError(error, 'dynamodb', 'Scan'),
      });
    }
    return this.inventoryPage(out);
  }
}

/** An inventory record as stored; an expired one (not yet removed by TTL) is gone already. */
function decodeRecord(item: Record<string, AttributeValue>, nowSeconds: number): InventoryRecord | undefined {
  const expiresAt = Number(item.expiresAt?.N ?? 0);
  if (expiresAt <= nowSeconds) return undefined;
  const text = (name: string) => item[name]?.S ?? '';
  return {
    cluster: text('cluster'),
    namespace: text('namespace'),
    owner: { kind: text('ownerKind'), name: text('ownerName') },
    image: text('image'),
    registryId: text('registryId'),
    region: text('region'),
    repositoryName: text('repositoryName'),
    digest: text('digest'),
    firstAdmittedAt: text('firstAdmittedAt'),
    lastAdmittedAt: text('lastAdmittedAt'),
    expiresAt,
  };
}

function decode(item: Record<string, AttributeValue>, nowSeconds: number): CachedImage | undefined {
  return decodeSized(item, nowSeconds)?.entry;
}

/** An entry as stored, and the length of the JSON text it was decoded from (facts and verdict). */
function decodeSized(
  item: Record<string, AttributeValue>,
  nowSeconds: number,
): { entry: CachedImage; bytes: number } | undefined {
  // DynamoDB deletes expired items lazily (within days): an expired entry is a miss.
  const expiresAt = Number(item.expiresAt?.N ?? 0);
  if (expiresAt <= nowSeconds || !(item.facts?.S ?? item.facts?.B)) return undefined;
  try {
    const factsText = jsonText(item.facts) ?? '';
    const { layout, ...facts } = JSON.parse(factsText) as Facts & { layout?: number };
    if (layout !== FACTS_LAYOUT) return undefined;
    const verdictText = jsonText(item.verdict);
    const verdict =
      verdictText === undefined ? undefined : (JSON.parse(verdictText) as CachedImage['verdict']);
    return {
      entry: { facts, ...(verdict && { verdict }), expiresAt },
      bytes: factsText.length + (verdictText?.length ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** The JSON text of the entries a store remembers decoded (their objects take a few times as much). */
const DECODED_BYTES = 32 * 1024 * 1024;

interface Decoded {
  readonly facts: Facts;
  readonly bytes: number;
  readonly verdict: CachedImage['verdict'];
  readonly verdictAttribute: AttributeValue | undefined;
}

function sameAttribute(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.S !== undefined) return a.S === b.S;
  return a.B !== undefined && b.B !== undefined && Buffer.compare(a.B, b.B) === 0;
}

/** A listing's position, opaque to callers. */
function encodeCursor(lastKey: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(lastKey)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, AttributeValue> {
  return JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Record<string, AttributeValue>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
