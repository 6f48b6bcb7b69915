/**
 * The refresh workflow at scale (`npm run bench -- --only workflow`): reconciliation of a registry of
 * 20,000 repositories × 100 images against Step Functions' hard limits (25,000 history events per
 * execution, 256 KiB per state payload), with the targets set at half of each. The ASL files are run
 * locally over a synthetic registry of 1,500 repositories; the per-state history model
 * (src/wiring/execution-history.ts), whose closed form the scale test holds to that run execution by
 * execution, gives what 20,000 repositories do. The largest payload does not grow with the registry:
 * a state holds at most one page of targets and one page of ECR's repositories.
 */

import { EVENT_BUFFER } from '../src/contracts/workflow';
import { createCoalesceService } from '../src/wiring/coalesce';
import {
  HISTORY_EVENT_LIMIT,
  historyEvents,
  listingChain,
  PAYLOAD_LIMIT_BYTES,
  worstListingExecutionEvents,
} from '../src/wiring/execution-history';
import { runWorkflowLocally } from '../src/wiring/local-workflow';
import { messageId } from '../test/helpers/sqs';
import { cveStorm } from '../test/helpers/storm';
import { RECONCILE_EVENT, refreshServiceOver, scaleScenario } from '../test/helpers/synthetic-registry';
import { assertBench, type Figure, figure } from './lib/figures';

const MEASURED_REPOSITORIES = 1_500;
const TARGET_REPOSITORIES = 20_000;
const IMAGES = 100;
const PAGE = 100;
const HALF_HISTORY = `< ${HISTORY_EVENT_LIMIT / 2}`;

/** A local reconciliation of a synthetic registry; one repository holds a page of 20-tag images to refresh. */
async function measured() {
  const service = refreshServiceOver(scaleScenario(MEASURED_REPOSITORIES, IMAGES));
  const run = await runWorkflowLocally(service, RECONCILE_EVENT, { trace: true });
  assertBench(run.status === 'SUCCEEDED', `the local reconciliation failed: ${run.error?.message}`);
  return {
    executions: run.executions,
    largestHistory: Math.max(...run.traces.map(historyEvents)),
    largestPayload: Math.max(...run.traces.map((t) => t.largestPayloadBytes)),
  };
}

/**
 * The pages a reconciliation of `repositories` × 100 images lists: the cache's entries (a page of 100
 * each, `expiringPerPage` of them close to expiry), then each repository (one page of its images,
 * `missingPerRepository` of them not cached).
 */
function* reconciliationPages(
  repositories: number,
  cached: number,
  expiringPerPage: number,
  missing: number,
) {
  const cachePages = Math.max(1, Math.ceil(cached / PAGE));
  for (let i = 0; i < cachePages; i++) yield cached === 0 ? 0 : expiringPerPage;
  for (let i = 0; i < repositories; i++) yield missing;
}

const STORM_EVENTS = 500;
const STORM_IMAGES = 3;

/**
 * A CVE storm through the buffer (ADR 0010): 500 Inspector findings on 3 images, in batches of the
 * event source mapping's size, each handed to the Coalesce function's service; the executions it starts.
 */
async function stormExecutions(): Promise<number> {
  const images = Array.from({ length: STORM_IMAGES }, (_, i) => ({
    registryId: '111122223333',
    region: 'us-east-1',
    repositoryName: `team/app-${i}`,
    digest: `sha256:${String(i).repeat(64)}`,
    tags: ['1.0.0'],
  }));
  let started = 0;
  const service = createCoalesceService({
    starter: {
      start: async () => {
        started++;
        return 'started';
      },
    },
  });
  const storm = cveStorm(STORM_EVENTS, images);
  for (let i = 0; i < storm.length; i += EVENT_BUFFER.batchSize) {
    await service.startExecutions(
      storm
        .slice(i, i + EVENT_BUFFER.batchSize)
        .map((event, j) => ({ messageId: messageId(`bench-${i + j}`), body: JSON.stringify(event) })),
    );
  }
  return started;
}

/** The event-driven execution that starts the chain: Plan, Route, StartListing, Done. */
const EVENT_EXECUTION = 2 + 5 + 2 + 5 + 2;

export async function workflowScaleFigures(): Promise<Figure[]> {
  const local = await measured();
  const images = TARGET_REPOSITORIES * IMAGES;
  // Steady state: every image cached; an entry is refreshed within a day of its expiry (7-day TTL),
  // so a run every 6 hours refreshes about 1/24 of them: about 4 of each page of 100.
  const steady = listingChain(reconciliationPages(TARGET_REPOSITORIES, images, 4, 0));
  // First fill: nothing cached; every image of every repository is a target.
  const fill = listingChain(reconciliationPages(TARGET_REPOSITORIES, 0, 0, IMAGES));
  const largest = (chain: typeof steady) => Math.max(EVENT_EXECUTION, chain.largestHistoryEvents);
  const n = TARGET_REPOSITORIES.toLocaleString('en-US');
  const batches = Math.ceil(STORM_EVENTS / EVENT_BUFFER.batchSize);
  return [
    figure(
      `workflow: executions started by a CVE storm, ${STORM_EVENTS} findings on ${STORM_IMAGES} images, batches of ${EVENT_BUFFER.batchSize}`,
      await stormExecutions(),
      'executions',
      `<= ${STORM_IMAGES * batches}`,
    ),
    figure(
      `workflow: largest execution history, ${MEASURED_REPOSITORIES} repos measured`,
      local.largestHistory,
      'events',
      HALF_HISTORY,
    ),
    figure(
      `workflow: executions started, ${MEASURED_REPOSITORIES} repos measured`,
      local.executions,
      'executions',
      '>= 1',
    ),
    figure(
      'workflow: largest state payload (any registry size)',
      local.largestPayload / 1024,
      'KiB',
      `< ${PAYLOAD_LIMIT_BYTES / 1024 / 2}`,
    ),
    figure(
      `workflow: largest execution history, ${n} repos × 100, steady`,
      largest(steady),
      'events',
      HALF_HISTORY,
    ),
    figure(
      `workflow: executions started, ${n} repos × 100, steady`,
      1 + steady.executions,
      'executions',
      '>= 1',
    ),
    figure(
      `workflow: largest execution history, ${n} repos × 100, first fill`,
      largest(fill),
      'events',
      HALF_HISTORY,
    ),
    figure(
      `workflow: executions started, ${n} repos × 100, first fill`,
      1 + fill.executions,
      'executions',
      '>= 1',
    ),
    figure(
      'workflow: largest history whatever fails (every retry, every target)',
      worstListingExecutionEvents(),
      'events',
      HALF_HISTORY,
    ),
  ];
}
