/**
 * The fault tier's scenarios, shared by the tests (which assert counts) and `npm run bench` (which
 * prints times): the real AWS SDK against the fault-injecting local ECR endpoint, and DynamoDB Local
 * behind a proxy that pauses or black-holes it. Everything on 127.0.0.1, every loop bounded.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { EcrSdkReads } from '../../src/adapters/ecr-sdk';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { AdmissionService } from '../../src/application/admission-service';
import type { InventoryRecorder } from '../../src/application/inventory-recorder';
import type { AdmissionRequest, Decision } from '../../src/domain/admission';
import type { DecisionStore } from '../../src/domain/decision-store';
import { parsePolicy } from '../../src/domain/policy';
import type { RawSnapshot } from './local-ecr';

export const OWN = '111122223333';
export const REGION = 'us-east-1';
export const HOST = `${OWN}.dkr.ecr.${REGION}.amazonaws.com`;
export const GOOD_IMAGE = `${HOST}/team/api:1.0.0`;
/** The digest GOOD_IMAGE's tag points at in SNAPSHOT. */
export const GOOD_DIGEST = `sha256:${'a'.repeat(64)}`;
export const DEADLINE_MS = 800;
/** Short per-call timeouts, so that a fault ends by them well within a test's time. */
export const FAST_TIMEOUTS = { connectionTimeoutMs: 200, requestTimeoutMs: 400, maxAttempts: 2 };
/** Words of AWS's own error text, which must never reach a message. */
export const AWS_TEXT =
  /Exception|Rate exceeded|not authorized|arn:aws|injected|ECONN|socket|TimeoutError|Deserialization|<html/i;

export const SNAPSHOT: RawSnapshot = {
  registries: [
    {
      registryId: OWN,
      region: REGION,
      scanningConfiguration: { scanType: 'BASIC', rules: [] },
      repositories: [
        {
          repository: { repositoryName: 'team/api', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
          scanningConfiguration: {
            repositoryName: 'team/api',
            scanOnPush: true,
            scanFrequency: 'SCAN_ON_PUSH',
          },
          images: [
            {
              imageDigest: GOOD_DIGEST,
              imageTags: ['1.0.0'],
              imagePushedAt: '2026-11-20T09:00:00Z',
              scan: {
                imageScanStatus: { status: 'COMPLETE' },
                imageScanFindings: {
                  findingSeverityCounts: { HIGH: 1 },
                  imageScanCompletedAt: '2026-11-20T10:00:00Z',
                },
              },
            },
          ],
        },
      ],
    },
  ],
};

export function podRequest(uid: string, images: readonly string[]): AdmissionRequest {
  return {
    uid,
    kind: { group: '', kind: 'Pod' },
    subresource: '',
    namespace: 'shop',
    name: uid,
    operation: 'CREATE',
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: uid, namespace: 'shop' },
      spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
    },
    dryRun: false,
  };
}

export interface LiveService {
  readonly service: AdmissionService;
  readonly reads: EcrSdkReads;
}

/** The admission core on the real SDK against the local ECR endpoint, with short timeouts. */
export function liveService(
  ecrUrl: string,
  options: {
    store?: DecisionStore;
    deadlineMs?: number;
    maxLookupsPerReview?: number;
    inventory?: InventoryRecorder;
    onInventoryFailure?: (error: unknown) => void;
  } = {},
): LiveService {
  const reads = new EcrSdkReads({
    ownAccountId: OWN,
    timeouts: FAST_TIMEOUTS,
    clientConfig: {
      endpoint: ecrUrl,
      retryStrategy: new ConfiguredRetryStrategy(FAST_TIMEOUTS.maxAttempts, () => 20),
    },
  });
  const service = new AdmissionService({
    policy: parsePolicy({}),
    facts: new EcrFactsSource(reads),
    store: options.store ?? new MemoryDecisionStore(),
    deadlineMs: options.deadlineMs ?? DEADLINE_MS,
    ...(options.maxLookupsPerReview && { maxLookupsPerReview: options.maxLookupsPerReview }),
    ...(options.inventory && { inventory: options.inventory }),
    ...(options.onInventoryFailure && { onInventoryFailure: options.onInventoryFailure }),
  });
  return { service, reads };
}

/** The environment the SDK reads its credentials and settings from in the fault tier. */
export const FAULT_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDOWN',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: REGION,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reviews until the answer is allowed, at most `maxTries` times `everyMs` apart: the tries it took. */
export async function untilAllowed(
  review: () => Promise<Decision>,
  maxTries = 40,
  everyMs = 100,
): Promise<{ tries: number; decision: Decision; ms: number }> {
  const started = performance.now();
  let decision = await review();
  let tries = 1;
  while (!decision.allowed && tries < maxTries) {
    await sleep(everyMs);
    decision = await review();
    tries++;
  }
  return { tries, decision, ms: Math.round(performance.now() - started) };
}

export function codes(decision: Decision): string[] {
  return [...new Set(decision.violations.map((v) => v.code))];
}
