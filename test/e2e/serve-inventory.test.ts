/**
 * `serve --table --cluster`, run as the built command against DynamoDB Local: what it admits lands in
 * the table's admitted inventory, under the cluster the path names or, for the bare path, `--cluster`;
 * a dry run and a bad cluster name write nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import {
  EXAMPLE_ARGS,
  postToServe,
  REPO_ROOT,
  type RunningCli,
  requireBuiltCli,
  runCli,
  startCli,
} from '../helpers/cli';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';

jest.setTimeout(60_000);

/** team/api:1.4.2 in examples/registry-snapshot.json. */
const DIGEST = 'sha256:16eb06ced985216bb14744c43dad833c58f56296d152e580542d0e8630f63316';

describe('serve --table --cluster records the admitted inventory', () => {
  let dynamo: DynamoLocal;
  let server: RunningCli | undefined;
  let port: number;
  let ca: Buffer;
  const env: Record<string, string> = {};
  const dir = mkdtempSync(join(tmpdir(), 'ecr-admission-inventory-e2e-'));
  const allowed = readFileSync(join(REPO_ROOT, 'examples/reviews/allowed-pod.json'), 'utf8');
  const withRequest = (changes: Record<string, unknown>) => {
    const review = JSON.parse(allowed);
    return JSON.stringify({ ...review, request: { ...review.request, ...changes } });
  };

  beforeAll(async () => {
    requireBuiltCli();
    dynamo = await startDynamoLocal();
    await createDecisionTable(dynamo.client(), 'decisions');
    const caFile = join(dir, 'ca.pem');
    server = startCli(
      [
        'serve',
        '--port',
        '0',
        '--table',
        'decisions',
        '--cluster',
        'staging',
        '--ca-out',
        caFile,
        ...EXAMPLE_ARGS,
      ],
      {
        env: {
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_REGION: 'us-east-1',
        },
      },
    );
    port = Number((await server.waitForStdout(/^listening on https:\/\/127\.0\.0\.1:(\d+)$/))[1]);
    ca = readFileSync(caFile);
  });
  afterAll(async () => {
    await server?.kill();
    await dynamo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the bare path under --cluster and /validate/NAME under NAME; a dry run and a bad name write nothing', async () => {
    const answers = [
      await postToServe(port, ca, '/validate', allowed),
      await postToServe(port, ca, '/validate/prod-eu?timeout=5s', withRequest({ uid: 'u-2' })),
      await postToServe(port, ca, '/validate/dry-run', withRequest({ uid: 'u-3', dryRun: true })),
      await postToServe(port, ca, '/validate/prod.eu', withRequest({ uid: 'u-4' })),
    ];

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 400]);
    expect(answers.slice(0, 3).map((a) => JSON.parse(a.body).response.allowed)).toEqual([true, true, true]);
    const table = new DynamoDecisionStore({ tableName: 'decisions', client: dynamo.client() });
    const records = (await table.listInventory(DIGEST)).records;
    expect(records.map((r) => `${r.cluster} ${r.namespace} ${r.owner.kind}/${r.owner.name}`)).toEqual([
      'prod-eu shop Pod/api-7d9f8',
      'staging shop Pod/api-7d9f8',
    ]);
    expect(records[0]).toMatchObject({
      repositoryName: 'team/api',
      image: expect.stringContaining('team/api:1.4.2'),
    });
  });

  it('review and check, with the same table, record nothing: they are not the webhook', async () => {
    const table = new DynamoDecisionStore({ tableName: 'decisions', client: dynamo.client() });
    const before = (await table.listInventory(DIGEST)).records.length;

    const review = await runCli(['review', '--table', 'decisions', ...EXAMPLE_ARGS], {
      stdin: JSON.stringify({
        ...JSON.parse(allowed),
        request: { ...JSON.parse(allowed).request, namespace: 'cli' },
      }),
      env,
    });
    const check = await runCli(
      ['check', '-f', 'examples/manifests/compliant.yaml', '--table', 'decisions', ...EXAMPLE_ARGS],
      { env },
    );

    expect(JSON.parse(review.stdout).response.allowed).toBe(true);
    expect(check.code).toBe(0);
    expect((await table.listInventory(DIGEST)).records).toHaveLength(before);
  });
});
