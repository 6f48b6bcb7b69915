import fc from 'fast-check';
import { EcrFactsSource } from '../../src/adapters/ecr-facts';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { SnapshotReads } from '../../src/adapters/snapshot';
import { AdmissionService } from '../../src/application/admission-service';
import { decide, type ImageJudgement, limitWarnings } from '../../src/domain/admission';
import { AdmissionReviewError } from '../../src/domain/errors';
import { parsePolicy } from '../../src/domain/policy';
import {
  formatAdmissionResponse,
  MAX_REVIEW_BYTES,
  parseAdmissionReview,
  reviewSchema,
  wellFormed,
} from '../../src/http/admission-review';
import { handleWebhookRequest } from '../../src/http/webhook';
import { podReview } from '../helpers/reviews';
import { ecrHost, image, registry, repository, snapshot } from '../helpers/snapshot-builder';

const APP = `${ecrHost()}/team/app:1.0`;
const VALID = podReview({ containers: [APP] }, { uid: 'd4c1b3a2-0000-4000-8000-00000000abcd' });
const request = VALID.request;

/** The valid review with some of its fields replaced (undefined removes a field). */
function withReview(top: Record<string, unknown>, inRequest: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...VALID, ...top, request: { ...request, ...inRequest } });
}

function parseError(body: unknown): AdmissionReviewError {
  try {
    parseAdmissionReview(body);
  } catch (error) {
    expect(error).toBeInstanceOf(AdmissionReviewError);
    return error as AdmissionReviewError;
  }
  throw new Error('expected parseAdmissionReview to throw');
}

/** Malformed bodies as they arrive on the wire, each with what the message must name. */
const corpus: [name: string, body: string | Buffer, says: string][] = [
  ['truncated JSON', withReview({}).slice(0, 80), 'the body is not valid JSON'],
  ['an empty body', '', 'the body is empty; expected an AdmissionReview'],
  ['an empty buffer', Buffer.alloc(0), 'the body is empty'],
  ['a body of whitespace', '  \n ', 'the body is not valid JSON'],
  ['a truncated buffer', Buffer.from('{"apiVersion": "admission.k8s.io/v1", "kind": "Adm'), 'not valid JSON'],
  ['YAML instead of JSON', 'apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\n', 'not valid JSON'],
  ['a uid that is a number', withReview({}, { uid: 42 }), 'request.uid: expected a string'],
  ['a missing uid', withReview({}, { uid: undefined }), 'request.uid'],
  ['an empty uid', withReview({}, { uid: '' }), 'request.uid: must not be empty'],
  ['a kind that is a string', withReview({}, { kind: 'Pod' }), 'request.kind: '],
  ['a kind without its kind', withReview({}, { kind: { group: '', version: 'v1' } }), 'request.kind.kind'],
  ['a missing request', JSON.stringify({ ...VALID, request: undefined }), 'request: is required'],
  ['a request that is a string', JSON.stringify({ ...VALID, request: 'pod' }), 'request: expected an object'],
  [
    'a request that is an array',
    JSON.stringify({ ...VALID, request: [request] }),
    'request: expected an object',
  ],
  ['a request that is null', JSON.stringify({ ...VALID, request: null }), 'request: expected an object'],
  [
    'a CREATE without an object',
    withReview({}, { object: undefined }),
    'request.object is required for CREATE',
  ],
  [
    'a CREATE whose object is null',
    withReview({}, { object: null }),
    'request.object is required for CREATE',
  ],
  [
    'an UPDATE whose object is an array',
    withReview({}, { operation: 'UPDATE', object: [] }),
    'request.object is required for UPDATE',
  ],
  [
    'admission.k8s.io/v2',
    withReview({ apiVersion: 'admission.k8s.io/v2' }),
    'apiVersion: expected admission.k8s.io/v1 or admission.k8s.io/v1beta1, got "admission.k8s.io/v2"',
  ],
  ['apps/v1 as the apiVersion', withReview({ apiVersion: 'apps/v1' }), 'got "apps/v1"'],
  ['a missing apiVersion', withReview({ apiVersion: undefined }), 'apiVersion: is required'],
  ['a Pod instead of an AdmissionReview', withReview({ kind: 'Pod' }), 'kind: expected "AdmissionReview"'],
  ['an unknown operation', withReview({}, { operation: 'PATCH' }), 'request.operation'],
  ['a lowercase operation', withReview({}, { operation: 'create' }), 'request.operation'],
  ['a dryRun that is a string', withReview({}, { dryRun: 'true' }), 'request.dryRun'],
  ['a namespace that is a number', withReview({}, { namespace: 7 }), 'request.namespace'],
  ['a name that is a number', withReview({}, { name: 7 }), 'request.name'],
  ['a subResource that is an object', withReview({}, { subResource: {} }), 'request.subResource'],
  [
    'a kind whose group is a number',
    withReview({}, { kind: { group: 1, version: 'v1', kind: 'Pod' } }),
    'request.kind.group',
  ],
  [
    'a kind whose version is null',
    withReview({}, { kind: { group: '', version: null, kind: 'Pod' } }),
    'request.kind.version',
  ],
  ['an array as the body', '[]', 'expected object, received array'],
  ['null as the body', 'null', 'expected object, received null'],
  ['a number as the body', '42', 'expected object, received number'],
  ['a string as the body', '"AdmissionReview"', 'expected object, received string'],
  ['true as the body', 'true', 'expected object, received boolean'],
  ['a body over the limit', ' '.repeat(MAX_REVIEW_BYTES + 1), `larger than ${MAX_REVIEW_BYTES} bytes`],
  [
    'a valid review padded over the limit',
    withReview({}, { padding: 'x'.repeat(MAX_REVIEW_BYTES) }),
    `larger than ${MAX_REVIEW_BYTES} bytes`,
  ],
  [
    'a buffer over the limit',
    Buffer.alloc(MAX_REVIEW_BYTES + 1, 0x20),
    `larger than ${MAX_REVIEW_BYTES} bytes`,
  ],
  [
    'text under the limit in characters but over it in UTF-8 bytes',
    withReview({}, { padding: 'é'.repeat(MAX_REVIEW_BYTES / 2 + 1) }),
    `larger than ${MAX_REVIEW_BYTES} bytes`,
  ],
];

describe('parseAdmissionReview', () => {
  test.each(corpus)('rejects %s with an AdmissionReviewError naming what is wrong', (_name, body, says) => {
    expect(parseError(body).message).toContain(says);
  });

  test.each([
    ['an array', []],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a boolean', false],
  ])('rejects %s as an already decoded value', (_name, value) => {
    expect(parseError(value).message).toMatch(/^invalid AdmissionReview: \(top level\): /);
  });

  test('never quotes a huge malformed body back in full', () => {
    const message = parseError(`{"x": ${'9'.repeat(100_000)}x}`).message;
    expect(message.length).toBeLessThan(500);
  });

  test.each([
    ['text', JSON.stringify(VALID)],
    ['bytes', Buffer.from(JSON.stringify(VALID))],
    ['a decoded value', JSON.parse(JSON.stringify(VALID))],
  ])('reads a v1 review from %s into one internal request', (_name, body) => {
    const parsed = parseAdmissionReview(body);

    expect(parsed.apiVersion).toBe('admission.k8s.io/v1');
    expect(parsed.request).toEqual({
      uid: 'd4c1b3a2-0000-4000-8000-00000000abcd',
      kind: { group: '', kind: 'Pod' },
      subresource: '',
      namespace: 'shop',
      name: 'app',
      operation: 'CREATE',
      object: VALID.request.object,
      dryRun: false,
      owner: { kind: 'Pod', name: 'app' },
    });
  });

  test('reads a v1beta1 review, a subresource, a dry run and a name only given by generateName', () => {
    const object = { ...(request.object as object), metadata: { generateName: 'app-' } };
    const parsed = parseAdmissionReview(
      withReview(
        { apiVersion: 'admission.k8s.io/v1beta1' },
        { name: undefined, object, subResource: 'ephemeralcontainers', operation: 'UPDATE', dryRun: true },
      ),
    );

    expect(parsed.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(parsed.request).toMatchObject({
      name: 'app-*',
      subresource: 'ephemeralcontainers',
      operation: 'UPDATE',
      dryRun: true,
    });
  });

  test('needs no object for DELETE and CONNECT', () => {
    for (const operation of ['DELETE', 'CONNECT']) {
      expect(parseAdmissionReview(withReview({}, { operation, object: null })).request.operation).toBe(
        operation,
      );
    }
  });
});

describe('the fast path for well-formed reviews', () => {
  // Each field mostly well-formed, so that the fast path answers often enough to be compared, and
  // sometimes a value the schema refuses.
  const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>) =>
    fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: bad, weight: 1 });
  const wrong = fc.oneof(fc.constant(null), fc.integer(), fc.constant(''), fc.array(fc.string()));
  const maybeString = mostly(fc.option(fc.string({ minLength: 1 }), { nil: undefined }), wrong);
  const arbitraryReview = fc.record(
    {
      apiVersion: mostly(fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'), fc.string()),
      kind: mostly(fc.constant('AdmissionReview'), fc.string()),
      request: mostly(
        fc.record(
          {
            uid: mostly(fc.string({ minLength: 1 }), wrong),
            kind: mostly(
              fc.record(
                {
                  group: maybeString,
                  version: maybeString,
                  kind: mostly(fc.string({ minLength: 1 }), wrong),
                },
                { requiredKeys: ['kind'] },
              ),
              wrong,
            ),
            subResource: maybeString,
            name: maybeString,
            namespace: maybeString,
            operation: mostly(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), fc.string()),
            object: fc.option(fc.jsonValue(), { nil: undefined }),
            oldObject: fc.option(fc.jsonValue(), { nil: undefined }),
            dryRun: mostly(
              fc.option(fc.boolean(), { nil: undefined }),
              fc.oneof(fc.constant('true'), fc.integer()),
            ),
          },
          { requiredKeys: ['uid', 'kind', 'operation'] },
        ),
        wrong,
      ),
    },
    { requiredKeys: [] },
  );
  /** What a review means to the code after it: absent and undefined keys alike. */
  const meaning = (review: unknown) => JSON.parse(JSON.stringify(review));

  test('accepts nothing the schema refuses, and means what the schema means', () => {
    let answered = 0;
    fc.assert(
      fc.property(arbitraryReview, (value) => {
        const fast = wellFormed(value);
        if (!fast) return;
        answered++;
        const schema = reviewSchema.safeParse(value);
        expect(schema.success).toBe(true);
        expect(meaning(fast)).toEqual(meaning(schema.data));
      }),
      { numRuns: 2_000 },
    );
    // Both paths were compared, many times.
    expect(answered).toBeGreaterThan(200);
  });

  test('takes every review the apiserver sends in the tests', () => {
    expect(wellFormed(podReview({ containers: ['a'] }))).toBeDefined();
  });
});

describe('handleWebhookRequest', () => {
  const service = new AdmissionService({
    policy: parsePolicy({}),
    facts: new EcrFactsSource(
      new SnapshotReads(
        snapshot(registry({}, repository('team/app', {}, image('app-1.0', { tags: ['1.0'] })))),
      ),
    ),
    store: new MemoryDecisionStore(),
    now: () => new Date('2026-11-27T12:00:00Z'),
  });
  const post = (body: string | Buffer | undefined, path = '/validate') =>
    handleWebhookRequest(service, { method: 'POST', path, body });

  test.each(corpus)(
    'answers %s with 400 and a JSON error naming what is wrong',
    async (_name, body, says) => {
      const reply = await post(body);

      expect(reply.statusCode).toBe(400);
      expect(reply.headers['content-type']).toBe('application/json');
      const answer = JSON.parse(reply.body);
      expect(answer).toEqual({ error: parseError(body).message });
      expect(answer.error).toContain(says);
    },
  );

  test('answers a request without a body with 400', async () => {
    const reply = await post(undefined);

    expect(reply.statusCode).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ error: 'the body is empty; expected an AdmissionReview' });
  });

  test.each(['/validate?timeout=10s', '/validate', '/validate/'])(
    'answers a review posted to %s',
    async (path) => {
      const reply = await post(JSON.stringify(VALID), path);

      expect(reply.statusCode).toBe(200);
      const answer = JSON.parse(reply.body);
      expect(answer).toMatchObject({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: VALID.request.uid, allowed: true },
      });
    },
  );

  test('answers a denial as a 200 with allowed false and a 403 status', async () => {
    const reply = await post(JSON.stringify(podReview({ containers: ['nginx:1.27'] }, { uid: 'u-1' })));

    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(reply.body).response).toMatchObject({
      uid: 'u-1',
      allowed: false,
      status: { code: 403, message: expect.stringContaining('spec.containers[0].image "nginx:1.27"') },
    });
  });

  test.each([
    ['POST', '/', 404],
    ['POST', '/mutate-pods', 404],
    ['GET', '/metrics', 404],
    ['POST', '/validatex', 404],
    ['GET', '/validate', 405],
    ['PUT', '/validate', 405],
    ['DELETE', '/validate?timeout=10s', 405],
    ['POST', '/healthz', 405],
  ])('answers %s %s with %i and a JSON error', async (method, path, status) => {
    const reply = await handleWebhookRequest(service, { method, path, body: JSON.stringify(VALID) });

    expect(reply.statusCode).toBe(status);
    expect(JSON.parse(reply.body)).toEqual({ error: expect.any(String) });
  });

  test.each(['GET', 'HEAD'])('answers %s /healthz with ok', async (method) => {
    const reply = await handleWebhookRequest(service, { method, path: '/healthz', body: undefined });

    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ status: 'ok' });
  });

  test('answers a failure of its own with a 500 that says nothing of internals', async () => {
    const errors: unknown[] = [];
    const broken = {
      review: async () => {
        throw new Error('arn:aws:dynamodb:us-east-1:111122223333:table/decisions exploded');
      },
    } as unknown as AdmissionService;

    const reply = await handleWebhookRequest(
      broken,
      { method: 'POST', path: '/validate', body: JSON.stringify(VALID) },
      { onError: (error) => errors.push(error) },
    );

    expect(reply.statusCode).toBe(500);
    expect(reply.body).not.toContain('arn:aws');
    expect(JSON.parse(reply.body)).toEqual({ error: expect.any(String) });
    expect(errors).toHaveLength(1);
  });
});

describe('limitWarnings', () => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

  test('replaces control characters, including escape sequences and C1 controls, with spaces', () => {
    expect(
      limitWarnings(['image\u0000a\nb\r\n\tc', '\u001b[31mred\u001b[0m', 'x\u0085y\u007f', '\u0007bell']),
    ).toEqual(['image a b c', '[31mred [0m', 'x y', 'bell']);
  });

  test('keeps many warnings within 4096 characters in total and says how many were left out', () => {
    const warnings = Array.from({ length: 100 }, (_, i) => `warning ${i}: ${'w'.repeat(300)}`);

    const kept = limitWarnings(warnings);

    expect(kept.join('').length).toBeLessThanOrEqual(4096);
    const marker = kept.at(-1) ?? '';
    const left = Number(/^(\d+) more warnings not shown$/.exec(marker)?.[1]);
    expect(kept.length - 1 + left).toBe(100);
    expect(kept.slice(0, -1)).toEqual(warnings.slice(0, kept.length - 1));
  });

  test('shortens a single long warning', () => {
    const [kept] = limitWarnings(['x'.repeat(5000)]);

    expect(kept?.length).toBeLessThanOrEqual(512);
    expect(kept?.endsWith('...')).toBe(true);
  });

  test('keeps short warnings as they are', () => {
    expect(limitWarnings(['one', 'two'])).toEqual(['one', 'two']);
  });

  test('for any warnings: printable, each at most 512 characters, at most 4096 in total', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 2000 }), { maxLength: 60 }), (warnings) => {
        const kept = limitWarnings(warnings);
        expect(kept.join('').length).toBeLessThanOrEqual(4096);
        for (const warning of kept) {
          expect(warning.length).toBeLessThanOrEqual(512);
          expect(warning).not.toMatch(CONTROL);
        }
        if (warnings.length > 0) expect(kept.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('the denial message', () => {
  const judgement = (path: string, img: string, codes: string[]): ImageJudgement => ({
    path,
    image: img,
    cache: 'miss',
    verdict: {
      violations: codes.map((code) => ({ code: code as never, image: img, message: `breaks ${code}` })),
      warnings: [],
      notes: [],
    },
  });

  test('lists every reason of every image, each with its path, and names the object', () => {
    const decision = decide({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      warnOnly: false,
      judgements: [
        judgement('spec.template.spec.initContainers[0].image', 'busybox', ['NOT_ECR']),
        judgement('spec.template.spec.containers[0].image', APP, []),
        judgement('spec.template.spec.containers[1].image', `${APP}-x`, ['TAG_MUTABLE', 'UNSCANNED']),
        { path: 'spec.template.spec.containers[2].image', image: 'pause', cache: 'none', exempt: 'exempt' },
      ],
    });

    expect(decision.allowed).toBe(false);
    expect(decision.message?.split('\n')).toEqual([
      'ecr-admission denied Deployment shop/web: 2 images break the image policy',
      '- spec.template.spec.initContainers[0].image "busybox": [NOT_ECR] breaks NOT_ECR',
      `- spec.template.spec.containers[1].image "${APP}-x": [TAG_MUTABLE] breaks TAG_MUTABLE`,
      `- spec.template.spec.containers[1].image "${APP}-x": [UNSCANNED] breaks UNSCANNED`,
    ]);
    expect(decision.auditAnnotations).toMatchObject({
      decision: 'denied',
      violations: 'NOT_ECR,TAG_MUTABLE,UNSCANNED',
    });

    const response = formatAdmissionResponse('admission.k8s.io/v1beta1', 'uid-7', decision);
    expect(response).toEqual({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: {
        uid: 'uid-7',
        allowed: false,
        status: { code: 403, reason: 'Forbidden', message: decision.message },
        auditAnnotations: decision.auditAnnotations,
      },
    });
  });

  test('turns into short warnings, one per reason naming its code and image, when only warning', () => {
    const decision = decide({
      kind: 'Pod',
      namespace: 'sandbox',
      name: 'p',
      warnOnly: true,
      judgements: [judgement('spec.containers[0].image', 'busybox', ['NOT_ECR'])],
    });

    expect(decision.allowed).toBe(true);
    expect(decision.message).toBeUndefined();
    expect(decision.warnings).toEqual(['[NOT_ECR] busybox: breaks NOT_ECR']);
    expect(formatAdmissionResponse('admission.k8s.io/v1', 'u', decision).response).toEqual({
      uid: 'u',
      allowed: true,
      warnings: decision.warnings,
      auditAnnotations: expect.objectContaining({ decision: 'warned' }),
    });
  });
});
