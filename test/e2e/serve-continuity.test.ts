/**
 * The continuity guard through `serve --table`, run as the built command against DynamoDB Local: the
 * table holds team/api:1.5.0 as the workflow stored it (denied for a CRITICAL since 2026-11-25) and an
 * inventory record of ReplicaSet api-7d9 running it since 2026-11-20. A re-created Pod of that
 * ReplicaSet is admitted with a warning; a new Deployment, and a Pod of a new ReplicaSet, are denied.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { loadSnapshotFile } from '../../src/adapters/files';
import { postToServe, REPO_ROOT, type RunningCli, requireBuiltCli, startCli } from '../helpers/cli';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';

jest.setTimeout(60_000);

const NOW = '2026-11-27T12:00:00Z';
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api:1.5.0';
const SNAPSHOT = join(REPO_ROOT, 'examples/registry-snapshot.json');

describe('serve --table: the continuity guard', () => {
  let dynamo: DynamoLocal;
  let server: RunningCli | undefined;
  let port: number;
  let ca: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'ecr-admission-continuity-e2e-'));
  const allowed = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/reviews/allowed-pod.json'), 'utf8'));

  /** The example review, for `object`, with a fresh uid. */
  const reviewOf = (uid: string, object: Record<string, unknown>, kind = 'Pod') =>
    JSON.stringify({
      ...allowed,
      request: {
        ...allowed.request,
        uid,
        kind: { ...allowed.request.kind, kind, group: kind === 'Pod' ? '' : 'apps' },
        object,
      },
    });
  const podOf = (replicaSet: string) => ({
    ...allowed.request.object,
    metadata: {
      ...allowed.request.object.metadata,
      name: `${replicaSet}-x1`,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: 'rs', controller: true },
      ],
    },
    spec: { containers: [{ name: 'api', image: IMAGE }] },
  });

  beforeAll(async () => {
    requireBuiltCli();
    dynamo = await startDynamoLocal();
    await createDecisionTable(dynamo.client(), 'decisions');
    // What the workflow stored, and what the webhook recorded before the finding appeared.
    const table = new DynamoDecisionStore({ tableName: 'decisions', client: dynamo.client() });
    const found = await new EcrFactsSource(loadSnapshotFile(SNAPSHOT), () => new Date(NOW)).lookup({
      registryId: '111122223333',
      region: 'us-east-1',
      repositoryName: 'team/api',
      tag: '1.5.0',
    });
    if (found.status !== 'found') throw new Error('team/api:1.5.0 is not in the example snapshot');
    await table.put({
      facts: found.facts,
      verdict: {
        violations: [{ code: 'SEVERITY_LIMIT_EXCEEDED', image: IMAGE, message: '1 CRITICAL' }],
        policyHash: 'h',
        judgedAt: '2026-11-25T00:00:00.000Z',
        violatingSince: '2026-11-25T00:00:00.000Z',
      },
    });
    await table.recordAdmitted(
      {
        cluster: 'prod',
        namespace: allowed.request.namespace,
        owner: { kind: 'ReplicaSet', name: 'api-7d9' },
        image: IMAGE,
        registryId: '111122223333',
        region: 'us-east-1',
        repositoryName: 'team/api',
        digest: found.facts.image.digest,
      },
      new Date('2026-11-20T00:00:00Z'),
      0,
    );
    const policy = join(dir, 'policy.yaml');
    // The defaults (the example policy's exception would admit the CRITICAL), and the guard on.
    writeFileSync(policy, 'continuity: { recreate: warn, graceDays: 14 }\n');
    const caFile = join(dir, 'ca.pem');
    server = startCli(
      [
        'serve',
        '--port',
        '0',
        '--table',
        'decisions',
        '--ca-out',
        caFile,
        '--policy',
        policy,
        '--snapshot',
        SNAPSHOT,
        '--now',
        NOW,
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

  it('admits the re-created Pod with a warning and the audit annotation; denies the new ReplicaSet and the Deployment', async () => {
    const answers = await Promise.all([
      postToServe(port, ca, '/validate/prod', reviewOf('u-1', podOf('api-7d9'))),
      postToServe(port, ca, '/validate/prod', reviewOf('u-2', podOf('api-8e1'))),
      postToServe(
        port,
        ca,
        '/validate/prod',
        reviewOf(
          'u-3',
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'api', namespace: allowed.request.namespace },
            spec: {
              selector: { matchLabels: { app: 'api' } },
              template: {
                metadata: { labels: { app: 'api' } },
                spec: { containers: [{ name: 'api', image: IMAGE }] },
              },
            },
          },
          'Deployment',
        ),
      ),
    ]);
    const responses = answers.map((a) => JSON.parse(a.body).response);

    expect(responses.map((r) => r.allowed)).toEqual([true, false, false]);
    expect(responses[0].warnings.join('\n')).toContain('grace ends 2026-12-09');
    expect(responses[0].auditAnnotations).toMatchObject({
      continuity: 'SEVERITY_LIMIT_EXCEEDED until 2026-12-09',
    });
  });
});
