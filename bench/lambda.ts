/**
 * The admission Lambda against what it wraps, side by side, run by run (issue 17):
 *
 * - warm-layer hit: the real handler (src/handlers/admission.ts, loaded with the function's environment)
 *   answering an API Gateway proxy event for a Pod review whose images the warm layer holds, against the
 *   core alone (`handleWebhookRequest` on the handler's own service and the same bodies). What the
 *   handler adds is Powertools: the Lambda context on the logger, the decision log line, the EMF flush.
 * - cache hit through DynamoDB: an admission whose images miss the warm layer and hit the table, against
 *   a bare `BatchGetItemCommand` of the same keys on a client with the same settings.
 *
 * What the handler writes (log lines, EMF) goes to a byte-counting sink instead of the terminal: writing
 * it is counted in the figure (Lambda's runtime captures stdout), printing it is not.
 */
import { readFileSync } from 'node:fs';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { loadAdmissionConfig } from '../src/adapters/config';
import { CACHE_READ_PROJECTION, decisionTableClient } from '../src/adapters/dynamodb-store';
import { EcrFactsSource } from '../src/adapters/ecr-facts';
import { loadPolicyFile, loadSnapshotFile } from '../src/adapters/files';
import { handleWebhookRequest } from '../src/http/webhook';
import { createAdmissionService } from '../src/wiring/admission';
import { sharedAwsSetting } from './lib/aws-setting';
import { assertBench, type Figure, figure, medians, percentile, reference } from './lib/figures';
import { NOW, OWN_ACCOUNT, POD_IMAGES, POLICY_FILE, podReviewBody, SNAPSHOT_FILE } from './lib/workloads';

const RUNS = 5;
const DISTINCT_BODIES = 64;
const WARM_WARMUP = 2_000;
const WARM_PER_RUN = 5_000;
const TABLE_WARMUP = 100;
const TABLE_PER_RUN = 300;

type Handler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<{ statusCode: number; body: string }>;

const CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'ecr-admission-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:ecr-admission-bench',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/ecr-admission-bench',
  logStreamName: '2026/12/02/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/** A REST API (v1) proxy event, as API Gateway delivers the webhook's POST. */
function proxyEvent(body: string): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: '/validate',
    resource: '/validate',
    body,
    isBase64Encoded: false,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: { timeout: '10s' },
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** stdout swapped for a sink that counts bytes while `run` runs. */
async function intoSink<T>(run: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const write = process.stdout.write;
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    bytes += chunk.length;
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await run(), bytes };
  } finally {
    process.stdout.write = write;
  }
}

/** The function's environment, as the stack sets it: the table, the policy as JSON, the account. */
function functionEnvironment(tableName: string): Record<string, string> {
  return {
    TABLE_NAME: tableName,
    POLICY: JSON.stringify(parseYaml(readFileSync(POLICY_FILE, 'utf8'))),
    OWN_ACCOUNT_ID: OWN_ACCOUNT,
    POWERTOOLS_SERVICE_NAME: 'ecr-admission',
    POWERTOOLS_METRICS_NAMESPACE: 'EcrAdmission',
  };
}

/** The handler module loaded as a cold start loads it: a fresh module that reads the environment. */
function loadHandler(env: Record<string, string>): Handler {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const path = require.resolve('../src/handlers/admission');
    delete require.cache[path];
    return (require(path) as { handler: Handler }).handler;
  } finally {
    process.env = saved;
  }
}

interface Pair {
  readonly a: number;
  readonly b: number;
}

/** The ratio of the median p50s (the figure, with its target), and each p50 in µs for reference. */
function pairFigures(
  runs: readonly Pair[],
  names: { ratio: string; target: string; a: string; b: string },
): Figure[] {
  const m = medians(runs as { a: number; b: number }[]);
  return [
    figure(names.ratio, m.a / m.b, 'x', names.target),
    reference(names.a, m.a * 1000, 'µs'),
    reference(names.b, m.b * 1000, 'µs'),
  ];
}

/**
 * p50 of each of two paths, sample by sample in turn (a, b, a, b, ...): a burst of load on the shared
 * machine falls on both alike, and the ratio of the two is what the figure reports.
 */
async function pairedP50(
  count: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
): Promise<Pair> {
  const samplesA = new Float64Array(count);
  const samplesB = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let t0 = performance.now();
    await a(i);
    samplesA[i] = performance.now() - t0;
    t0 = performance.now();
    await b(i);
    samplesB[i] = performance.now() - t0;
  }
  return { a: percentile(Array.from(samplesA), 50), b: percentile(Array.from(samplesB), 50) };
}

async function warmLayerFigures(tableName: string): Promise<Figure[]> {
  const bodies = Array.from({ length: DISTINCT_BODIES }, (_, i) => podReviewBody(POD_IMAGES, i));
  const events = bodies.map(proxyEvent);
  const env = functionEnvironment(tableName);
  const handler = loadHandler(env);
  // The core alone: a service built from the same configuration, its warm layer filled the same way.
  const service = createAdmissionService(loadAdmissionConfig({ ...process.env, ...env }));
  const core = (i: number) =>
    handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[i % bodies.length] });
  // The first review fills the table and the warm layer; from then on every image is a warm hit.
  const first = await intoSink(() => handler(events[0] as APIGatewayProxyEvent, CONTEXT));
  assertBench(
    first.result.statusCode === 200,
    `handler: HTTP ${first.result.statusCode} ${first.result.body}`,
  );
  const check = await intoSink(() => handler(events[1] as APIGatewayProxyEvent, CONTEXT));
  const cache = JSON.parse(check.result.body).response?.auditAnnotations?.cache;
  assertBench(cache === 'hit=4,miss=0', `handler: expected only warm hits, got ${cache}`);
  assertBench(check.bytes > 0, 'the handler wrote no log line or metrics');
  await core(0);
  const coreCheck = JSON.parse((await core(1)).body).response?.auditAnnotations?.cache;
  assertBench(coreCheck === 'hit=4,miss=0', `core: expected only warm hits, got ${coreCheck}`);

  const viaHandler = (i: number) => handler(events[i % events.length] as APIGatewayProxyEvent, CONTEXT);
  await intoSink(() => pairedP50(WARM_WARMUP, viaHandler, core));
  const runs: Pair[] = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const measured = await intoSink(() => pairedP50(WARM_PER_RUN, viaHandler, core));
    bytes = measured.bytes / WARM_PER_RUN;
    runs.push(measured.result);
  }
  return [
    ...pairFigures(runs, {
      ratio: 'lambda, warm-layer hit: handler p50 / core alone p50 (Pod, 4 images)',
      target: '<= 1.3',
      a: 'lambda, warm-layer hit: handler p50',
      b: 'lambda, warm-layer hit: core alone p50',
    }),
    figure('lambda, warm-layer hit: bytes logged per invocation (log line + EMF)', bytes, 'B', '< 2000'),
  ];
}

/** `111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api:1.4.2` → the table's key for it. */
function tableKey(image: string): string {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+):(.+)$/.exec(image);
  assertBench(match, `not an ECR image by tag: ${image}`);
  return `${match[1]}/${match[2]}/${match[3]}:${match[4]}`;
}

async function tableHitFigures(tableName: string): Promise<Figure[]> {
  const fixed = new Date(NOW);
  // A warm layer whose entries expire as they land: every admission reads the table.
  const service = createAdmissionService({
    policy: loadPolicyFile(POLICY_FILE),
    tableName,
    ownAccountId: OWN_ACCOUNT,
    now: () => fixed,
    warmCacheTtlMs: 0,
  });
  const bodies = Array.from({ length: DISTINCT_BODIES }, (_, i) => podReviewBody(POD_IMAGES, 1_000 + i));
  const admit = (i: number) =>
    handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[i % bodies.length] });
  const check = JSON.parse((await admit(0)).body).response?.auditAnnotations?.cache;
  assertBench(check === 'hit=4,miss=0', `table hit: expected only cache hits, got ${check}`);

  const client = decisionTableClient();
  const keys = [...POD_IMAGES.initContainers, ...POD_IMAGES.containers].map((image) => ({
    pk: { S: tableKey(image) },
  }));
  const bare = async () => {
    const out = await client.send(
      new BatchGetItemCommand({
        RequestItems: { [tableName]: { Keys: keys, ProjectionExpression: CACHE_READ_PROJECTION } },
      }),
    );
    assertBench(out.Responses?.[tableName]?.length === keys.length, 'the bare read missed an item');
  };
  // The second floor: the bare read, then the same review answered from memory. A review right after
  // network I/O runs with its code and data no longer warm, and costs several times its cost alone.
  const now = () => fixed;
  const inMemory = createAdmissionService({
    policy: loadPolicyFile(POLICY_FILE),
    facts: new EcrFactsSource(loadSnapshotFile(SNAPSHOT_FILE), now),
    now,
    warmCacheTtlMs: 3_600_000,
  });
  const fromMemory = (i: number) =>
    handleWebhookRequest(inMemory, { method: 'POST', path: '/validate', body: bodies[i % bodies.length] });
  await fromMemory(0);
  const memoryCheck = JSON.parse((await fromMemory(1)).body).response?.auditAnnotations?.cache;
  assertBench(memoryCheck === 'hit=4,miss=0', `in-memory review: expected only hits, got ${memoryCheck}`);
  const bareThenReview = async (i: number) => {
    await bare();
    await fromMemory(i);
  };

  await pairedP50(TABLE_WARMUP, admit, bare);
  await pairedP50(TABLE_WARMUP, admit, bareThenReview);
  const runs: Pair[] = [];
  const floors: Pair[] = [];
  for (let run = 0; run < RUNS; run++) {
    runs.push(await pairedP50(TABLE_PER_RUN, admit, bare));
    floors.push(await pairedP50(TABLE_PER_RUN, admit, bareThenReview));
  }
  client.destroy();
  return [
    ...pairFigures(runs, {
      ratio: 'lambda, cache hit (table, warm layer missed): admission p50 / bare BatchGetItem p50',
      target: '<= 1.1',
      a: 'lambda, cache hit (table): admission p50',
      b: 'lambda, cache hit (table): bare BatchGetItem p50',
    }),
    ...pairFigures(floors, {
      ratio:
        'lambda, cache hit (table): admission p50 / bare BatchGetItem then the same review from memory p50',
      target: '<= 1.1',
      a: 'lambda, cache hit (table): admission p50 (second pairing)',
      b: 'lambda, cache hit (table): bare BatchGetItem then the review from memory p50',
    }),
  ];
}

export async function lambdaFigures(): Promise<Figure[]> {
  const setting = await sharedAwsSetting();
  const table = await setting.newTable();
  return [...(await warmLayerFigures(table)), ...(await tableHitFigures(table))];
}
