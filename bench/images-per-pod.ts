/**
 * Images per Pod (issue 17): the core review of Pods naming 1, 10, 50, 100 and 200 distinct images, every
 * image a cache hit, side by side in one process; the figure is the cost per image of the 200-image Pod
 * over that of the 50-image Pod, once the review's fixed cost is spread: flat when nothing per image
 * grows with the Pod. Absolute p50s are printed for reference.
 *
 * Run alone: `npx tsx bench/images-per-pod.ts`.
 */
import type { Facts, FactsSource, ImageLookup } from '../src/domain/facts';
import { parsePolicy } from '../src/domain/policy';
import { handleWebhookRequest } from '../src/http/webhook';
import { createAdmissionService } from '../src/wiring/admission';
import { assertBench, type Figure, figure, formatTable, median } from './lib/figures';
import { NOW, podReviewBody } from './lib/workloads';

const HOST = '111122223333.dkr.ecr.us-east-1.amazonaws.com';
const SIZES: readonly number[] = [1, 10, 50, 100, 200];
const RUNS = 5;
/** Reviews per run of the 10-image Pod; each size reviews about as many images in all. */
const REVIEWS = 1_000;

/** Clean facts for any image asked about: an immutable, scanned repository, no findings. */
function factsOf(lookup: ImageLookup): Facts {
  const n = Number(/svc-(\d+)$/.exec(lookup.repositoryName)?.[1] ?? 0);
  return {
    repository: {
      registryId: lookup.registryId,
      region: lookup.region,
      repositoryName: lookup.repositoryName,
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
      repositoryScanning: { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
    },
    image: {
      digest: `sha256:${n.toString(16).padStart(64, '0')}`,
      tags: ['1.0'],
      scan: { status: 'COMPLETE', completedAt: NOW, severityCounts: {}, findings: [] },
    },
    gatheredAt: NOW,
  };
}

const images = (count: number) => Array.from({ length: count }, (_, i) => `${HOST}/team/svc-${i}:1.0`);

interface Subject {
  readonly count: number;
  readonly service: ReturnType<typeof createAdmissionService>;
  readonly bodies: readonly string[];
}

/** A service whose cache holds the Pods' images, and the bodies of Pods naming `count` of them. */
async function subject(count: number): Promise<Subject> {
  const fixed = new Date(NOW);
  const source: FactsSource = { lookup: async (lookup) => ({ status: 'found', facts: factsOf(lookup) }) };
  const service = createAdmissionService({
    policy: parsePolicy({}),
    facts: source,
    now: () => fixed,
    // The first review looks every image up; from then on every one is a hit.
    maxLookupsPerReview: Math.max(...SIZES),
    maxLookupsInFlight: Math.max(...SIZES),
    warmCacheMaxEntries: 10_000,
  });
  const bodies = Array.from({ length: 16 }, (_, i) =>
    podReviewBody({ initContainers: [], containers: images(count) }, i),
  );
  await handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[0] });
  const check = await handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[1] });
  const response = JSON.parse(check.body).response;
  assertBench(response?.allowed === true, `${count} images: not allowed: ${check.body.slice(0, 300)}`);
  assertBench(
    response?.auditAnnotations?.cache === `hit=${count},miss=0`,
    `${count} images: expected only hits, got ${response?.auditAnnotations?.cache}`,
  );
  return { count, service, bodies };
}

/** The p50 (µs) of one run of a subject's reviews, the same number of images reviewed by every size. */
async function runP50(s: Subject): Promise<number> {
  const reviews = Math.max(20, Math.round((REVIEWS * 10) / s.count));
  const samples: number[] = [];
  for (let i = 0; i < reviews; i++) {
    const t0 = performance.now();
    await handleWebhookRequest(s.service, {
      method: 'POST',
      path: '/validate',
      body: s.bodies[i % s.bodies.length],
    });
    samples.push(performance.now() - t0);
  }
  return median(samples) * 1000;
}

export async function imagesPerPodFigures(): Promise<Figure[]> {
  const subjects = [];
  for (const count of SIZES) subjects.push(await subject(count));
  // Side by side: every size in every run, so that a busy moment of the machine falls on all of them.
  const runs = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  for (const s of subjects) await runP50(s);
  for (let run = 0; run < RUNS; run++) {
    for (const s of subjects) runs.get(s.count)?.push(await runP50(s));
  }
  const p50 = new Map(SIZES.map((n) => [n, median(runs.get(n) ?? [])]));
  const most = Math.max(...SIZES);
  const perImage = (count: number) => (p50.get(count) as number) / count;
  const shown = SIZES.map((n) => `${n}: ${(p50.get(n) as number).toFixed(0)} µs`).join(', ');
  return [
    // Linear in the images: the cost of one more image does not grow with the Pod.
    figure(
      `images per Pod: cost per image, ${most} images / 50 (p50 ${shown})`,
      perImage(most) / perImage(50),
      'x',
      '<= 1.2',
    ),
  ];
}

if (require.main === module) {
  imagesPerPodFigures()
    .then((figures) => process.stdout.write(`${formatTable(figures)}\n`))
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    });
}
