/**
 * The live ECR adapter through the real AWS SDK, against a local endpoint speaking ECR's JSON protocol.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { type EcrImportOptions, EcrSdkPreparation } from '../../src/adapters/ecr-import';
import { EcrSdkReads } from '../../src/adapters/ecr-sdk';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { FactsUnavailableError, PreparationError } from '../../src/domain/errors';
import { parseImageReference } from '../../src/domain/image-ref';
import { parsePolicy } from '../../src/domain/policy';
import { judgeLookup, judgeReference } from '../../src/domain/verdict';
import { type LocalEcr, type RawSnapshot, sdkEnvironment, startLocalEcr } from '../helpers/local-ecr';

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
    Object.assign(process.env, sdkEnvironment(ecr));
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

describe('pull-through caches and the archive through the AWS SDK against a local ECR endpoint', () => {
  let ecr: LocalEcr;
  const saved = { ...process.env };
  const NGINX = hex('nginx-1.27');
  const NGINX_SCAN = {
    imageScanStatus: { status: 'COMPLETE' },
    imageScanFindings: {
      findingSeverityCounts: { HIGH: 1 },
      findings: [{ name: 'CVE-2026-4242', severity: 'HIGH' }],
      imageScanCompletedAt: '2026-11-26T10:00:00Z',
    },
  };
  const rule = (ecrRepositoryPrefix: string, upstreamRegistryUrl: string) => ({
    ecrRepositoryPrefix,
    upstreamRegistryUrl,
    upstreamRegistry: 'docker-hub',
    createdAt: '2026-10-01T00:00:00Z',
  });
  const template = (prefix: string, appliedFor: string[], imageTagMutability: string) => ({
    prefix,
    appliedFor,
    imageTagMutability,
    createdAt: '2026-10-01T00:00:00Z',
  });

  function registrySnapshot(): RawSnapshot {
    return {
      registries: [
        {
          registryId: OWN,
          region: 'us-east-1',
          scanningConfiguration: {
            scanType: 'BASIC',
            rules: [
              { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] },
            ],
          },
          pullThroughCacheRules: [
            rule('docker-hub', 'registry-1.docker.io'),
            rule('quay', 'quay.io'),
            rule('ghcr', 'ghcr.io'),
          ],
          repositoryCreationTemplates: [
            template('ROOT', ['PULL_THROUGH_CACHE'], 'IMMUTABLE_WITH_EXCLUSION'),
            template('docker-hub', ['PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'], 'IMMUTABLE'),
            // Applied to replication only: never to a repository a pull creates.
            template('quay', ['REPLICATION'], 'IMMUTABLE'),
          ],
          repositories: [
            {
              repository: { repositoryName: 'team/app', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
              images: [
                { imageDigest: hex('old'), imageTags: ['old'], imageStatus: 'ARCHIVED' },
                { imageDigest: hex('new'), imageTags: ['new'] },
              ],
            },
          ],
        },
        {
          registryId: OTHER,
          region: 'eu-west-1',
          pullThroughCacheRules: [rule('hub', 'registry-1.docker.io')],
          repositoryCreationTemplates: [template('ROOT', ['PULL_THROUGH_CACHE'], 'IMMUTABLE')],
        },
      ],
    };
  }

  beforeAll(async () => {
    ecr = await startLocalEcr(registrySnapshot(), {
      ownAccountId: OWN,
      registrySettingsPageSize: 2,
      upstream: {
        'library/nginx': [{ imageDigest: NGINX, imageTags: ['1.27'], scan: NGINX_SCAN }],
        'coreos/etcd': [{ imageDigest: hex('etcd'), imageTags: ['3.5'] }],
        'library/redis': [
          {
            imageDigest: hex('redis-index'),
            imageTags: ['8'],
            imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
            manifest: JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.oci.image.index.v1+json',
              manifests: [{ digest: hex('redis-amd64'), platform: { os: 'linux', architecture: 'amd64' } }],
            }),
          },
          { imageDigest: hex('redis-amd64'), scan: NGINX_SCAN },
        ],
      },
    });
    Object.assign(process.env, sdkEnvironment(ecr));
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
  });
  beforeEach(() => {
    ecr.setSnapshot(registrySnapshot());
    ecr.reset();
    ecr.faults = {};
    ecr.restore = 'immediate';
  });

  const own = (repositoryName: string) => ({ registryId: OWN, region: 'us-east-1', repositoryName });

  describe('registry settings', () => {
    it('reads every pull-through cache rule and creation template of its own registry, page by page.', async () => {
      const reads = new EcrSdkReads({ ownAccountId: OWN });

      const rules = await reads.pullThroughCacheRules(OWN, 'us-east-1');
      const templates = await reads.repositoryCreationTemplates(OWN, 'us-east-1');

      expect(rules?.map((r) => [r.ecrRepositoryPrefix, r.upstreamRegistryUrl])).toEqual([
        ['docker-hub', 'registry-1.docker.io'],
        ['quay', 'quay.io'],
        ['ghcr', 'ghcr.io'],
      ]);
      expect(templates?.map((t) => [t.prefix, t.appliedFor, t.imageTagMutability])).toEqual([
        ['ROOT', ['PULL_THROUGH_CACHE'], 'IMMUTABLE_WITH_EXCLUSION'],
        ['docker-hub', ['PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'], 'IMMUTABLE'],
        ['quay', ['REPLICATION'], 'IMMUTABLE'],
      ]);
      expect(ecr.calls.get('DescribePullThroughCacheRules')).toBe(2);
      expect(ecr.calls.get('DescribeRepositoryCreationTemplates')).toBe(2);
    });

    it.each([
      { name: 'once it knows its own account, without asking', known: true, calls: [0, 0] },
      {
        // The rules name the registry that answered: its own, learnt then, so templates are not asked.
        name: 'while it does not know its own account yet, learning it from the answer',
        known: false,
        calls: [2, 0],
      },
    ])(
      "reports another account's rules and templates as unreadable when no role is configured for it ($name).",
      async ({ known, calls }) => {
        const reads = new EcrSdkReads(known ? { ownAccountId: OWN } : {});

        const rules = await reads.pullThroughCacheRules(OTHER, 'us-east-1');
        const templates = await reads.repositoryCreationTemplates(OTHER, 'us-east-1');

        expect([rules, templates]).toEqual([undefined, undefined]);
        expect([
          ecr.calls.get('DescribePullThroughCacheRules') ?? 0,
          ecr.calls.get('DescribeRepositoryCreationTemplates') ?? 0,
        ]).toEqual(calls);
      },
    );

    it("reads another account's rules and templates through the role configured for it.", async () => {
      const reads = new EcrSdkReads({
        ownAccountId: OWN,
        registryRoles: [{ accountId: OTHER, roleArn: `arn:aws:iam::${OTHER}:role/ecr-admission-read` }],
      });

      const rules = await reads.pullThroughCacheRules(OTHER, 'eu-west-1');
      const templates = await reads.repositoryCreationTemplates(OTHER, 'eu-west-1');

      expect(rules?.map((r) => r.ecrRepositoryPrefix)).toEqual(['hub']);
      expect(templates?.map((t) => t.imageTagMutability)).toEqual(['IMMUTABLE']);
      expect(ecr.calls.get('AssumeRole')).toBe(1);
    });

    it('fails, rather than answering part of the rules, when the pages never end.', async () => {
      const many = registrySnapshot();
      const [registry] = many.registries;
      if (registry) {
        registry.pullThroughCacheRules = Array.from({ length: 45 }, (_, i) => rule(`p${i}`, 'quay.io'));
      }
      ecr.setSnapshot(many);

      const attempt = new EcrSdkReads({ ownAccountId: OWN }).pullThroughCacheRules(OWN, 'us-east-1');

      await expect(attempt).rejects.toThrow('ECR DescribePullThroughCacheRules answered more than 20 pages');
    });
  });

  describe('restoring an archived image', () => {
    const status = async (digest: string) =>
      (await new EcrSdkReads().describeImage(own('team/app'), { digest }))?.imageStatus;

    it('moves an archived image back to the STANDARD storage class.', async () => {
      await new EcrSdkReads().restoreImage(own('team/app'), hex('old'));

      expect(await status(hex('old'))).toBe('ACTIVE');
      expect(ecr.calls.get('UpdateImageStorageClass')).toBe(1);
    });

    it('counts an image already active, or already being restored, as restored.', async () => {
      ecr.restore = 'activating';
      const reads = new EcrSdkReads();

      await reads.restoreImage(own('team/app'), hex('old'));
      await reads.restoreImage(own('team/app'), hex('old'));
      await reads.restoreImage(own('team/app'), hex('new'));

      expect(await status(hex('old'))).toBe('ACTIVATING');
      expect(ecr.calls.get('UpdateImageStorageClass')).toBe(3);
      ecr.finishRestores();
      expect(await status(hex('old'))).toBe('ACTIVE');
    });

    it('refuses for good to restore an image that no longer exists.', async () => {
      const attempt = new EcrSdkReads().restoreImage(own('team/app'), hex('gone'));

      await expect(attempt).rejects.toBeInstanceOf(PreparationError);
      await expect(attempt).rejects.toThrow('the image to restore no longer exists');
    });

    it('reports a restore ECR denies as unavailable facts naming the missing permission.', async () => {
      ecr.faults = { deny: (operation) => operation === 'UpdateImageStorageClass' };

      const attempt = new EcrSdkReads().restoreImage(own('team/app'), hex('old'));

      await expect(attempt).rejects.toMatchObject({
        name: 'FactsUnavailableError',
        reason: 'access-denied',
        action: 'ecr:UpdateImageStorageClass',
      });
    });
  });

  describe('importing through a pull-through cache', () => {
    const preparation = (options: EcrImportOptions = {}) =>
      new EcrSdkPreparation({ ownAccountId: OWN, ...options });

    it('creates the repository with the creation template that applies and imports the image, with its scan.', async () => {
      const prep = preparation();
      const key = own('docker-hub/library/nginx');

      const started = await prep.importThroughCache(key, { tag: '1.27' });

      expect(started).toBe('started');
      expect(ecr.imports('docker-hub/library/nginx', NGINX)).toBe(1);
      expect((await prep.describeRepository(key))?.imageTagMutability).toBe('IMMUTABLE');
      expect(await prep.describeImage(key, { tag: '1.27' })).toMatchObject({
        imageDigest: NGINX,
        imageStatus: 'ACTIVE',
      });
      expect((await prep.scanFindings(key, NGINX))?.imageScanFindings?.findingSeverityCounts).toEqual({
        HIGH: 1,
      });
      expect((await prep.repositoryScanning(key))?.scanOnPush).toBe(true);
    });

    it('pulls an image already imported without importing it again, with the token it already holds.', async () => {
      const prep = preparation();
      const key = own('docker-hub/library/nginx');

      await prep.importThroughCache(key, { tag: '1.27' });
      const again = await prep.importThroughCache(key, { digest: NGINX });

      expect(again).toBe('started');
      expect(ecr.imports('docker-hub/library/nginx', NGINX)).toBe(1);
      expect(ecr.calls.get('RegistryApiPull')).toBe(2);
      expect(ecr.calls.get('GetAuthorizationToken')).toBe(1);
    });

    it('imports an image index with the platform images it lists, each counted once.', async () => {
      const prep = preparation();
      const key = own('docker-hub/library/redis');

      await prep.importThroughCache(key, { tag: '8' });

      expect(ecr.imports('docker-hub/library/redis', hex('redis-index'))).toBe(1);
      expect(ecr.imports('docker-hub/library/redis', hex('redis-amd64'))).toBe(1);
      expect(await prep.imageManifest(key, hex('redis-index'))).toContain(hex('redis-amd64'));
      expect((await prep.describeImage(key, { digest: hex('redis-amd64') }))?.imageTags).toEqual([]);
    });

    it.each([
      {
        name: "the ROOT template's settings when its own prefix's template applies to replication only",
        templates: undefined,
        mutability: 'IMMUTABLE_WITH_EXCLUSION',
      },
      {
        name: "ECR's defaults when no template applies to pulls",
        templates: [template('ROOT', ['REPLICATION'], 'IMMUTABLE')],
        mutability: 'MUTABLE',
      },
    ])('creates a repository with $name, on import.', async ({ templates, mutability }) => {
      const settings = registrySnapshot();
      const [registry] = settings.registries;
      if (registry && templates) registry.repositoryCreationTemplates = templates;
      ecr.setSnapshot(settings);
      const prep = preparation();

      await prep.importThroughCache(own('quay/coreos/etcd'), { tag: '3.5' });

      expect((await prep.describeRepository(own('quay/coreos/etcd')))?.imageTagMutability).toBe(mutability);
    });

    it.each([
      {
        name: 'an image the upstream registry does not have',
        repository: 'docker-hub/library/nginx',
        tag: '0.1',
      },
      { name: 'a repository under no pull-through cache rule', repository: 'elsewhere/nginx', tag: '1.27' },
    ])('answers not-found for $name, creating nothing.', async ({ repository, tag }) => {
      const prep = preparation();

      const outcome = await prep.importThroughCache(own(repository), { tag });

      expect(outcome).toBe('not-found');
      expect(await prep.describeRepository(own(repository))).toBeUndefined();
    });

    it('renews its token shortly before the token expires.', async () => {
      let now = Date.now();
      const prep = preparation({ now: () => now });
      const key = own('docker-hub/library/nginx');

      await prep.importThroughCache(key, { tag: '1.27' });
      now += 11 * 3600_000;
      await prep.importThroughCache(key, { tag: '1.27' });
      now += 56 * 60_000;
      await prep.importThroughCache(key, { tag: '1.27' });

      expect(ecr.calls.get('GetAuthorizationToken')).toBe(2);
    });

    it('renews a token the registry API refuses, and pulls again, once.', async () => {
      const prep = preparation();
      const key = own('docker-hub/library/nginx');
      await prep.importThroughCache(key, { tag: '1.27' });
      ecr.revokeTokens();

      const again = await prep.importThroughCache(key, { tag: '1.27' });

      expect(again).toBe('started');
      expect(ecr.calls.get('GetAuthorizationToken')).toBe(2);
      expect(ecr.calls.get('RegistryApiPull')).toBe(3);
    });

    it('ends a pull the registry API never answers by its own timeout.', async () => {
      ecr.faults = { registryHang: true };
      const started = Date.now();

      const attempt = preparation({ registryApiTimeoutMs: 300 }).importThroughCache(
        own('docker-hub/library/nginx'),
        { tag: '1.27' },
      );

      await expect(attempt).rejects.toMatchObject({ name: 'FactsUnavailableError', reason: 'timed-out' });
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it("ends a pull when the caller's signal aborts it.", async () => {
      ecr.faults = { registryHang: true };

      const attempt = preparation().importThroughCache(
        own('docker-hub/library/nginx'),
        { tag: '1.27' },
        AbortSignal.timeout(200),
      );

      await expect(attempt).rejects.toMatchObject({ name: 'FactsUnavailableError', reason: 'timed-out' });
    });

    it.each([
      { status: 429, error: 'FactsUnavailableError', reason: 'throttled' },
      { status: 503, error: 'FactsUnavailableError', reason: 'unavailable' },
      { status: 403, error: 'FactsUnavailableError', reason: 'access-denied' },
      { status: 400, error: 'PreparationError', reason: undefined },
    ])(
      'reports a pull answered $status as $error, naming the status and code but no registry text.',
      async ({ status, error, reason }) => {
        ecr.faults = { registryStatus: status };

        const attempt = preparation().importThroughCache(own('docker-hub/library/nginx'), { tag: '1.27' });

        await expect(attempt).rejects.toMatchObject({ name: error, ...(reason && { reason }) });
        await attempt.catch((e: Error) => {
          expect(e.message).toMatch(
            new RegExp(`^ECR registry API pull failed \\(HTTP ${status} [A-Z_]+\\)$`),
          );
          expect(e.message).not.toContain('injected');
        });
      },
    );

    it('refuses for good a reference that is not a tag or digest, without calling ECR.', async () => {
      const attempt = preparation().importThroughCache(own('docker-hub/library/nginx'), { tag: '../x' });

      await expect(attempt).rejects.toBeInstanceOf(PreparationError);
      expect(ecr.totalEcrCalls()).toBe(0);
    });
  });
});
