/**
 * The admission core's case table: registry snapshot + policy + AdmissionReview in, the expected answer
 * out. Every case is plain, serialisable data so that the same table can run through the snapshot
 * adapter (unit tier) and through the live ECR adapter against a local endpoint serving each case's
 * snapshot (integration tier). Names are whole sentences.
 */
import type { PolicyDocument } from '../../src/domain/policy';
import type { ViolationCode } from '../../src/domain/verdict';
import {
  type AdmissionReviewDocument,
  POD_SPEC_PATH,
  podReview,
  review,
  WORKLOAD_KINDS,
  workload,
} from '../helpers/reviews';
import {
  ACCOUNT,
  basicScan,
  creationTemplate,
  DOCKER_MANIFEST_LIST,
  detailedFinding,
  digestOf,
  ecrHost,
  enhancedFinding,
  enhancedScan,
  finding,
  type ImageEntry,
  image,
  type JsonObject,
  manyFindings,
  multiArch,
  OTHER_ACCOUNT,
  platformDigest,
  pullThroughCache,
  type RepositoryEntry,
  type RepositoryOptions,
  registry,
  registryScanning,
  repository,
  rule,
  type SnapshotDocument,
  scanWithStatus,
  snapshot,
  type TagMutability,
} from '../helpers/snapshot-builder';

export interface CaseExpectation {
  allowed: boolean;
  /** The sorted, unique codes of `decision.violations` (also when only warned about). */
  codes: ViolationCode[];
  /** Substrings of the denial message (`status.message`). */
  messageIncludes?: string[];
  /** Text that must appear neither in the message nor in the warnings (AWS error text, internals). */
  messageExcludes?: string[];
  /** Substrings each found in some warning. Absent: the response carries no warnings at all. */
  warningsInclude?: string[];
  /** Substrings each found in some note of the decision. Absent: no notes. */
  notesInclude?: string[];
}

export interface AdmissionCase {
  name: string;
  snapshot: SnapshotDocument;
  policy?: PolicyDocument;
  review: AdmissionReviewDocument;
  /** The clock, ISO; default DEFAULT_NOW. */
  now?: string;
  expect: CaseExpectation;
}

/** A week after the builders' scans. */
export const DEFAULT_NOW = '2026-11-27T12:00:00Z';

/** Every scan status docs/design.md (rule 4) names that does not give usable findings. */
export const UNSCANNED_STATUSES = [
  'IN_PROGRESS',
  'PENDING',
  'FAILED',
  'UNSUPPORTED_IMAGE',
  'SCAN_ELIGIBILITY_EXPIRED',
  'FINDINGS_UNAVAILABLE',
  'LIMIT_EXCEEDED',
  'IMAGE_ARCHIVED',
] as const;

const HOST = ecrHost();
const EU_HOST = ecrHost(ACCOUNT, 'eu-west-1');
const OTHER_HOST = ecrHost(OTHER_ACCOUNT);

/** `team/app:1.0` in the caller's registry. */
const APP = `${HOST}/team/app:1.0`;
/** `team/tools:latest`, a compliant image in a MUTABLE repository. */
const TOOLS = `${HOST}/team/tools:latest`;

const at = (repo: string, tag: string, host = HOST) => `${host}/${repo}:${tag}`;
const pinned = (repo: string, name: string, host = HOST) => `${host}/${repo}@${digestOf(name)}`;

/** The caller's registry (us-east-1, basic scan on push for every repository) holding the repositories. */
const own = (...repositories: RepositoryEntry[]): SnapshotDocument => snapshot(registry({}, ...repositories));

/** `team/app` with a compliant `1.0` beside the given images. */
const appRepo = (options: RepositoryOptions = {}, ...images: ImageEntry[]) =>
  repository('team/app', options, image('app-1.0', { tags: ['1.0'] }), ...images);

const toolsRepo = () =>
  repository('team/tools', { mutability: 'MUTABLE' }, image('tools', { tags: ['latest'] }));

/** The usual registry: a compliant `team/app:1.0` and a mutable `team/tools:latest`. */
const usual = (...images: ImageEntry[]) => own(appRepo({}, ...images), toolsRepo());

/** The own registry with a pull-through cache rule `docker-hub`, and its creation template (none: no template). */
const pullThrough = (mutability: TagMutability | undefined, ...repositories: RepositoryEntry[]) =>
  snapshot(
    registry(
      {
        pullThroughCacheRules: [pullThroughCache('docker-hub')],
        ...(mutability && { repositoryCreationTemplates: [creationTemplate('docker-hub', mutability)] }),
      },
      appRepo({}),
      ...repositories,
    ),
  );

const denied = (codes: ViolationCode[], more: Omit<CaseExpectation, 'allowed' | 'codes'> = {}) => ({
  allowed: false,
  codes,
  ...more,
});
const allowed = (more: Omit<CaseExpectation, 'allowed' | 'codes'> = {}) => ({
  allowed: true,
  codes: [],
  ...more,
});

const pod = (...containers: string[]) => podReview({ containers });

// The known bugs of the AWS sample (docs/design.md, "What this replaces"), one group each.

const sampleBugs: AdmissionCase[] = [
  {
    name: 'A Docker Hub image beside a compliant ECR image in the same Pod is denied, naming only the Docker Hub container.',
    snapshot: usual(),
    review: pod(APP, 'nginx:1.27'),
    expect: denied(['NOT_ECR'], {
      messageIncludes: ['spec.containers[1].image "nginx:1.27": [NOT_ECR]', '1 image breaks'],
      messageExcludes: ['spec.containers[0].image'],
    }),
  },
  {
    name: 'A non-ECR init container is denied even though every app container comes from ECR.',
    snapshot: usual(),
    review: podReview({ initContainers: ['ghcr.io/acme/migrate:3'], containers: [APP] }),
    expect: denied(['NOT_ECR'], {
      messageIncludes: ['spec.initContainers[0].image "ghcr.io/acme/migrate:3"', 'registry "ghcr.io"'],
    }),
  },
  {
    name: 'A look-alike host that merely starts like an ECR registry is not ECR, although the caller holds a same-named compliant repository.',
    snapshot: usual(),
    review: pod(`${HOST}.evil.example/team/app:1.0`),
    expect: denied(['NOT_ECR'], { messageIncludes: [`registry "${HOST}.evil.example"`] }),
  },
  {
    name: 'An ECR host written as a path under another registry is not ECR.',
    snapshot: usual(),
    review: pod(`evil.example/${HOST}/team/app:1.0`),
    expect: denied(['NOT_ECR'], { messageIncludes: ['registry "evil.example"'] }),
  },
  {
    name: 'A host with a thirteen-digit account is not an ECR registry.',
    snapshot: usual(),
    review: pod(`9${HOST}/team/app:1.0`),
    expect: denied(['NOT_ECR']),
  },
  {
    name: 'An ECR reference without a tag is judged as the latest tag and admitted when that tag is compliant.',
    snapshot: own(repository('team/app', {}, image('app-latest', { tags: ['latest'] }))),
    review: pod(`${HOST}/team/app`),
    expect: allowed(),
  },
  {
    name: 'An ECR reference without a tag is denied when the repository has no latest tag.',
    snapshot: usual(),
    review: pod(`${HOST}/team/app`),
    expect: denied(['IMAGE_NOT_FOUND'], {
      messageIncludes: ['tag "latest" does not exist in repository "team/app"'],
    }),
  },
  {
    name: 'An ECR reference without a tag in a mutable repository is denied because latest can be moved.',
    snapshot: own(
      repository('team/app', { mutability: 'MUTABLE' }, image('app-latest', { tags: ['latest'] })),
    ),
    review: pod(`${HOST}/team/app`),
    expect: denied(['TAG_MUTABLE'], { messageIncludes: ['tag "latest" can be moved'] }),
  },
  {
    name: 'A tag@digest reference is judged by its digest, not by the image its tag points at.',
    snapshot: usual(
      image('app-bad', { scan: basicScan({ findings: [finding('CVE-2026-9001', 'CRITICAL')] }) }),
    ),
    review: pod(`${HOST}/team/app:1.0@${digestOf('app-bad')}`),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'A tag@digest reference passes in a mutable repository, since the digest pins what runs.',
    snapshot: own(repository('team/app', { mutability: 'MUTABLE' }, image('app-1.0', { tags: ['1.0'] }))),
    review: pod(`${HOST}/team/app:1.0@${digestOf('app-1.0')}`),
    expect: allowed(),
  },
  {
    name: 'A CRITICAL finding listed after 150 LOW findings is counted when the scan reports no severity counts.',
    snapshot: usual(
      image('app-deep', {
        tags: ['deep'],
        scan: basicScan({
          findings: [...manyFindings('CVE-2026-1', 150, 'LOW'), finding('CVE-2026-9999', 'CRITICAL')],
          counts: null,
        }),
      }),
    ),
    review: pod(at('team/app', 'deep')),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'An ignored CRITICAL finding listed after 150 LOW findings is subtracted from the severity counts.',
    snapshot: usual(
      image('app-deep', {
        tags: ['deep'],
        scan: basicScan({
          findings: [...manyFindings('CVE-2026-1', 150, 'LOW'), finding('CVE-2026-9999', 'CRITICAL')],
        }),
      }),
    ),
    policy: { rules: { ignoreFindings: [{ id: 'CVE-2026-9999', expires: '2027-06-30' }] } },
    review: pod(at('team/app', 'deep')),
    expect: allowed(),
  },
  {
    name: 'Ignoring the CRITICAL on the first page still denies the second CRITICAL listed on a later page.',
    snapshot: usual(
      image('app-deep', {
        tags: ['deep'],
        scan: basicScan({
          findings: [
            finding('CVE-2026-9998', 'CRITICAL'),
            ...manyFindings('CVE-2026-1', 150, 'LOW'),
            finding('CVE-2026-9999', 'CRITICAL'),
          ],
        }),
      }),
    ),
    policy: { rules: { ignoreFindings: [{ id: 'CVE-2026-9998', expires: '2027-06-30' }] } },
    review: pod(at('team/app', 'deep')),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'An ignored CVE found in two packages is subtracted once for each finding.',
    snapshot: usual(
      image('app-twice', {
        tags: ['twice'],
        scan: basicScan({
          findings: [finding('CVE-2026-4242', 'CRITICAL'), finding('CVE-2026-4242', 'CRITICAL')],
        }),
      }),
    ),
    policy: { rules: { ignoreFindings: [{ id: 'CVE-2026-4242', expires: '2027-01-31' }] } },
    review: pod(at('team/app', 'twice')),
    expect: allowed(),
  },
  {
    name: 'An ACTIVE enhanced scan with a CRITICAL Inspector finding is denied.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN')) },
        repository(
          'team/app',
          { scanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' } },
          image('app-1.0', {
            tags: ['1.0'],
            scan: enhancedScan({ enhancedFindings: [enhancedFinding('CVE-2026-7001', 'CRITICAL')] }),
          }),
        ),
      ),
    ),
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'Severity counts alone deny an image even when no finding is listed.',
    snapshot: usual(
      image('app-counted', { tags: ['counted'], scan: basicScan({ counts: { CRITICAL: 1, HIGH: 4 } }) }),
    ),
    review: pod(at('team/app', 'counted')),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'A scan that failed is not treated as a clean scan.',
    snapshot: usual(image('app-failed', { tags: ['failed'], scan: scanWithStatus('FAILED') })),
    review: pod(at('team/app', 'failed')),
    expect: denied(['UNSCANNED'], { messageIncludes: ['scan status is FAILED'] }),
  },
  {
    name: 'The deprecated repository scan flag alone does not pass when the effective configuration does not scan on push.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN', 'prod/*')) },
        repository(
          'team/app',
          { legacyScanOnPush: true, scanning: { scanOnPush: false, scanFrequency: 'MANUAL' } },
          image('app-1.0', { tags: ['1.0'], scan: enhancedScan() }),
        ),
      ),
    ),
    review: pod(APP),
    expect: denied(['SCAN_ON_PUSH_DISABLED'], {
      messageIncludes: ['repository "team/app" does not scan images on push'],
    }),
  },
  {
    name: 'A repository scanned by a registry rule passes although its deprecated repository flag is off.',
    snapshot: own(appRepo({ legacyScanOnPush: false, scanning: null })),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'MUTABLE_WITH_EXCLUSION does not pass as immutable for a tag outside its filters.',
    snapshot: own(appRepo({ mutability: 'MUTABLE_WITH_EXCLUSION', exclusionFilters: ['release-*'] })),
    review: pod(APP),
    expect: denied(['TAG_MUTABLE'], {
      messageIncludes: ['repository tag mutability MUTABLE_WITH_EXCLUSION'],
    }),
  },
  {
    name: 'A Deployment is judged when it is applied, not only the Pods it later creates.',
    snapshot: usual(),
    review: review(workload('Deployment', { containers: ['busybox'] })),
    expect: denied(['NOT_ECR'], {
      messageIncludes: ['Deployment shop/app', 'spec.template.spec.containers[0].image'],
    }),
  },
  {
    name: 'An UPDATE that swaps a Deployment image for a Docker Hub image is denied.',
    snapshot: usual(),
    review: review(workload('Deployment', { containers: [APP, 'redis:7'] }), {
      operation: 'UPDATE',
      before: workload('Deployment', { containers: [APP, APP] }),
    }),
    expect: denied(['NOT_ECR'], { messageIncludes: ['spec.template.spec.containers[1].image "redis:7"'] }),
  },
  {
    name: 'An UPDATE of a Pod adding an ephemeral container without the subresource judges the ephemeral container too.',
    snapshot: usual(),
    review: review(workload('Pod', { containers: [APP], ephemeralContainers: ['busybox:1.36'] }), {
      operation: 'UPDATE',
      before: workload('Pod', { containers: [APP] }),
    }),
    expect: denied(['NOT_ECR'], { messageIncludes: ['spec.ephemeralContainers[0].image "busybox:1.36"'] }),
  },
  {
    name: 'A debug container added through the ephemeralcontainers subresource is judged.',
    snapshot: usual(),
    review: review(workload('Pod', { containers: [APP], ephemeralContainers: ['busybox:1.36'] }), {
      operation: 'UPDATE',
      subResource: 'ephemeralcontainers',
      before: workload('Pod', { containers: [APP] }),
    }),
    expect: denied(['NOT_ECR'], { messageIncludes: ['spec.ephemeralContainers[0].image "busybox:1.36"'] }),
  },
  {
    name: 'The ephemeralcontainers subresource judges only the ephemeral containers, which here are compliant.',
    snapshot: usual(),
    review: review(workload('Pod', { containers: ['nginx:1.27'], ephemeralContainers: [APP] }), {
      operation: 'UPDATE',
      subResource: 'ephemeralcontainers',
      before: workload('Pod', { containers: ['nginx:1.27'] }),
    }),
    expect: allowed(),
  },
  {
    name: 'An UPDATE that leaves every image as it was (removing a finalizer, say) is allowed, though an image now breaks the policy.',
    snapshot: usual(),
    review: review(workload('Deployment', { containers: [APP, 'redis:7'] }), {
      operation: 'UPDATE',
      before: workload('Deployment', { containers: [APP, 'redis:7'] }),
    }),
    expect: allowed(),
  },
  {
    name: 'An UPDATE without the object before it judges every image.',
    snapshot: usual(),
    review: review(workload('Deployment', { containers: [APP, 'redis:7'] }), { operation: 'UPDATE' }),
    expect: denied(['NOT_ECR']),
  },
  {
    name: 'An UPDATE that moves an unchanged image to another container judges it, since the path changed.',
    snapshot: usual(),
    review: review(workload('Deployment', { containers: [APP, 'redis:7'] }), {
      operation: 'UPDATE',
      before: workload('Deployment', { containers: ['redis:7', APP] }),
    }),
    expect: denied(['NOT_ECR']),
  },
  {
    name: 'A dry-run request is judged like a real one and denied with the same reasons.',
    snapshot: usual(),
    review: podReview({ containers: ['nginx:1.27'] }, { dryRun: true }),
    expect: denied(['NOT_ECR'], { messageIncludes: ['spec.containers[0].image "nginx:1.27"'] }),
  },
  {
    name: 'A dry-run request for a compliant Pod is admitted, not rejected for being a dry run.',
    snapshot: usual(),
    review: podReview({ containers: [APP] }, { dryRun: true }),
    expect: allowed(),
  },
  {
    name: 'A repository that does not exist is denied in plain words, without the ECR exception or registry id text.',
    snapshot: usual(),
    review: pod(at('team/ghost', '1.0')),
    expect: denied(['REPOSITORY_NOT_FOUND'], {
      messageIncludes: [`repository "team/ghost" does not exist in ${HOST}`],
      messageExcludes: ['RepositoryNotFoundException', 'registry with id', 'Exception'],
    }),
  },
  {
    name: 'A tag that does not exist is denied in plain words, without the ECR exception text.',
    snapshot: usual(),
    review: pod(at('team/app', '9.9')),
    expect: denied(['IMAGE_NOT_FOUND'], {
      messageIncludes: ['tag "9.9" does not exist in repository "team/app"'],
      messageExcludes: ['ImageNotFoundException', 'Exception', 'requested image not found'],
    }),
  },
  {
    name: 'A digest that does not exist is denied, naming the digest.',
    snapshot: usual(),
    review: pod(pinned('team/app', 'never-pushed')),
    expect: denied(['IMAGE_NOT_FOUND'], {
      messageIncludes: [`digest ${digestOf('never-pushed')} does not exist in repository "team/app"`],
      messageExcludes: ['Exception'],
    }),
  },
  {
    name: 'An archived image is denied with the command that restores it, never as not found.',
    snapshot: own(appRepo({}, image('app-old', { tags: ['0.9'], imageStatus: 'ARCHIVED' }))),
    review: pod(at('team/app', '0.9')),
    expect: denied(['IMAGE_ARCHIVED'], {
      messageIncludes: [
        `image ${digestOf('app-old')} is archived and cannot be pulled; restore it: aws ecr update-image-storage-class --registry-id ${ACCOUNT} --region us-east-1 --repository-name team/app --image-id imageDigest=${digestOf('app-old')} --target-storage-class STANDARD`,
      ],
      messageExcludes: ['does not exist', 'Exception'],
    }),
  },
  {
    name: 'An archived image referenced by digest is denied as archived too.',
    snapshot: own(appRepo({}, image('app-old', { tags: ['0.9'], imageStatus: 'ARCHIVED' }))),
    review: pod(pinned('team/app', 'app-old')),
    expect: denied(['IMAGE_ARCHIVED'], { messageIncludes: ['is archived and cannot be pulled'] }),
  },
  {
    name: 'Under archived: restore, an archived image is denied while the workflow restores it, never as not found.',
    snapshot: own(appRepo({}, image('app-old', { tags: ['0.9'], imageStatus: 'ARCHIVED' }))),
    policy: { archived: 'restore' },
    review: pod(at('team/app', '0.9')),
    expect: denied(['IMAGE_RESTORING'], {
      messageIncludes: [`image ${digestOf('app-old')} is archived and is being restored`],
      messageExcludes: ['does not exist', 'Exception'],
    }),
  },
  {
    name: 'A Pod whose image is not imported yet through a pull-through cache rule is denied while it is imported, never as not found.',
    snapshot: pullThrough('IMMUTABLE'),
    review: pod(at('docker-hub/library/nginx', '1.27')),
    expect: denied(['IMAGE_IMPORTING'], {
      messageIncludes: [
        'tag "1.27" is not in ECR yet: its first pull imports it through the pull-through cache rule "docker-hub" (registry-1.docker.io); it is judged when its scan completes',
      ],
      messageExcludes: ['does not exist', 'Exception'],
    }),
  },
  {
    name: 'A Deployment whose image is not imported yet is admitted with a warning, since its Pods are judged one by one.',
    snapshot: pullThrough('IMMUTABLE'),
    review: review(workload('Deployment', { containers: [at('docker-hub/library/nginx', '1.27')] })),
    expect: {
      allowed: true,
      codes: ['IMAGE_IMPORTING'],
      warningsInclude: ['is not in ECR yet'],
    },
  },
  {
    name: 'A tag not imported yet into a pull-through repository that exists is being imported too.',
    snapshot: pullThrough(
      'IMMUTABLE',
      repository(
        'docker-hub/library/nginx',
        { mutability: 'IMMUTABLE' },
        image('nginx-old', { tags: ['1.26'] }),
      ),
    ),
    review: pod(at('docker-hub/library/nginx', '1.27')),
    expect: denied(['IMAGE_IMPORTING'], { messageIncludes: ['tag "1.27" is not in ECR yet'] }),
  },
  {
    name: 'An image whose creation template would make its tags mutable is denied up front, naming the template, and not imported.',
    snapshot: pullThrough('MUTABLE'),
    review: review(workload('Deployment', { containers: [at('docker-hub/library/nginx', '1.27')] })),
    expect: denied(['TAG_MUTABLE'], {
      messageIncludes: [
        'tag "1.27" can be moved (repository "docker-hub/library/nginx" will be created by the repository creation template "docker-hub" with tag mutability MUTABLE)',
      ],
      notesInclude: ['not imported through the pull-through cache rule "docker-hub"'],
    }),
  },
  {
    name: "Without a creation template, a pull-through repository is judged as ECR's defaults make it: mutable tags.",
    snapshot: pullThrough(undefined),
    review: pod(at('docker-hub/library/nginx', '1.27')),
    expect: denied(['TAG_MUTABLE'], {
      messageIncludes: ["will be created by ECR's defaults (no repository creation template applies)"],
      notesInclude: ['not imported through'],
    }),
  },
  {
    name: 'A pull-through image referenced by digest is imported whatever the template says of tags.',
    snapshot: pullThrough('MUTABLE'),
    review: pod(pinned('docker-hub/library/nginx', 'nginx-1.27')),
    expect: denied(['IMAGE_IMPORTING'], {
      messageIncludes: [`digest ${digestOf('nginx-1.27')} is not in ECR yet`],
    }),
  },
  {
    name: 'An image index whose arm64 image is archived is denied for that platform, whatever its scan says.',
    snapshot: own(
      repository(
        'team/multi',
        {},
        ...multiArch('multi', {
          tags: ['2.0'],
          platforms: { 'linux/amd64': basicScan(), 'linux/arm64': basicScan() },
          archived: ['linux/arm64'],
        }),
      ),
    ),
    review: pod(at('team/multi', '2.0')),
    expect: denied(['IMAGE_ARCHIVED'], {
      messageIncludes: ['linux/arm64: image', 'is archived and cannot be pulled; restore it'],
    }),
  },
  {
    name: 'An image being restored from the archive is denied until it is active, saying so.',
    snapshot: own(appRepo({}, image('app-old', { tags: ['0.9'], imageStatus: 'ACTIVATING' }))),
    review: pod(at('team/app', '0.9')),
    expect: denied(['IMAGE_ARCHIVED'], {
      messageIncludes: ['is being restored from the ECR archive', 'retry when it is restored'],
    }),
  },
  {
    name: 'An image whose status is ACTIVE is judged as any other.',
    snapshot: own(appRepo({}, image('app-new', { tags: ['2.0'], imageStatus: 'ACTIVE' }))),
    review: pod(at('team/app', '2.0')),
    expect: allowed(),
  },
];

// Every kind that embeds a PodSpec, admitted when compliant and denied with the kind's own path.

const workloadKinds: AdmissionCase[] = WORKLOAD_KINDS.flatMap((kind) => [
  {
    name: `A ${kind} whose init container and containers are compliant ECR images is admitted.`,
    snapshot: usual(),
    review: review(workload(kind, { initContainers: [APP], containers: [APP] })),
    expect: allowed(),
  },
  {
    name: `A ${kind} with a mutable tag in its second container is denied, naming that container's path.`,
    snapshot: usual(),
    review: review(workload(kind, { initContainers: [APP], containers: [APP, TOOLS] })),
    expect: denied(['TAG_MUTABLE'], {
      messageIncludes: [
        `${kind} shop/app`,
        `${POD_SPEC_PATH[kind]}.containers[1].image "${TOOLS}": [TAG_MUTABLE]`,
        '1 image breaks',
      ],
      messageExcludes: [`${POD_SPEC_PATH[kind]}.containers[0].image`, 'initContainers'],
    }),
  },
]);

const legacyKinds: AdmissionCase[] = [
  {
    name: 'A Deployment served from extensions/v1beta1 by an old cluster is judged like an apps/v1 one.',
    snapshot: usual(),
    review: review({
      ...workload('Deployment', { containers: ['nginx:1.27'] }),
      apiVersion: 'extensions/v1beta1',
    }),
    expect: denied(['NOT_ECR'], { messageIncludes: ['spec.template.spec.containers[0].image "nginx:1.27"'] }),
  },
];

// Rule 2: every tag mutability setting, with tags in and out of the exclusion filters, and digests.

const mutability = (
  name: string,
  options: RepositoryOptions,
  tag: string,
  expectation: CaseExpectation,
): AdmissionCase => ({
  name,
  snapshot: own(repository('team/app', options, image(`app-${tag}`, { tags: [tag] }))),
  review: pod(at('team/app', tag)),
  expect: expectation,
});

const tagMutability: AdmissionCase[] = [
  mutability('A tag in an IMMUTABLE repository passes.', { mutability: 'IMMUTABLE' }, '1.0', allowed()),
  mutability(
    'A tag in a MUTABLE repository is denied with advice to pin it by digest.',
    { mutability: 'MUTABLE' },
    '1.0',
    denied(['TAG_MUTABLE'], {
      messageIncludes: [
        'tag "1.0" can be moved (repository tag mutability MUTABLE)',
        'reference the image by digest',
      ],
    }),
  ),
  mutability(
    'Under IMMUTABLE_WITH_EXCLUSION a tag matching an exclusion filter stays mutable and is denied.',
    { mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusionFilters: ['dev-*', 'nightly'] },
    'dev-42',
    denied(['TAG_MUTABLE'], { messageIncludes: ['tag "dev-42" can be moved'] }),
  ),
  mutability(
    'Under IMMUTABLE_WITH_EXCLUSION a tag outside the exclusion filters is immutable and passes.',
    { mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusionFilters: ['dev-*', 'nightly'] },
    'v1.0',
    allowed(),
  ),
  mutability(
    'Under MUTABLE_WITH_EXCLUSION a tag matching an exclusion filter is immutable and passes.',
    { mutability: 'MUTABLE_WITH_EXCLUSION', exclusionFilters: ['release-*'] },
    'release-1.0',
    allowed(),
  ),
  mutability(
    'Under MUTABLE_WITH_EXCLUSION a tag outside the exclusion filters is mutable and denied.',
    { mutability: 'MUTABLE_WITH_EXCLUSION', exclusionFilters: ['release-*'] },
    'main-1.0',
    denied(['TAG_MUTABLE'], { messageIncludes: ['tag "main-1.0" can be moved'] }),
  ),
  mutability(
    'An exclusion filter matches the whole tag, so release-* does not cover a tag that only contains it.',
    { mutability: 'MUTABLE_WITH_EXCLUSION', exclusionFilters: ['release-*'] },
    'pre-release-1',
    denied(['TAG_MUTABLE']),
  ),
  ...(['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const).map(
    (setting): AdmissionCase => ({
      name: `A reference by digest passes rule 2 in a ${setting} repository.`,
      snapshot: own(
        repository(
          'team/app',
          { mutability: setting, exclusionFilters: ['dev-*'] },
          image('app-dev', { tags: ['dev-1'] }),
        ),
      ),
      review: pod(pinned('team/app', 'app-dev')),
      expect: allowed(),
    }),
  ),
  {
    name: 'With requireTagImmutability off a tag in a MUTABLE repository passes.',
    snapshot: own(repository('team/app', { mutability: 'MUTABLE' }, image('app-1.0', { tags: ['1.0'] }))),
    policy: { rules: { requireTagImmutability: false } },
    review: pod(APP),
    expect: allowed(),
  },
];

// Rule 4's scan statuses: usable (COMPLETE, ACTIVE) and unscanned under each `unscanned` setting.

const unscannedModes = ['deny', 'warn', 'allow'] as const;

const scanStatuses: AdmissionCase[] = [
  {
    name: 'A COMPLETE basic scan without findings passes.',
    snapshot: usual(),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'An ACTIVE enhanced scan without CRITICAL findings passes.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN')) },
        repository(
          'team/app',
          { scanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' } },
          image('app-1.0', {
            tags: ['1.0'],
            scan: enhancedScan({ enhancedFindings: [enhancedFinding('CVE-2026-7002', 'HIGH')] }),
          }),
        ),
      ),
    ),
    review: pod(APP),
    expect: allowed(),
  },
  ...[...UNSCANNED_STATUSES, undefined].flatMap((status) =>
    unscannedModes.map((mode): AdmissionCase => {
      const state = status ? `scan status is ${status}` : 'the image has not been scanned';
      const what = status ? `whose scan status is ${status}` : 'that was never scanned';
      const outcome = {
        deny: 'is denied as unscanned',
        warn: 'is admitted with a warning',
        allow: 'is admitted silently',
      }[mode];
      return {
        name: `An image ${what} ${outcome} under unscanned: ${mode}.`,
        snapshot: usual(image('app-2.0', { tags: ['2.0'], scan: status ? scanWithStatus(status) : null })),
        policy: { rules: { unscanned: mode } },
        review: pod(at('team/app', '2.0')),
        expect:
          mode === 'deny'
            ? denied(['UNSCANNED'], {
                messageIncludes: [`[UNSCANNED] no usable vulnerability scan (${state})`],
                messageExcludes: ['ScanNotFoundException', 'Exception'],
              })
            : mode === 'warn'
              ? allowed({
                  warningsInclude: [`[UNSCANNED] app:2.0: no usable vulnerability scan (${state})`],
                })
              : allowed(),
      };
    }),
  ),
];

// Rule 3: registry scanning rules (basic and enhanced, each frequency) and repository configurations.

const scanning = (
  name: string,
  registryConfig: JsonObject | null,
  options: RepositoryOptions,
  expectation: CaseExpectation,
  scan = basicScan(),
): AdmissionCase => ({
  name,
  snapshot: snapshot(
    registry(
      { scanning: registryConfig },
      repository('team/app', options, image('app-1.0', { tags: ['1.0'], scan })),
    ),
  ),
  review: pod(APP),
  expect: expectation,
});

const disabled = (more: Omit<CaseExpectation, 'allowed' | 'codes'> = {}) =>
  denied(['SCAN_ON_PUSH_DISABLED'], {
    messageIncludes: ['repository "team/app" does not scan images on push'],
    ...more,
  });

const scanTypes: AdmissionCase[] = [
  scanning(
    'A basic SCAN_ON_PUSH registry rule whose filter covers the repository passes.',
    registryScanning('BASIC', rule('SCAN_ON_PUSH', 'team/*')),
    { scanning: null },
    allowed(),
  ),
  scanning(
    'A basic SCAN_ON_PUSH registry rule whose filter misses the repository does not scan it.',
    registryScanning('BASIC', rule('SCAN_ON_PUSH', 'prod/*')),
    { scanning: null },
    disabled(),
  ),
  scanning(
    'A basic MANUAL registry rule does not scan on push.',
    registryScanning('BASIC', rule('MANUAL', '*')),
    { scanning: null },
    disabled(),
  ),
  scanning(
    'Basic scanning without rules passes through the repository scan-on-push flag.',
    registryScanning('BASIC'),
    { scanning: null, legacyScanOnPush: true },
    allowed(),
  ),
  scanning(
    'Basic scanning without rules and without the repository flag does not scan on push.',
    registryScanning('BASIC'),
    { scanning: null, legacyScanOnPush: false },
    disabled(),
  ),
  scanning(
    'An enhanced CONTINUOUS_SCAN registry rule covering the repository passes.',
    registryScanning('ENHANCED', rule('CONTINUOUS_SCAN', 'team/*')),
    { scanning: null },
    allowed(),
    enhancedScan(),
  ),
  scanning(
    'An enhanced SCAN_ON_PUSH registry rule covering the repository passes.',
    registryScanning('ENHANCED', rule('SCAN_ON_PUSH', 'team/app')),
    { scanning: null },
    allowed(),
    enhancedScan(),
  ),
  scanning(
    'Under enhanced scanning a MANUAL rule does not scan on push, and the basic-only repository flag does not help.',
    registryScanning('ENHANCED', rule('MANUAL', '*')),
    { scanning: null, legacyScanOnPush: true },
    disabled(),
    enhancedScan(),
  ),
  scanning(
    'A repository scanning configuration with CONTINUOUS_SCAN passes.',
    registryScanning('ENHANCED', rule('CONTINUOUS_SCAN', '*')),
    { scanning: { scanOnPush: false, scanFrequency: 'CONTINUOUS_SCAN' } },
    allowed(),
    enhancedScan(),
  ),
  scanning(
    'A repository scanning configuration with SCAN_ON_PUSH passes.',
    registryScanning('BASIC', rule('SCAN_ON_PUSH', '*')),
    { scanning: { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' } },
    allowed(),
  ),
  scanning(
    'A repository scanning configuration with MANUAL frequency is denied with advice to add a registry rule.',
    registryScanning('BASIC', rule('SCAN_ON_PUSH', 'other/*')),
    { scanning: { scanOnPush: false, scanFrequency: 'MANUAL' } },
    disabled({ messageIncludes: ['add a registry scanning rule'] }),
  ),
  // ECR API reference, BatchGetRepositoryScanningConfiguration: "Gets the scanning configuration for one
  // or more repositories", the effective one; the deprecated repository flag does not override it.
  scanning(
    'Under basic scanning a MANUAL repository configuration is denied although the deprecated repository flag is on.',
    registryScanning('BASIC'),
    { scanning: { scanOnPush: false, scanFrequency: 'MANUAL' }, legacyScanOnPush: true },
    disabled(),
  ),
  // ECR user guide, image-scanning-filters: "a filter with no wildcard will match all repository names
  // that contain the filter".
  scanning(
    'A registry rule filter without a wildcard covers every repository whose name contains it.',
    registryScanning('BASIC', rule('SCAN_ON_PUSH', 'app')),
    { scanning: null },
    allowed(),
  ),
  scanning(
    'A registry rule filter without a wildcard misses a repository whose name does not contain it.',
    registryScanning('BASIC', rule('SCAN_ON_PUSH', 'payments')),
    { scanning: null },
    disabled(),
  ),
  {
    ...scanning(
      'With requireScanOnPush off a repository that never scans on push passes.',
      registryScanning('BASIC'),
      { scanning: { scanOnPush: false, scanFrequency: 'MANUAL' } },
      allowed(),
    ),
    policy: { rules: { requireScanOnPush: false } },
  },
];

// Multi-architecture images: every platform image listed by the index is judged.

const multiRepo = (...images: ImageEntry[]) => own(repository('team/multi', {}, ...images));
/** An index's manifest text, written by hand for the entries `multiArch` does not make. */
const rawIndex = (...entries: { name: string; platform?: Record<string, string>; annotated?: boolean }[]) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: entries.map((e) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(e.name),
      size: 1000,
      ...(e.annotated && { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }),
      ...(e.platform && { platform: e.platform }),
    })),
  });
const MULTI = at('team/multi', '2.0');

const multiArchitecture: AdmissionCase[] = [
  {
    name: 'An image index whose platform images are all cleanly scanned passes, its unscannable attestation excluded.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: { 'linux/amd64': basicScan(), 'linux/arm64/v8': basicScan() },
      }),
    ),
    review: pod(MULTI),
    expect: allowed(),
  },
  {
    name: 'A Docker manifest list is judged by its platform images like an OCI index.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        mediaType: DOCKER_MANIFEST_LIST,
        attestation: false,
        platforms: {
          'linux/amd64': basicScan(),
          'linux/arm64': basicScan({ findings: [finding('CVE-2026-8001', 'CRITICAL')] }),
        },
      }),
    ),
    review: pod(MULTI),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: ['linux/arm64: vulnerability findings above'],
    }),
  },
  {
    name: 'A CRITICAL finding in the arm64 image of an index denies the index and names the platform.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: {
          'linux/amd64': basicScan(),
          'linux/arm64/v8': basicScan({ findings: [finding('CVE-2026-8002', 'CRITICAL')] }),
        },
      }),
    ),
    review: pod(MULTI),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: [`"${MULTI}": [SEVERITY_LIMIT_EXCEEDED] linux/arm64/v8: vulnerability findings above`],
      messageExcludes: ['linux/amd64'],
    }),
  },
  {
    name: 'An index referenced by digest is judged by its platform images too.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        platforms: { 'linux/amd64': basicScan({ findings: [finding('CVE-2026-8003', 'CRITICAL')] }) },
      }),
    ),
    review: pod(pinned('team/multi', 'multi')),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: ['linux/amd64: vulnerability findings above'],
    }),
  },
  {
    name: 'An index listing a platform image that is not in the repository is denied as not found, naming the platform image.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: { 'linux/amd64': basicScan(), 'linux/arm64': basicScan() },
        missing: ['linux/arm64'],
      }),
    ),
    review: pod(MULTI),
    expect: denied(['IMAGE_NOT_FOUND'], {
      messageIncludes: [
        `linux/arm64: the index lists ${platformDigest('multi', 'linux/arm64')}, which is not in the repository`,
      ],
    }),
  },
  {
    name: 'An index listing a platform image that is not in the repository is denied even when unscanned images are allowed.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: { 'linux/amd64': basicScan(), 'linux/arm64': basicScan() },
        missing: ['linux/arm64'],
      }),
    ),
    policy: { rules: { unscanned: 'allow' } },
    review: pod(MULTI),
    expect: denied(['IMAGE_NOT_FOUND']),
  },
  {
    name: 'An index whose arm64 image is still being scanned is denied as unscanned, naming the platform.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: { 'linux/amd64': basicScan(), 'linux/arm64': scanWithStatus('IN_PROGRESS') },
      }),
    ),
    review: pod(MULTI),
    expect: denied(['UNSCANNED'], {
      messageIncludes: ['linux/arm64: no usable vulnerability scan (scan status is IN_PROGRESS)'],
    }),
  },
  {
    name: 'An index whose platform images were never scanned is admitted with a warning for each platform under unscanned: warn.',
    snapshot: multiRepo(
      ...multiArch('multi', { tags: ['2.0'], platforms: { 'linux/amd64': null, 'linux/arm64': null } }),
    ),
    policy: { rules: { unscanned: 'warn' } },
    review: pod(MULTI),
    expect: allowed({
      warningsInclude: [
        '[UNSCANNED] multi:2.0: linux/amd64: no usable vulnerability scan',
        '[UNSCANNED] multi:2.0: linux/arm64: no usable vulnerability scan',
      ],
    }),
  },
  {
    name: 'Each platform image of an index is subject to the severity limits separately.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: {
          'linux/amd64': basicScan({ findings: [finding('CVE-2026-8004', 'HIGH')] }),
          'linux/arm64': basicScan({ findings: [finding('CVE-2026-8004', 'HIGH')] }),
        },
      }),
    ),
    policy: { rules: { maxSeverityCounts: { HIGH: 1 } } },
    review: pod(MULTI),
    expect: allowed(),
  },
  {
    name: 'An index that lists only an attestation manifest has nothing to judge and is denied as unscanned.',
    snapshot: multiRepo({
      ...image('multi', { tags: ['2.0'], scan: null, mediaType: 'application/vnd.oci.image.index.v1+json' }),
      manifest: JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: digestOf('multi@attestation'),
            size: 566,
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
            platform: { architecture: 'unknown', os: 'unknown' },
          },
        ],
      }),
    }),
    review: pod(MULTI),
    expect: denied(['UNSCANNED'], {
      messageIncludes: ['the image index lists no platform image that can be judged'],
    }),
  },
  {
    name: 'An index with nothing to judge is denied even when unscanned images are allowed.',
    snapshot: multiRepo({
      ...image('multi', { tags: ['2.0'], scan: null, mediaType: 'application/vnd.oci.image.index.v1+json' }),
      manifest: rawIndex({
        name: 'multi@attestation',
        platform: { os: 'unknown', architecture: 'unknown' },
        annotated: true,
      }),
    }),
    policy: { rules: { unscanned: 'allow' } },
    review: pod(MULTI),
    expect: denied(['UNSCANNED'], {
      messageIncludes: ['the image index lists no platform image that can be judged'],
    }),
  },
  {
    name: 'A real platform image annotated as an attestation is still judged: the runtime picks by platform, not annotation.',
    snapshot: multiRepo(
      {
        ...image('multi', {
          tags: ['2.0'],
          scan: null,
          mediaType: 'application/vnd.oci.image.index.v1+json',
        }),
        manifest: rawIndex(
          { name: 'hidden', platform: { os: 'linux', architecture: 'amd64' }, annotated: true },
          { name: 'arm', platform: { os: 'linux', architecture: 'arm64' } },
        ),
      },
      image('hidden', { scan: basicScan({ findings: [finding('CVE-2026-7001', 'CRITICAL')] }) }),
      image('arm'),
    ),
    review: pod(MULTI),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['linux/amd64: vulnerability findings'] }),
  },
  {
    name: 'An index entry without a platform is judged, since a runtime may take it for any platform.',
    snapshot: multiRepo(
      {
        ...image('multi', {
          tags: ['2.0'],
          scan: null,
          mediaType: 'application/vnd.oci.image.index.v1+json',
        }),
        manifest: rawIndex({ name: 'any' }),
      },
      image('any', { scan: basicScan({ findings: [finding('CVE-2026-7002', 'CRITICAL')] }) }),
    ),
    review: pod(MULTI),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['unspecified: vulnerability findings'] }),
  },
];

// Ignored findings and their expiry: the exception applies through the end of its `expires` UTC day.

const CVE = 'CVE-2026-4242';
const criticalRepo = () =>
  own(
    repository(
      'team/app',
      {},
      image('app-1.0', {
        tags: ['1.0'],
        scan: basicScan({ findings: [finding(CVE, 'CRITICAL'), finding('CVE-2026-1001', 'HIGH')] }),
      }),
    ),
  );
const ignoring = (expires: string): PolicyDocument => ({
  rules: { ignoreFindings: [{ id: CVE, expires, reason: 'not reachable (SEC-1234)' }] },
});
const expiryWarning = (expires: string) =>
  `[EXCEPTION_EXPIRING] app:1.0: exception for ${CVE} expires ${expires}`;

const ignoredFindings: AdmissionCase[] = [
  {
    name: 'A CRITICAL finding the policy ignores until a date months ahead passes without a warning.',
    snapshot: criticalRepo(),
    policy: ignoring('2027-01-31'),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'Without an exception the same CRITICAL finding is denied.',
    snapshot: criticalRepo(),
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: [
        'vulnerability findings above the policy limits: 1 CRITICAL (limit 0)',
        'add a dated exception',
      ],
    }),
  },
  {
    name: 'An exception for another CVE does not cover the CRITICAL finding.',
    snapshot: criticalRepo(),
    policy: { rules: { ignoreFindings: [{ id: 'CVE-2026-0001', expires: '2027-01-31' }] } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED']),
  },
  {
    name: 'An exception still applies in the last second of its expires day (UTC), with a near-expiry warning.',
    snapshot: criticalRepo(),
    policy: ignoring('2026-11-27'),
    now: '2026-11-27T23:59:59Z',
    review: pod(APP),
    expect: allowed({ warningsInclude: [expiryWarning('2026-11-27')] }),
  },
  {
    name: 'An exception no longer applies at midnight UTC after its expires day.',
    snapshot: criticalRepo(),
    policy: ignoring('2026-11-27'),
    now: '2026-11-28T00:00:00Z',
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'An exception that expired the day before is ignored, and the CRITICAL finding denies the image.',
    snapshot: criticalRepo(),
    policy: ignoring('2026-11-26'),
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED']),
  },
  {
    name: 'An exception ending within seven days applies and warns that it expires soon.',
    snapshot: criticalRepo(),
    policy: ignoring('2026-12-03'),
    review: pod(APP),
    expect: allowed({ warningsInclude: [expiryWarning('2026-12-03')] }),
  },
  {
    name: 'An exception ending in more than seven days applies without a warning.',
    snapshot: criticalRepo(),
    policy: ignoring('2026-12-05'),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'An Inspector finding is ignored by its vulnerability id.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN')) },
        repository(
          'team/app',
          { scanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' } },
          image('app-1.0', {
            tags: ['1.0'],
            scan: enhancedScan({ enhancedFindings: [enhancedFinding(CVE, 'CRITICAL')] }),
          }),
        ),
      ),
    ),
    policy: ignoring('2027-01-31'),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'Suppressed and closed Inspector findings do not count when the scan reports no severity counts.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN')) },
        repository(
          'team/app',
          { scanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' } },
          image('app-1.0', {
            tags: ['1.0'],
            scan: enhancedScan({
              counts: null,
              enhancedFindings: [
                enhancedFinding('CVE-2026-7101', 'CRITICAL', 'SUPPRESSED'),
                enhancedFinding('CVE-2026-7102', 'CRITICAL', 'CLOSED'),
                enhancedFinding('CVE-2026-7103', 'LOW'),
              ],
            }),
          }),
        ),
      ),
    ),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'An active Inspector CRITICAL finding counts when the scan reports no severity counts.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN')) },
        repository(
          'team/app',
          { scanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' } },
          image('app-1.0', {
            tags: ['1.0'],
            scan: enhancedScan({
              counts: null,
              enhancedFindings: [
                enhancedFinding('CVE-2026-7101', 'CRITICAL', 'SUPPRESSED'),
                enhancedFinding('CVE-2026-7104', 'CRITICAL'),
              ],
            }),
          }),
        ),
      ),
    ),
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
];

// maxSeverityCounts merging with the default { CRITICAL: 0 } and maxScanAgeDays.

const withFindings = (...findings: ReturnType<typeof finding>[]) =>
  own(repository('team/app', {}, image('app-1.0', { tags: ['1.0'], scan: basicScan({ findings }) })));

const severityLimits: AdmissionCase[] = [
  {
    name: 'A HIGH limit of one denies two HIGH findings.',
    snapshot: withFindings(finding('CVE-2026-1001', 'HIGH'), finding('CVE-2026-1002', 'HIGH')),
    policy: { rules: { maxSeverityCounts: { HIGH: 1 } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['2 HIGH (limit 1)'] }),
  },
  {
    name: 'A HIGH limit of two admits exactly two HIGH findings.',
    snapshot: withFindings(finding('CVE-2026-1001', 'HIGH'), finding('CVE-2026-1002', 'HIGH')),
    policy: { rules: { maxSeverityCounts: { HIGH: 2 } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'Setting a HIGH limit keeps the default CRITICAL limit of zero.',
    snapshot: withFindings(finding('CVE-2026-9001', 'CRITICAL')),
    policy: { rules: { maxSeverityCounts: { HIGH: 5 } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'A null CRITICAL limit lifts it, so a CRITICAL finding passes.',
    snapshot: withFindings(finding('CVE-2026-9001', 'CRITICAL')),
    policy: { rules: { maxSeverityCounts: { CRITICAL: null } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'Both the CRITICAL and the HIGH limits are reported when both are exceeded.',
    snapshot: withFindings(
      finding('CVE-2026-9001', 'CRITICAL'),
      finding('CVE-2026-1001', 'HIGH'),
      finding('CVE-2026-1002', 'HIGH'),
    ),
    policy: { rules: { maxSeverityCounts: { HIGH: 0 } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: ['1 CRITICAL (limit 0), 2 HIGH (limit 0)'],
    }),
  },
  {
    name: 'HIGH findings are not limited by default.',
    snapshot: withFindings(finding('CVE-2026-1001', 'HIGH'), finding('CVE-2026-1002', 'HIGH')),
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'An untriaged Inspector finding counts as UNDEFINED under an UNDEFINED limit.',
    snapshot: snapshot(
      registry(
        { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN')) },
        repository(
          'team/app',
          { scanning: { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN' } },
          image('app-1.0', {
            tags: ['1.0'],
            scan: enhancedScan({ enhancedFindings: [enhancedFinding('CVE-2026-7201', 'UNTRIAGED')] }),
          }),
        ),
      ),
    ),
    policy: { rules: { maxSeverityCounts: { UNDEFINED: 0 } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 UNDEFINED (limit 0)'] }),
  },
  {
    name: 'A scan seven days old passes a maxScanAgeDays of eight.',
    snapshot: usual(),
    policy: { rules: { maxScanAgeDays: 8 } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'A scan seven days and two hours old is too old for a maxScanAgeDays of seven.',
    snapshot: usual(),
    policy: { rules: { maxScanAgeDays: 7 } },
    review: pod(APP),
    expect: denied(['SCAN_TOO_OLD'], {
      messageIncludes: ['the last scan is 7 days old, more than the 7 days allowed'],
    }),
  },
  {
    name: 'A scan completion time recorded in epoch seconds is read as a time.',
    snapshot: own(
      repository(
        'team/app',
        {},
        image('app-1.0', {
          tags: ['1.0'],
          scan: basicScan({ completedAt: Date.parse('2026-11-26T12:00:00Z') / 1000 }),
        }),
      ),
    ),
    policy: { rules: { maxScanAgeDays: 2 } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'A scan without a completion time fails maxScanAgeDays.',
    snapshot: own(
      repository('team/app', {}, image('app-1.0', { tags: ['1.0'], scan: basicScan({ completedAt: null }) })),
    ),
    policy: { rules: { maxScanAgeDays: 30 } },
    review: pod(APP),
    expect: denied(['SCAN_TOO_OLD'], { messageIncludes: ['the last scan has no completion time'] }),
  },
];

// Warn mode, warn namespaces, exemptions, and which registries are admitted.

const policyScopes: AdmissionCase[] = [
  {
    name: 'In warn mode a denied image is admitted, each reason becoming a short warning naming its code and image.',
    snapshot: usual(),
    policy: { mode: 'warn' },
    review: pod(TOOLS, 'nginx:1.27'),
    expect: {
      allowed: true,
      codes: ['NOT_ECR', 'TAG_MUTABLE'],
      warningsInclude: [
        '[TAG_MUTABLE] tools:latest: tag "latest" can be moved',
        '[NOT_ECR] nginx:1.27: registry "docker.io" is not a private Amazon ECR registry',
      ],
    },
  },
  {
    name: 'A namespace matching a warn glob admits a denied image with a warning.',
    snapshot: usual(),
    policy: { namespaces: { warn: ['sandbox-*'] } },
    review: podReview({ containers: ['busybox'] }, { namespace: 'sandbox-alice' }),
    expect: {
      allowed: true,
      codes: ['NOT_ECR'],
      warningsInclude: ['[NOT_ECR] busybox: registry "docker.io"'],
    },
  },
  {
    name: 'A namespace outside the warn globs is still enforced.',
    snapshot: usual(),
    policy: { namespaces: { warn: ['sandbox-*'] } },
    review: podReview({ containers: ['busybox'] }, { namespace: 'shop' }),
    expect: denied(['NOT_ECR']),
  },
  {
    name: 'A warn namespace admits a compliant image without warnings.',
    snapshot: usual(),
    policy: { namespaces: { warn: ['sandbox-*'] } },
    review: podReview({ containers: [APP] }, { namespace: 'sandbox-alice' }),
    expect: allowed(),
  },
  {
    name: 'The kube-system namespace is exempt by default, so a Docker Hub image there is admitted untouched.',
    snapshot: usual(),
    review: podReview(
      { containers: ['registry.k8s.io/coredns/coredns:v1.11.1'] },
      { namespace: 'kube-system' },
    ),
    expect: allowed(),
  },
  {
    name: 'A namespace matching an exempt glob is never judged.',
    snapshot: usual(),
    policy: { namespaces: { exempt: ['kube-system', 'ci-*'] } },
    review: podReview({ containers: ['busybox', `${HOST}/team/ghost:1`] }, { namespace: 'ci-runner' }),
    expect: allowed(),
  },
  {
    name: 'An image exempt by a glob whose star spans regions and paths is admitted without a lookup.',
    snapshot: usual(),
    policy: { images: { exempt: ['602401143452.dkr.ecr.*.amazonaws.com/*'] } },
    review: pod('602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.0'),
    expect: allowed(),
  },
  {
    name: 'An exemption glob for AWS registries does not exempt a look-alike host that hides the pattern in its path.',
    snapshot: usual(),
    policy: { images: { exempt: ['602401143452.dkr.ecr.*.amazonaws.com/*'] } },
    review: pod('602401143452.dkr.ecr.evil.example/x.amazonaws.com/cni:1'),
    expect: denied(['NOT_ECR'], { messageIncludes: ['registry "602401143452.dkr.ecr.evil.example"'] }),
  },
  {
    name: 'A star in the host part of an exemption glob stays within one DNS label, so a host with more labels is not exempt.',
    snapshot: usual(),
    policy: { images: { exempt: ['602401143452.dkr.ecr.*.amazonaws.com/*'] } },
    review: pod('602401143452.dkr.ecr.evil.s3.amazonaws.com/x:1'),
    expect: denied(['NOT_ECR'], { messageIncludes: ['602401143452.dkr.ecr.evil.s3.amazonaws.com'] }),
  },
  {
    name: 'An exemption glob without a slash is a host pattern: it exempts every image of that host and no longer host.',
    snapshot: usual(),
    policy: { images: { exempt: ['602401143452.dkr.ecr.us-west-2.amazonaws.com*'] } },
    review: pod(
      '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.1',
      '602401143452.dkr.ecr.us-west-2.amazonaws.com.evil.example/x:1',
    ),
    expect: denied(['NOT_ECR'], {
      messageIncludes: ['602401143452.dkr.ecr.us-west-2.amazonaws.com.evil.example'],
      messageExcludes: ['eks/coredns'],
    }),
  },
  {
    name: 'An invalid reference is never exempt, even when an exemption glob would match its text.',
    snapshot: usual(),
    policy: { images: { exempt: ['registry.example.com/*'] } },
    review: pod('registry.example.com/Team/App:1'),
    expect: denied(['INVALID_REFERENCE']),
  },
  {
    name: 'An image on a host naming a region no AWS partition has is not an ECR image and is never looked up.',
    snapshot: usual(),
    review: pod('111122223333.dkr.ecr.xx-yyy-1.amazonaws.com/team/app:1'),
    expect: denied(['NOT_ECR'], { messageIncludes: ['is not a private Amazon ECR registry'] }),
  },
  {
    name: 'Without that exemption the EKS add-on image is denied as not found in the snapshot.',
    snapshot: usual(),
    review: pod('602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.0'),
    expect: denied(['REPOSITORY_NOT_FOUND'], {
      messageIncludes: [
        'repository "amazon-k8s-cni" does not exist in 602401143452.dkr.ecr.eu-west-1.amazonaws.com',
      ],
    }),
  },
  {
    name: 'An exempt Docker Hub short name (matched written out in full) beside a non-compliant image leaves only the latter denied.',
    snapshot: usual(),
    policy: { images: { exempt: ['docker.io/library/*'] } },
    review: pod('busybox:1.36', TOOLS),
    expect: denied(['TAG_MUTABLE'], {
      messageIncludes: [`spec.containers[1].image "${TOOLS}"`],
      messageExcludes: ['busybox'],
    }),
  },
  {
    name: 'An ECR Public image is denied by default with advice to copy it into a private repository.',
    snapshot: usual(),
    review: pod('public.ecr.aws/nginx/nginx:1.27'),
    expect: denied(['NOT_ECR'], { messageIncludes: ['ECR Public images are not allowed'] }),
  },
  {
    name: 'An ECR Public image is admitted when the policy allows ECR Public.',
    snapshot: usual(),
    policy: { images: { allowPublicEcr: true } },
    review: pod('public.ecr.aws/nginx/nginx:1.27', APP),
    expect: allowed(),
  },
  {
    name: 'Allowing ECR Public does not admit other public registries.',
    snapshot: usual(),
    policy: { images: { allowPublicEcr: true } },
    review: pod('public.ecr.aws/nginx/nginx:1.27', 'quay.io/prometheus/node-exporter:v1.8.0'),
    expect: denied(['NOT_ECR'], {
      messageIncludes: ['registry "quay.io"'],
      messageExcludes: ['public.ecr.aws'],
    }),
  },
  {
    name: 'An ECR image from an account outside allowedRegistries is denied.',
    snapshot: snapshot(
      registry({}, appRepo()),
      registry(
        { registryId: OTHER_ACCOUNT },
        repository('team/app', {}, image('other-1.0', { tags: ['1.0'] })),
      ),
    ),
    policy: { images: { allowedRegistries: [ACCOUNT] } },
    review: pod(APP, at('team/app', '1.0', OTHER_HOST)),
    expect: denied(['REGISTRY_NOT_ALLOWED'], {
      messageIncludes: [
        `spec.containers[1].image "${OTHER_HOST}/team/app:1.0"`,
        `account ${OTHER_ACCOUNT} is not in the allowed registries`,
      ],
    }),
  },
  {
    name: 'An ECR image from an account in allowedRegistries is judged and admitted.',
    snapshot: usual(),
    policy: { images: { allowedRegistries: [OTHER_ACCOUNT, ACCOUNT] } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'With requireEcr off images from any registry are admitted untouched.',
    snapshot: usual(),
    policy: { rules: { requireEcr: false } },
    review: pod('nginx:1.27', 'ghcr.io/acme/tool:1', APP),
    expect: allowed(),
  },
  {
    name: 'With requireEcr off ECR images are still judged by the other rules.',
    snapshot: usual(),
    policy: { rules: { requireEcr: false } },
    review: pod('nginx:1.27', TOOLS),
    expect: denied(['TAG_MUTABLE'], { messageIncludes: [`spec.containers[1].image "${TOOLS}"`] }),
  },
];

// Other accounts and other regions: the image is looked up where its host says, and nowhere else.

const crossAccount = (...repositories: RepositoryEntry[]) =>
  snapshot(registry({}, appRepo()), registry({ registryId: OTHER_ACCOUNT, scanning: null }, ...repositories));
const SHARED = at('shared/base', '1.0', OTHER_HOST);
const UNREAD = `the registry scanning rules of account ${OTHER_ACCOUNT} could not be read`;

const elsewhere: AdmissionCase[] = [
  {
    name: 'An image in another account whose registry rules cannot be read passes on an ACTIVE enhanced scan, with a note saying so.',
    snapshot: crossAccount(
      repository('shared/base', { scanning: null }, image('base', { tags: ['1.0'], scan: enhancedScan() })),
    ),
    review: pod(SHARED),
    expect: allowed({
      notesInclude: [`${UNREAD}; continuous scanning is shown by the image's active enhanced scan`],
    }),
  },
  {
    name: "An image in another account passes on the repository's own scan-on-push flag, with a note saying so.",
    snapshot: crossAccount(
      repository('shared/base', { scanning: null, legacyScanOnPush: true }, image('base', { tags: ['1.0'] })),
    ),
    review: pod(SHARED),
    expect: allowed({ notesInclude: [`${UNREAD}; judged by the repository's scan-on-push flag`] }),
  },
  {
    name: 'An image in another account with neither an active enhanced scan nor the repository flag is denied as unverified.',
    snapshot: crossAccount(repository('shared/base', { scanning: null }, image('base', { tags: ['1.0'] }))),
    review: pod(SHARED),
    expect: denied(['SCAN_ON_PUSH_UNVERIFIED'], {
      messageIncludes: [
        `scan on push could not be confirmed: ${UNREAD}`,
        'configure a registry role for that account',
      ],
    }),
  },
  {
    name: 'An index in another account passes on the ACTIVE enhanced scans of its platform images.',
    snapshot: crossAccount(
      repository(
        'shared/base',
        { scanning: null },
        ...multiArch('base', {
          tags: ['1.0'],
          platforms: { 'linux/amd64': enhancedScan(), 'linux/arm64': enhancedScan() },
        }),
      ),
    ),
    review: pod(SHARED),
    expect: allowed({ notesInclude: [UNREAD] }),
  },
  {
    name: "Another account's image is never judged by the caller's compliant repository of the same name.",
    snapshot: snapshot(
      registry({}, repository('shared/base', {}, image('own-base', { tags: ['1.0'] }))),
      registry({ registryId: OTHER_ACCOUNT, scanning: null }),
    ),
    review: pod(SHARED),
    expect: denied(['REPOSITORY_NOT_FOUND'], {
      messageIncludes: [`repository "shared/base" does not exist in ${OTHER_HOST}`],
    }),
  },
  {
    name: "Another account's mutable repository is denied although the caller's same-named repository is immutable.",
    snapshot: snapshot(
      registry({}, repository('shared/base', {}, image('own-base', { tags: ['1.0'] }))),
      registry(
        { registryId: OTHER_ACCOUNT },
        repository('shared/base', { mutability: 'MUTABLE' }, image('their-base', { tags: ['1.0'] })),
      ),
    ),
    review: pod(SHARED),
    expect: denied(['TAG_MUTABLE']),
  },
  {
    name: 'An image in eu-west-1 is judged by the eu-west-1 repository, not by the same-named us-east-1 one.',
    snapshot: snapshot(
      registry({}, appRepo()),
      registry(
        { region: 'eu-west-1' },
        repository('team/app', { mutability: 'MUTABLE' }, image('eu-app-1.0', { tags: ['1.0'] })),
      ),
    ),
    review: pod(at('team/app', '1.0', EU_HOST)),
    expect: denied(['TAG_MUTABLE'], { messageIncludes: [`"${EU_HOST}/team/app:1.0": [TAG_MUTABLE]`] }),
  },
  {
    name: 'An image in eu-west-1 is not found when only us-east-1 holds a repository of that name.',
    snapshot: usual(),
    review: pod(at('team/app', '1.0', EU_HOST)),
    expect: denied(['REPOSITORY_NOT_FOUND'], { messageIncludes: [`does not exist in ${EU_HOST}`] }),
  },
  {
    name: "An image in eu-west-1 is judged by that region's registry scanning rules.",
    snapshot: snapshot(
      registry({}, appRepo({ scanning: null })),
      registry(
        { region: 'eu-west-1', scanning: registryScanning('BASIC', rule('SCAN_ON_PUSH', 'prod/*')) },
        repository('team/app', { scanning: null }, image('eu-app-1.0', { tags: ['1.0'] })),
      ),
    ),
    review: pod(APP, at('team/app', '1.0', EU_HOST)),
    expect: denied(['SCAN_ON_PUSH_DISABLED'], {
      messageIncludes: [`spec.containers[1].image "${EU_HOST}/team/app:1.0"`],
      messageExcludes: ['spec.containers[0].image'],
    }),
  },
  {
    name: 'An image in eu-west-1 is found by tag in that region although us-east-1 has no such tag.',
    snapshot: snapshot(
      registry({}, appRepo()),
      registry({ region: 'eu-west-1' }, repository('team/app', {}, image('eu-app-3.0', { tags: ['3.0'] }))),
    ),
    review: pod(at('team/app', '3.0', EU_HOST)),
    expect: allowed(),
  },
  {
    name: 'An image from the FIPS endpoint is looked up in its region and admitted.',
    snapshot: usual(),
    review: pod(`${ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com/team/app:1.0`),
    expect: allowed(),
  },
  {
    name: 'An image from the dual-stack endpoint is looked up in its region and admitted.',
    snapshot: usual(),
    review: pod(`${ACCOUNT}.dkr-ecr.us-east-1.on.aws/team/app:1.0`),
    expect: allowed(),
  },
  {
    name: 'An image from a China region registry is looked up in that region and admitted.',
    snapshot: snapshot(registry({ region: 'cn-north-1' }, appRepo())),
    review: pod(at('team/app', '1.0', ecrHost(ACCOUNT, 'cn-north-1'))),
    expect: allowed(),
  },
  {
    name: 'A China region written under amazonaws.com is a look-alike, not ECR.',
    snapshot: snapshot(registry({ region: 'cn-north-1' }, appRepo())),
    review: pod(`${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com/team/app:1.0`),
    expect: denied(['NOT_ECR']),
  },
];

// What is not judged: DELETE, CONNECT, kinds without a PodSpec and other Pod subresources.

const untouched: AdmissionCase[] = [
  {
    name: 'Deleting a Pod that runs a Docker Hub image is allowed untouched.',
    snapshot: usual(),
    review: podReview({ containers: ['nginx:1.27'] }, { operation: 'DELETE' }),
    expect: allowed(),
  },
  {
    name: 'Deleting a Deployment is allowed untouched.',
    snapshot: usual(),
    review: review(workload('Deployment', { containers: ['nginx:1.27'] }), { operation: 'DELETE' }),
    expect: allowed(),
  },
  {
    name: 'A CONNECT to a Pod (exec) is allowed untouched.',
    snapshot: usual(),
    review: podReview({ containers: ['nginx:1.27'] }, { operation: 'CONNECT', subResource: 'exec' }),
    expect: allowed(),
  },
  {
    name: 'A ConfigMap carries no PodSpec and is allowed untouched.',
    snapshot: usual(),
    review: review({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop' },
      data: { image: 'nginx:1.27' },
    }),
    expect: allowed(),
  },
  {
    name: 'A Service carries no PodSpec and is allowed untouched.',
    snapshot: usual(),
    review: review({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    }),
    expect: allowed(),
  },
  {
    name: 'A status update of a Pod is not a change of its images and is allowed untouched.',
    snapshot: usual(),
    review: podReview({ containers: ['nginx:1.27'] }, { operation: 'UPDATE', subResource: 'status' }),
    expect: allowed(),
  },
];

// Several images and several reasons: every reason is collected, each with its path.

const reasons: AdmissionCase[] = [
  {
    name: 'A Deployment with three offending images names each one with its path and rule.',
    snapshot: usual(
      image('app-crit', {
        tags: ['crit'],
        scan: basicScan({ findings: [finding('CVE-2026-9001', 'CRITICAL')] }),
      }),
    ),
    review: review(
      workload('Deployment', {
        initContainers: ['busybox'],
        containers: [TOOLS, at('team/app', 'crit'), APP],
      }),
    ),
    expect: denied(['NOT_ECR', 'SEVERITY_LIMIT_EXCEEDED', 'TAG_MUTABLE'], {
      messageIncludes: [
        'ecr-admission denied Deployment shop/app: 3 images break the image policy',
        '- spec.template.spec.initContainers[0].image "busybox": [NOT_ECR]',
        `- spec.template.spec.containers[0].image "${TOOLS}": [TAG_MUTABLE]`,
        `- spec.template.spec.containers[1].image "${at('team/app', 'crit')}": [SEVERITY_LIMIT_EXCEEDED]`,
      ],
      messageExcludes: ['containers[2]'],
    }),
  },
  {
    name: 'One image breaking three rules is reported once per rule.',
    snapshot: own(
      repository(
        'team/app',
        { mutability: 'MUTABLE', scanning: { scanOnPush: false, scanFrequency: 'MANUAL' } },
        image('app-1.0', {
          tags: ['1.0'],
          scan: basicScan({ findings: [finding('CVE-2026-9001', 'CRITICAL')] }),
        }),
      ),
    ),
    policy: {},
    review: pod(APP),
    expect: denied(['SCAN_ON_PUSH_DISABLED', 'SEVERITY_LIMIT_EXCEEDED', 'TAG_MUTABLE'], {
      messageIncludes: [
        '1 image breaks the image policy',
        `spec.containers[0].image "${APP}": [TAG_MUTABLE]`,
        `spec.containers[0].image "${APP}": [SCAN_ON_PUSH_DISABLED]`,
        `spec.containers[0].image "${APP}": [SEVERITY_LIMIT_EXCEEDED]`,
      ],
    }),
  },
  {
    name: 'The same offending image in two containers is reported at both paths.',
    snapshot: usual(),
    review: pod(TOOLS, TOOLS),
    expect: denied(['TAG_MUTABLE'], {
      messageIncludes: ['2 images break', 'spec.containers[0].image', 'spec.containers[1].image'],
    }),
  },
  {
    name: 'A container without an image is denied as an invalid reference at its path.',
    snapshot: usual(),
    review: podReview({ containers: [APP, null] }),
    expect: denied(['INVALID_REFERENCE'], {
      messageIncludes: [
        'spec.containers[1].image "(missing)": [INVALID_REFERENCE] invalid image reference: the image is not a string',
      ],
    }),
  },
  {
    name: 'An image with an uppercase repository name is denied as an invalid reference.',
    snapshot: usual(),
    review: pod(`${HOST}/Team/App:1.0`),
    expect: denied(['INVALID_REFERENCE'], { messageIncludes: ['is not a valid repository name'] }),
  },
  {
    name: 'An image with a truncated sha256 digest is denied as an invalid reference.',
    snapshot: usual(),
    review: pod(`${HOST}/team/app@sha256:${'a'.repeat(40)}`),
    expect: denied(['INVALID_REFERENCE'], {
      messageIncludes: ['a sha256 digest must be 64 lowercase hexadecimal characters'],
    }),
  },
  {
    name: 'A Deployment without a pod template is denied as an invalid object, naming the missing field.',
    snapshot: usual(),
    review: review({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: 'shop' },
      spec: { replicas: 1 },
    }),
    expect: denied(['INVALID_OBJECT'], {
      messageIncludes: ['spec.template', 'the pod spec is missing or not an object'],
    }),
  },
  {
    name: 'A Pod whose containers field is not a list is denied as an invalid object.',
    snapshot: usual(),
    review: review({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app', namespace: 'shop' },
      spec: { containers: { name: 'app', image: APP } },
    }),
    expect: denied(['INVALID_OBJECT'], { messageIncludes: ['spec.containers', 'is not a list'] }),
  },
  {
    name: 'A v1beta1 review is answered in v1beta1 with the same denial.',
    snapshot: usual(),
    review: podReview({ containers: ['nginx:1.27'] }, { apiVersion: 'admission.k8s.io/v1beta1' }),
    expect: denied(['NOT_ECR']),
  },
  {
    name: 'A v1beta1 review of a compliant Pod is admitted in v1beta1.',
    snapshot: usual(),
    review: podReview({ containers: [APP] }, { apiVersion: 'admission.k8s.io/v1beta1' }),
    expect: allowed(),
  },
];

// Risk-based rules: which findings count (countOnly), scoped exceptions with tickets, per-namespace scopes.

const RISK_CVE = 'CVE-2026-1111';
/** team/app:1.0 with one CRITICAL enhanced finding carrying the given details. */
const riskRepo = (
  details: Omit<Parameters<typeof detailedFinding>[2], never>,
  severity: 'CRITICAL' | 'HIGH' = 'CRITICAL',
) =>
  snapshot(
    registry(
      { scanning: registryScanning('ENHANCED', rule('CONTINUOUS_SCAN', '*')) },
      repository(
        'team/app',
        {},
        image('app-1.0', {
          tags: ['1.0'],
          scan: enhancedScan({ enhancedFindings: [detailedFinding(RISK_CVE, severity, details)] }),
        }),
      ),
    ),
  );
const FIXABLE = {
  fixAvailable: 'YES',
  package: { name: 'openssl', version: '3.0.13', fixedInVersion: '3.0.15' },
} as const;

/** team/app:1.0 with one HIGH finding: passes the default limits, not a scope's `HIGH: 0`. */
const highRepo = () =>
  own(
    repository(
      'team/app',
      {},
      image('app-1.0', { tags: ['1.0'], scan: basicScan({ findings: [finding('CVE-2026-2001', 'HIGH')] }) }),
    ),
  );

const riskRules: AdmissionCase[] = [
  {
    name: 'A fixable CRITICAL finding under countOnly fixAvailable YES is denied, named with its fix and age.',
    snapshot: riskRepo({ ...FIXABLE, firstObservedAt: '2026-11-06T12:00:00Z', score: 9.8 }),
    policy: { rules: { countOnly: { fixAvailable: ['YES', 'PARTIAL'] } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: [`${RISK_CVE} CRITICAL, score 9.8, fix available (openssl 3.0.15), known 21 days`],
    }),
  },
  {
    name: 'A CRITICAL finding with no fix does not count under countOnly fixAvailable YES, and the image is admitted.',
    snapshot: riskRepo({ fixAvailable: 'NO' }),
    policy: { rules: { countOnly: { fixAvailable: ['YES', 'PARTIAL'] } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'A basic finding has unknown fix availability and counts only when countOnly lists UNKNOWN.',
    snapshot: own(
      repository(
        'team/app',
        {},
        image('app-1.0', { tags: ['1.0'], scan: basicScan({ findings: [finding(RISK_CVE, 'CRITICAL')] }) }),
      ),
    ),
    policy: { rules: { countOnly: { fixAvailable: ['YES', 'UNKNOWN'] } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: [`${RISK_CVE} CRITICAL`] }),
  },
  {
    name: 'An exploited CRITICAL finding counts under countOnly exploitAvailable YES; an unexploited one does not.',
    snapshot: riskRepo({ exploitAvailable: 'NO' }),
    policy: { rules: { countOnly: { exploitAvailable: ['YES'] } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'A finding scored exactly the minimum counts: minScore is inclusive.',
    snapshot: riskRepo({ score: 7 }),
    policy: { rules: { countOnly: { minScore: 7 } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['score 7'] }),
  },
  {
    name: 'A finding scored below the minimum does not count.',
    snapshot: riskRepo({ score: 6.9 }),
    policy: { rules: { countOnly: { minScore: 7 } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'A basic finding takes its score from the CVSS3_SCORE attribute.',
    snapshot: own(
      repository(
        'team/app',
        {},
        image('app-1.0', {
          tags: ['1.0'],
          scan: basicScan({ findings: [{ id: RISK_CVE, severity: 'CRITICAL', cvss3: '5.5', cvss2: '9.0' }] }),
        }),
      ),
    ),
    policy: { rules: { countOnly: { minScore: 7 } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'A finding first observed exactly minAgeDays ago counts: the grace period is inclusive.',
    snapshot: riskRepo({ firstObservedAt: '2026-11-13T12:00:00Z' }),
    policy: { rules: { countOnly: { minAgeDays: 14 } } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['known 14 days'] }),
  },
  {
    name: 'A finding newer than the grace period does not count yet.',
    snapshot: riskRepo({ firstObservedAt: '2026-11-13T12:00:01Z' }),
    policy: { rules: { countOnly: { minAgeDays: 14 } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'The countOnly keys combine with AND: a fixable finding below the minimum score does not count.',
    snapshot: riskRepo({ ...FIXABLE, score: 5 }),
    policy: { rules: { countOnly: { fixAvailable: ['YES'], minScore: 7 } } },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'An exception scoped to other namespaces does not apply, and the finding denies the image.',
    snapshot: criticalRepo(),
    policy: { rules: { ignoreFindings: [{ id: CVE, expires: '2027-01-31', namespaces: ['payments-*'] }] } },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED']),
  },
  {
    name: 'An exception scoped to the namespace of the request applies there.',
    snapshot: criticalRepo(),
    policy: { rules: { ignoreFindings: [{ id: CVE, expires: '2027-01-31', namespaces: ['payments-*'] }] } },
    review: podReview({ containers: [APP] }, { namespace: 'payments-eu' }),
    expect: allowed(),
  },
  {
    name: 'An exception scoped to images applies only to a reference its globs match.',
    snapshot: criticalRepo(),
    policy: {
      rules: { ignoreFindings: [{ id: CVE, expires: '2027-01-31', images: [`${HOST}/team/other*`] }] },
    },
    review: pod(APP),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED']),
  },
  {
    name: 'An exception scoped to a matching image applies, and its near-expiry warning names the ticket.',
    snapshot: criticalRepo(),
    policy: {
      rules: {
        ignoreFindings: [
          {
            id: CVE,
            expires: '2026-12-01',
            images: [`${HOST}/team/app*`],
            ticket: 'SEC-1234',
            approvedBy: 'security-team',
          },
        ],
      },
    },
    review: pod(APP),
    expect: allowed({ warningsInclude: [`exception for ${CVE} (SEC-1234) expires 2026-12-01`] }),
  },
  {
    name: 'A scope for production namespaces tightens one limit and keeps the top-level ones.',
    snapshot: highRepo(),
    policy: { scopes: [{ namespaces: ['prod-*'], rules: { maxSeverityCounts: { HIGH: 0 } } }] },
    review: podReview({ containers: [APP] }, { namespace: 'prod-eu' }),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 HIGH (limit 0)'] }),
  },
  {
    name: 'Outside the scope the top-level limits apply and the HIGH finding passes.',
    snapshot: highRepo(),
    policy: { scopes: [{ namespaces: ['prod-*'], rules: { maxSeverityCounts: { HIGH: 0 } } }] },
    review: podReview({ containers: [APP] }, { namespace: 'shop' }),
    expect: allowed(),
  },
  {
    name: 'A scope keeps the top-level CRITICAL limit when it sets only HIGH.',
    snapshot: criticalRepo(),
    policy: { scopes: [{ namespaces: ['prod-*'], rules: { maxSeverityCounts: { HIGH: 5 } } }] },
    review: podReview({ containers: [APP] }, { namespace: 'prod-eu' }),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], { messageIncludes: ['1 CRITICAL (limit 0)'] }),
  },
  {
    name: 'A scope with an explicit enforce mode wins over a warn namespace glob.',
    snapshot: usual(),
    policy: { namespaces: { warn: ['prod-*'] }, scopes: [{ namespaces: ['prod-*'], mode: 'enforce' }] },
    review: podReview({ containers: ['busybox'] }, { namespace: 'prod-eu' }),
    expect: denied(['NOT_ECR']),
  },
  {
    name: 'A sandbox scope in warn mode admits a denied image with a warning.',
    snapshot: usual(),
    policy: { scopes: [{ namespaces: ['sandbox'], mode: 'warn' }] },
    review: podReview({ containers: ['busybox'] }, { namespace: 'sandbox' }),
    expect: { allowed: true, codes: ['NOT_ECR'], warningsInclude: ['[NOT_ECR]'] },
  },
  {
    name: "A scope's exceptions are added to the top-level ones and apply only in its namespaces.",
    snapshot: criticalRepo(),
    policy: {
      scopes: [{ namespaces: ['legacy'], rules: { ignoreFindings: [{ id: CVE, expires: '2027-01-31' }] } }],
    },
    review: podReview({ containers: [APP] }, { namespace: 'legacy' }),
    expect: allowed(),
  },
  {
    name: 'Under countOnly each platform image of an index is judged alone: a fixable CRITICAL in arm64 denies, naming the platform.',
    snapshot: multiRepo(
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: {
          'linux/amd64': enhancedScan({
            enhancedFindings: [detailedFinding('CVE-2026-8101', 'CRITICAL', { fixAvailable: 'NO' })],
          }),
          'linux/arm64': enhancedScan({
            enhancedFindings: [detailedFinding('CVE-2026-8102', 'CRITICAL', FIXABLE)],
          }),
        },
      }),
    ),
    policy: { rules: { countOnly: { fixAvailable: ['YES'] } } },
    review: pod(MULTI),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED'], {
      messageIncludes: ['linux/arm64: vulnerability findings above', 'CVE-2026-8102 CRITICAL, fix available'],
      messageExcludes: ['CVE-2026-8101'],
    }),
  },
  {
    name: 'Under countOnly in warn mode a counted finding becomes a warning and the image is admitted.',
    snapshot: riskRepo(FIXABLE),
    policy: { mode: 'warn', rules: { countOnly: { fixAvailable: ['YES'] } } },
    review: pod(APP),
    expect: {
      allowed: true,
      codes: ['SEVERITY_LIMIT_EXCEEDED'],
      warningsInclude: ['[SEVERITY_LIMIT_EXCEEDED]'],
    },
  },
  {
    name: 'An exempt image is admitted without judging whatever countOnly and scopes say.',
    snapshot: riskRepo(FIXABLE),
    policy: {
      images: { exempt: [`${HOST}/team/app*`] },
      rules: { countOnly: { fixAvailable: ['YES'] } },
      scopes: [{ namespaces: ['shop'], rules: { maxSeverityCounts: { LOW: 0 } } }],
    },
    review: pod(APP),
    expect: allowed(),
  },
  {
    name: 'The first scope whose namespaces match applies, not a later one.',
    snapshot: criticalRepo(),
    policy: {
      scopes: [
        { namespaces: ['legacy-*'], rules: { maxSeverityCounts: { CRITICAL: 0 } } },
        { namespaces: ['legacy-a'], rules: { maxSeverityCounts: { CRITICAL: 5 } } },
      ],
    },
    review: podReview({ containers: [APP] }, { namespace: 'legacy-a' }),
    expect: denied(['SEVERITY_LIMIT_EXCEEDED']),
  },
];

export const admissionCases: AdmissionCase[] = [
  ...sampleBugs,
  ...workloadKinds,
  ...legacyKinds,
  ...tagMutability,
  ...scanStatuses,
  ...scanTypes,
  ...multiArchitecture,
  ...ignoredFindings,
  ...severityLimits,
  ...riskRules,
  ...policyScopes,
  ...elsewhere,
  ...untouched,
  ...reasons,
];
