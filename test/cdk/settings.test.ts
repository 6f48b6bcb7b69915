/** The deployment settings fail synth with a message naming the context key; CIDRs are checked in full. */
import { parseSettings } from '../../cdk/settings';
import { EVENT_BUFFER, SQS_EVENT_SOURCE_LIMITS } from '../../src/contracts/workflow';
import { SettingsError } from '../../src/domain/errors';

describe('allowedSourceCidrs', () => {
  it.each(['203.0.113.0/24', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '203.0.113.10/32'])(
    'accepts %s',
    (cidr) => {
      expect(parseSettings({ allowedSourceCidrs: [cidr] }).allowedSourceCidrs).toEqual([cidr]);
    },
  );

  it.each([
    '999.1.1.1/24',
    '203.0.113.0/33',
    '203.0.113.0',
    '2001:db8::/129',
    'example.com/24',
    '203.0.113.0/24/1',
    ':::/8',
  ])('refuses %s at synth, naming the key', (cidr) => {
    expect(() => parseSettings({ allowedSourceCidrs: [cidr] })).toThrow(SettingsError);
    expect(() => parseSettings({ allowedSourceCidrs: [cidr] })).toThrow(/allowedSourceCidrs/);
  });
});

describe('the admitted inventory settings', () => {
  it('default to records living 30 days after their last admission, rewritten at most hourly', () => {
    expect(parseSettings({})).toMatchObject({
      inventoryTtlSeconds: 30 * 86_400,
      inventoryRefreshSeconds: 3_600,
    });
  });

  it.each([
    ['inventoryTtlSeconds', 3_600],
    ['inventoryTtlSeconds', 366 * 86_400],
    ['inventoryRefreshSeconds', 59],
    ['inventoryRefreshSeconds', 86_401],
  ] as const)('refuses %s %i at synth, naming the key', (key, value) => {
    expect(() => parseSettings({ [key]: value })).toThrow(new RegExp(`context key ${key}`));
  });
});

describe("the buffer's event source mapping", () => {
  const { batchWindowSeconds, maxConcurrency, batchSize } = SQS_EVENT_SOURCE_LIMITS;
  // A batch of more than 10 messages needs a batching window of at least 1 s (Lambda refuses the mapping).
  const leastWindow = EVENT_BUFFER.batchSize > batchSize.withoutWindow ? 1 : batchWindowSeconds.min;

  it('takes a batch size that Lambda accepts for a standard queue', () => {
    expect(EVENT_BUFFER.batchSize).toBeGreaterThanOrEqual(batchSize.min);
    expect(EVENT_BUFFER.batchSize).toBeLessThanOrEqual(batchSize.max);
  });

  it.each([
    [
      'refreshBatchWindowSeconds',
      leastWindow,
      batchWindowSeconds.max,
      EVENT_BUFFER.defaults.batchWindowSeconds,
    ],
    ['refreshMaxConcurrency', maxConcurrency.min, maxConcurrency.max, EVENT_BUFFER.defaults.maxConcurrency],
  ] as const)(
    '%s accepts %i to %i (default %i), what Lambda accepts with this batch size',
    (key, min, max, byDefault) => {
      expect(parseSettings({})[key]).toBe(byDefault);
      expect(parseSettings({ [key]: min })[key]).toBe(min);
      expect(parseSettings({ [key]: String(max) })[key]).toBe(max);
      for (const refused of [min - 1, max + 1, 1.5]) {
        expect(() => parseSettings({ [key]: refused })).toThrow(new RegExp(`^context key ${key}: `));
      }
    },
  );
});
