/**
 * The admission core's whole case table, run again through the live ECR adapter (the real AWS SDK)
 * against the local ECR endpoint serving each case's snapshot: the same judgements as the snapshot
 * adapter. Registries whose scanning configuration the snapshot holds are read through a configured
 * role (the local endpoint answers the scanning APIs for the role's account, as ECR does); the others
 * are another account's registry, whose scanning configuration cannot be read.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { EcrSdkReads } from '../../src/adapters/ecr-sdk';
import { admissionCases as ADMISSION_CASES, DEFAULT_NOW } from '../cases/admission-cases';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';
import { runCase } from '../helpers/run-case';

jest.setTimeout(60_000);

/** An account no case uses: the caller's own registry is never one of the cases'. */
const CALLER = '000000000000';

describe('the admission case table through the live ECR adapter', () => {
  let ecr: LocalEcr;
  const saved = { ...process.env };

  beforeAll(async () => {
    ecr = await startLocalEcr({ registries: [] }, { ownAccountId: CALLER, findingsPageSize: 10 });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_STS: ecr.url,
      AWS_ACCESS_KEY_ID: 'AKIDCALLER',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
  });

  it.each(ADMISSION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, admissionCase) => {
    const snapshot = admissionCase.snapshot as unknown as RawSnapshot;
    ecr.setSnapshot(snapshot);
    const readable = [
      ...new Set(snapshot.registries.filter((r) => r.scanningConfiguration).map((r) => r.registryId)),
    ];
    const reads = new EcrSdkReads({
      ownAccountId: CALLER,
      registryRoles: readable.map((accountId) => ({
        accountId,
        roleArn: `arn:aws:iam::${accountId}:role/ecr-admission-read`,
      })),
      clientConfig: { retryStrategy: new ConfiguredRetryStrategy(2, () => 5) },
    });

    await runCase(admissionCase, new EcrFactsSource(reads, () => new Date(admissionCase.now ?? DEFAULT_NOW)));
  });
});
