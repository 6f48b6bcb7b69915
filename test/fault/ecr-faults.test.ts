/**
 * The fault tier, ECR side: the admission core on the real AWS SDK against a local ECR endpoint that
 * hangs, is slow, throttles, fails, denies, answers garbage or drops the connection. For each fault:
 * answered by the failure mode, nothing transient cached, the right answer again soon after the fault
 * clears, no AWS text in the message, and the calls, lookups and clients it leaves behind bounded.
 * Counts are asserted; times are figures for `npm run bench` (docs/failure-modes.md).
 */

import {
  AWS_TEXT,
  codes,
  FAULT_ENV,
  GOOD_IMAGE,
  HOST,
  liveService,
  OWN,
  podRequest,
  SNAPSHOT,
  sleep,
  untilAllowed,
} from '../helpers/fault-scenarios';
import { ECR_FAULTS, type LocalEcr, startLocalEcr } from '../helpers/local-ecr';

jest.setTimeout(60_000);
Object.assign(process.env, FAULT_ENV);

const LETTERS = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz';
/** One lookup makes at most 6 kinds of call, each at most twice (FAST_TIMEOUTS.maxAttempts). */
const CALLS_PER_LOOKUP = 12;

describe('ECR faults on the live admission path', () => {
  let ecr: LocalEcr;

  beforeAll(async () => {
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
  });
  afterAll(async () => {
    await ecr?.close();
  });
  beforeEach(() => {
    ecr.heal();
    ecr.reset();
  });

  test.each(Object.keys(ECR_FAULTS))(
    'ECR %s: denied as not verified without AWS text, nothing cached, right again once healed',
    async (fault) => {
      // Prepare
      const { service, reads } = liveService(ecr.url);
      ecr.faults = { ...ECR_FAULTS[fault] };

      // Act: two admissions during the fault, then heal.
      const during = await service.review(podRequest('during-1', [GOOD_IMAGE]));
      const again = await service.review(podRequest('during-2', [GOOD_IMAGE]));
      const callsDuringFault = ecr.totalEcrCalls();
      ecr.heal();
      const recovery = await untilAllowed(() => service.review(podRequest('after', [GOOD_IMAGE])));
      await sleep(50);

      // Assess
      for (const decision of [during, again]) {
        expect(decision.allowed).toBe(false);
        expect(codes(decision)).toEqual(['NOT_VERIFIED']);
        expect(decision.message).not.toMatch(AWS_TEXT);
      }
      expect(callsDuringFault).toBeLessThanOrEqual(2 * CALLS_PER_LOOKUP);
      expect(recovery.decision.allowed).toBe(true);
      // The first review after healing looks up again: the failure was never cached, nothing stuck.
      expect(recovery.tries).toBeLessThanOrEqual(2);
      expect(service.lookupsInFlight).toBe(0);
      expect(reads.clientCount).toBe(1);
    },
  );

  test('a hung lookup is aborted at the deadline: no lookup or held call outlives it', async () => {
    // Prepare
    const { service } = liveService(ecr.url);
    ecr.faults = { hang: true };

    // Act
    const decision = await service.review(podRequest('hang', [GOOD_IMAGE]));
    await sleep(100);

    // Assess: the abort cut every call the lookup held open.
    expect(decision.allowed).toBe(false);
    expect(service.lookupsInFlight).toBe(0);
    expect(service.sharedLookups).toBe(0);
    expect(ecr.held()).toBe(0);
  });

  test('concurrent admissions of one image during a hang share one lookup, and all leave with it', async () => {
    // Prepare
    const { service } = liveService(ecr.url);
    ecr.faults = { hang: true };

    // Act
    const decisions = await Promise.all(
      Array.from({ length: 10 }, (_, i) => service.review(podRequest(`burst-${i}`, [GOOD_IMAGE]))),
    );
    await sleep(100);

    // Assess: one lookup's calls (4 in its first wave), not ten lookups'.
    expect(decisions.every((d) => !d.allowed)).toBe(true);
    expect(ecr.totalEcrCalls()).toBeLessThanOrEqual(CALLS_PER_LOOKUP);
    expect(service.lookupsInFlight).toBe(0);
  });

  test('a review naming hundreds of missing repositories looks up only its bound, and the next review is unharmed', async () => {
    // Prepare
    const { service } = liveService(ecr.url, { maxLookupsPerReview: 10 });
    const hostile = Array.from({ length: 500 }, (_, i) => `${HOST}/missing/repo-${i}:1`);

    // Act
    const decision = await service.review(podRequest('hostile', hostile));
    const callsForHostile = ecr.totalEcrCalls();
    await sleep(100);
    const next = await service.review(podRequest('next', [GOOD_IMAGE]));

    // Assess
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('more than 10 images to look up at once');
    expect(callsForHostile).toBeLessThanOrEqual(10 * CALLS_PER_LOOKUP);
    expect(service.lookupsInFlight).toBe(0);
    expect(next.allowed).toBe(true);
  });

  test('made-up regions create no client and make no call; real regions share a bounded set of clients', async () => {
    // Prepare
    const { service, reads } = liveService(ecr.url, { maxLookupsPerReview: 1000, deadlineMs: 3000 });
    const madeUp = Array.from(
      { length: 500 },
      (_, i) => `${OWN}.dkr.ecr.xx-yyy${i}-1.amazonaws.com/team/api:1`,
    );
    const prefixes = ['us', 'eu', 'ap', 'sa', 'ca', 'me', 'af', 'il', 'mx'];
    const real = Array.from(
      { length: 40 },
      (_, i) =>
        `${OWN}.dkr.ecr.${prefixes[i % prefixes.length]}-test${LETTERS[i]}-1.amazonaws.com/team/api:1`,
    );

    // Act
    const fake = await service.review(podRequest('made-up', madeUp));
    const callsForFake = ecr.totalEcrCalls();
    await service.review(podRequest('real', real));

    // Assess
    expect(codes(fake)).toEqual(['NOT_ECR']);
    expect(callsForFake).toBe(0);
    expect(reads.clientCount).toBe(16);
  });
});
