/**
 * Step Functions at scale: the refresh workflow's very ASL files run locally over a synthetic registry
 * of thousands of repositories, each execution's history counted with the per-state model of what AWS
 * records (src/wiring/execution-history.ts), and its largest state payload measured. The model's closed
 * form, which `npm run bench` applies to 20,000 repositories, is held here to the local run's own
 * state transitions, execution by execution.
 */
import type { ListRequest, ListResult } from '../../src/application/refresh-service';
import { PAGES_BUDGET } from '../../src/contracts/workflow';
import { StoreUnavailableError } from '../../src/domain/errors';
import {
  HISTORY_EVENT_LIMIT,
  historyEvents,
  listingChain,
  PAYLOAD_LIMIT_BYTES,
  worstListingExecutionEvents,
} from '../../src/wiring/execution-history';
import { runWorkflowLocally } from '../../src/wiring/local-workflow';
import {
  RECONCILE_EVENT,
  refreshServiceOver,
  SCALE_REGISTRY,
  SyntheticRegistry,
  scaleScenario,
} from '../helpers/synthetic-registry';

jest.setTimeout(120_000);

const REPOSITORIES = 1_200;
const IMAGES = 100;

describe('the refresh workflow at scale', () => {
  const registry = scaleScenario(REPOSITORIES, IMAGES);
  const service = refreshServiceOver(registry);
  // The targets of each page, in the order the workflow lists them.
  const pageTargets: number[] = [];
  const list = service.listTargets.bind(service);
  service.listTargets = async (request: ListRequest): Promise<ListResult> => {
    const page = await list(request);
    pageTargets.push(page.targets.length);
    return page;
  };
  let run: Awaited<ReturnType<typeof runWorkflowLocally>>;
  let seconds = 0;

  beforeAll(async () => {
    const started = Date.now();
    run = await runWorkflowLocally(service, RECONCILE_EVENT, { trace: true });
    seconds = (Date.now() - started) / 1000;
  });

  test('reconciles every repository: the missing and expiring images are refreshed, nothing else', () => {
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const tenth = REPOSITORIES / 10 - 1;
    // Repository 0's hundred images, and one missing and one expiring image of every other tenth one.
    expect(run.records.filter((r) => r.action === 'written')).toHaveLength(IMAGES + 2 * tenth);
    expect(run.records.filter((r) => r.action !== 'written')).toEqual([]);
    // Every cached entry was listed (expiring pass), then every repository (registry pass).
    const cached = REPOSITORIES * IMAGES - IMAGES - tenth;
    expect(pageTargets).toHaveLength(Math.ceil(cached / 100) + REPOSITORIES);
  });

  test('bounds every execution: the pages state machine continues in a new execution past its budget', () => {
    const [event, ...pages] = run.traces;
    expect(event?.machine).toBe('refresh');
    expect(pages.every((t) => t.machine === 'pages')).toBe(true);
    expect(run.executions).toBe(run.traces.length);
    expect(pages.length).toBeGreaterThan(pageTargets.length / (PAGES_BUDGET.listPages + 1));
  });

  test("counts each execution's history with the per-state model, from the local run's state transitions", () => {
    for (const trace of run.traces) {
      const visits = Object.values(trace.entered).reduce((a, b) => a + b, 0);
      expect(visits).toBe(trace.stateTransitions);
      expect(historyEvents(trace)).toBeGreaterThan(2 * trace.stateTransitions);
    }
  });

  test('the closed form bench applies to 20,000 repositories gives, execution by execution, what the local run did', () => {
    const modelled = listingChain(pageTargets);
    const measured = run.traces.filter((t) => t.machine === 'pages').map(historyEvents);
    expect(modelled.historyEvents).toEqual(measured);
  });

  test('the largest history and the largest state payload stay under half of the limits', () => {
    const largestHistory = Math.max(...run.traces.map(historyEvents));
    const largestPayload = Math.max(...run.traces.map((t) => t.largestPayloadBytes));
    process.stdout.write(
      `${REPOSITORIES} repositories × ${IMAGES} images: ${run.executions} executions, largest history ` +
        `${largestHistory} events, largest payload ${largestPayload} bytes, ${seconds.toFixed(1)} s\n`,
    );
    expect(largestHistory).toBeLessThan(HISTORY_EVENT_LIMIT / 2);
    // A page of 100 targets of 20 tags each is the largest state.
    expect(largestPayload).toBeGreaterThan(40_000);
    expect(largestPayload).toBeLessThan(PAYLOAD_LIMIT_BYTES / 2);
  });

  test('whatever fails, an execution of the pages state machine stays under half of the history limit', () => {
    expect(worstListingExecutionEvents()).toBeLessThan(HISTORY_EVENT_LIMIT / 2);
  });
});

describe('a pages execution that fails', () => {
  test('fails the local run, though the event-driven execution that started it succeeded (fire and forget)', async () => {
    const registry = new SyntheticRegistry({
      ...SCALE_REGISTRY,
      repositories: 3,
      imagesPerRepository: 1,
      tagsPerImage: () => 1,
      missing: () => 0,
      expiring: () => 0,
    });
    const service = refreshServiceOver(registry, {
      ...registry.store,
      listImages: async () => {
        throw new StoreUnavailableError('the table did not answer');
      },
    });

    const run = await runWorkflowLocally(service, RECONCILE_EVENT, { retryIntervalMs: 1 });

    expect(run.executions).toBe(2);
    expect(run.output).toBeDefined();
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('StoreUnavailableError');
  });
});
