/**
 * Event-to-cache time of the refresh workflow, run locally: from handing an `ECR Image Scan` event to
 * the very ASL file (aws-local-stepfunctions) until the image's entries are in DynamoDB Local, with the
 * live ECR adapter reading the local ECR endpoint. A figure, not a test: it prints the median and p90
 * of 30 runs. Run: `npx tsx bench/event-to-cache.ts`.
 */

import { parsePolicy } from '../src/domain/policy';
import { runWorkflowLocally } from '../src/wiring/local-workflow';
import { createRefreshService } from '../src/wiring/refresh';
import { createDecisionTable, startDynamoLocal } from '../test/helpers/dynamodb-local';
import { startLocalEcr } from '../test/helpers/local-ecr';

const OWN = '111122223333';
const RUNS = 30;

async function main(): Promise<void> {
  const digests = Array.from({ length: RUNS }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
  const dynamo = await startDynamoLocal();
  const ecr = await startLocalEcr(
    {
      registries: [
        {
          registryId: OWN,
          region: 'us-east-1',
          scanningConfiguration: { scanType: 'BASIC', rules: [] },
          repositories: [
            {
              repository: { repositoryName: 'team/app', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
              scanningConfiguration: {
                repositoryName: 'team/app',
                scanOnPush: true,
                scanFrequency: 'SCAN_ON_PUSH',
              },
              images: digests.map((imageDigest, i) => ({
                imageDigest,
                imageTags: [`1.0.${i}`],
                scan: {
                  imageScanStatus: { status: 'COMPLETE' },
                  imageScanFindings: {
                    findingSeverityCounts: { HIGH: 1 },
                    imageScanCompletedAt: '2026-11-20T10:00:00Z',
                  },
                },
              })),
            },
          ],
        },
      ],
    },
    { ownAccountId: OWN },
  );
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
  });
  try {
    await createDecisionTable(dynamo.client(), 'decisions');
    const service = createRefreshService({
      policy: parsePolicy({}),
      tableName: 'decisions',
      region: 'us-east-1',
      ownAccountId: OWN,
    });
    const times: number[] = [];
    for (const [i, digest] of digests.entries()) {
      const event = {
        version: '0',
        id: `bench-${i}`,
        'detail-type': 'ECR Image Scan',
        source: 'aws.ecr',
        account: OWN,
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: {
          'scan-status': 'COMPLETE',
          'repository-name': 'team/app',
          'image-digest': digest,
          'image-tags': [`1.0.${i}`],
        },
      };
      const started = performance.now();
      const run = await runWorkflowLocally(service, event);
      const elapsed = performance.now() - started;
      if (run.records[0]?.action !== 'written')
        throw new Error(`run ${i} wrote nothing: ${JSON.stringify(run)}`);
      if (i > 0) times.push(elapsed); // the first run loads the state machine library and warms the clients
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]?.toFixed(1);
    console.log(
      `event-to-cache, local refresh workflow (${times.length} runs, ECR calls ${ecr.totalEcrCalls()}):`,
    );
    console.log(
      `  median ${at(0.5)} ms, p90 ${at(0.9)} ms (ASL interpretation, ECR reads, DynamoDB conditional writes)`,
    );
  } finally {
    await ecr.close();
    await dynamo.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
