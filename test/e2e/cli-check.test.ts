/**
 * `ecr-admission check`, run as the built command: every workload of Kubernetes YAML manifests judged
 * as the webhook would judge its creation; exit 0 when all are allowed, 1 when any is denied, 2 for
 * bad input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliResult, EXAMPLE_ARGS, expectOneLineError, requireBuiltCli, runCli } from '../helpers/cli';

jest.setTimeout(30_000);

interface CheckedWorkload {
  kind: string;
  name: string;
  namespace: string;
  allowed: boolean;
  violations: { code: string; image: string; message: string; path: string; platform?: string }[];
  warnings: string[];
  file: string;
}

const COMPLIANT = 'examples/manifests/compliant.yaml';
const DENIED = 'examples/manifests/denied.yaml';
const SANDBOX = 'examples/manifests/sandbox.yaml';
const ECR = '111122223333.dkr.ecr.us-east-1.amazonaws.com';

function check(args: readonly string[], now = '2026-11-27T12:00:00Z'): Promise<CliResult> {
  const withoutNow = EXAMPLE_ARGS.slice(0, EXAMPLE_ARGS.indexOf('--now'));
  return runCli(['check', ...withoutNow, '--now', now, ...args]);
}

/** The JSON array on stdout: exactly one JSON document, nothing else. */
function workloads(result: CliResult): CheckedWorkload[] {
  const parsed: unknown = JSON.parse(result.stdout);
  expect(Array.isArray(parsed)).toBe(true);
  for (const entry of parsed as CheckedWorkload[]) {
    expect(entry).toEqual(
      expect.objectContaining({
        kind: expect.any(String),
        name: expect.any(String),
        namespace: expect.any(String),
        allowed: expect.any(Boolean),
        violations: expect.any(Array),
        warnings: expect.any(Array),
      }),
    );
  }
  return parsed as CheckedWorkload[];
}

/** Each violation as `path code`, the way a reader scans a denial. */
function blamed(workload: CheckedWorkload | undefined): string[] {
  return (workload?.violations ?? []).map((v) => `${v.path} ${v.code}`).sort();
}

beforeAll(() => {
  requireBuiltCli();
});

describe('check --output json on the example manifests', () => {
  it('lists every workload of every file in order, and exits 1 because some are denied', async () => {
    // Act
    const result = await check(['-f', COMPLIANT, '-f', DENIED, '-f', SANDBOX, '--output', 'json']);

    // Assess
    expect(result.code).toBe(1);
    const results = workloads(result);
    expect(results.map(({ kind, name, namespace, allowed }) => ({ kind, name, namespace, allowed }))).toEqual(
      [
        { kind: 'Deployment', name: 'api', namespace: 'shop', allowed: true },
        { kind: 'CronJob', name: 'nightly-report', namespace: 'shop', allowed: true },
        { kind: 'Deployment', name: 'web', namespace: 'shop', allowed: false },
        { kind: 'StatefulSet', name: 'worker', namespace: 'shop', allowed: false },
        { kind: 'Pod', name: 'experiment', namespace: 'sandbox-alice', allowed: true },
      ],
    );
  });

  it('takes a directory as kubectl apply -f does: every manifest file in it, in name order', async () => {
    // Act
    const result = await check(['-f', 'examples/manifests', '--output', 'json']);

    // Assess
    expect(result.code).toBe(1);
    expect(workloads(result).map(({ file }) => file)).toEqual([
      'examples/manifests/compliant.yaml',
      'examples/manifests/compliant.yaml',
      'examples/manifests/denied.yaml',
      'examples/manifests/denied.yaml',
      'examples/manifests/sandbox.yaml',
    ]);
  });

  it('names each offending container path and every rule it breaks', async () => {
    // Act
    const result = await check(['-f', DENIED, '-o', 'json']);

    // Assess
    expect(result.code).toBe(1);
    const [web, worker] = workloads(result);
    expect(blamed(web)).toEqual([
      'spec.template.spec.containers[0].image SEVERITY_LIMIT_EXCEEDED',
      'spec.template.spec.containers[0].image TAG_MUTABLE',
      'spec.template.spec.containers[1].image NOT_ECR',
    ]);
    expect(blamed(worker)).toEqual([
      'spec.template.spec.containers[0].image SEVERITY_LIMIT_EXCEEDED',
      'spec.template.spec.containers[1].image UNSCANNED',
      'spec.template.spec.containers[2].image SCAN_ON_PUSH_DISABLED',
      'spec.template.spec.containers[3].image NOT_ECR',
    ]);
    const multiArch = worker?.violations.find((v) => v.code === 'SEVERITY_LIMIT_EXCEEDED');
    expect(multiArch).toMatchObject({ image: `${ECR}/team/worker:2.0.0` });
    expect(multiArch?.message).toContain('linux/arm64/v8');
    const lookAlike = worker?.violations.find((v) => v.code === 'NOT_ECR');
    expect(lookAlike?.image).toBe(`${ECR}.evil.example/team/api:1.4.2`);
    expect(web?.warnings).toEqual([]);
    expect(worker?.warnings).toEqual([]);
  });

  it('exits 0 when every workload is allowed', async () => {
    // Act
    const result = await check(['-f', COMPLIANT, '--output', 'json']);

    // Assess
    expect(result.code).toBe(0);
    const results = workloads(result);
    expect(results).toHaveLength(2);
    for (const workload of results) {
      expect(workload).toMatchObject({ allowed: true, violations: [], warnings: [] });
    }
  });

  it('exits 0 for a warn-only namespace: allowed, with the violations as warnings', async () => {
    // Act
    const result = await check(['-f', SANDBOX, '--output', 'json']);

    // Assess
    expect(result.code).toBe(0);
    const [pod] = workloads(result);
    expect(pod).toMatchObject({ kind: 'Pod', name: 'experiment', namespace: 'sandbox-alice', allowed: true });
    expect(blamed(pod)).toEqual([
      'spec.containers[0].image SEVERITY_LIMIT_EXCEEDED',
      'spec.containers[0].image TAG_MUTABLE',
    ]);
    expect(pod?.warnings).toHaveLength(2);
  });
});

describe('check judges at the time given by --now', () => {
  it('warns, without denying, on the last day of a dated exception', async () => {
    // Act
    const result = await check(['-f', COMPLIANT, '-o', 'json'], '2027-01-31T23:59:59Z');

    // Assess
    expect(result.code).toBe(0);
    const [api] = workloads(result);
    expect(api).toMatchObject({ name: 'api', allowed: true, violations: [] });
    expect(api?.warnings.join('\n')).toContain('CVE-2026-4242');
  });

  it('denies once the exception has expired', async () => {
    // Act
    const result = await check(['-f', COMPLIANT, '-o', 'json'], '2027-02-01T00:00:00Z');

    // Assess
    expect(result.code).toBe(1);
    const [api, report] = workloads(result);
    expect(api?.allowed).toBe(false);
    expect(api?.violations).toEqual([
      expect.objectContaining({
        code: 'SEVERITY_LIMIT_EXCEEDED',
        image: `${ECR}/team/api:1.5.0`,
        path: 'spec.template.spec.containers[0].image',
      }),
    ]);
    expect(report?.allowed).toBe(true);
  });
});

describe('check --output table (the default)', () => {
  it('shows a row per workload, the reasons under each, and a summary', async () => {
    // Act
    const result = await check(['-f', COMPLIANT, '-f', DENIED, '-f', SANDBOX]);

    // Assess
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['RESULT', 'KIND', 'NAMESPACE', 'NAME']);
    const rows = lines.filter((line) => !line.startsWith(' ')).map((line) => line.split(/\s+/));
    expect(rows.slice(1, 6)).toEqual([
      ['allowed', 'Deployment', 'shop', 'api'],
      ['allowed', 'CronJob', 'shop', 'nightly-report'],
      ['DENIED', 'Deployment', 'shop', 'web'],
      ['DENIED', 'StatefulSet', 'shop', 'worker'],
      ['warned', 'Pod', 'sandbox-alice', 'experiment'],
    ]);
    expect(result.stdout).toMatch(
      /^ {4}spec\.template\.spec\.containers\[1\]\.image "nginx:1\.27": \[NOT_ECR\]/m,
    );
    expect(result.stdout).toMatch(/^ {4}warning: \[TAG_MUTABLE\] web:latest: /m);
    expect(lines.at(-1)).toBe('5 workloads checked, 2 denied');
  });

  it('is what check prints without --output', async () => {
    // Act
    const byDefault = await check(['-f', DENIED]);
    const explicit = await check(['-f', DENIED, '--output', 'table']);

    // Assess
    expect(explicit).toEqual(byDefault);
  });
});

describe('check on manifests the test writes', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const pod = (name: string, image: string, namespace?: string) =>
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      `  name: ${name}`,
      ...(namespace ? [`  namespace: ${namespace}`] : []),
      'spec:',
      '  containers:',
      '    - name: main',
      `      image: ${image}`,
    ].join('\n');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecr-admission-check-e2e-'));
    writeFileSync(
      file('multi.yaml'),
      [
        '# leading comment',
        '---',
        pod('first', `${ECR}/team/api:1.4.2`),
        '---',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: settings }',
        'data: { a: "1" }',
        '---',
        pod('second', 'nginx:1.27', 'elsewhere'),
        '...',
        '',
      ].join('\n'),
    );
    writeFileSync(
      file('list.yaml'),
      [
        'apiVersion: v1',
        'kind: List',
        'items:',
        '  - apiVersion: apps/v1',
        '    kind: Deployment',
        '    metadata: { name: listed-api }',
        '    spec:',
        '      selector: { matchLabels: { app: a } }',
        '      template:',
        '        metadata: { labels: { app: a } }',
        `        spec: { containers: [{ name: a, image: "${ECR}/team/api:1.4.2" }] }`,
        '  - apiVersion: v1',
        '    kind: Service',
        '    metadata: { name: listed-service }',
        '    spec: { ports: [{ port: 80 }] }',
        '  - apiVersion: batch/v1',
        '    kind: Job',
        '    metadata: { name: listed-job, namespace: jobs }',
        '    spec:',
        '      template:',
        '        spec:',
        '          restartPolicy: Never',
        '          initContainers: [{ name: init, image: "busybox" }]',
        `          containers: [{ name: j, image: "${ECR}/team/api:1.4.2" }]`,
        '',
      ].join('\n'),
    );
    writeFileSync(file('config-only.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: only }\n');
    writeFileSync(file('no-namespace.yaml'), `${pod('loose', 'nginx:1.27')}\n`);
    writeFileSync(file('not-yaml.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: [broken\n');
    writeFileSync(
      file('second-not-yaml.yaml'),
      `${pod('fine', `${ECR}/team/api:1.4.2`)}\n---\nkind: [\n  - : :\n`,
    );
    writeFileSync(file('no-kind.yaml'), 'apiVersion: v1\nmetadata: { name: what }\nspec: {}\n');
    writeFileSync(file('policy-shaped.yaml'), 'mode: enforce\nnamespaces: { exempt: [kube-system] }\n');
    writeFileSync(file('scalar.yaml'), 'just some words\n');
    writeFileSync(file('list-without-items.yaml'), 'apiVersion: v1\nkind: List\n');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('judges every workload of a multi-document file and skips objects without a PodSpec', async () => {
    // Act
    const result = await check(['-f', file('multi.yaml'), '-o', 'json']);

    // Assess
    expect(result.code).toBe(1);
    const results = workloads(result);
    expect(results.map(({ kind, name, namespace, allowed }) => ({ kind, name, namespace, allowed }))).toEqual(
      [
        { kind: 'Pod', name: 'first', namespace: 'default', allowed: true },
        { kind: 'Pod', name: 'second', namespace: 'elsewhere', allowed: false },
      ],
    );
    expect(blamed(results[1])).toEqual(['spec.containers[0].image NOT_ECR']);
  });

  it('opens a kind: List into its items', async () => {
    // Act
    const result = await check(['-f', file('list.yaml'), '-o', 'json']);

    // Assess
    expect(result.code).toBe(1);
    const results = workloads(result);
    expect(results.map(({ kind, name, namespace, allowed }) => ({ kind, name, namespace, allowed }))).toEqual(
      [
        { kind: 'Deployment', name: 'listed-api', namespace: 'default', allowed: true },
        { kind: 'Job', name: 'listed-job', namespace: 'jobs', allowed: false },
      ],
    );
    expect(blamed(results[1])).toEqual(['spec.template.spec.initContainers[0].image NOT_ECR']);
  });

  it('says so when the files hold no workload, and exits 0', async () => {
    // Act
    const table = await check(['-f', file('config-only.yaml')]);
    const json = await check(['-f', file('config-only.yaml'), '-o', 'json']);

    // Assess
    expect(table).toMatchObject({ code: 0, stdout: 'no workloads found\n' });
    expect(json.code).toBe(0);
    expect(workloads(json)).toEqual([]);
  });

  it('puts objects without a namespace into --namespace, and leaves the others where they are', async () => {
    // Act
    const result = await check(['-f', file('multi.yaml'), '--namespace', 'team-a', '-o', 'json']);

    // Assess
    expect(workloads(result).map((w) => w.namespace)).toEqual(['team-a', 'elsewhere']);
  });

  const namespaced: { name: string; namespace: string; code: number; allowed: boolean; warned: boolean }[] = [
    {
      name: 'denies a non-ECR image in an ordinary namespace',
      namespace: 'team-a',
      code: 1,
      allowed: false,
      warned: false,
    },
    {
      name: 'allows it in an exempt namespace',
      namespace: 'kube-system',
      code: 0,
      allowed: true,
      warned: false,
    },
    {
      name: 'warns about it in a warn-only namespace',
      namespace: 'sandbox-bob',
      code: 0,
      allowed: true,
      warned: true,
    },
  ];

  it.each(namespaced)(
    '--namespace is judged by the policy: $name',
    async ({ namespace, code, allowed, warned }) => {
      // Act
      const result = await check(['-f', file('no-namespace.yaml'), '-n', namespace, '-o', 'json']);

      // Assess
      expect(result.code).toBe(code);
      const [loose] = workloads(result);
      expect(loose).toMatchObject({ name: 'loose', namespace, allowed });
      expect(loose?.warnings.length ?? 0).toBe(warned ? 1 : 0);
    },
  );

  const badManifests: { name: string; manifest: string; says: string[] }[] = [
    { name: 'a file that is not valid YAML', manifest: 'not-yaml.yaml', says: ['not valid YAML'] },
    {
      name: 'a second document that is not valid YAML',
      manifest: 'second-not-yaml.yaml',
      says: ['document 2', 'not valid YAML'],
    },
    { name: 'a document without kind', manifest: 'no-kind.yaml', says: ['document 1', 'kind'] },
    { name: 'a document that is not an object', manifest: 'scalar.yaml', says: ['not a Kubernetes object'] },
    { name: 'a List without items', manifest: 'list-without-items.yaml', says: ['items'] },
    { name: 'a missing file', manifest: 'absent.yaml', says: ['no such file'] },
    {
      name: 'a file that is not a manifest at all (a policy)',
      manifest: 'policy-shaped.yaml',
      says: ['kind'],
    },
  ];

  it.each(badManifests)('refuses $name with one line naming the file, exit 2', async ({ manifest, says }) => {
    // Act
    const result = await check(['-f', file(manifest)]);

    // Assess
    expectOneLineError(result, 'ecr-admission check', file(manifest), ...says);
  });

  it('prints no result at all when one of several files is bad', async () => {
    // Act
    const result = await check(['-f', COMPLIANT, '-f', file('no-kind.yaml'), '-o', 'json']);

    // Assess
    expectOneLineError(result, file('no-kind.yaml'));
  });

  it('refuses a bad policy file with one line naming it, exit 2', async () => {
    // Prepare
    writeFileSync(file('policy.yaml'), 'rules:\n  unscanned: sometimes\n');

    // Act
    const result = await runCli([
      'check',
      '-f',
      COMPLIANT,
      '--policy',
      file('policy.yaml'),
      '--snapshot',
      'examples/registry-snapshot.json',
    ]);

    // Assess
    expectOneLineError(result, file('policy.yaml'), 'unscanned');
  });
});

describe('check refuses bad usage with exit 2', () => {
  const cases: { name: string; args: string[]; says: string[] }[] = [
    { name: 'no manifest', args: [], says: ['-f'] },
    {
      name: 'an unknown output format',
      args: ['-f', COMPLIANT, '--output', 'yaml'],
      says: ['--output', 'yaml'],
    },
    { name: 'an unknown option', args: ['-f', COMPLIANT, '--frobnicate'], says: ['--frobnicate'] },
  ];

  it.each(cases)('$name', async ({ args, says }) => {
    // Act
    const result = await check(args);

    // Assess
    expectOneLineError(result, 'ecr-admission check', ...says);
  });
});
