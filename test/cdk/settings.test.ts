/** The deployment settings fail synth with a message naming the context key; CIDRs are checked in full. */
import { parseSettings } from '../../cdk/settings';
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
