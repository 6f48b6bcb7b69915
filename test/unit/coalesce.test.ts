/**
 * The buffer's consumer (ADR 0010): which events ask for the same work, which of them starts it, and
 * what a batch reports, driven through the real event parser with AWS's documented samples.
 */
import * as fc from 'fast-check';
import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { preparationDetail } from '../../src/adapters/preparation-events';
import {
  type BufferedEvent,
  CoalesceService,
  EXECUTION_NAME,
  executionName,
  STARTS_IN_FLIGHT,
} from '../../src/application/coalesce-service';
import { PREPARATION_REQUESTED } from '../../src/contracts/events';
import { AWS_CALL_TIMEOUTS } from '../../src/contracts/settings';
import { EVENT_BUFFER } from '../../src/contracts/workflow';
import { coalesce, type WorkflowStarter, workOf } from '../../src/domain/coalesce';
import type { PreparationTarget, RefreshTrigger } from '../../src/domain/refresh';
import { messageId } from '../helpers/sqs';
import { cveStorm, findingEvent, type StormImage, sample } from '../helpers/storm';

const OWN = '111122223333';
const image = (n: number, over: Partial<StormImage> = {}): StormImage => ({
  registryId: OWN,
  region: 'us-east-1',
  repositoryName: 'team/api',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  tags: ['1.0.0'],
  ...over,
});
const at = (second: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, second));
const finding = (img: StormImage, second = 0, id = `finding-${second}`) =>
  findingEvent(img, at(second), 'CVE-2026-1', messageId(id));

const imageAction = (img: StormImage, action: 'PUSH' | 'DELETE', tag: string, second = 0) => {
  const event = sample('ecr-image-action-push.json');
  return {
    ...event,
    id: messageId(`${action}-${tag}-${second}`),
    account: img.registryId,
    region: img.region,
    time: at(second).toISOString(),
    detail: {
      ...(event.detail as object),
      'action-type': action,
      result: 'SUCCESS',
      'repository-name': img.repositoryName,
      'image-digest': img.digest,
      'image-tag': tag,
    },
  };
};
const scheduled = (second: number) => ({
  ...sample('documented/scheduled-event.json'),
  id: messageId(`schedule-${second}`),
  time: at(second).toISOString(),
});

const trigger = (event: unknown): RefreshTrigger => parseRefreshEvent(event);

/** The event the admission function puts to have an image imported or restored (issue 16). */
const preparation = (target: PreparationTarget, second = 0) => ({
  id: messageId(`prepare-${target.action}-${second}`),
  source: PREPARATION_REQUESTED.source,
  'detail-type': PREPARATION_REQUESTED.detailType,
  account: OWN,
  region: 'us-east-1',
  time: at(second).toISOString(),
  detail: preparationDetail(target),
});
const { registryId, region, repositoryName } = image(1);
const importing: PreparationTarget = { registryId, region, repositoryName, action: 'import', tag: '1.0.0' };

describe('which events ask for the same work', () => {
  test.each([
    [
      'two Inspector findings on one image ask for the same work.',
      finding(image(1), 0),
      finding(image(1), 5),
      true,
    ],
    [
      "a finding and a push of one image ask for the same work: the refresh reads the image's tags from ECR.",
      finding(image(1)),
      imageAction(image(1), 'PUSH', 'other'),
      true,
    ],
    [
      'findings on two digests of one repository are different work.',
      finding(image(1)),
      finding(image(2)),
      false,
    ],
    [
      'the same digest in two regions is different work.',
      finding(image(1)),
      finding(image(1, { region: 'eu-west-1' })),
      false,
    ],
    [
      'the same digest in two repositories is different work.',
      finding(image(1)),
      finding(image(1, { repositoryName: 'team/web' })),
      false,
    ],
    [
      'a push and a deletion of one image are different work.',
      imageAction(image(1), 'PUSH', 'v1'),
      imageAction(image(1), 'DELETE', 'v1'),
      false,
    ],
    [
      'deletions of two tags of one image are different work: each removes its own entries.',
      imageAction(image(1), 'DELETE', 'v1'),
      imageAction(image(1), 'DELETE', 'v2'),
      false,
    ],
    ['two reconciliations are the same work.', scheduled(0), scheduled(30), true],
    [
      'two replicas asking for one import ask for the same work.',
      preparation(importing, 0),
      preparation(importing, 3),
      true,
    ],
    [
      'imports of two tags of one repository are different work.',
      preparation(importing),
      preparation({ ...importing, tag: '1.0.1' }),
      false,
    ],
    [
      'an import and a restore of one image are different work.',
      preparation({ registryId, region, repositoryName, action: 'import', digest: image(1).digest }),
      preparation({ registryId, region, repositoryName, action: 'restore', digest: image(1).digest }),
      false,
    ],
  ])('%s', (_, a, b, same) => {
    const [first, second] = [workOf(trigger(a)), workOf(trigger(b))];
    expect(first).toBeDefined();
    expect(first === second).toBe(same);
  });

  test('an event that changes no verdict asks for no work.', () => {
    expect(workOf(trigger(sample('documented/inspector2-scan-ec2.json')))).toBeUndefined();
  });
});

describe('which event starts the work', () => {
  const batch = (events: unknown[]) =>
    events.map((event, i) => ({ messageId: messageId(`m-${i}`), trigger: trigger(event) }));

  test.each([
    [
      'the latest event by its time starts the work, whatever order the queue delivered them in.',
      [20, 5, 10],
      0,
    ],
    ['of events with one time, the one received last starts the work.', [5, 5, 5], 2],
    ['a lone event starts its own work.', [7], 0],
  ])('%s', (_, seconds, chosen) => {
    const messages = batch(seconds.map((s, i) => finding(image(1), s, `f-${i}`)));
    const { work } = coalesce(messages);
    expect(work).toHaveLength(1);
    expect(work[0]?.latest).toBe(messages[chosen]);
    expect(work[0]?.events).toEqual(messages);
  });

  test('works are listed in the order each first appears in the batch.', () => {
    const messages = batch([finding(image(2)), finding(image(1)), finding(image(2), 3)]);
    expect(coalesce(messages).work.map((w) => w.latest)).toEqual([messages[2], messages[1]]);
  });
});

describe('execution names', () => {
  test('are 1 to 80 letters, digits, hyphens and underscores, whatever the work and message id.', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom('refresh-image', 'delete-repository'),
        fc.string(),
        (w, k, id) => {
          expect(executionName(w, k, id)).toMatch(EXECUTION_NAME);
        },
      ),
    );
  });

  test('are the same for the same work and message, and differ when either differs.', () => {
    const id = messageId('x');
    expect(executionName('w', 'reconcile', id)).toBe(executionName('w', 'reconcile', id));
    expect(executionName('w', 'reconcile', id)).not.toBe(executionName('v', 'reconcile', id));
    expect(executionName('w', 'reconcile', id)).not.toBe(executionName('w', 'reconcile', messageId('y')));
  });
});

/** Records the executions started; names it is told to fail with an error, or already started. */
class RecordingStarter implements WorkflowStarter {
  readonly started: { name: string; input: string }[] = [];
  constructor(
    private readonly outcome: (name: string) => 'started' | 'already-started' | Error = () => 'started',
  ) {}
  async start(name: string, input: string): Promise<'started' | 'already-started'> {
    const outcome = this.outcome(name);
    if (outcome instanceof Error) throw outcome;
    if (outcome === 'started') this.started.push({ name, input });
    return outcome;
  }
}

const buffered = (events: readonly unknown[], seed = 'batch'): BufferedEvent[] =>
  events.map((event, i) => ({
    messageId: messageId(`${seed}-${i}`),
    body: typeof event === 'string' ? event : JSON.stringify(event),
  }));

describe('a batch', () => {
  const service = (starter: WorkflowStarter) => new CoalesceService({ parse: parseRefreshEvent, starter });

  test('a CVE storm of 500 Inspector finding events on 3 images starts 3 executions.', async () => {
    const images = [image(1), image(2), image(3, { repositoryName: 'team/web' })];
    const storm = cveStorm(500, images);
    const starter = new RecordingStarter();

    const report = await service(starter).startExecutions(buffered(storm));

    expect(starter.started).toHaveLength(3);
    expect(report).toMatchObject({ events: 500, coalesced: 497, ignored: 0, refused: [], failed: [] });
    // Each image's execution carries its latest finding, unchanged: the state machine's input is one event.
    const latest = images.map((_, i) => storm[storm.length - 1 - ((storm.length - 1 - i) % 3)]);
    expect(starter.started.map((s) => JSON.parse(s.input)).sort(byId)).toEqual(latest.sort(byId));
  });

  test('more works than start at once are all started, at most STARTS_IN_FLIGHT at a time.', async () => {
    const count = STARTS_IN_FLIGHT * 2 + 3;
    let inFlight = 0;
    let most = 0;
    const started: string[] = [];
    const starter: WorkflowStarter = {
      start: async (name) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        started.push(name);
        return 'started';
      },
    };
    const report = await service(starter).startExecutions(
      buffered(
        Array.from({ length: count }, (_, i) => finding(image(i % 10, { repositoryName: `team/r${i}` }))),
      ),
    );
    expect(new Set(started).size).toBe(count);
    expect(most).toBe(STARTS_IN_FLIGHT);
    expect(report.coalesced).toBe(0);
  });

  test("a full batch of distinct works ends within the Coalesce function's timeout, even when every attempt times out.", () => {
    const { connectionTimeoutMs, requestTimeoutMs, maxAttempts } = AWS_CALL_TIMEOUTS.stepFunctions;
    const rounds = Math.ceil(EVENT_BUFFER.batchSize / STARTS_IN_FLIGHT);
    // The SDK's backoff before each retry: at most 500 ms doubling per retry for throttling errors.
    const backoffMs = Array.from({ length: maxAttempts - 1 }, (_, retry) => 500 * 2 ** (retry + 1)).reduce(
      (a, b) => a + b,
      0,
    );
    const worstMs = rounds * (maxAttempts * (connectionTimeoutMs + requestTimeoutMs) + backoffMs);
    expect(worstMs).toBeLessThan(EVENT_BUFFER.consumerTimeoutSeconds * 1000);
  });

  test('a malformed event is refused and dropped, and the rest of the batch starts.', async () => {
    const starter = new RecordingStarter();
    const report = await service(starter).startExecutions(
      buffered(['not json', sample('inspector2-finding.json'), finding(image(1))]),
    );
    expect(report.refused.map((r) => r.reason)).toEqual([
      'the message body is not JSON',
      expect.stringMatching(/^invalid Inspector2 Finding event: .*imageHash/),
    ]);
    expect(report.failed).toEqual([]);
    expect(starter.started).toHaveLength(1);
  });

  test('an event that changes no verdict starts nothing and is counted.', async () => {
    const starter = new RecordingStarter();
    const report = await service(starter).startExecutions(
      buffered([
        sample('documented/inspector2-scan-ec2.json'),
        sample('documented/inspector2-finding-ec2.json'),
      ]),
    );
    expect(report).toMatchObject({ events: 2, ignored: 2, executions: [], failed: [] });
    expect(starter.started).toEqual([]);
  });

  test('an execution that already exists counts as started: a redelivered batch starts nothing twice.', async () => {
    const events = buffered([finding(image(1), 0), finding(image(1), 1), finding(image(2))]);
    const first = new RecordingStarter();
    await service(first).startExecutions(events);
    const names = new Set(first.started.map((s) => s.name));
    const again = new RecordingStarter((name) => (names.has(name) ? 'already-started' : 'started'));

    const report = await service(again).startExecutions(events);

    expect(again.started).toEqual([]);
    expect(report).toMatchObject({ alreadyStarted: 2, failed: [] });
    expect(report.executions).toHaveLength(2);
  });

  test("a start that fails (throttled) returns that work's messages as failures, and only those.", async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const events = buffered([finding(image(1), 0), finding(image(2), 1), finding(image(1), 2)]);
    const victim = executionName(
      workOf(trigger(finding(image(1)))) ?? '',
      'refresh-image',
      events[2]?.messageId ?? '',
    );
    const starter = new RecordingStarter((name) => (name === victim ? throttled : 'started'));

    const report = await service(starter).startExecutions(events);

    expect(report.failed.map((f) => f.messageId)).toEqual([events[0]?.messageId, events[2]?.messageId]);
    expect(report.failed.every((f) => f.error === throttled)).toBe(true);
    expect(starter.started.map((s) => JSON.parse(s.input).time)).toEqual(['2026-11-20T10:00:01Z']);
  });

  test('an error that is not about the event fails the whole batch, to be delivered again.', async () => {
    const broken = new CoalesceService({
      parse: () => {
        throw new TypeError('a bug');
      },
      starter: new RecordingStarter(),
    });
    await expect(broken.startExecutions(buffered([finding(image(1))]))).rejects.toThrow('a bug');
  });
});

function byId(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): number {
  return String(a?.id).localeCompare(String(b?.id));
}
