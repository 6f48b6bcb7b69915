/**
 * The live ECR adapter through the real AWS SDK, against a local endpoint speaking ECR's JSON protocol.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { EcrSdkReads } from '../../src/adapters/ecr-sdk';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { FactsUnavailableError } from '../../src/domain/errors';
import { parseImageReference } from '../../src/domain/image-ref';
import { parsePolicy } from '../../src/domain/policy';
import { judgeLookup, judgeReference } from '../../src/domain/verdict';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';

jest.setTimeout(30_000);

const OWN = '111122223333';
const OTHER = '444455556666';
const NOW = new Date('2026-11-27T12:00:00Z');

const hex = (seed: string) => {
  let h = '';
  for (let i = 0; h.length < 64; i++) h += ((seed.charCodeAt(i % seed.length) * (i + 7)) % 16).toString(16);
  return `sha256:${h}`;
};

const findings = (prefix: string, n: number, severity: string) =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}`, severity }));

function snapshot(): RawSnapshot {
  const amd = hex('amd64');
  const arm = hex('arm64');
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { digest: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      {
        digest: hex('att'),
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      },
    ],
  });
  const complete = (counts: Record<string, number>, list: { name: string; severity: string }[]) => ({
    imageScanStatus: { status: 'COMPLETE' },
    imageScanFindings: {
      findingSeverityCounts: counts,
      findings: list,
      imageScanCompletedAt: '2026-11-20T10:00:00Z',
    },
  });
  return {
    registries: [
      {
        registryId: OWN,
        region: 'us-east-1',
        scanningConfiguration: { scanType: 'BASIC', rules: [] },
        repositories: [
          {
            repository: { repositoryName: 'team/app', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
            scanningConfiguration: {
              repositoryName: 'team/app',
              scanOnPush: true,
              scanFrequency: 'SCAN_ON_PUSH',
            },
            images: [
              {
                imageDigest: hex('old'),
                imageTags: ['old'],
                imagePushedAt: '2025-01-20T09:00:00Z',
                imageStatus: 'ARCHIVED',
              },
              {
                imageDigest: hex('paged'),
                imageTags: ['paged'],
                imagePushedAt: '2026-11-20T09:00:00Z',
                // 7 pages of 2: the CRITICAL finding is on the last page and is ignored by policy.
                scan: complete({ HIGH: 12, CRITICAL: 1 }, [
                  ...findings('CVE-2026-1', 12, 'HIGH'),
                  { name: 'CVE-2026-9999', severity: 'CRITICAL' },
                ]),
              },
              {
                imageDigest: hex('multi'),
                imageTags: ['multi'],
                imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
                manifest: index,
              },
              { imageDigest: amd, scan: complete({}, []) },
              { imageDigest: arm, scan: complete({ CRITICAL: 1 }, findings('CVE-2026-7', 1, 'CRITICAL')) },
            ],
          },
          {
            // A repository named like the other account's: it must never answer for it.
            repository: { repositoryName: 'shared/base', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
            scanningConfiguration: {
              repositoryName: 'shared/base',
              scanOnPush: true,
              scanFrequency: 'SCAN_ON_PUSH',
            },
            images: [],
          },
        ],
      },
      {
        registryId: OTHER,
        region: 'eu-west-1',
        scanningConfiguration: {
          scanType: 'ENHANCED',
          rules: [
            {
              scanFrequency: 'CONTINUOUS_SCAN',
              repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }],
            },
          ],
        },
        repositories: [
          {
            repository: {
              repositoryName: 'shared/base',
              registryId: OTHER,
              imageTagMutability: 'IMMUTABLE',
              imageScanningConfiguration: { scanOnPush: false },
            },
            scanningConfiguration: {
              repositoryName: 'shared/base',
              scanOnPush: false,
              scanFrequency: 'CONTINUOUS_SCAN',
            },
            images: [
              {
                imageDigest: hex('base'),
                imageTags: ['12'],
                scan: complete({}, []),
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('EcrSdkReads through the AWS SDK against a local ECR endpoint', () => {
  let ecr: LocalEcr;
  const saved = { ...process.env };

  beforeAll(async () => {
    ecr = await startLocalEcr(snapshot(), { ownAccountId: OWN, findingsPageSize: 2 });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_STS: ecr.url,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
  });
  beforeEach(() => {
    ecr.reset();
    ecr.faults = {};
  });

  const policy = parsePolicy({ rules: { ignoreFindings: [{ id: 'CVE-2026-9999', expires: '2027-01-31' }] } });
  const fastRetry = { retryStrategy: new ConfiguredRetryStrategy(4, () => 10) };

  function judge(reads: EcrSdkReads, image: string) {
    const parsed = parseImageReference(image);
    const judged = parsed.ok ? judgeReference(image, parsed.ref, policy) : undefined;
    if (!parsed.ok || judged?.kind !== 'needs-facts') throw new Error(`bad test image ${image}`);
    const { ref } = parsed;
    const { lookup } = judged;
    return new EcrFactsSource(reads, () => NOW).lookup(lookup).then((result) => ({
      result,
      verdict: judgeLookup(result, ref, policy, NOW),
    }));
  }

  it('reads every page of findings, so an ignored CRITICAL on the last page is subtracted and nothing is skipped', async () => {
    const { result, verdict } = await judge(
      new EcrSdkReads(),
      `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:paged`,
    );

    expect(result.status).toBe('found');
    if (result.status !== 'found') return;
    expect(result.facts.image.scan?.findings).toHaveLength(13);
    expect(ecr.calls.get('DescribeImageScanFindings')).toBe(7);
    expect(verdict.violations).toEqual([]);
  });

  it('judges a multi-architecture index by each platform image, naming the one with a CRITICAL finding', async () => {
    const { verdict } = await judge(
      new EcrSdkReads(),
      `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:multi`,
    );

    expect(verdict.violations.map((v) => [v.code, v.platform])).toEqual([
      ['SEVERITY_LIMIT_EXCEEDED', 'linux/arm64/v8'],
    ]);
    expect(ecr.calls.get('BatchGetImage')).toBe(1);
  });

  it.each([
    { name: 'a KMS failure', manifestFailure: 'KmsError' },
    { name: 'an upstream registry that is unavailable', manifestFailure: 'UpstreamUnavailable' },
  ])(
    'reports an index manifest that fails to load ($name) as unavailable facts, never as an index with nothing to judge',
    async ({ manifestFailure }) => {
      ecr.faults = { manifestFailure };

      const attempt = judge(new EcrSdkReads(), `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:multi`);

      await expect(attempt).rejects.toBeInstanceOf(FactsUnavailableError);
    },
  );

  it('never judges another account by a same-named repository of its own registry', async () => {
    const { result, verdict } = await judge(
      new EcrSdkReads(),
      `${OTHER}.dkr.ecr.eu-west-1.amazonaws.com/shared/base:12`,
    );

    expect(result.status).toBe('found');
    if (result.status !== 'found') return;
    expect(result.facts.repository.registryId).toBe(OTHER);
    expect(result.facts.repository.repositoryScanning).toBeUndefined();
    expect(result.facts.repository.registryScanning).toBeUndefined();
    expect(verdict.violations.map((v) => v.code)).toEqual(['SCAN_ON_PUSH_UNVERIFIED']);
  });

  it('reads another account through the role configured for it', async () => {
    const reads = new EcrSdkReads({
      registryRoles: [{ accountId: OTHER, roleArn: `arn:aws:iam::${OTHER}:role/ecr-admission-read` }],
    });

    const { result, verdict } = await judge(reads, `${OTHER}.dkr.ecr.eu-west-1.amazonaws.com/shared/base:12`);

    expect(ecr.calls.get('AssumeRole')).toBe(1);
    if (result.status !== 'found') throw new Error('expected facts');
    expect(result.facts.repository.registryScanning?.scanType).toBe('ENHANCED');
    expect(result.facts.repository.repositoryScanning?.scanFrequency).toBe('CONTINUOUS_SCAN');
    expect(verdict.violations).toEqual([]);
  });

  it('skips the scanning-configuration calls for another account once it knows its own', async () => {
    const reads = new EcrSdkReads({ ownAccountId: OWN });

    await judge(reads, `${OTHER}.dkr.ecr.eu-west-1.amazonaws.com/shared/base:12`);

    expect(ecr.calls.get('GetRegistryScanningConfiguration')).toBeUndefined();
    expect(ecr.calls.get('BatchGetRepositoryScanningConfiguration')).toBeUndefined();
  });

  it('retries ThrottlingException and then answers', async () => {
    ecr.faults = { throttle: 2 };

    const { result } = await judge(
      new EcrSdkReads({ clientConfig: fastRetry }),
      `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:paged`,
    );

    expect(result.status).toBe('found');
    expect(ecr.calls.get('DescribeRepositories')).toBe(3);
  });

  it('reports AccessDenied as unavailable facts, with no AWS error text in the message', async () => {
    ecr.faults = { deny: (operation) => operation === 'DescribeImages' };

    const attempt = judge(new EcrSdkReads(), `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:paged`);

    await expect(attempt).rejects.toBeInstanceOf(FactsUnavailableError);
    await expect(attempt).rejects.toThrow('ECR DescribeImages failed (AccessDeniedException)');
    await attempt.catch((error: Error) => expect(error.message).not.toContain(OWN));
  });

  it.each([
    {
      name: 'a repository that does not exist is "repository not found"',
      image: 'team/none:1',
      status: 'repository-not-found',
      code: 'REPOSITORY_NOT_FOUND',
    },
    {
      name: 'a tag that does not exist is "image not found"',
      image: 'team/app:nope',
      status: 'image-not-found',
      code: 'IMAGE_NOT_FOUND',
    },
  ])('$name', async ({ image, status, code }) => {
    const { result, verdict } = await judge(
      new EcrSdkReads(),
      `${OWN}.dkr.ecr.us-east-1.amazonaws.com/${image}`,
    );

    expect(result.status).toBe(status);
    expect(verdict.violations.map((v) => v.code)).toEqual([code]);
  });

  describe('an image that is not active', () => {
    const OLD = `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:old`;

    it('is asked for again with any status, and is archived, never "not found"', async () => {
      const { result, verdict } = await judge(new EcrSdkReads(), OLD);

      expect(result).toEqual({ status: 'image-not-active', digest: hex('old'), imageStatus: 'ARCHIVED' });
      expect(verdict.violations.map((v) => v.code)).toEqual(['IMAGE_ARCHIVED']);
      expect(verdict.violations[0]?.message).toContain(
        `aws ecr update-image-storage-class --registry-id ${OWN} --region us-east-1 --repository-name team/app --image-id imageDigest=${hex('old')} --target-storage-class STANDARD`,
      );
      expect(ecr.calls.get('DescribeImages')).toBe(2);
      expect(ecr.calls.get('DescribeImageScanFindings')).toBeUndefined();
    });

    it('costs an active image one DescribeImages call', async () => {
      await judge(new EcrSdkReads(), `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:paged`);

      expect(ecr.calls.get('DescribeImages')).toBe(1);
    });

    it('stays "not found" when the registry rejects the status filter', async () => {
      ecr.faults = { rejectParameter: (operation, body) => operation === 'DescribeImages' && !!body.filter };

      const { result } = await judge(
        new EcrSdkReads(),
        `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:nope`,
      );

      expect(result.status).toBe('image-not-found');
    });

    it('is a failure, not "not found", when the second ask fails otherwise', async () => {
      ecr.faults = { deny: (operation, body) => operation === 'DescribeImages' && !!body.filter };

      const attempt = judge(new EcrSdkReads(), `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:nope`);

      await expect(attempt).rejects.toBeInstanceOf(FactsUnavailableError);
    });
  });

  it('gathers the same facts as the snapshot adapter for the same snapshot', async () => {
    const images = [
      `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:paged`,
      `${OWN}.dkr.ecr.us-east-1.amazonaws.com/team/app:multi`,
    ];
    for (const image of images) {
      const parsed = parseImageReference(image);
      if (!parsed.ok) throw new Error(parsed.error);
      const lookup = {
        registryId: OWN,
        region: 'us-east-1',
        repositoryName: 'team/app',
        tag: parsed.ref.tag ?? '',
      };

      const live = await new EcrFactsSource(new EcrSdkReads(), () => NOW).lookup(lookup);
      const file = await new EcrFactsSource(new SnapshotReads(snapshot()), () => NOW).lookup(lookup);

      expect(live).toEqual(file);
    }
  });
});
