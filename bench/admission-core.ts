/**
 * Figure 1: the admission core in process, every image a cache hit in the in-memory cache. Each review
 * is the whole webhook path a request takes in the Lambda or the server: the AdmissionReview body as
 * text, parsed, judged and formatted back to response text. Reviews run one after another on one
 * core; a review's latency is its own wall time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EcrFactsSource } from '../src/adapters/ecr-facts';
import { loadPolicyFile, loadSnapshotFile } from '../src/adapters/files';
import { MemoryDecisionStore } from '../src/adapters/memory-store';
import { AdmissionService } from '../src/application/admission-service';
import type { Facts } from '../src/domain/facts';
import { handleWebhookRequest } from '../src/http/webhook';
import { createAdmissionService } from '../src/wiring/admission';
import { assertBench, type Figure, figure, medians, percentile, reference } from './lib/figures';
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

/**
 * A service whose in-process cache also holds `extra` other images (their keys never asked for), to
 * show whether a review's cost grows with the cache (issue 17: it must not).
 */
async function serviceWithCached(extra: number): Promise<AdmissionService> {
  const fixed = new Date(NOW);
  const now = () => fixed;
  const store = new MemoryDecisionStore({ ttlMs: 60 * 60_000, maxEntries: extra + 1_000 });
  const facts = new EcrFactsSource(loadSnapshotFile(SNAPSHOT_FILE), now);
  const service = new AdmissionService({
    policy: loadPolicyFile(POLICY_FILE),
    facts,
    store,
    now: () => fixed,
  });
  const template = (await facts.lookup({
    registryId: '111122223333',
    region: 'us-east-1',
    repositoryName: 'team/api',
    tag: '1.4.2',
  })) as { status: 'found'; facts: Facts };
  assertBench(template.status === 'found', 'the example snapshot lacks team/api:1.4.2');
  for (let i = 0; i < extra; i++) {
    const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
    await store.put({
      facts: {
        ...template.facts,
        image: { ...template.facts.image, digest, tags: [] },
        repository: { ...template.facts.repository, repositoryName: `filler/${i % 1000}` },
      },
    });
  }
  return service;
}

/** The heap in use after a full collection (the collector exposed for the bench, as `--expose-gc` would). */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/**
 * Pod reviews with 100 and with 1,000,000 other images cached, side by side: the ratio is the figure.
 * The heap each cached image takes is printed for reference (the filler entries are the example's
 * facts with another digest and repository: an image with many findings takes more).
 */
export async function cacheSizeFigures(bodies: readonly string[]): Promise<Figure[]> {
  let perImage = 0;
  const p50 = async (extra: number) => {
    const before = heapAfterGc();
    const service = await serviceWithCached(extra);
    if (extra >= 1_000_000) perImage = (heapAfterGc() - before) / extra;
    await handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[0] });
    await reviewAll(service, bodies, WARMUP);
    const runs: Run[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await reviewAll(service, bodies, REVIEWS_PER_RUN / 4));
    return medians(runs).p50;
  };
  const small = await p50(100);
  const large = await p50(1_000_000);
  return [
    figure(
      'core, cache hit: Pod (4 images) p50 with 1,000,000 cached images / with 100',
      large / small,
      'x',
      '<= 1.1',
    ),
    reference('core, in-process cache: heap per cached image (1,000,000 cached)', perImage, 'B'),
  ];
}

/** The floor of any review: parsing the body and writing an answer as long, nothing judged. */
function floorAll(bodies: readonly string[], count: number): Run {
  const samples = new Float64Array(count);
  const started = performance.now();
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const body = bodies[i % bodies.length] as string;
    const t0 = performance.now();
    sink += JSON.stringify(JSON.parse(body)).length;
    samples[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - started;
  assertBench(sink > 0, 'the floor measured nothing');
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
  floorAll(bodies, WARMUP);
  const runs: Run[] = [];
  const floors: Run[] = [];
  // Side by side, run by run: the floor moves with the machine's load as the review does.
  for (let run = 0; run < RUNS; run++) {
    runs.push(await reviewAll(service, bodies, REVIEWS_PER_RUN));
    floors.push(floorAll(bodies, REVIEWS_PER_RUN));
  }
  const m = medians(runs);
  const floor = medians(floors);
  return [
    figure(
      `core, cache hit: ${label} review p50 / JSON floor p50 (parse + stringify)`,
      m.p50 / floor.p50,
      'x',
      '<= 1.5',
    ),
    reference(`core, cache hit: ${label} review p50`, m.p50 * 1000, 'µs'),
    reference(`core, cache hit: ${label} review p99`, m.p99 * 1000, 'µs'),
    reference(`core, cache hit: ${label} reviews per second (1 core)`, m.perSecond, '/s'),
  ];
}

export async function admissionCoreFigures(): Promise<Figure[]> {
  const pods = Array.from({ length: DISTINCT_BODIES }, (_, i) => podReviewBody(POD_IMAGES, i));
  const deployments = Array.from({ length: DISTINCT_BODIES }, (_, i) => deploymentReviewBody(i));
  return [
    ...(await measure('Pod (4 images)', pods, 4)),
    ...(await measure('Deployment (3 images)', deployments, 3)),
    ...(await cacheSizeFigures(pods)),
  ];
}
