/**
 * `ecr-admission review`, run as the built command: one AdmissionReview on stdin, exactly one response
 * review on stdout, exit 0; bad input or usage is one line on stderr and exit 2.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_REVIEW_BYTES } from '../../src/http/admission-review';
import {
  type CliResult,
  EXAMPLE_ARGS,
  expectOneLineError,
  REPO_ROOT,
  requireBuiltCli,
  runCli,
} from '../helpers/cli';

jest.setTimeout(30_000);

type Review = {
  apiVersion: string;
  kind: string;
  request: Record<string, unknown> & { uid: string; object: unknown };
};

function exampleText(name: string): string {
  return readFileSync(join(REPO_ROOT, 'examples/reviews', name), 'utf8');
}

function example(name: string): Review {
  return JSON.parse(exampleText(name)) as Review;
}

/** The single response review on stdout; fails unless stdout is exactly one JSON line. */
function responseOf(result: CliResult) {
  expect(result).toMatchObject({ code: 0 });
  expect(result.stdout.endsWith('\n')).toBe(true);
  expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
  const review = JSON.parse(result.stdout) as {
    apiVersion: string;
    kind: string;
    response: {
      uid: string;
      allowed: boolean;
      status?: { code: number; reason: string; message: string };
      warnings?: string[];
      auditAnnotations?: Record<string, string>;
    };
  };
  expect(Object.keys(review).sort()).toEqual(['apiVersion', 'kind', 'response']);
  expect(review.kind).toBe('AdmissionReview');
  return review;
}

function review(stdin: string | Buffer, args: readonly string[] = EXAMPLE_ARGS): Promise<CliResult> {
  return runCli(['review', ...args], { stdin });
}

beforeAll(() => {
  requireBuiltCli();
});

describe('review judges the example reviews', () => {
  it('allows a Pod whose only image is compliant, echoing the v1 uid and apiVersion', async () => {
    // Act
    const result = await review(exampleText('allowed-pod.json'));

    // Assess
    const { apiVersion, response } = responseOf(result);
    expect(apiVersion).toBe('admission.k8s.io/v1');
    expect(response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002');
    expect(response.allowed).toBe(true);
    expect(response.status).toBeUndefined();
    expect(response.warnings).toBeUndefined();
    expect(response.auditAnnotations).toMatchObject({ decision: 'allowed' });
  });

  it('denies a Deployment with a 403 that names every offending image, its path and each rule it breaks', async () => {
    // Act
    const result = await review(exampleText('denied-deployment.json'));

    // Assess
    const { apiVersion, response } = responseOf(result);
    expect(apiVersion).toBe('admission.k8s.io/v1');
    expect(response.uid).toBe('b1d2c3e4-0000-4000-8000-000000000001');
    expect(response.allowed).toBe(false);
    expect(response.status).toMatchObject({ code: 403, reason: 'Forbidden' });
    const message = response.status?.message ?? '';
    expect(message).toContain('Deployment shop/web');
    expect(message).toContain('spec.template.spec.initContainers[0].image "busybox"');
    expect(message).toMatch(/initContainers\[0\][^\n]*\[NOT_ECR\]/);
    expect(message).toMatch(/containers\[0\]\.image "[^"]*team\/web:latest"[^\n]*\[TAG_MUTABLE\]/);
    expect(message).toMatch(
      /containers\[0\]\.image "[^"]*team\/web:latest"[^\n]*\[SEVERITY_LIMIT_EXCEEDED\]/,
    );
    // The compliant container is not blamed.
    expect(message).not.toContain('containers[1]');
    expect(message).not.toContain('team/api');
    expect(response.auditAnnotations).toMatchObject({ decision: 'denied' });
    expect(response.auditAnnotations?.violations?.split(',').sort()).toEqual([
      'NOT_ECR',
      'SEVERITY_LIMIT_EXCEEDED',
      'TAG_MUTABLE',
    ]);
  });

  it('allows a Pod in a warn-only namespace with a warning per violation, echoing the v1beta1 apiVersion', async () => {
    // Act
    const result = await review(exampleText('warned-pod.json'));

    // Assess
    const { apiVersion, response } = responseOf(result);
    expect(apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(response.uid).toBe('c0ffee00-0000-4000-8000-000000000002');
    expect(response.allowed).toBe(true);
    expect(response.status).toBeUndefined();
    expect(response.warnings).toHaveLength(2);
    expect(response.warnings?.join('\n')).toContain('[TAG_MUTABLE]');
    expect(response.warnings?.join('\n')).toContain('[SEVERITY_LIMIT_EXCEEDED]');
    for (const warning of response.warnings ?? []) {
      expect(warning).toMatch(/^\[[A-Z_]+\] web:latest: /);
      expect(warning.length).toBeLessThanOrEqual(120);
    }
    expect(response.auditAnnotations).toMatchObject({ decision: 'warned' });
  });
});

describe('review answers variants of the examples as the webhook would', () => {
  const cases: { name: string; review: () => Review; apiVersion: string; allowed: boolean }[] = [
    {
      name: 'answers a v1beta1 review of a compliant Pod with a v1beta1 response',
      review: () => ({ ...example('allowed-pod.json'), apiVersion: 'admission.k8s.io/v1beta1' }),
      apiVersion: 'admission.k8s.io/v1beta1',
      allowed: true,
    },
    {
      name: 'answers a v1 review of the warn-only Pod with a v1 response',
      review: () => ({ ...example('warned-pod.json'), apiVersion: 'admission.k8s.io/v1' }),
      apiVersion: 'admission.k8s.io/v1',
      allowed: true,
    },
    {
      name: 'judges a dry run exactly like a real request',
      review: () => {
        const base = example('denied-deployment.json');
        return { ...base, request: { ...base.request, dryRun: true } };
      },
      apiVersion: 'admission.k8s.io/v1',
      allowed: false,
    },
    {
      name: 'judges the images an UPDATE changes like a CREATE',
      review: () => {
        const base = example('denied-deployment.json');
        const before = JSON.parse(
          JSON.stringify(base.request.object).replace(
            /"image":"[^"]*"/g,
            '"image":"111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api:1.4.2"',
          ),
        );
        return { ...base, request: { ...base.request, operation: 'UPDATE', oldObject: before } };
      },
      apiVersion: 'admission.k8s.io/v1',
      allowed: false,
    },
    {
      name: 'allows an UPDATE that leaves every image as it was (ADR 0006)',
      review: () => {
        const base = example('denied-deployment.json');
        return { ...base, request: { ...base.request, operation: 'UPDATE', oldObject: base.request.object } };
      },
      apiVersion: 'admission.k8s.io/v1',
      allowed: true,
    },
    {
      name: 'allows a DELETE untouched',
      review: () => {
        const base = example('denied-deployment.json');
        return {
          ...base,
          request: { ...base.request, operation: 'DELETE', oldObject: base.request.object, object: null },
        };
      },
      apiVersion: 'admission.k8s.io/v1',
      allowed: true,
    },
    {
      name: 'allows the denied Deployment in an exempt namespace',
      review: () => {
        const base = example('denied-deployment.json');
        return { ...base, request: { ...base.request, namespace: 'kube-system' } };
      },
      apiVersion: 'admission.k8s.io/v1',
      allowed: true,
    },
  ];

  it.each(cases)('$name', async ({ review: make, apiVersion, allowed }) => {
    // Prepare
    const input = make();

    // Act
    const result = await review(JSON.stringify(input));

    // Assess
    const response = responseOf(result);
    expect(response.apiVersion).toBe(apiVersion);
    expect(response.response.uid).toBe(input.request.uid);
    expect(response.response.allowed).toBe(allowed);
  });
});

describe('review refuses input it cannot parse: one line on stderr, nothing on stdout, exit 2', () => {
  const allowed = exampleText('allowed-pod.json');
  const cases: { name: string; stdin: () => string | Buffer; says: string[] }[] = [
    {
      name: 'truncated JSON',
      stdin: () => allowed.slice(0, Math.floor(allowed.length / 2)),
      says: ['not valid JSON'],
    },
    { name: 'empty stdin', stdin: () => '', says: ['empty'] },
    { name: 'only whitespace', stdin: () => ' \n\t\n', says: ['not valid JSON'] },
    { name: 'JSON that is not an AdmissionReview', stdin: () => '{"hello": "world"}', says: ['apiVersion'] },
    { name: 'a JSON array', stdin: () => '[]', says: ['invalid AdmissionReview'] },
    {
      name: 'an unknown AdmissionReview apiVersion',
      stdin: () => JSON.stringify({ ...example('allowed-pod.json'), apiVersion: 'admission.k8s.io/v2' }),
      says: ['admission.k8s.io/v2'],
    },
    {
      name: 'a review without a uid',
      stdin: () => {
        const base = example('allowed-pod.json');
        const { uid: _uid, ...request } = base.request;
        return JSON.stringify({ ...base, request });
      },
      says: ['uid'],
    },
    {
      name: 'a CREATE without an object',
      stdin: () => {
        const base = example('allowed-pod.json');
        return JSON.stringify({ ...base, request: { ...base.request, object: null } });
      },
      says: ['request.object'],
    },
    {
      name: 'a review larger than the limit',
      stdin: () => {
        const base = example('allowed-pod.json');
        return JSON.stringify({ ...base, padding: 'x'.repeat(MAX_REVIEW_BYTES) });
      },
      says: [String(MAX_REVIEW_BYTES)],
    },
  ];

  it.each(cases)('$name', async ({ stdin, says }) => {
    // Act
    const result = await review(stdin());

    // Assess
    expectOneLineError(result, 'ecr-admission review', ...says);
  });
});

describe('review refuses bad files and usage: one line on stderr naming the problem, exit 2', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-admission-review-e2e-'));
    writeFileSync(file('policy-not-yaml.yaml'), 'mode: [enforce\nnamespaces: {\n');
    writeFileSync(file('policy-unknown-key.yaml'), 'mode: enforce\nbogusKey: true\n');
    writeFileSync(file('policy-bad-mode.yaml'), 'mode: sometimes\n');
    writeFileSync(file('policy-list.yaml'), '- mode: enforce\n');
    writeFileSync(file('snapshot-not-json.json'), '{"registries": [');
    writeFileSync(file('snapshot-wrong-shape.json'), '{"registries": 5}');
    writeFileSync(file('snapshot-array.json'), '[]');
    mkdirSync(file('a-directory'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const snapshot = ['--snapshot', 'examples/registry-snapshot.json'];
  const policy = ['--policy', 'examples/policy.yaml'];
  const cases: { name: string; args: () => string[]; says: () => string[] }[] = [
    {
      name: 'a policy that is not YAML',
      args: () => ['--policy', file('policy-not-yaml.yaml'), ...snapshot],
      says: () => [file('policy-not-yaml.yaml'), 'not valid YAML'],
    },
    {
      name: 'a policy with an unknown key',
      args: () => ['--policy', file('policy-unknown-key.yaml'), ...snapshot],
      says: () => [file('policy-unknown-key.yaml'), 'bogusKey'],
    },
    {
      name: 'a policy with a value out of range',
      args: () => ['--policy', file('policy-bad-mode.yaml'), ...snapshot],
      says: () => [file('policy-bad-mode.yaml'), 'mode'],
    },
    {
      name: 'a policy that is a list, not a mapping',
      args: () => ['--policy', file('policy-list.yaml'), ...snapshot],
      says: () => [file('policy-list.yaml'), 'invalid policy'],
    },
    {
      name: 'a missing policy file',
      args: () => ['--policy', file('no-such-policy.yaml'), ...snapshot],
      says: () => [file('no-such-policy.yaml'), 'no such file'],
    },
    {
      name: 'a policy path that is a directory',
      args: () => ['--policy', file('a-directory'), ...snapshot],
      says: () => [file('a-directory'), 'directory'],
    },
    {
      name: 'a snapshot that is not JSON',
      args: () => [...policy, '--snapshot', file('snapshot-not-json.json')],
      says: () => [file('snapshot-not-json.json'), 'not valid JSON'],
    },
    {
      name: 'a snapshot of the wrong shape',
      args: () => [...policy, '--snapshot', file('snapshot-wrong-shape.json')],
      says: () => [file('snapshot-wrong-shape.json'), 'registries'],
    },
    {
      name: 'a snapshot that is an array',
      args: () => [...policy, '--snapshot', file('snapshot-array.json')],
      says: () => [file('snapshot-array.json'), 'invalid registry snapshot'],
    },
    {
      name: 'a missing snapshot file',
      args: () => [...policy, '--snapshot', file('no-such-snapshot.json')],
      says: () => [file('no-such-snapshot.json'), 'no such file'],
    },
    {
      name: 'an unknown option',
      args: () => [...EXAMPLE_ARGS, '--bogus'],
      says: () => ['--bogus'],
    },
    {
      name: 'an option without its value',
      args: () => [...snapshot, '--policy'],
      says: () => ['--policy'],
    },
    {
      name: 'a --now that is not a time',
      args: () => [...policy, ...snapshot, '--now', 'yesterday'],
      says: () => ['--now', 'yesterday'],
    },
  ];

  it.each(cases)('$name', async ({ args, says }) => {
    // Act
    const result = await review(exampleText('allowed-pod.json'), args());

    // Assess
    expectOneLineError(result, 'ecr-admission review', ...says());
  });

  it('an unknown command exits 2 and prints nothing on stdout', async () => {
    // Act
    const result = await runCli(['reveiw', ...EXAMPLE_ARGS], { stdin: exampleText('allowed-pod.json') });

    // Assess
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('unknown command "reveiw"');
  });
});
