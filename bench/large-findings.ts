/**
 * Images with very many findings (issue 14): the core review of a Pod whose image has 20,000 findings,
 * as a ratio of the same review with none (side by side, one process), under the default policy and
 * under risk-based rules (`countOnly` and an exception, which walk the findings); and the size of the
 * decision cache item such an image takes (compressed facts), against DynamoDB's 400 KB limit.
 *
 * Run alone: `npx tsx bench/large-findings.ts`.
 */
import { encodeJson, FACTS_LAYOUT, ITEM_LIMIT_BYTES } from '../src/adapters/dynamodb-store';
import type { Facts, FactsSource, Finding, ImageLookup } from '../src/domain/facts';
import { parsePolicy } from '../src/domain/policy';
import { handleWebhookRequest } from '../src/http/webhook';
import { createAdmissionService } from '../src/wiring/admission';
import { manyFindings } from '../test/helpers/many-findings';
import { assertBench, type Figure, figure, formatTable, median } from './lib/figures';
import { NOW, podReviewBody } from './lib/workloads';

const HOST = '111122223333.dkr.ecr.us-east-1.amazonaws.com';
const IMAGE = `${HOST}/team/big:1.0`;
const RUNS = 5;
const REVIEWS = 5_000;
function factsWith(list: Finding[], platforms?: Facts['image']['platforms']): Facts {
  return {
    repository: {
      registryId: '111122223333',
      region: 'us-east-1',
      repositoryName: 'team/big',
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
      repositoryScanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' },
    },
    image: {
      digest: `sha256:${'b'.repeat(64)}`,
      tags: ['1.0'],
      ...(platforms
        ? { platforms }
        : { scan: { status: 'ACTIVE', completedAt: NOW, severityCounts: {}, findings: list } }),
    },
    gatheredAt: NOW,
  };
}

const RISK_POLICY = {
  rules: {
    maxSeverityCounts: { CRITICAL: 0, HIGH: 0 },
    countOnly: { fixAvailable: ['YES', 'PARTIAL'], minAgeDays: 14 },
    ignoreFindings: [{ id: 'CVE-2026-10007', expires: '2027-01-31', ticket: 'SEC-1' }],
  },
};

/** Median over runs of the p50 review time (µs) of a Pod naming the image, every review a cache hit. */
async function reviewMicros(facts: Facts, policy: unknown): Promise<number> {
  const fixed = new Date(NOW);
  const source: FactsSource = { lookup: async (_: ImageLookup) => ({ status: 'found', facts }) };
  const service = createAdmissionService({ policy: parsePolicy(policy), facts: source, now: () => fixed });
  const bodies = Array.from({ length: 16 }, (_, i) =>
    podReviewBody({ initContainers: [], containers: [IMAGE] }, i),
  );
  const first = await handleWebhookRequest(service, { method: 'POST', path: '/validate', body: bodies[0] });
  assertBench(JSON.parse(first.body).response?.allowed === true, `review not allowed: ${first.body}`);
  const p50s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const samples: number[] = [];
    for (let i = 0; i < REVIEWS; i++) {
      const t0 = performance.now();
      await handleWebhookRequest(service, {
        method: 'POST',
        path: '/validate',
        body: bodies[i % bodies.length],
      });
      samples.push(performance.now() - t0);
    }
    p50s.push(median(samples));
  }
  return median(p50s) * 1000;
}

function itemKilobytes(facts: Facts): number {
  const attribute = encodeJson({ ...facts, layout: FACTS_LAYOUT });
  return (attribute.B?.byteLength ?? Buffer.byteLength(attribute.S ?? '')) / 1024;
}

export async function largeFindingsFigures(): Promise<Figure[]> {
  const none = factsWith([]);
  const many = factsWith(manyFindings(20_000));
  const index = factsWith(
    [],
    ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/s390x'].map((platform, p) => ({
      platform,
      digest: `sha256:${String(p).repeat(64)}`,
      found: true,
      scan: {
        status: 'ACTIVE',
        completedAt: NOW,
        severityCounts: {},
        findings: manyFindings(5_000, (i) => `CVE-2026-${p}${10_000 + ((i * 7919) % 89_999)}`),
      },
    })),
  );
  const figures: Figure[] = [];
  for (const [label, policy] of [
    ['default policy', {}],
    ['countOnly and an exception', RISK_POLICY],
  ] as const) {
    // Side by side in the same process, each size in turn, twice: the first round warms the code up
    // (the size measured first would pay for it), the second is the figure. The sizes between are
    // printed in the figure's name (issue 17: findings per image from 0 to 20,000).
    const sizes = [
      { count: 0, facts: none },
      { count: 1_000, facts: factsWith(manyFindings(1_000)) },
      { count: 5_000, facts: factsWith(manyFindings(5_000)) },
      { count: 20_000, facts: many },
    ];
    const p50 = new Map<number, number>();
    for (let round = 0; round < 2; round++) {
      for (const size of sizes) p50.set(size.count, await reviewMicros(size.facts, policy));
    }
    const base = p50.get(0) as number;
    const large = p50.get(20_000) as number;
    const between = [1_000, 5_000].map(
      (count) => `${count.toLocaleString('en-US')}: ${p50.get(count)?.toFixed(0)}`,
    );
    figures.push(
      figure(
        `findings: Pod review, 20,000 findings / none, ${label} (p50 µs 0: ${base.toFixed(0)}, ${between.join(', ')}, 20,000: ${large.toFixed(0)})`,
        large / base,
        'x',
        '<= 1.2',
      ),
    );
  }
  figures.push(
    figure(
      'findings: cache item of an image with 20,000 findings (compressed)',
      itemKilobytes(many),
      'KB',
      `< ${ITEM_LIMIT_BYTES / 1024}`,
    ),
    figure(
      'findings: cache item of an index of 4 x 5,000 findings (compressed)',
      itemKilobytes(index),
      'KB',
      `< ${ITEM_LIMIT_BYTES / 1024}`,
    ),
  );
  return figures;
}

if (require.main === module) {
  largeFindingsFigures()
    .then((figures) => process.stdout.write(`${formatTable(figures)}\n`))
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    });
}
