/**
 * Figure 3: a rollout burst. 300 Pods of one Deployment (3 images, none cached yet) are admitted at
 * once while the local ECR endpoint answers every call after 25 ms. Measured: the ECR calls the burst
 * makes over the calls that judging the 3 images once takes (counted on the wire), and the p99 of the
 * admissions' latencies. Beside it, in the same run and against the same endpoint, the AWS sample's
 * pattern (bench/lib/uncached-admission.ts): every admission asks ECR about every image.
 */

import { loadPolicyFile } from '../src/adapters/files';
import type { AdmissionRequest, Decision } from '../src/domain/admission';
import { parseAdmissionReview } from '../src/http/admission-review';
import { createAdmissionService, liveFactsSource } from '../src/wiring/admission';
import { type AwsSetting, sharedAwsSetting } from './lib/aws-setting';
import { assertBench, type Figure, figure, medians, percentile, reference } from './lib/figures';
import { UncachedAdmission } from './lib/uncached-admission';
import {
  DEPLOYMENT_IMAGES,
  NOW,
  OWN_ACCOUNT,
  POLICY_FILE,
  podReviewBody,
  WARMUP_IMAGES,
} from './lib/workloads';

const PODS = 300;
const SMALL_BURST = 30;
const ECR_DELAY_MS = 25;
const RUNS = 5;

interface Admission {
  review(request: AdmissionRequest): Promise<Decision>;
}

const fixed = new Date(NOW);
const now = () => fixed;
const policy = loadPolicyFile(POLICY_FILE);

function product(tableName: string): Admission {
  return createAdmissionService({ policy, tableName, ownAccountId: OWN_ACCOUNT, now });
}

function baseline(): UncachedAdmission {
  return new UncachedAdmission(policy, liveFactsSource({ policy, ownAccountId: OWN_ACCOUNT, now }), now);
}

function requests(count: number): AdmissionRequest[] {
  return Array.from(
    { length: count },
    (_, i) => parseAdmissionReview(podReviewBody(DEPLOYMENT_IMAGES, 10_000 + i)).request,
  );
}

interface Burst {
  readonly ecrCalls: number;
  readonly p99: number;
}

/**
 * All admissions start together; each one's latency runs from the start to its own answer. The
 * admission path has answered one review of other images before: its clients are connected, as in a
 * webhook that was running when the rollout began.
 */
async function burst(
  setting: AwsSetting,
  admission: Admission,
  batch: readonly AdmissionRequest[],
  mustAdmit = true,
): Promise<Burst> {
  await admission.review(parseAdmissionReview(podReviewBody(WARMUP_IMAGES, 1)).request);
  await setting.aws.reset();
  const started = performance.now();
  const latencies = await Promise.all(
    batch.map(async (request) => {
      const decision = await admission.review(request);
      assertBench(!mustAdmit || decision.allowed, `a rollout admission was denied: ${decision.message}`);
      return performance.now() - started;
    }),
  );
  return { ecrCalls: (await setting.aws.counts()).ecr, p99: percentile(latencies, 99) };
}

/** The most requests the SDK reported queued for a socket (its own warning, printed once here instead). */
let peakQueued = 0;
/** The most images of one baseline burst whose lookup failed (denied as not verified). */
let baselineFailures = 0;
const baselineCauses = new Set<string>();

/**
 * The baseline's thousands of concurrent ECR calls fill the SDK's socket pool (50 per client), and the
 * SDK warns on the console: counted here and reported once, below the table.
 */
async function withSocketWarningsCounted<T>(run: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const queued = /and (\d+) additional requests are enqueued/.exec(String(args[0]))?.[1];
    if (queued === undefined) return warn(...args);
    peakQueued = Math.max(peakQueued, Number(queued));
  };
  try {
    return await run();
  } finally {
    console.warn = warn;
  }
}

interface Run {
  single: number;
  ratio: number;
  smallRatio: number;
  p99: number;
  baselineRatio: number;
  baselineP99: number;
}

async function once(setting: AwsSetting, run: number): Promise<Run> {
  const pods = requests(PODS);
  const single = (await burst(setting, product(await setting.newTable()), pods.slice(0, 1))).ecrCalls;
  assertBench(single > 0, 'judging the images once made no ECR call');
  const small = await burst(setting, product(await setting.newTable()), pods.slice(0, SMALL_BURST));
  // Alternate which goes first, so that neither always meets a warmer machine.
  const measure = async () => burst(setting, product(await setting.newTable()), pods);
  const compare = async () => {
    const theirs = baseline();
    const result = await withSocketWarningsCounted(() => burst(setting, theirs, pods, false));
    baselineFailures = Math.max(baselineFailures, theirs.failures);
    for (const cause of theirs.failureCauses) baselineCauses.add(cause);
    return result;
  };
  let ours: Burst;
  let theirs: Burst;
  if (run % 2 === 0) {
    ours = await measure();
    theirs = await compare();
  } else {
    theirs = await compare();
    ours = await measure();
  }
  return {
    single,
    ratio: ours.ecrCalls / single,
    smallRatio: small.ecrCalls / single,
    p99: ours.p99,
    baselineRatio: theirs.ecrCalls / single,
    baselineP99: theirs.p99,
  };
}

export async function rolloutBurstFigures(): Promise<Figure[]> {
  const setting = await sharedAwsSetting();
  await setting.aws.setEcrDelay(ECR_DELAY_MS);
  try {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once(setting, i));
    const m = medians(runs);
    if (peakQueued > 0) {
      process.stderr.write(
        `(rollout, AWS sample pattern: up to ${peakQueued} requests queued for the SDK's sockets)\n`,
      );
    }
    if (baselineFailures > 0) {
      process.stderr.write(
        `(rollout, AWS sample pattern: up to ${baselineFailures} of ${PODS * 3} image lookups failed in one burst ` +
          `and were denied as not verified: ${[...baselineCauses].slice(0, 3).join('; ')})\n`,
      );
    }
    const name = `rollout: ${PODS} Pods, 3 uncached images, ECR ${ECR_DELAY_MS} ms`;
    return [
      figure(`${name}: ECR calls / calls to judge the images once`, m.ratio, 'x', '= 1'),
      figure(
        `rollout: ${SMALL_BURST} Pods: ECR calls / calls to judge the images once`,
        m.smallRatio,
        'x',
        '= 1',
      ),
      reference(`${name}: p99 latency`, m.p99, 'ms'),
      figure(`${name}: AWS sample pattern: ECR calls / ours`, m.baselineRatio / m.ratio, 'x', '> 1'),
      figure(`${name}: AWS sample pattern: p99 latency / ours`, m.baselineP99 / m.p99, 'x', '> 1'),
    ];
  } finally {
    await setting.aws.setEcrDelay(0);
  }
}
