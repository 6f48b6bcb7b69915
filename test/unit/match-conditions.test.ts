/**
 * The webhooks' matchConditions, evaluated by a CEL evaluator on AdmissionReview requests as the
 * apiserver sends them: CREATE always sent, an UPDATE skipped only when its pod spec keeps every image,
 * never an error, never a skip the webhook's own scope (imagesInScope) would have judged anything in.
 * The kinds and their pod spec paths come from the code's own table (JUDGED_KINDS, podSpecPath).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { mutatingWebhookConfiguration, webhookConfiguration } from '../../src/cli/manifest';
import type { MatchCondition } from '../../src/cli/match-conditions';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { imagesInScope } from '../../src/domain/scope';
import { CONTAINER_FIELDS, type GroupKind, JUDGED_KINDS, podSpecPath } from '../../src/domain/workload';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { compile, evaluateOnRequest, MATCH_CONDITIONS } from '../helpers/cel';
import { REPO_ROOT } from '../helpers/cli';
import {
  type AdmissionReviewDocument,
  type PodImages,
  type ReviewOptions,
  review,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workload,
} from '../helpers/reviews';
import type { JsonObject } from '../helpers/snapshot-builder';

const BASE = 'https://abcd123456.execute-api.us-east-1.amazonaws.com/v1';
const ECR = '111122223333.dkr.ecr.us-east-1.amazonaws.com';

interface Webhook {
  name: string;
  matchConditions: MatchCondition[];
}

function webhookOf(config: Record<string, unknown>): Webhook {
  return (config.webhooks as Webhook[])[0] as Webhook;
}

const WEBHOOKS: readonly Webhook[] = [
  webhookOf(webhookConfiguration({ baseUrl: BASE })),
  webhookOf(mutatingWebhookConfiguration({ baseUrl: BASE, pinDigests: 'pods' })),
  webhookOf(mutatingWebhookConfiguration({ baseUrl: BASE, pinDigests: 'workloads' })),
];
const VALIDATING = WEBHOOKS[0] as Webhook;

type Routing = 'sent' | 'skipped' | { error: string };

/**
 * What the apiserver does with a request, from the webhook's conditions: skipped when one is false,
 * sent when all are true, an error (refused under Fail, skipped under Ignore) otherwise.
 */
function route(conditions: readonly MatchCondition[], doc: AdmissionReviewDocument): Routing {
  const errors: string[] = [];
  for (const { name, expression } of conditions) {
    const outcome = evaluateOnRequest(MATCH_CONDITIONS, expression, doc.request);
    if ('error' in outcome) errors.push(`${name}: ${outcome.error}`);
    else if (outcome.value === false) return 'skipped';
    else if (outcome.value !== true) errors.push(`${name}: returned ${String(outcome.value)}`);
  }
  return errors.length > 0 ? { error: errors.join('; ') } : 'sent';
}

/** The images the webhook itself would judge in the request (none when it leaves it untouched). */
function judgedImages(doc: AdmissionReviewDocument): readonly unknown[] | 'malformed' {
  const scope = imagesInScope(parseAdmissionReview(doc).request, DEFAULT_POLICY);
  if (scope.kind === 'malformed') return 'malformed';
  return scope.kind === 'images' ? scope.images.map(({ image }) => image) : [];
}

/** A deep copy in the test's own realm (structuredClone's objects come from outside jest's sandbox). */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function judgedKind(kind: string): GroupKind {
  const found = JUDGED_KINDS.find((k) => k.kind === kind);
  if (!found) throw new Error(`${kind} is not judged`);
  return found;
}

const kindName = ({ group, kind }: GroupKind) => (group ? `${group}/${kind}` : kind);

/** The pod spec of an object, found by the code's own path for its kind. */
function specOf(groupKind: GroupKind, object: JsonObject): JsonObject {
  let at: unknown = object;
  for (const key of podSpecPath(groupKind) ?? []) at = (at as JsonObject)[key];
  return at as JsonObject;
}

/** A workload of a judged kind running the images, and a copy changed by `edit`. */
function withEdit(groupKind: GroupKind, images: PodImages, edit: (object: JsonObject) => void) {
  const kind = groupKind.kind as WorkloadKind;
  const before = workload(kind, images);
  const after = clone(before);
  edit(after);
  return { before, after };
}

function update(before: JsonObject, after: JsonObject, options: ReviewOptions = {}): AdmissionReviewDocument {
  return review(after, { ...options, operation: 'UPDATE', before });
}

const IMAGES: PodImages = {
  initContainers: [`${ECR}/team/init:1`],
  containers: [`${ECR}/team/app:1`, `${ECR}/team/sidecar:1`],
  ephemeralContainers: [`${ECR}/team/debug:1`],
};

describe('the webhooks declare matchConditions the apiserver accepts', () => {
  test.each(WEBHOOKS.map((webhook) => [webhook.name, webhook] as const))(
    '%s: at most 64, uniquely and validly named, each a bool expression over object, oldObject and request',
    (_, webhook) => {
      const { matchConditions } = webhook;
      expect(matchConditions.length).toBeGreaterThan(0);
      expect(matchConditions.length).toBeLessThanOrEqual(64);
      const names = matchConditions.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      for (const { name, expression } of matchConditions) {
        // A qualified name, as a label key: an optional DNS prefix and a name of at most 63 characters.
        expect(name).toMatch(/^([a-z0-9.-]{1,253}\/)?(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
        expect(compile(MATCH_CONDITIONS, expression)).toEqual({ type: 'bool' });
      }
    },
  );

  test('one condition per pod spec path the judged kinds use, so a new kind or path follows', () => {
    const paths = new Set(JUDGED_KINDS.map((k) => podSpecPath(k)?.join('.')));
    expect(VALIDATING.matchConditions.map((c) => c.name.replace('images-may-change-at-', ''))).toEqual([
      ...paths,
    ]);
  });

  test('the compile check is not a formality: it refuses a field kubernetes.AdmissionRequest lacks', () => {
    expect(compile(MATCH_CONDITIONS, "request.subresource == ''")).toHaveProperty('error');
    expect(compile(MATCH_CONDITIONS, 'request.operation == 1')).toHaveProperty('error');
  });

  test('the evaluator raises on a field the request leaves out, as the apiserver does, and has() guards it', () => {
    const doc = update(workload('Pod', IMAGES), workload('Pod', IMAGES));
    expect(evaluateOnRequest(MATCH_CONDITIONS, "request.subResource == ''", doc.request)).toHaveProperty(
      'error',
    );
    expect(
      evaluateOnRequest(MATCH_CONDITIONS, 'object.spec.volumes.size() == 0', doc.request),
    ).toHaveProperty('error');
    expect(evaluateOnRequest(MATCH_CONDITIONS, 'has(object.spec.volumes)', doc.request)).toEqual({
      value: false,
    });
  });

  test('nothing is excluded by who asks: the conditions never read the user or the authorizer', () => {
    for (const { expression } of WEBHOOKS.flatMap((w) => w.matchConditions)) {
      expect(expression).not.toMatch(/userInfo|authorizer/);
    }
  });
});

describe.each(JUDGED_KINDS.map((groupKind) => [kindName(groupKind), groupKind] as const))(
  '%s, its pod spec where the code says it is',
  (_, groupKind) => {
    const kind = groupKind.kind as WorkloadKind;

    test('is a kind the request builders know, so every judged kind is tested', () => {
      expect(WORKLOAD_KINDS).toContain(kind);
      expect(specOf(groupKind, workload(kind, IMAGES)).containers).toHaveLength(2);
    });

    test('a CREATE is sent', () => {
      expect(route(VALIDATING.matchConditions, review(workload(kind, IMAGES)))).toBe('sent');
    });

    test.each<[string, (object: JsonObject) => void]>([
      [
        'a finalizer added',
        (o) => Object.assign(o.metadata as JsonObject, { finalizers: ['example.com/x'] }),
      ],
      ['a label changed', (o) => Object.assign(o.metadata as JsonObject, { labels: { app: 'other' } })],
      [
        'an annotation added and the status written',
        (o) => {
          Object.assign(o.metadata as JsonObject, { annotations: { note: 'x' } });
          o.status = { observedGeneration: 2 };
        },
      ],
      [
        'a field of the pod spec other than the images',
        (o) => Object.assign(specOf(groupKind, o), { terminationGracePeriodSeconds: 5 }),
      ],
    ])(
      'an UPDATE with %s and every image kept is skipped, and the webhook would judge nothing',
      (_, edit) => {
        const { before, after } = withEdit(groupKind, IMAGES, edit);
        const doc = update(before, after);
        expect(route(VALIDATING.matchConditions, doc)).toBe('skipped');
        expect(judgedImages(doc)).toHaveLength(0);
      },
    );

    test.each(CONTAINER_FIELDS.map((field) => [field] as const))(
      'an UPDATE changing an image of %s is sent',
      (field) => {
        const { before, after } = withEdit(groupKind, IMAGES, (o) => {
          const [first] = specOf(groupKind, o)[field] as JsonObject[];
          (first as JsonObject).image = `${ECR}/team/other:2`;
        });
        const doc = update(before, after);
        expect(route(VALIDATING.matchConditions, doc)).toBe('sent');
        expect(judgedImages(doc)).toEqual([`${ECR}/team/other:2`]);
      },
    );

    test.each<[string, (spec: JsonObject) => void]>([
      ['adding a container', (s) => (s.containers as JsonObject[]).push({ name: 'new', image: 'busybox' })],
      [
        'adding the first init container',
        (s) => Object.assign(s, { initContainers: [{ name: 'i', image: 'x' }] }),
      ],
      ['swapping two containers', (s) => (s.containers as JsonObject[]).reverse()],
      ['leaving a container without an image', (s) => delete (s.containers as JsonObject[])[1]?.image],
    ])('an UPDATE %s is sent', (_, edit) => {
      const base: PodImages = { containers: IMAGES.containers };
      const { before, after } = withEdit(groupKind, base, (o) => edit(specOf(groupKind, o)));
      const doc = update(before, after);
      expect(route(VALIDATING.matchConditions, doc)).toBe('sent');
      expect(judgedImages(doc)).not.toHaveLength(0);
    });

    test('an UPDATE that writes containers as null (Kubernetes never omits the field) is sent, not an error', () => {
      const { before, after } = withEdit(groupKind, IMAGES, (o) => {
        specOf(groupKind, o).containers = null;
      });
      expect(route(VALIDATING.matchConditions, update(before, after))).toBe('sent');
      expect(route(VALIDATING.matchConditions, update(after, before))).toBe('sent');
    });

    test('an UPDATE whose old object lacks the pod spec, or that carries no old object, is sent', () => {
      const after = workload(kind, IMAGES);
      const [first] = podSpecPath(groupKind) ?? [];
      const before = { ...after, [first as string]: {} };
      expect(route(VALIDATING.matchConditions, update(before, after))).toBe('sent');
      expect(route(VALIDATING.matchConditions, review(after, { operation: 'UPDATE' }))).toBe('sent');
    });
  },
);

describe('pods/ephemeralcontainers', () => {
  const pod = judgedKind('Pod');

  test('an UPDATE adding an ephemeral container is sent, and one that keeps them is skipped', () => {
    const { before, after } = withEdit(pod, { containers: [`${ECR}/team/app:1`] }, (o) =>
      Object.assign(specOf(pod, o), {
        ephemeralContainers: [{ name: 'debug', image: 'busybox', targetContainerName: 'app-0' }],
      }),
    );
    const added = update(before, after, { subResource: 'ephemeralcontainers' });
    expect(route(VALIDATING.matchConditions, added)).toBe('sent');
    expect(judgedImages(added)).toEqual(['busybox']);

    const kept = update(after, clone(after), { subResource: 'ephemeralcontainers' });
    expect(route(VALIDATING.matchConditions, kept)).toBe('skipped');
    expect(judgedImages(kept)).toHaveLength(0);
  });
});

describe('the example reviews in examples/reviews/', () => {
  const dir = join(REPO_ROOT, 'examples/reviews');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  test.each(files)(
    '%s: sent as it is (a CREATE), skipped as an UPDATE that keeps it, sent when an image changes',
    (file) => {
      const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as AdmissionReviewDocument;
      expect(doc.request.operation).toBe('CREATE');
      expect(route(VALIDATING.matchConditions, doc)).toBe('sent');

      const object = doc.request.object as JsonObject;
      const groupKind = doc.request.kind as unknown as GroupKind;
      const same = {
        ...doc,
        request: { ...doc.request, operation: 'UPDATE', oldObject: clone(object) },
      };
      expect(route(VALIDATING.matchConditions, same)).toBe('skipped');

      const changed = clone(object);
      const [first] = specOf(groupKind, changed).containers as JsonObject[];
      (first as JsonObject).image = `${ECR}/team/changed:9`;
      const sent = { ...same, request: { ...same.request, object: changed } };
      expect(route(VALIDATING.matchConditions, sent)).toBe('sent');
    },
  );
});

describe('who asks', () => {
  test('an UPDATE is routed the same whoever sends it: no user, group or controller is let past', () => {
    const deployment = judgedKind('Deployment');
    const kept = withEdit(deployment, IMAGES, (o) => {
      o.metadata = { ...(o.metadata as JsonObject), finalizers: ['x'] };
    });
    const changed = withEdit(deployment, IMAGES, (o) => {
      ((specOf(deployment, o).containers as JsonObject[])[0] as JsonObject).image = 'busybox';
    });
    for (const userInfo of [
      { username: 'system:serviceaccount:kube-system:job-controller', groups: ['system:serviceaccounts'] },
      { username: 'alice', groups: ['ecr-admission:break-glass', 'system:authenticated'] },
      { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
      { username: 'system:node:ip-10-0-0-1', groups: ['system:nodes'] },
    ]) {
      const as = (doc: AdmissionReviewDocument) => ({ ...doc, request: { ...doc.request, userInfo } });
      expect(route(VALIDATING.matchConditions, as(update(kept.before, kept.after)))).toBe('skipped');
      expect(route(VALIDATING.matchConditions, as(update(changed.before, changed.after)))).toBe('sent');
    }
  });
});

describe('generated UPDATEs (property)', () => {
  const image = fc.constantFrom(
    `${ECR}/team/a:1`,
    `${ECR}/team/b:1`,
    'busybox',
    `${ECR}/team/a:1@sha256:${'a'.repeat(64)}`,
    null,
  );
  const list = fc.option(fc.array(image, { maxLength: 3 }), { nil: undefined });
  const podImages = fc.record<PodImages>(
    {
      containers: fc.array(image, { minLength: 1, maxLength: 3 }),
      initContainers: list,
      ephemeralContainers: list,
    },
    { requiredKeys: ['containers'] },
  );
  /** Mostly small edits of the old images, so that both kept and changed images come up often. */
  const editedImages = (old: PodImages) =>
    fc.oneof(
      fc.constant(old),
      podImages,
      fc.record({ field: fc.constantFrom(...CONTAINER_FIELDS), to: image }).map(({ field, to }) => {
        const list = old[field];
        return list && list.length > 0 ? { ...old, [field]: [to, ...list.slice(1)] } : old;
      }),
    );
  const request = fc
    .record({
      groupKind: fc.constantFrom(...JUDGED_KINDS),
      old: podImages,
      subResource: fc.constantFrom(undefined, 'ephemeralcontainers'),
      labels: fc.boolean(),
      /** A container list written as null, in the old object, the new one or both. */
      nulled: fc.option(
        fc.record({
          field: fc.constantFrom(...CONTAINER_FIELDS),
          side: fc.constantFrom('old', 'new', 'both'),
        }),
        { nil: undefined },
      ),
    })
    .chain((r) => editedImages(r.old).map((now) => ({ ...r, now })));

  test('a skipped UPDATE is one in which the webhook would judge no image; none raises an error', () => {
    fc.assert(
      fc.property(request, ({ groupKind, old, now, subResource, labels, nulled }) => {
        const kind = groupKind.kind as WorkloadKind;
        const before = workload(kind, old);
        const after = workload(kind, now, labels ? { name: 'renamed' } : {});
        if (nulled && nulled.side !== 'new') specOf(groupKind, before)[nulled.field] = null;
        if (nulled && nulled.side !== 'old') specOf(groupKind, after)[nulled.field] = null;
        const doc = update(before, after, kind === 'Pod' && subResource ? { subResource } : {});
        for (const webhook of WEBHOOKS) {
          const routing = route(webhook.matchConditions, doc);
          expect(routing).not.toHaveProperty('error');
          if (routing === 'skipped') expect(judgedImages(doc)).toHaveLength(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('an UPDATE that keeps every written image where it was is skipped (the conditions do skip)', () => {
    const written = podImages.filter((p) =>
      CONTAINER_FIELDS.every((f) => (p[f] ?? []).every((i) => i !== null)),
    );
    fc.assert(
      fc.property(fc.constantFrom(...JUDGED_KINDS), written, (groupKind, images) => {
        const kind = groupKind.kind as WorkloadKind;
        const doc = update(workload(kind, images), workload(kind, images, { name: 'renamed' }));
        expect(route(VALIDATING.matchConditions, doc)).toBe('skipped');
      }),
      { numRuns: 100 },
    );
  });
});
