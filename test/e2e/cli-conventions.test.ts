/**
 * The command line as users of kubectl, Trivy and conftest expect it, run as the built command:
 * `--version`, per-command `--help`, `-f -`, CI formats (SARIF, JUnit), `--fail-on`, the exit code for
 * "could not judge", and causes named on stderr when live ECR cannot be read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type CliResult, EXAMPLE_ARGS, REPO_ROOT, requireBuiltCli, runCli } from '../helpers/cli';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';

jest.setTimeout(60_000);

const DENIED = 'examples/manifests/denied.yaml';
const COMPLIANT = 'examples/manifests/compliant.yaml';
const SANDBOX = 'examples/manifests/sandbox.yaml';
const OWN = '111122223333';
const HOST = `${OWN}.dkr.ecr.us-east-1.amazonaws.com`;

interface Workload {
  kind: string;
  name: string;
  result: string;
  line?: number;
  violations: { code: string; message: string; path: string; line?: number; findings?: { id: string }[] }[];
  warnings: string[];
  unverified: { image: string; reason: string; action?: string }[];
  exempt?: string;
}

function check(args: readonly string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  return runCli(['check', ...EXAMPLE_ARGS, ...args], options);
}

let dir: string;

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'ecr-admission-conventions-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('--version and --help', () => {
  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };

    const result = await runCli(['--version']);

    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it.each([
    ['review', '--mutate'],
    ['check', '--fail-on'],
    ['serve', '--tls-san'],
    ['refresh', '--event'],
    ['manifest', '--policy'],
    ['exposure', '--inventory'],
    ['inventory export', '--table'],
  ])('prints the help of %s itself, naming its own options', async (command, option) => {
    const result = await runCli([...command.split(' '), '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: ecr-admission ${command} [options]`);
    expect(result.stdout).toContain(option);
  });

  it('starts --help in under twice the time of an empty node process (it loads no AWS SDK)', () => {
    const time = (args: string[]) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = process.hrtime.bigint();
        spawnSync(process.execPath, args, { cwd: REPO_ROOT });
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return Math.min(...times);
    };

    const bare = time(['-e', '0']);
    const help = time([CLI, 'check', '--help']);

    expect(help).toBeLessThan(2 * bare);
  });

  it('a command group without its subcommand (inventory) prints its usage and exits 2', async () => {
    const result = await runCli(['inventory']);

    expect(result.code).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toContain('export');
  });
});

describe('check reads, judges and reports as CI expects', () => {
  it('reads manifests from stdin with -f -', async () => {
    const result = await check(['-f', '-', '-o', 'json'], { stdin: readFileSync(join(REPO_ROOT, DENIED)) });

    expect(result.code).toBe(1);
    const workloads = JSON.parse(result.stdout) as (Workload & { file: string })[];
    expect(workloads.map((w) => [w.file, w.name, w.result])).toEqual([
      ['<stdin>', 'web', 'denied'],
      ['<stdin>', 'worker', 'denied'],
    ]);
  });

  it('names the offending finding ids in a severity denial, with the exception lines to add', async () => {
    const result = await check(['-f', DENIED, '-o', 'json']);

    const [web] = JSON.parse(result.stdout) as Workload[];
    const severity = web?.violations.find((v) => v.code === 'SEVERITY_LIMIT_EXCEEDED');
    expect(severity?.findings?.map((f) => f.id)).toEqual(['CVE-2026-9999']);
    expect(severity?.message).toContain('1 CRITICAL (limit 0): CVE-2026-9999 CRITICAL, known 7 days;');
    expect(severity?.findings?.[0]).toMatchObject({ counted: true, why: 'counted: every finding counts' });
    expect(severity?.message).toContain(
      'ignoreFindings: [{ id: CVE-2026-9999, expires: 2026-12-27, reason: "..." }]',
    );
  });

  it('writes SARIF 2.1.0 with rules, a result per violation, and the manifest file and line', async () => {
    const result = await check(['-f', DENIED, '-o', 'sarif']);

    expect(result.code).toBe(1);
    const sarif = JSON.parse(result.stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    const [run] = sarif.runs;
    expect(run.tool.driver.name).toBe('ecr-admission');
    const ruleIds = run.tool.driver.rules.map((r: { id: string }) => r.id);
    expect(ruleIds).toEqual(expect.arrayContaining(['NOT_ECR', 'TAG_MUTABLE', 'SEVERITY_LIMIT_EXCEEDED']));
    expect(run.results.length).toBe(7);
    const lines = readFileSync(join(REPO_ROOT, DENIED), 'utf8').split('\n');
    for (const r of run.results) {
      expect(ruleIds).toContain(r.ruleId);
      expect(r.message.text).toEqual(expect.any(String));
      const [location] = r.locations;
      expect(location.physicalLocation.artifactLocation.uri).toBe(DENIED);
      // The line is the image's own line in the manifest.
      const line = lines[location.physicalLocation.region.startLine - 1];
      expect(line).toContain('image:');
    }
  });

  it('writes JUnit XML: a test case per workload, denied ones failed', async () => {
    const result = await check(['-f', COMPLIANT, '-f', DENIED, '-o', 'junit']);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(result.stdout.match(/<testcase /g)).toHaveLength(4);
    expect(result.stdout.match(/<failure /g)).toHaveLength(2);
    expect(result.stdout).toContain('name="Deployment shop/web"');
  });

  it('exits 0 on warnings by default, and 1 with --fail-on warn', async () => {
    const lenient = await check(['-f', SANDBOX]);
    const strict = await check(['-f', SANDBOX, '--fail-on', 'warn']);

    expect(lenient.code).toBe(0);
    expect(strict.code).toBe(1);
    for (const line of lenient.stdout.split('\n').filter((l) => l.includes('warning:'))) {
      expect(line.replace(/^ +warning: /, '').length).toBeLessThanOrEqual(120);
    }
  });

  it('reports a workload of an exempt namespace as exempt, not as compliant', async () => {
    writeFileSync(
      join(dir, 'system.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: dns, namespace: kube-system}\nspec:\n  containers: [{name: c, image: busybox}]\n',
    );

    const result = await check(['-f', join(dir, 'system.yaml')]);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^exempt +Pod +kube-system +dns$/m);
    expect(result.stdout).toContain('exempt: namespace kube-system is exempt');
  });

  it('names the line and column of a YAML error', async () => {
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n');

    const result = await check(['-f', join(dir, 'broken.yaml')]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.yaml: line \d+, column \d+: document 1 is not valid YAML/);
  });
});

describe('check against live ECR that cannot be read', () => {
  let ecr: LocalEcr;
  const manifest = () => join(dir, 'live.yaml');
  const SNAPSHOT: RawSnapshot = {
    registries: [
      {
        registryId: OWN,
        region: 'us-east-1',
        scanningConfiguration: { scanType: 'BASIC', rules: [] },
        repositories: [
          {
            repository: { repositoryName: 'team/web', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
            images: [{ imageDigest: `sha256:${'a'.repeat(64)}`, imageTags: ['1.0.0'] }],
          },
        ],
      },
    ],
  };
  const LIVE_ENV = () => ({
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
  });

  beforeAll(async () => {
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
    writeFileSync(
      manifest(),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: c, image: ${HOST}/team/web:1.0.0}]\n`,
    );
  });

  afterAll(async () => {
    await ecr?.close();
  });

  it('exits 3 on access denied, naming the cause and the IAM action on stderr, not "retry"', async () => {
    ecr.faults.deny = (operation) => operation === 'DescribeImages';

    const result = await runCli(['check', '-f', manifest(), '-o', 'json'], { env: LIVE_ENV() });

    expect(result.code).toBe(3);
    const [workload] = JSON.parse(result.stdout) as Workload[];
    expect(workload?.result).toBe('unverified');
    expect(workload?.unverified).toEqual([
      expect.objectContaining({ reason: 'access-denied', action: 'ecr:DescribeImages' }),
    ]);
    expect(workload?.violations[0]?.message).toContain('missing IAM permission ecr:DescribeImages');
    expect(workload?.violations[0]?.message).not.toContain('retry');
    expect(result.stderr).toMatch(
      /^ecr-admission check: .*team\/web:1\.0\.0 could not be judged: ECR denied access \(missing IAM permission ecr:DescribeImages\); grant ecr:DescribeImages/m,
    );
    expect(result.stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('exits 3 with no credentials, advising to configure them', async () => {
    const result = await runCli(['check', '-f', manifest()], {
      env: {
        AWS_ENDPOINT_URL_ECR: ecr.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: '',
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
        AWS_CONFIG_FILE: join(dir, 'none'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
        AWS_WEB_IDENTITY_TOKEN_FILE: '',
      },
    });

    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^UNVERIFIED +Pod +shop +p$/m);
    expect(result.stderr).toContain('no valid AWS credentials for ECR; configure AWS credentials');
  });

  it('review still exits 0, with the cause in the answer and on stderr', async () => {
    ecr.faults.deny = (operation) => operation === 'DescribeImages';
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u1',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        namespace: 'shop',
        operation: 'CREATE',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: 'shop' },
          spec: { containers: [{ name: 'c', image: `${HOST}/team/web:1.0.0` }] },
        },
      },
    };

    const result = await runCli(['review'], { env: LIVE_ENV(), stdin: JSON.stringify(review) });

    expect(result.code).toBe(0);
    const { response } = JSON.parse(result.stdout);
    expect(response.allowed).toBe(false);
    expect(response.auditAnnotations.unverified).toBe('access-denied(ecr:DescribeImages)');
    expect(response.status.message).not.toContain('arn:aws');
    expect(result.stderr).toContain('ECR denied access');
  });
});
