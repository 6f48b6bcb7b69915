/**
 * Digest pinning (the mutating webhook): each returned patch is applied to the original object with a
 * JSON Patch library, and the result is checked and validated against the Kubernetes schema.
 */
import { applyPatch, deepClone, type Operation } from 'fast-json-patch';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Pod } from 'kubernetes-models/v1';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { AdmissionService } from '../../src/application/admission-service';
import type { FactsSource } from '../../src/domain/facts';
import { toJsonPointer } from '../../src/domain/pinning';
import { parsePolicy } from '../../src/domain/policy';
import { formatMutationResponse, parseAdmissionReview } from '../../src/http/admission-review';
import {
  basicScan,
  digestOf,
  image,
  multiArch,
  registry,
  repository,
  snapshot,
} from '../helpers/snapshot-builder';

const HOST = '111122223333.dkr.ecr.us-east-1.amazonaws.com';
const NOW = new Date('2026-11-27T12:00:00Z');

const SNAPSHOT = snapshot(
  registry(
    {},
    repository('team/api', {}, image('api-1', { tags: ['1.0.0', 'stable'] })),
    repository(
      'team/multi',
      {},
      ...multiArch('multi', {
        tags: ['2.0'],
        platforms: { 'linux/amd64': basicScan(), 'linux/arm64': basicScan() },
      }),
    ),
  ),
);
const SNAPSHOT_READS = new SnapshotReads(SNAPSHOT);
const API_DIGEST = digestOf('api-1');
const MULTI_DIGEST = digestOf('multi');

function service(policy: object = {}, facts: FactsSource = new EcrFactsSource(SNAPSHOT_READS, () => NOW)) {
  return new AdmissionService({
    policy: parsePolicy(policy),
    facts,
    store: new MemoryDecisionStore(),
    now: () => NOW,
    deadlineMs: 300,
  });
}

function pod(containers: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop' },
    spec: { containers, ...extra },
  };
}

function review(
  object: unknown,
  options: {
    kind?: string;
    group?: string;
    operation?: string;
    oldObject?: unknown;
    namespace?: string;
    subresource?: string;
  } = {},
) {
  return parseAdmissionReview({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'uid-1',
      kind: { group: options.group ?? '', version: 'v1', kind: options.kind ?? 'Pod' },
      namespace: options.namespace ?? 'shop',
      operation: options.operation ?? 'CREATE',
      ...(options.subresource && { subResource: options.subresource }),
      object,
      ...(options.oldObject !== undefined && { oldObject: options.oldObject }),
    },
  });
}

/** Mutates through the wire format and applies the patch, as the apiserver would. */
async function mutateAndApply(
  admission: AdmissionService,
  object: unknown,
  options: Parameters<typeof review>[1] = {},
) {
  const parsed = review(object, options);
  const response = formatMutationResponse(
    parsed.apiVersion,
    parsed.request.uid,
    await admission.mutate(parsed.request),
  ).response;
  const patch: Operation[] = response.patch
    ? JSON.parse(Buffer.from(response.patch, 'base64').toString())
    : [];
  const patched = applyPatch(deepClone(object), patch, true, false).newDocument;
  return { response, patch, patched };
}

describe('digest pinning', () => {
  it('pins an ECR image referenced by tag to the digest it is judged on, and the Pod stays valid', async () => {
    const object = pod([{ name: 'api', image: `${HOST}/team/api:1.0.0` }]);

    const { response, patched } = await mutateAndApply(service(), object);

    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    expect(patched.spec.containers[0].image).toBe(`${HOST}/team/api:1.0.0@${API_DIGEST}`);
    expect(() => new Pod(patched).validate()).not.toThrow();
  });

  it('leaves non-ECR images and references already pinned alone', async () => {
    const object = pod([
      { name: 'web', image: 'nginx:1.27' },
      { name: 'api', image: `${HOST}/team/api:1.0.0@${API_DIGEST}` },
      { name: 'byDigest', image: `${HOST}/team/api@${API_DIGEST}` },
    ]);

    const { response, patch } = await mutateAndApply(service(), object);

    expect(patch).toEqual([]);
    expect(response.patch).toBeUndefined();
    expect(response.patchType).toBeUndefined();
  });

  it('is idempotent: mutating the patched object yields no patch', async () => {
    const admission = service();
    const first = await mutateAndApply(admission, pod([{ name: 'api', image: `${HOST}/team/api:stable` }]));

    const second = await mutateAndApply(admission, first.patched);

    expect(first.patch).toHaveLength(1);
    expect(second.patch).toEqual([]);
  });

  it('writes the implicit latest tag out when pinning a reference with no tag', async () => {
    const snap = snapshot(registry({}, repository('team/api', {}, image('l', { tags: ['latest'] }))));
    const admission = service({}, new EcrFactsSource(new SnapshotReads(snap), () => NOW));

    const { patched } = await mutateAndApply(admission, pod([{ name: 'api', image: `${HOST}/team/api` }]));

    expect(patched.spec.containers[0].image).toMatch(
      new RegExp(`^${HOST}/team/api:latest@sha256:[a-f0-9]{64}$`),
    );
  });

  it('pins a multi-architecture tag to the image index digest', async () => {
    const { patched } = await mutateAndApply(
      service(),
      pod([{ name: 'm', image: `${HOST}/team/multi:2.0` }]),
    );

    expect(patched.spec.containers[0].image).toBe(`${HOST}/team/multi:2.0@${MULTI_DIGEST}`);
  });

  it('pins init and ephemeral containers by their own paths', async () => {
    const object = pod([{ name: 'api', image: 'nginx' }], {
      initContainers: [{ name: 'init', image: `${HOST}/team/api:1.0.0` }],
      ephemeralContainers: [{ name: 'debug', image: `${HOST}/team/api:stable` }],
    });

    const { patch } = await mutateAndApply(service(), object);

    expect(patch.map((op) => op.path)).toEqual([
      '/spec/initContainers/0/image',
      '/spec/ephemeralContainers/0/image',
    ]);
  });

  it('on the ephemeralcontainers subresource pins only the ephemeral containers', async () => {
    const before = pod([{ name: 'api', image: `${HOST}/team/api:1.0.0` }]);
    const after = {
      ...before,
      spec: { ...before.spec, ephemeralContainers: [{ name: 'debug', image: `${HOST}/team/api:stable` }] },
    };

    const { patch } = await mutateAndApply(service(), after, {
      operation: 'UPDATE',
      subresource: 'ephemeralcontainers',
      oldObject: before,
    });

    expect(patch.map((op) => op.path)).toEqual(['/spec/ephemeralContainers/0/image']);
  });

  it.each([
    {
      name: 'a Pod UPDATE that does not change an image leaves every image alone',
      old: [{ name: 'api', image: `${HOST}/team/api:1.0.0` }],
      next: [{ name: 'api', image: `${HOST}/team/api:1.0.0` }],
      paths: [],
    },
    {
      name: 'a Pod UPDATE that changes one image pins only that image',
      old: [
        { name: 'a', image: `${HOST}/team/api:1.0.0` },
        { name: 'b', image: `${HOST}/team/api:1.0.0` },
      ],
      next: [
        { name: 'a', image: `${HOST}/team/api:1.0.0` },
        { name: 'b', image: `${HOST}/team/api:stable` },
      ],
      paths: ['/spec/containers/1/image'],
    },
  ])('$name', async ({ old, next, paths }) => {
    const { patch } = await mutateAndApply(service(), pod(next), {
      operation: 'UPDATE',
      oldObject: pod(old),
    });

    expect(patch.map((op) => op.path)).toEqual(paths);
  });

  it.each([
    { name: 'an exempt namespace', options: { namespace: 'kube-system' }, policy: {} },
    { name: 'an exempt image', options: {}, policy: { images: { exempt: [`${HOST}/team/*`] } } },
    { name: 'pinning switched off', options: {}, policy: { pinDigests: 'off' } },
  ])('leaves the object alone in $name', async ({ options, policy }) => {
    const { patch } = await mutateAndApply(
      service(policy),
      pod([{ name: 'api', image: `${HOST}/team/api:1.0.0` }]),
      options,
    );

    expect(patch).toEqual([]);
  });

  const deployment = (image: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image }] } },
    },
  });

  it.each([
    { name: 'by default (pods), a Deployment is left as written', policy: {}, pinned: false },
    {
      name: 'with pinDigests: workloads, a Deployment is pinned and stays valid',
      policy: { pinDigests: 'workloads' },
      pinned: true,
    },
  ])('$name', async ({ policy, pinned }) => {
    const object = deployment(`${HOST}/team/api:1.0.0`);

    const { patch, patched } = await mutateAndApply(service(policy), object, {
      kind: 'Deployment',
      group: 'apps',
    });

    expect(patch.length > 0).toBe(pinned);
    if (pinned) {
      expect(patch[0]?.path).toBe('/spec/template/spec/containers/0/image');
      expect(() => new Deployment(patched).validate()).not.toThrow();
    }
  });

  it.each([
    { name: 'an image that does not exist', image: `${HOST}/team/api:9.9.9`, reason: 'image-not-found' },
    {
      name: 'a repository that does not exist',
      image: `${HOST}/team/none:1`,
      reason: 'repository-not-found',
    },
  ])('leaves $name unpatched, for the validating webhook to deny', async ({ image: ref, reason }) => {
    const { patch, response } = await mutateAndApply(service(), pod([{ name: 'x', image: ref }]));

    expect(patch).toEqual([]);
    expect(response.auditAnnotations?.unpinned).toBe(`spec.containers[0].image: ${reason}`);
  });

  it('leaves an image unpatched when its digest cannot be resolved in time', async () => {
    const never: FactsSource = { lookup: () => new Promise(() => {}) };

    const { patch, response } = await mutateAndApply(
      service({}, never),
      pod([{ name: 'x', image: `${HOST}/team/api:1.0.0` }]),
    );

    expect(patch).toEqual([]);
    expect(response.allowed).toBe(true);
    expect(response.auditAnnotations?.unpinned).toContain('ECR did not answer in time');
  });

  it('mutate, then validate: a pinned reference is judged by digest and passes the tag rule of a mutable repository', async () => {
    const snap = snapshot(
      registry({}, repository('team/web', { mutability: 'MUTABLE' }, image('web', { tags: ['latest'] }))),
    );
    const admission = service({}, new EcrFactsSource(new SnapshotReads(snap), () => NOW));
    const object = pod([{ name: 'web', image: `${HOST}/team/web:latest` }]);
    const asWritten = await admission.review(review(object).request);

    const { patched } = await mutateAndApply(admission, object);
    const afterPinning = await admission.review(review(patched).request);

    expect(asWritten.violations.map((v) => v.code)).toEqual(['TAG_MUTABLE']);
    expect(afterPinning.allowed).toBe(true);
  });

  it.each([
    ['spec.containers[0].image', '/spec/containers/0/image'],
    [
      'spec.jobTemplate.spec.template.spec.initContainers[12].image',
      '/spec/jobTemplate/spec/template/spec/initContainers/12/image',
    ],
  ])('writes %s as the JSON Pointer %s', (path, pointer) => {
    expect(toJsonPointer(path)).toBe(pointer);
  });
});
