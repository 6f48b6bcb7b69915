/**
 * `ecr-admission manifest` and the files in deploy/: the webhook configuration is valid against the
 * Kubernetes schema (kubernetes-models, offline) and sends what the webhook judges; the sample
 * Deployment is denied. Runs the built command, as a user does.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MutatingWebhookConfiguration,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  ValidatingWebhookConfiguration,
} from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { parseAllDocuments } from 'yaml';
import { OPT_OUT_LABEL } from '../../src/cli/manifest';
import { imageMatchConditions } from '../../src/cli/match-conditions';
import { JUDGED_KINDS } from '../../src/domain/workload';
import { expectOneLineError, REPO_ROOT, requireBuiltCli, runCli } from '../helpers/cli';

// Each test runs the built command; on a shared, loaded machine that can take more than jest's 5 s.
jest.setTimeout(30_000);

const BASE = 'https://abcd123456.execute-api.us-east-1.amazonaws.com/v1';

interface Webhook {
  clientConfig: { url: string; caBundle?: string };
  rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
  [key: string]: unknown;
}

function documents(yaml: string): Record<string, unknown>[] {
  return parseAllDocuments(yaml).map((doc) => doc.toJS() as Record<string, unknown>);
}

/** The documents the command prints, each validated against the Kubernetes schema; the validating one first. */
async function generate(
  ...args: string[]
): Promise<{ config: Record<string, unknown>; webhook: Webhook; all: Record<string, unknown>[] }> {
  const result = await runCli(['manifest', '--url', BASE, ...args]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const docs = documents(result.stdout);
  const config = docs[0] as Record<string, unknown>;
  new ValidatingWebhookConfiguration(config as never).validate();
  for (const mutating of docs.slice(1)) new MutatingWebhookConfiguration(mutating as never).validate();
  return { config, webhook: (config.webhooks as Webhook[])[0] as Webhook, all: docs };
}

const tmp = mkdtempSync(join(tmpdir(), 'ecr-admission-manifest-'));
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUExample\n-----END CERTIFICATE-----\n';
const caFile = join(tmp, 'ca.pem');
const notPem = join(tmp, 'key.txt');
writeFileSync(caFile, CA_PEM);
writeFileSync(notPem, 'hello');

beforeAll(requireBuiltCli);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ecr-admission manifest', () => {
  test('prints a ValidatingWebhookConfiguration that the Kubernetes schema accepts', async () => {
    const { config } = await generate();
    expect(config).toMatchObject({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'ecr-admission' },
    });
  });

  test('the schema check is not a formality: it rejects a webhook without sideEffects', async () => {
    const { config, webhook } = await generate();
    const { sideEffects: _dropped, ...withoutSideEffects } = webhook;
    expect(() =>
      new ValidatingWebhookConfiguration({ ...config, webhooks: [withoutSideEffects] } as never).validate(),
    ).toThrow(/sideEffects/);
  });

  test.each([
    ['a base URL', BASE],
    ['a base URL with a trailing slash', `${BASE}/`],
  ])('points at BASE/validate, given %s', async (_, url) => {
    const result = await runCli(['manifest', '--url', url]);
    const webhook = ((documents(result.stdout)[0]?.webhooks ?? []) as Webhook[])[0];
    expect(webhook?.clientConfig.url).toBe(`${BASE}/validate`);
  });

  test('sends every kind that embeds a PodSpec, and ephemeral containers, on CREATE and UPDATE', async () => {
    const { webhook } = await generate();
    for (const { group, kind } of JUDGED_KINDS) {
      const rule = webhook.rules.find((r) => r.apiGroups.includes(group));
      expect(rule?.resources).toContain(`${kind.toLowerCase()}s`);
    }
    const core = webhook.rules.find((r) => r.apiGroups.includes(''));
    expect(core?.resources).toContain('pods/ephemeralcontainers');
    for (const rule of webhook.rules) {
      expect(rule.operations).toEqual(['CREATE', 'UPDATE']);
      expect(rule.apiVersions).toEqual(['v1']);
    }
  });

  test('sends an UPDATE only when it may change an image: matchConditions on both webhooks, for the kinds each sends', async () => {
    // What the expressions decide is evaluated in test/unit/match-conditions.test.ts.
    const { all } = await generate('--pin-digests', 'pods');
    const [validating, mutating] = all.map((doc) => (doc.webhooks as Webhook[])[0] as Webhook);
    expect(validating?.matchConditions).toEqual(imageMatchConditions(JUDGED_KINDS));
    expect(mutating?.matchConditions).toEqual(
      imageMatchConditions(JUDGED_KINDS.filter((k) => k.kind === 'Pod')),
    );
    expect(mutating?.matchConditions).toEqual([
      expect.objectContaining({ name: 'images-may-change-at-spec' }),
    ]);
  });

  test('declares no side effects on dry runs, both review versions, a short timeout, Equivalent matching and Fail by default', async () => {
    const { webhook } = await generate();
    expect(webhook).toMatchObject({
      name: 'images.ecr-admission.io',
      sideEffects: 'NoneOnDryRun',
      admissionReviewVersions: ['v1', 'v1beta1'],
      timeoutSeconds: 5,
      matchPolicy: 'Equivalent',
      failurePolicy: 'Fail',
    });
    expect(webhook.clientConfig.caBundle).toBeUndefined();
  });

  test('never sends kube-system, nor namespaces labelled ecr-admission.io/ignore', async () => {
    const { webhook } = await generate();
    expect(webhook.namespaceSelector).toEqual({
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
        { key: 'ecr-admission.io/ignore', operator: 'DoesNotExist' },
      ],
    });
  });

  test('--ca-bundle embeds the base64 of the PEM file, --failure-policy and --timeout are honoured', async () => {
    const { webhook } = await generate(
      '--ca-bundle',
      caFile,
      '--failure-policy',
      'Ignore',
      '--timeout',
      '10',
    );
    expect(Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString()).toBe(CA_PEM);
    expect(webhook).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: 10 });
  });

  test.each([
    ['an http URL', ['--url', 'http://example.com/v1'], ['--url', 'https']],
    ['something that is not a URL', ['--url', 'example.com/v1'], ['--url', 'example.com/v1']],
    ['a URL with a query', ['--url', `${BASE}?x=1`], ['query']],
    ['no URL at all', [], ['--url BASE']],
    [
      'a CA file that does not exist',
      ['--url', BASE, '--ca-bundle', join(tmp, 'missing.pem')],
      ['missing.pem', 'no such file'],
    ],
    [
      'a CA file that is not PEM',
      ['--url', BASE, '--ca-bundle', notPem],
      ['key.txt', 'not a PEM certificate'],
    ],
    [
      'an unknown failure policy',
      ['--url', BASE, '--failure-policy', 'Sometimes'],
      ['Fail or Ignore', 'Sometimes'],
    ],
    ['a timeout the API server refuses', ['--url', BASE, '--timeout', '31'], ['--timeout', '31']],
    [
      'a cluster name that cannot be a path segment',
      ['--url', BASE, '--cluster', 'prod/eu'],
      ['--cluster', 'cluster name "prod/eu" is not valid'],
    ],
  ])('refuses %s with one line on stderr and exit 2', async (_, args, fragments) => {
    expectOneLineError(await runCli(['manifest', ...args]), 'ecr-admission manifest:', ...fragments);
  });
});

describe('ecr-admission manifest, digest pinning', () => {
  test.each([
    { pin: 'pods', resources: [['pods', 'pods/ephemeralcontainers']] },
    { pin: 'workloads', resources: 'every judged kind' },
  ])(
    'with --pin-digests $pin, prints a MutatingWebhookConfiguration for BASE/mutate',
    async ({ pin, resources }) => {
      const { all } = await generate('--pin-digests', pin);
      expect(all).toHaveLength(2);
      const mutating = all[1] as Record<string, unknown>;
      const webhook = (mutating.webhooks as Webhook[])[0] as Webhook;
      expect(mutating.kind).toBe('MutatingWebhookConfiguration');
      expect(webhook).toMatchObject({
        clientConfig: { url: `${BASE}/mutate` },
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'IfNeeded',
        sideEffects: 'NoneOnDryRun',
      });
      if (Array.isArray(resources)) expect(webhook.rules.map((r) => r.resources)).toEqual(resources);
      else expect(webhook.rules.flatMap((r) => r.resources)).toContain('deployments');
    },
  );

  test('with --cluster NAME, both webhooks call BASE/validate/NAME and BASE/mutate/NAME', async () => {
    const { all } = await generate('--cluster', 'prod-eu_1');
    expect(all.map((doc) => ((doc.webhooks as Webhook[])[0] as Webhook).clientConfig.url)).toEqual([
      `${BASE}/validate/prod-eu_1`,
      `${BASE}/mutate/prod-eu_1`,
    ]);
  });

  test('the default pins Pods, and --pin-digests off prints the validating configuration alone', async () => {
    expect((await generate()).all.map((d) => d.kind)).toEqual([
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
    ]);
    expect((await generate('--pin-digests', 'off')).all.map((d) => d.kind)).toEqual([
      'ValidatingWebhookConfiguration',
    ]);
  });

  test('refuses an unknown --pin-digests with one line on stderr and exit 2', async () => {
    expectOneLineError(
      await runCli(['manifest', '--url', BASE, '--pin-digests', 'always']),
      'ecr-admission manifest:',
      '--pin-digests',
      'always',
    );
  });
});

describe('ecr-admission manifest --policy', () => {
  const policyFile = join(tmp, 'policy.yaml');
  writeFileSync(
    policyFile,
    'namespaces:\n  exempt: [kube-system, monitoring, "team-*"]\npinDigests: workloads\n',
  );

  test('takes the exempt namespaces that a selector can express from the policy', async () => {
    const { all } = await generate('--policy', policyFile);
    for (const doc of all) {
      const [hook] = doc.webhooks as Webhook[];
      expect(hook?.namespaceSelector).toMatchObject({
        matchExpressions: expect.arrayContaining([
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'monitoring'] },
        ]),
      });
    }
  });

  test("pins what the policy's pinDigests says, unless --pin-digests is given", async () => {
    const pinned = (await generate('--policy', policyFile)).all[1] as { webhooks: Webhook[] };
    expect(pinned.webhooks[0]?.rules.flatMap((r) => r.resources)).toContain('deployments');

    const off = await generate('--policy', policyFile, '--pin-digests', 'off');
    expect(off.all).toHaveLength(1);
  });
});

describe('examples/cluster/ and deploy/', () => {
  test('protect-ignore-label.yaml is a valid ValidatingAdmissionPolicy and binding for the opt-out label', () => {
    const [policy, binding] = documents(
      readFileSync(join(REPO_ROOT, 'examples/cluster/protect-ignore-label.yaml'), 'utf8'),
    );
    new ValidatingAdmissionPolicy(policy as never).validate();
    new ValidatingAdmissionPolicyBinding(binding as never).validate();
    const expression = JSON.stringify(policy);
    expect(expression).toContain(OPT_OUT_LABEL);
    expect(expression).toContain('ecr-admission:break-glass');
    expect(binding).toMatchObject({
      spec: { policyName: 'ecr-admission-protect-ignore-label', validationActions: ['Deny'] },
    });
  });

  test('deploy/ holds the policy alone, and check -f takes every folder of manifests', async () => {
    expect(readdirSync(join(REPO_ROOT, 'deploy'))).toEqual(['policy.yaml']);
    for (const folder of ['examples/manifests', 'examples/cluster']) {
      const result = await runCli(['check', '-f', folder, '--snapshot', 'examples/registry-snapshot.json']);
      expect([0, 1]).toContain(result.code);
      expect(result.stderr).toBe('');
    }
  });

  test('webhook-configuration.yaml is exactly what the command prints for its URL, and valid', async () => {
    const file = documents(
      readFileSync(join(REPO_ROOT, 'examples/cluster/webhook-configuration.yaml'), 'utf8'),
    );
    const { all } = await generate();
    expect(file).toEqual(all);
  });

  test('denied-deployment.yaml is denied under the deployed policy, naming the container and the rule', async () => {
    const result = await runCli([
      'check',
      '-f',
      'examples/cluster/denied-deployment.yaml',
      '--policy',
      'deploy/policy.yaml',
      '--snapshot',
      'examples/registry-snapshot.json',
      '--output',
      'json',
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        allowed: false,
        violations: [
          expect.objectContaining({ code: 'NOT_ECR', path: 'spec.template.spec.containers[0].image' }),
        ],
      }),
    ]);
  });
});
