/**
 * AWS regions as the AWS SDK's endpoint partition data defines them: a region is accepted only if it
 * matches one partition's `regionRegex` (so a region AWS opens later works without a release, while a
 * made-up `xx-yyy-1` never reaches a lookup, a client or a cache key). The patterns are copied from the
 * installed SDK (`@aws-sdk/core`, util-endpoints `partitions`); a unit test holds this copy to it. The
 * domain imports no SDK, hence the copy.
 */
export const PARTITION_REGION_PATTERNS: readonly {
  readonly partition: string;
  readonly regionRegex: string;
}[] = [
  { partition: 'aws', regionRegex: '^(us|eu|ap|sa|ca|me|af|il|mx)\\-\\w+\\-\\d+$' },
  { partition: 'aws-cn', regionRegex: '^cn\\-\\w+\\-\\d+$' },
  { partition: 'aws-eusc', regionRegex: '^eusc\\-(de)\\-\\w+\\-\\d+$' },
  { partition: 'aws-iso', regionRegex: '^us\\-iso\\-\\w+\\-\\d+$' },
  { partition: 'aws-iso-b', regionRegex: '^us\\-isob\\-\\w+\\-\\d+$' },
  { partition: 'aws-iso-e', regionRegex: '^eu\\-isoe\\-\\w+\\-\\d+$' },
  { partition: 'aws-iso-f', regionRegex: '^us\\-isof\\-\\w+\\-\\d+$' },
  { partition: 'aws-us-gov', regionRegex: '^us\\-gov\\-\\w+\\-\\d+$' },
];

const PATTERNS = PARTITION_REGION_PATTERNS.map((p) => new RegExp(p.regionRegex));
/** Longer than any region name; bounds the work on hostile input. */
const MAX_REGION_LENGTH = 32;

/** Whether `region` is an AWS region name of some partition. */
export function isAwsRegion(region: string): boolean {
  return region.length <= MAX_REGION_LENGTH && PATTERNS.some((pattern) => pattern.test(region));
}
