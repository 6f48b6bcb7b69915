/**
 * Exposure: when storing a verdict turns an admitted image denied, when the violation is dated, and
 * what the event names. Pure functions of src/domain/exposure.ts, and the EventBridge adapter against a
 * local PutEvents endpoint.
 */
import { EventBridgeExposureEvents } from '../../src/adapters/exposure-events';
import { EXPOSURE_DETECTED } from '../../src/contracts/events';
import type { StoredVerdict } from '../../src/domain/decision-store';
import {
  type ExposureEvent,
  exposureEvent,
  MAX_EXPOSED_WORKLOADS,
  turnsDenied,
  violatingSince,
} from '../../src/domain/exposure';
import type { Facts } from '../../src/domain/facts';
import type { InventoryRecord } from '../../src/domain/inventory';
import type { Violation } from '../../src/domain/verdict';
import { type LocalEventBridge, startLocalEventBridge } from '../helpers/local-eventbridge';

const NOW = new Date('2026-12-02T12:00:00Z');
const EARLIER = '2026-11-30T08:00:00Z';
const CRITICAL: Violation = { code: 'SEVERITY_LIMIT_EXCEEDED', image: 'x', message: '1 CRITICAL finding' };
const MUTABLE: Violation = { code: 'TAG_MUTABLE', image: 'x', message: 'tags can be moved' };
const stored = (violations: Violation[], since?: string): StoredVerdict => ({
  violations,
  policyHash: 'h',
  judgedAt: EARLIER,
  ...(since && { violatingSince: since }),
});

describe('turnsDenied and violatingSince', () => {
  const cases: [string, StoredVerdict | undefined, Violation[], boolean, string | undefined][] = [
    [
      'An admitted image that now has a violation turns denied, dated now.',
      stored([]),
      [CRITICAL],
      true,
      NOW.toISOString(),
    ],
    [
      'An image never judged before that now has a violation turns denied, dated now.',
      undefined,
      [CRITICAL],
      true,
      NOW.toISOString(),
    ],
    [
      'A denied image that stays denied does not turn again, and keeps its date.',
      stored([CRITICAL], EARLIER),
      [CRITICAL],
      false,
      EARLIER,
    ],
    [
      'A denied image whose violation changed keeps the date it was first denied.',
      stored([MUTABLE], EARLIER),
      [CRITICAL],
      false,
      EARLIER,
    ],
    [
      'A denied image stored before dates were kept stays undated (the guard falls back to its findings).',
      stored([CRITICAL]),
      [CRITICAL],
      false,
      undefined,
    ],
    [
      'A denied image that is admitted again turns nothing and carries no date.',
      stored([CRITICAL], EARLIER),
      [],
      false,
      undefined,
    ],
    ['An admitted image that stays admitted turns nothing.', stored([]), [], false, undefined],
  ];
  test.each(cases)('%s', (_name, previous, violations, turns, since) => {
    expect(turnsDenied(previous, { violations })).toBe(turns);
    expect(violatingSince(previous, { violations }, NOW)).toBe(since);
  });
});

const FACTS = {
  repository: { registryId: '111122223333', region: 'us-east-1', repositoryName: 'team/api' },
  image: { digest: `sha256:${'a'.repeat(64)}`, tags: ['1.0'] },
} as unknown as Facts;
const record = (name: string, lastAdmittedAt: string, image = 'team/api:1.0'): InventoryRecord => ({
  cluster: 'prod',
  namespace: 'shop',
  owner: { kind: 'ReplicaSet', name },
  image,
  registryId: '111122223333',
  region: 'us-east-1',
  repositoryName: 'team/api',
  digest: FACTS.image.digest,
  firstAdmittedAt: EARLIER,
  lastAdmittedAt,
  expiresAt: 0,
});

describe('exposureEvent', () => {
  test('Nothing running the image: no event.', () => {
    expect(exposureEvent(FACTS, [CRITICAL], [])).toBeUndefined();
  });

  test('A workload admitted under two spellings of the image is named once, with its latest admission, most recent first.', () => {
    const event = exposureEvent(
      FACTS,
      [CRITICAL],
      [
        record('api-1', '2026-12-01T00:00:00Z'),
        record('api-1', '2026-12-01T06:00:00Z', `team/api@${FACTS.image.digest}`),
        record('api-2', '2026-12-01T03:00:00Z'),
      ],
    );
    expect(event).toEqual({
      image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api@${FACTS.image.digest}`,
      digest: FACTS.image.digest,
      registryId: '111122223333',
      region: 'us-east-1',
      repository: 'team/api',
      violations: [{ code: 'SEVERITY_LIMIT_EXCEEDED', message: '1 CRITICAL finding' }],
      workloads: [
        {
          cluster: 'prod',
          namespace: 'shop',
          owner: { kind: 'ReplicaSet', name: 'api-1' },
          lastAdmittedAt: '2026-12-01T06:00:00Z',
        },
        {
          cluster: 'prod',
          namespace: 'shop',
          owner: { kind: 'ReplicaSet', name: 'api-2' },
          lastAdmittedAt: '2026-12-01T03:00:00Z',
        },
      ],
    });
  });

  test('More workloads than one event names: the rest are counted.', () => {
    const records = Array.from({ length: MAX_EXPOSED_WORKLOADS + 3 }, (_, i) => record(`api-${i}`, EARLIER));
    const event = exposureEvent(FACTS, [CRITICAL], records);
    expect(event?.workloads).toHaveLength(MAX_EXPOSED_WORKLOADS);
    expect(event?.workloadsOmitted).toBe(3);
  });
});

describe('EventBridgeExposureEvents', () => {
  let bus: LocalEventBridge;
  beforeAll(async () => {
    bus = await startLocalEventBridge();
  });
  afterAll(() => bus.close());

  const publisher = () =>
    new EventBridgeExposureEvents({
      clientConfig: {
        endpoint: bus.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      },
    });
  const event = exposureEvent(FACTS, [CRITICAL], [record('api-1', EARLIER)]) as ExposureEvent;

  test('Events go to the default bus under the contract source and detail-type, ten to a call.', async () => {
    const before = bus.calls();
    await publisher().publish(Array.from({ length: 12 }, () => event));
    expect(bus.calls() - before).toBe(2);
    expect(bus.entries.at(-1)).toEqual({
      Source: EXPOSURE_DETECTED.source,
      DetailType: EXPOSURE_DETECTED.detailType,
      Detail: JSON.stringify(event),
      EventBusName: 'default',
    });
  });

  test('An entry EventBridge refuses fails the call.', async () => {
    bus.refuse = true;
    await expect(publisher().publish([event])).rejects.toThrow('EventBridge refused 1 exposure events');
    bus.refuse = false;
  });
});
