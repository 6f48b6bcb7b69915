/**
 * Figure 1: the admission core in process, every image a cache hit in the in-memory cache. Each review
 * is the whole webhook path a request takes in the Lambda or the server: the AdmissionReview body as
 * text, parsed, judged and formatted back to response text. Reviews run one after another on one
 * core; a review's latency is its own wall time.
 */
import { EcrFactsSource } from '../src/adapters/ecr-facts';
import { loadPolicyFile, loadSnapshotFile } from '../src/adapters/files';
import type { AdmissionService } from '../src/application/admission-service';
import { handleWebhookRequest } from '../src/http/webhook';
import { createAdmissionService } from '../src/wiring/admission';
import { assertBench, type Figure, figure, medians, percentile } from './lib/figures';
import {
  deploymentReviewBody,
  NOW,
  POD_IMAGES,
  POLICY_FILE,
  podReviewBody,
  SNAPSHOT_FILE,
} from './lib/workloads';

const RUNS = 5;
const WARMUP = 3_000;
const REVIEWS_PER_RUN = 20_000;
/** Distinct bodies (uid, name) cycled through, so that nothing can be answered from a previous body. */
const DISTINCT_BODIES = 64;

interface Run {
  p50: number;
  p99: number;
  perSecond: number;
}

function inMemoryService(): AdmissionService {
  const fixed = new Date(NOW);
  const now = () => fixed;
  return createAdmissionService({
    policy: loadPolicyFile(POLICY_FILE),
    facts: new EcrFactsSource(loadSnapshotFile(SNAPSHOT_FILE), now),
    now,
    warmCacheTtlMs: 5 * 60_000,
  });
}

async function reviewAll(service: AdmissionService, bodies: readonly string[], count: number): Promise<Run> {
  const samples = new Float64Array(count);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const body = bodies[i % bodies.length];
    const t0 = performance.now();
    await handleWebhookRequest(service, { method: 'POST', path: '/validate?timeout=10s', body });
    samples[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - started;
  const list = Array.from(samples);
  return { p50: percentile(list, 50), p99: percentile(list, 99), perSecond: (count / elapsed) * 1000 };
}

async function measure(label: string, bodies: readonly string[], expectedHits: number): Promise<Figure[]> {
  const service = inMemoryService();
  // The first review fills the cache; from then on every image is a hit.
  await handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[0] });
  const check = await handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[1] });
  const cache = JSON.parse(check.body).response?.auditAnnotations?.cache;
  assertBench(check.statusCode === 200, `${label}: HTTP ${check.statusCode} ${check.body}`);
  assertBench(cache === `hit=${expectedHits},miss=0`, `${label}: expected only cache hits, got ${cache}`);

  await reviewAll(service, bodies, WARMUP);
  const runs: Run[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await reviewAll(service, bodies, REVIEWS_PER_RUN));
  const m = medians(runs);
  return [
    figure(`core, cache hit: ${label} review p50`, m.p50 * 1000, 'µs', '< 1000'),
    figure(`core, cache hit: ${label} review p99`, m.p99 * 1000, 'µs', '< 1000'),
    figure(`core, cache hit: ${label} reviews per second (1 core)`, m.perSecond, '/s', '>= 10000'),
  ];
}

export async function admissionCoreFigures(): Promise<Figure[]> {
  const pods = Array.from({ length: DISTINCT_BODIES }, (_, i) => podReviewBody(POD_IMAGES, i));
  const deployments = Array.from({ length: DISTINCT_BODIES }, (_, i) => deploymentReviewBody(i));
  return [
    ...(await measure('Pod (4 images)', pods, 4)),
    ...(await measure('Deployment (3 images)', deployments, 3)),
  ];
}
