/**
 * The buffer's consumer as Lambda runs it: the real handler, configured at cold start, fed SQS batches
 * in the shape of AWS's documented example, starting executions through the real Step Functions client
 * against a local endpoint. Each execution started runs the very ASL file locally, on the example
 * registry snapshot, with the one event it was started with.
 */
import { join } from 'node:path';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { loadPolicyFile, loadSnapshotFile } from '../../src/adapters/files';
import { executionName } from '../../src/application/coalesce-service';
import { workOf } from '../../src/domain/coalesce';
import { type LocalRun, runWorkflowLocally } from '../../src/wiring/local-workflow';
import { createRefreshService } from '../../src/wiring/refresh';
import { coldStart, lambdaContext } from '../helpers/lambda';
import { type LocalStepFunctions, startLocalStepFunctions } from '../helpers/local-stepfunctions';
import { sqsBatch } from '../helpers/sqs';
import { cveStorm, type StormImage } from '../helpers/storm';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '../..');
const OWN = '111122223333';
const REGION = 'us-east-1';
const STATE_MACHINE = `arn:aws:states:${REGION}:${OWN}:stateMachine:RefreshStateMachine`;

const snapshot = loadSnapshotFile(join(ROOT, 'examples/registry-snapshot.json'));
/** Three images of the example registry: two digests of team/api and one of team/web. */
const IMAGES: StormImage[] = [
  ['team/api', 'sha256:16eb06ced9852', ['1.4.2']],
  ['team/api', 'sha256:88c54d88a2e99', ['1.5.0']],
  ['team/web', 'sha256:ac47b3653d780', ['latest']],
].map(([repositoryName, prefix, tags]) => ({
  registryId: OWN,
  region: REGION,
  repositoryName: repositoryName as string,
  digest: digestStartingWith(repositoryName as string, prefix as string),
  tags: tags as string[],
}));

function digestStartingWith(repositoryName: string, prefix: string): string {
  const raw = require(join(ROOT, 'examples/registry-snapshot.json')) as {
    registries: {
      repositories: { repository: { repositoryName: string }; images: { imageDigest: string }[] }[];
    }[];
  };
  const digest = raw.registries
    .flatMap((r) => r.repositories)
    .filter((r) => r.repository.repositoryName === repositoryName)
    .flatMap((r) => r.images.map((i) => i.imageDigest))
    .find((d) => d.startsWith(prefix));
  if (!digest) throw new Error(`no image ${prefix} in ${repositoryName}`);
  return digest;
}

type Handler = typeof import('../../src/handlers/coalesce');

describe('the Coalesce Lambda handler', () => {
  const saved = { ...process.env };
  let sfn: LocalStepFunctions;
  let throttled = new Set<string>();
  const runs: LocalRun[] = [];

  beforeAll(async () => {
    const service = createRefreshService({
      policy: loadPolicyFile(join(ROOT, 'examples/policy.yaml')),
      region: REGION,
      ownAccountId: OWN,
      facts: new EcrFactsSource(snapshot),
      catalog: snapshot,
    });
    sfn = await startLocalStepFunctions({
      onStart: async ({ input }) => {
        runs.push(await runWorkflowLocally(service, JSON.parse(input), { retryIntervalMs: 1 }));
      },
      throttle: (name) => throttled.has(name),
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SFN: sfn.url,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: REGION,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await sfn?.close();
  });
  beforeEach(() => {
    sfn.started.splice(0);
    runs.splice(0);
    throttled = new Set();
  });

  const load = (env: Record<string, string | undefined> = { STATE_MACHINE_ARN: STATE_MACHINE }): Handler =>
    coldStart(() => require('../../src/handlers/coalesce'), env);

  it('turns a CVE storm of 500 findings on 3 images, in batches of 100, into 3 executions a batch, each refreshing its image', async () => {
    const { coalesce } = load();
    const storm = cveStorm(500, IMAGES);
    const responses: SQSBatchResponse[] = [];

    for (let i = 0; i < storm.length; i += 100) {
      responses.push(await coalesce(sqsBatch(storm.slice(i, i + 100), `storm-${i}`), lambdaContext()));
    }

    expect(responses.every((r) => r.batchItemFailures.length === 0)).toBe(true);
    expect(sfn.started).toHaveLength(15);
    expect(new Set(sfn.started.map((s) => s.stateMachineArn))).toEqual(new Set([STATE_MACHINE]));
    expect(runs.map((r) => r.status)).toEqual(Array(15).fill('SUCCEEDED'));
    const refreshed = runs.flatMap((r) => r.records.filter((record) => record.action === 'written'));
    expect(new Set(refreshed.map((r) => r.digest))).toEqual(new Set(IMAGES.map((i) => i.digest)));
  });

  it('starts nothing twice when SQS delivers a batch again', async () => {
    const { coalesce } = load();
    const batch = sqsBatch(cveStorm(30, IMAGES), 'again');

    const first = await coalesce(batch, lambdaContext());
    const second = await coalesce(batch, lambdaContext());

    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(sfn.started).toHaveLength(3);
  });

  it("returns a throttled work's messages as batch item failures after the SDK's retries, and starts the rest", async () => {
    const { coalesce } = load();
    const image = IMAGES[0] as StormImage;
    const batch = sqsBatch(cveStorm(9, IMAGES), 'throttled');
    const victims = batch.Records.filter((r) => r.body.includes(image.digest));
    const latest = victims[victims.length - 1] as SQSRecord;
    const work = workOf(parseRefreshEvent(JSON.parse(latest.body))) as string;
    throttled.add(executionName(work, 'refresh-image', latest.messageId));
    const callsBefore = sfn.calls();

    const response = await coalesce(batch, lambdaContext());

    expect(response.batchItemFailures).toEqual(victims.map((r) => ({ itemIdentifier: r.messageId })));
    expect(sfn.started).toHaveLength(2);
    expect(sfn.calls() - callsBefore).toBe(2 + 3);
  });

  it('drops a malformed event: it is no batch item failure, and the rest of the batch starts', async () => {
    const { coalesce } = load();
    const response = await coalesce(
      sqsBatch(['{"detail-type": 7}', ...cveStorm(2, IMAGES)], 'malformed'),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(sfn.started).toHaveLength(2);
  });

  it('refuses to start without the state machine it starts, naming the variable', () => {
    expect(() => load({ STATE_MACHINE_ARN: undefined })).toThrow(/^environment variable STATE_MACHINE_ARN: /);
    expect(() => load({ STATE_MACHINE_ARN: 'arn:aws:lambda:us-east-1:111122223333:function:x' })).toThrow(
      'environment variable STATE_MACHINE_ARN: expected a Step Functions state machine ARN',
    );
  });
});
