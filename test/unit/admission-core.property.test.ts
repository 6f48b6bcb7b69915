/**
 * Whatever arrives, the admission core answers: parsing rejects only with AdmissionReviewError, the
 * service never throws, and every answered review echoes its uid and apiVersion.
 */
import fc from 'fast-check';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { AdmissionService } from '../../src/application/admission-service';
import { AdmissionReviewError } from '../../src/domain/errors';
import type { FactsLookup, FactsSource } from '../../src/domain/facts';
import { type PolicyDocument, parsePolicy } from '../../src/domain/policy';
import { formatAdmissionResponse, parseAdmissionReview } from '../../src/http/admission-review';
import { handleWebhookRequest } from '../../src/http/webhook';
import {
  ACCOUNT,
  basicScan,
  digestOf,
  ecrHost,
  enhancedScan,
  finding,
  image,
  multiArch,
  OTHER_ACCOUNT,
  registry,
  repository,
  scanWithStatus,
  snapshot,
} from '../helpers/snapshot-builder';

const REGISTRY = snapshot(
  registry(
    {},
    repository(
      'team/app',
      { mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusionFilters: ['dev-*'] },
      image('app-1.0', { tags: ['1.0', 'latest'] }),
      image('app-crit', {
        tags: ['crit'],
        scan: basicScan({ findings: [finding('CVE-2026-4242', 'CRITICAL')] }),
      }),
      image('app-pending', { tags: ['dev-1'], scan: scanWithStatus('PENDING') }),
    ),
    repository(
      'team/multi',
      {},
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: { 'linux/amd64': basicScan(), 'linux/arm64': null },
        missing: ['linux/arm64'],
      }),
    ),
  ),
  registry(
    { registryId: OTHER_ACCOUNT, scanning: null },
    repository('shared/base', { scanning: null }, image('base', { tags: ['1.0'], scan: enhancedScan() })),
  ),
  registry(
    { region: 'eu-west-1' },
    repository('team/app', { mutability: 'MUTABLE' }, image('eu', { tags: ['1.0'] })),
  ),
);

class FailingFacts implements FactsSource {
  async lookup(): Promise<FactsLookup> {
    throw new Error('ThrottlingException: Rate exceeded');
  }
}

class SilentFacts implements FactsSource {
  lookup(): Promise<FactsLookup> {
    return new Promise(() => {});
  }
}

const POLICIES: PolicyDocument[] = [
  {},
  { mode: 'warn' },
  {
    namespaces: { warn: ['sandbox-*'], exempt: ['kube-*'] },
    images: { exempt: ['nginx*'], allowPublicEcr: true },
  },
  { rules: { requireEcr: false, unscanned: 'warn', maxScanAgeDays: 3, maxSeverityCounts: { HIGH: 0 } } },
  {
    failureMode: 'allow',
    images: { allowedRegistries: [ACCOUNT] },
    rules: { ignoreFindings: [{ id: 'CVE-2026-4242', expires: '2026-11-30' }] },
  },
];

const services: AdmissionService[] = [
  ...POLICIES.map(
    (policy) =>
      new AdmissionService({
        policy: parsePolicy(policy),
        facts: new EcrFactsSource(new SnapshotReads(REGISTRY)),
        store: new MemoryDecisionStore(),
        now: () => new Date('2026-11-27T12:00:00Z'),
      }),
  ),
  new AdmissionService({
    policy: parsePolicy({}),
    facts: new FailingFacts(),
    store: new MemoryDecisionStore(),
  }),
  new AdmissionService({
    policy: parsePolicy({ failureMode: 'allow' }),
    facts: new SilentFacts(),
    store: new MemoryDecisionStore(),
    deadlineMs: 1,
  }),
];
const serviceIndex = fc.nat({ max: services.length - 1 });

/** Parses and reviews like the webhook does; fails the property on any exception but AdmissionReviewError. */
async function answer(body: unknown, service: AdmissionService) {
  let parsed: ReturnType<typeof parseAdmissionReview>;
  try {
    parsed = parseAdmissionReview(body);
  } catch (error) {
    if (!(error instanceof AdmissionReviewError)) throw error;
    expect(error.message.length).toBeGreaterThan(0);
    return undefined;
  }
  const decision = await service.review(parsed.request);
  const response = formatAdmissionResponse(parsed.apiVersion, parsed.request.uid, decision);
  expect(response.response.uid).toBe(parsed.request.uid);
  expect(response.apiVersion).toBe(parsed.apiVersion);
  expect(typeof response.response.allowed).toBe('boolean');
  if (!response.response.allowed) {
    expect(response.response.status).toMatchObject({ code: 403, message: expect.any(String) });
  }
  expect(JSON.parse(JSON.stringify(response))).toEqual(response);
  return response;
}

// Review-shaped values with arbitrary images and containers.

const HOSTS = [ecrHost(), ecrHost(OTHER_ACCOUNT), ecrHost(ACCOUNT, 'eu-west-1'), `${ecrHost()}.evil.example`];
const ecrImage = fc
  .record({
    host: fc.constantFrom(...HOSTS),
    repo: fc.constantFrom('team/app', 'team/multi', 'team/ghost', 'shared/base'),
    tag: fc.option(fc.constantFrom('1.0', '2.0', 'latest', 'crit', 'dev-1', 'nope'), { nil: undefined }),
    digest: fc.option(
      fc.constantFrom(digestOf('app-1.0'), digestOf('multi'), digestOf('base'), digestOf('x')),
      {
        nil: undefined,
      },
    ),
  })
  .map(
    ({ host, repo, tag, digest }) => `${host}/${repo}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`,
  );
const imageValue = fc.oneof(
  { weight: 6, arbitrary: ecrImage },
  {
    weight: 2,
    arbitrary: fc.constantFrom('nginx:1.27', 'public.ecr.aws/nginx/nginx:1', 'busybox', '', ' x '),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.anything() },
);
const container = fc.oneof(
  { weight: 8, arbitrary: fc.record({ name: fc.string(), image: imageValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.anything() },
);
const containers = fc.oneof(
  { weight: 8, arbitrary: fc.array(container, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.anything() },
);
const podSpec = fc.record(
  { containers, initContainers: containers, ephemeralContainers: containers },
  { requiredKeys: [] },
);

const KINDS: [group: string, kind: string, path: string][] = [
  ['', 'Pod', 'spec'],
  ['', 'PodTemplate', 'template.spec'],
  ['', 'ReplicationController', 'spec.template.spec'],
  ['apps', 'ReplicaSet', 'spec.template.spec'],
  ['apps', 'Deployment', 'spec.template.spec'],
  ['apps', 'StatefulSet', 'spec.template.spec'],
  ['apps', 'DaemonSet', 'spec.template.spec'],
  ['batch', 'Job', 'spec.template.spec'],
  ['batch', 'CronJob', 'spec.jobTemplate.spec.template.spec'],
  ['extensions', 'Deployment', 'spec.template.spec'],
  ['', 'ConfigMap', 'data'],
  ['apps', 'Pod', 'spec'],
];

function nest(path: string, value: unknown): unknown {
  return path
    .split('.')
    .reverse()
    .reduce((inner, key) => ({ [key]: inner }), value);
}

const workloadObject = fc
  .tuple(fc.constantFrom(...KINDS), podSpec, fc.option(fc.string(), { nil: undefined }))
  .map(([[group, kind, path], spec, name]) => ({
    kind: { group, version: 'v1', kind },
    object: {
      apiVersion: group ? `${group}/v1` : 'v1',
      kind,
      metadata: { name },
      ...(nest(path, spec) as object),
    },
  }));

const reviewShaped = fc
  .tuple(
    workloadObject,
    fc.record(
      {
        apiVersion: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1') },
          { weight: 1, arbitrary: fc.anything() },
        ),
        kind: fc.oneof(
          { weight: 8, arbitrary: fc.constant('AdmissionReview') },
          { weight: 1, arbitrary: fc.anything() },
        ),
      },
      { requiredKeys: ['apiVersion', 'kind'] },
    ),
    fc.record(
      {
        uid: fc.oneof(
          { weight: 8, arbitrary: fc.uuid() },
          { weight: 2, arbitrary: fc.string() },
          { weight: 1, arbitrary: fc.anything() },
        ),
        operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH'),
        namespace: fc.oneof(fc.constantFrom('shop', 'kube-system', 'sandbox-a', ''), fc.string()),
        subResource: fc.constantFrom('', 'ephemeralcontainers', 'status', 'exec'),
        name: fc.string(),
        dryRun: fc.boolean(),
        object: fc.oneof(
          { weight: 1, arbitrary: fc.anything() },
          { weight: 12, arbitrary: fc.constant('workload') },
        ),
      },
      { requiredKeys: ['uid', 'operation'] },
    ),
  )
  .map(([{ kind, object }, top, request]) => ({
    ...top,
    request: { ...request, kind, ...(request.object === 'workload' && { object }) },
  }));

describe('the admission core on arbitrary input', () => {
  test('never throws on arbitrary values, only rejects them with AdmissionReviewError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), serviceIndex, async (value, index) => {
        await answer(value, services[index] as AdmissionService);
      }),
      { numRuns: 300 },
    );
  });

  test('never throws on arbitrary JSON text or arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string({ unit: 'binary' }),
          fc.uint8Array().map((bytes) => Buffer.from(bytes)),
        ),
        serviceIndex,
        async (body, index) => {
          await answer(body, services[index] as AdmissionService);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('answers review-shaped objects with arbitrary images and containers, echoing the uid', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(reviewShaped, serviceIndex, async (value, index) => {
        const response = await answer(value, services[index] as AdmissionService);
        if (response) {
          answered += 1;
          expect(response.response.uid).toBe(value.request.uid);
          expect(response.apiVersion).toBe(value.apiVersion);
        }
      }),
      { numRuns: 500 },
    );
    // Most generated reviews are well formed, so the property is about answers, not only rejections.
    expect(answered).toBeGreaterThan(100);
  });

  test('answers every review-shaped body over HTTP with 200 or 400, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(reviewShaped, serviceIndex, async (value, index) => {
        const body = JSON.stringify(value);
        const reply = await handleWebhookRequest(services[index] as AdmissionService, {
          method: 'POST',
          path: '/validate?timeout=10s',
          body,
        });
        expect([200, 400]).toContain(reply.statusCode);
        const answerBody = JSON.parse(reply.body);
        if (reply.statusCode === 200) expect(answerBody.response.uid).toBe(JSON.parse(body).request.uid);
        else expect(answerBody).toEqual({ error: expect.any(String) });
      }),
      { numRuns: 300 },
    );
  });
});
