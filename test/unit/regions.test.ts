/**
 * The domain's copy of the AWS SDK's partition region patterns is held to the installed SDK's data, so
 * that an SDK upgrade that adds a partition fails here instead of silently refusing its regions.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseEcrHost } from '../../src/domain/image-ref';
import { isAwsRegion, PARTITION_REGION_PATTERNS } from '../../src/domain/regions';

function installedPartitions(): { id: string; regionRegex: string }[] {
  const core = dirname(require.resolve('@aws-sdk/core/package.json'));
  const source = readFileSync(
    join(core, 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js'),
    'utf8',
  );
  const json = source.slice(source.indexOf('{'), source.lastIndexOf('}') + 1);
  return (JSON.parse(json) as { partitions: { id: string; regionRegex: string }[] }).partitions;
}

describe('AWS regions', () => {
  test("the region patterns are the installed SDK's partition data, partition by partition", () => {
    expect(PARTITION_REGION_PATTERNS.map((p) => ({ id: p.partition, regionRegex: p.regionRegex }))).toEqual(
      installedPartitions().map(({ id, regionRegex }) => ({ id, regionRegex })),
    );
  });

  test.each([
    { region: 'us-east-1', accepted: true },
    { region: 'eu-central-2', accepted: true },
    { region: 'ap-southeast-7', accepted: true },
    { region: 'us-gov-west-1', accepted: true },
    { region: 'cn-northwest-1', accepted: true },
    { region: 'mx-central-1', accepted: true },
    { region: 'ap-future-9', accepted: true },
    { region: 'xx-yyy-1', accepted: false },
    { region: 'zz-east-1', accepted: false },
    { region: 'us-east', accepted: false },
    { region: `us-${'a'.repeat(100)}-1`, accepted: false },
  ])('$region is accepted as a region: $accepted', ({ region, accepted }) => {
    expect(isAwsRegion(region)).toBe(accepted);
  });

  test('a host naming a made-up region is not an ECR registry (no client, no lookup, no cache key)', () => {
    expect(parseEcrHost('111122223333.dkr.ecr.xx-yyy-1.amazonaws.com')).toBeUndefined();
    expect(parseEcrHost('111122223333.dkr-ecr.qq-zzz-7.on.aws')).toBeUndefined();
    expect(parseEcrHost('111122223333.dkr.ecr.ap-future-9.amazonaws.com')?.region).toBe('ap-future-9');
  });
});
