/**
 * Figure 2: what one admission sends to ECR and DynamoDB, counted on the wire by the local ECR endpoint
 * and a counting proxy in front of DynamoDB Local. The admission path is the production wiring
 * (`createAdmissionService` with a table: DynamoDB behind the warm in-process layer, live ECR through
 * the SDK) with the Lambda's defaults (warm TTL 30 s, at most 5,000 entries). "A new process" is a
 * new service: an empty warm layer, as in a Lambda cold start.
 */

import { loadPolicyFile } from '../src/adapters/files';
import type { AdmissionService } from '../src/application/admission-service';
import { parseAdmissionReview } from '../src/http/admission-review';
import { type AdmissionWiringOptions, createAdmissionService } from '../src/wiring/admission';
import { type AwsSetting, sharedAwsSetting } from './lib/aws-setting';
import { assertBench, type Figure, figure, medians } from './lib/figures';
import type { WireCounts } from './lib/local-aws';
import {
  NOW,
  OWN_ACCOUNT,
  POD_IMAGES,
  POD_IMAGES_BY_DIGEST,
  POLICY_FILE,
  type PodImages,
  podReviewBody,
} from './lib/workloads';

const RUNS = 5;
const IMAGES = 4;

let reviews = 0;

function service(tableName: string, overrides: Partial<AdmissionWiringOptions> = {}): AdmissionService {
  const fixed = new Date(NOW);
  return createAdmissionService({
    policy: loadPolicyFile(POLICY_FILE),
    tableName,
    ownAccountId: OWN_ACCOUNT,
    now: () => fixed,
    warmCacheTtlMs: 30_000,
    warmCacheMaxEntries: 5_000,
    ...overrides,
  });
}

/** Reviews a Pod and returns what crossed the wire meanwhile. */
async function counted(
  setting: AwsSetting,
  admission: AdmissionService,
  images: PodImages,
): Promise<WireCounts> {
  await setting.aws.reset();
  const decision = await admission.review(parseAdmissionReview(podReviewBody(images, ++reviews)).request);
  assertBench(
    decision.cacheHits + decision.cacheMisses === IMAGES,
    `expected ${IMAGES} judged images, got ${decision.auditAnnotations.cache}`,
  );
  return setting.aws.counts();
}

interface Run {
  tagEcr: number;
  tagDynamo: number;
  digestEcr: number;
  digestDynamo: number;
  warmEcr: number;
  warmDynamo: number;
  expiredDynamo: number;
  boundedDynamo: number;
}

async function once(setting: AwsSetting): Promise<Run> {
  const table = await setting.newTable();
  // Fills the table: every image a miss, gathered from ECR and written through.
  const prime = await counted(setting, service(table), POD_IMAGES);
  assertBench(prime.ecr > 0, 'the priming admission made no ECR call');

  const byTag = service(table);
  const tag = await counted(setting, byTag, POD_IMAGES);
  const digest = await counted(setting, service(table), POD_IMAGES_BY_DIGEST);
  const warm = await counted(setting, byTag, POD_IMAGES);

  // The warm layer forgets after its TTL, and holds no more than its bound.
  const shortLived = service(table, { warmCacheTtlMs: 100 });
  await counted(setting, shortLived, POD_IMAGES);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const expired = await counted(setting, shortLived, POD_IMAGES);
  const small = service(table, { warmCacheMaxEntries: 2 });
  await counted(setting, small, POD_IMAGES);
  const bounded = await counted(setting, small, POD_IMAGES);

  return {
    tagEcr: tag.ecr,
    tagDynamo: tag.dynamo,
    digestEcr: digest.ecr,
    digestDynamo: digest.dynamo,
    warmEcr: warm.ecr,
    warmDynamo: warm.dynamo,
    expiredDynamo: expired.dynamo,
    boundedDynamo: bounded.dynamo,
  };
}

export async function callsPerAdmissionFigures(): Promise<Figure[]> {
  const setting = await sharedAwsSetting();
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once(setting));
  const m = medians(runs);
  const pod = `Pod (${IMAGES} images)`;
  return [
    figure(`calls: cache hit, new process, ${pod} by tag: ECR calls`, m.tagEcr, 'calls', '= 0'),
    figure(
      `calls: cache hit, new process, ${pod} by tag: DynamoDB requests`,
      m.tagDynamo,
      'requests',
      '<= 1',
    ),
    figure(`calls: cache hit, new process, ${pod} by digest: ECR calls`, m.digestEcr, 'calls', '= 0'),
    figure(
      `calls: cache hit, new process, ${pod} by digest: DynamoDB requests`,
      m.digestDynamo,
      'requests',
      '<= 1',
    ),
    figure(`calls: repeated admission, warm process: ECR calls`, m.warmEcr, 'calls', '= 0'),
    figure(`calls: repeated admission, warm process: DynamoDB requests`, m.warmDynamo, 'requests', '= 0'),
    figure(
      `calls: repeated admission after the warm TTL (0.1 s) passed: DynamoDB requests`,
      m.expiredDynamo,
      'requests',
      '= 1',
    ),
    figure(
      `calls: repeated admission, warm layer bounded to 2 entries: DynamoDB requests`,
      m.boundedDynamo,
      'requests',
      '= 1',
    ),
  ];
}
