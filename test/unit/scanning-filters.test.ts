/**
 * Rule 3's registry scanning rules, matched as ECR matches them. The table is the one in ECR's user
 * guide, "Filters to choose which repositories are scanned in Amazon ECR" (image-scanning-filters): "a
 * filter with no wildcard will match all repository names that contain the filter. A filter with a
 * wildcard (*) matches on any repository name where the wildcard replaces zero or more characters".
 */
import type { Facts } from '../../src/domain/facts';
import { parseImageReference } from '../../src/domain/image-ref';
import { parsePolicy } from '../../src/domain/policy';
import { judgeFacts } from '../../src/domain/verdict';

const REPOSITORIES = ['prod', 'repo-prod', 'prod-repo', 'repo-prod-repo', 'prodrepo'] as const;

/** ECR's table: filter → whether it matches each of REPOSITORIES, in order. */
const DOCUMENTED: Readonly<Record<string, readonly boolean[]>> = {
  prod: [true, true, true, true, true],
  '*prod': [true, true, false, false, false],
  'prod*': [true, false, true, false, true],
  '*prod*': [true, true, true, true, true],
  'prod*repo': [false, false, true, false, true],
};

function facts(repositoryName: string, filter: string): Facts {
  return {
    repository: {
      registryId: '111122223333',
      region: 'us-east-1',
      repositoryName,
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
      registryScanning: {
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [filter] }],
      },
    },
    image: {
      digest: `sha256:${'a'.repeat(64)}`,
      tags: ['1.0'],
      scan: { status: 'COMPLETE', severityCounts: {}, findings: [] },
    },
    gatheredAt: '2026-11-27T12:00:00Z',
  };
}

const cases = Object.entries(DOCUMENTED).flatMap(([filter, row]) =>
  REPOSITORIES.map((repository, index) => ({ filter, repository, scanned: row[index] as boolean })),
);

test.each(cases)(
  'filter "$filter" scans repository "$repository": $scanned',
  ({ filter, repository, scanned }) => {
    const parsed = parseImageReference(`111122223333.dkr.ecr.us-east-1.amazonaws.com/${repository}:1.0`);
    if (!parsed.ok) throw new Error(parsed.error);

    const verdict = judgeFacts(
      facts(repository, filter),
      parsed.ref,
      parsePolicy({}),
      new Date('2026-11-27T12:00:00Z'),
    );

    expect(verdict.violations.map((v) => v.code)).toEqual(scanned ? [] : ['SCAN_ON_PUSH_DISABLED']);
  },
);
