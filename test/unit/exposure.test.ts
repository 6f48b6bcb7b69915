/**
 * Exposure and its reports: each admitted record judged by digest under its namespace's policy, through
 * the admission core; what is listed (denied, warned, could not be judged) and what is not (passing,
 * exempt namespaces); the exit codes; the table; and the PolicyReports, held to the v1alpha2 CRD's own
 * schema (vendored in test/fixtures/policy-report, with its source).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadPolicyFile } from '../../src/adapters/files';
import { loadInventoryFile } from '../../src/adapters/inventory-lines';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { AdmissionService } from '../../src/application/admission-service';
import { digestReference, type Exposure, findExposure } from '../../src/application/exposure';
import { exposureExitCode, formatExposureTable } from '../../src/cli/exposure';
import { formatPolicyReports, printPolicyReports } from '../../src/cli/policy-report';
import { FactsUnavailableError } from '../../src/domain/errors';
import type { FactsSource } from '../../src/domain/facts';
import type { AdmittedRecord } from '../../src/domain/inventory';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { buildJudgingCore } from '../../src/wiring/cli';
import { podReview } from '../helpers/reviews';

const ROOT = join(__dirname, '../..');
const NOW = new Date('2026-11-27T12:00:00Z');
const RECORDS = loadInventoryFile(join(ROOT, 'examples/inventory.jsonl')).records;
const EXAMPLES = {
  policy: join(ROOT, 'examples/policy.yaml'),
  snapshot: join(ROOT, 'examples/registry-snapshot.json'),
  now: NOW.toISOString(),
};

function exampleCore() {
  return buildJudgingCore(EXAMPLES);
}

function record(namespace: string, owner: string): AdmittedRecord {
  const found = RECORDS.find((r) => r.namespace === namespace && r.owner.name === owner);
  if (!found) throw new Error(`no ${namespace}/${owner} in examples/inventory.jsonl`);
  return found;
}
const API = record('shop', 'api-7d9f8c6b5');
const WEB = record('shop', 'web-5c8d7b9f4');

describe('exposure of the example inventory', () => {
  it('lists the denied and the warned, never the passing', async () => {
    const { service, policy } = exampleCore();

    const exposures = await findExposure(service, RECORDS, policy);

    expect(
      exposures.map((e) => `${e.result} ${e.cluster}/${e.namespace} ${e.owner.kind}/${e.owner.name}`),
    ).toEqual([
      'warned prod-eu/sandbox-alice Pod/experiment',
      'denied prod-eu/shop ReplicaSet/web-5c8d7b9f4',
    ]);
    expect(exposures[1]).toMatchObject({
      image: WEB.image,
      digest: WEB.digest,
      lastAdmittedAt: WEB.lastAdmittedAt,
      violations: [{ code: 'SEVERITY_LIMIT_EXCEEDED', message: expect.stringContaining('CRITICAL') }],
    });
    expect(exposureExitCode(exposures)).toBe(1);
  });

  it('judges by digest: a mutable tag as written is no violation of what runs', async () => {
    const { service, policy } = exampleCore();

    const [exposure] = await findExposure(service, [{ ...WEB, namespace: 'shop' }], policy);

    expect(exposure?.violations.map((v) => v.code)).toEqual(['SEVERITY_LIMIT_EXCEEDED']);
    expect(digestReference(WEB)).toBe(`111122223333.dkr.ecr.us-east-1.amazonaws.com/team/web@${WEB.digest}`);
  });

  it('leaves out a record in an exempt namespace, judged or not', async () => {
    const { service, policy } = exampleCore();

    expect(await findExposure(service, [{ ...WEB, namespace: 'kube-system' }], policy)).toEqual([]);
  });

  it('lists an image whose repository is gone as denied (REPOSITORY_NOT_FOUND)', async () => {
    const { service, policy } = exampleCore();

    const [exposure] = await findExposure(service, [{ ...API, repositoryName: 'team/gone' }], policy);

    expect(exposure?.result).toBe('denied');
    expect(exposure?.violations.map((v) => v.code)).toEqual(['REPOSITORY_NOT_FOUND']);
  });

  it('says "unverified" (exit 3) when the facts cannot be had, with the cause', async () => {
    const failing: FactsSource = {
      lookup: async () => {
        throw new FactsUnavailableError('ECR did not answer', { failure: { reason: 'throttled' } });
      },
    };
    const policy = loadPolicyFile(EXAMPLES.policy);
    const service = new AdmissionService({
      policy,
      facts: failing,
      store: new MemoryDecisionStore(),
      now: () => NOW,
    });

    const exposures = await findExposure(service, [API], policy);

    expect(exposures).toMatchObject([
      { result: 'unverified', unverified: { reason: 'throttled' }, violations: [{ code: 'NOT_VERIFIED' }] },
    ]);
    expect(exposureExitCode(exposures)).toBe(3);
  });

  it('judges more images than one review may look up, every one on facts (none left to the failure mode)', async () => {
    const { service, policy } = exampleCore();
    const many = Array.from({ length: 60 }, (_, n) => ({
      ...API,
      owner: { kind: 'ReplicaSet', name: `api-${n}` },
      digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    }));

    const exposures = await findExposure(service, many, policy);

    expect(exposures).toHaveLength(60);
    expect(new Set(exposures.map((e) => e.violations.map((v) => v.code).join()))).toEqual(
      new Set(['IMAGE_NOT_FOUND']),
    );
  });

  it('exits 0 when nothing is exposed', async () => {
    const { service, policy } = exampleCore();

    expect(exposureExitCode(await findExposure(service, [API], policy))).toBe(0);
  });
});

describe('one judgement: exposure agrees with a review of the same image by digest', () => {
  const namespaces = ['shop', 'sandbox-alice', 'kube-system'];
  // Every image of the example snapshot, by digest, in each kind of namespace (enforced, warn-only, exempt).
  const images = new Map<string, { repositoryName: string; digest: string }>();
  JSON.stringify(JSON.parse(readFileSync(EXAMPLES.snapshot, 'utf8')), (_key, value) => {
    if (value?.repositoryName && typeof value.imageDigest === 'string') {
      images.set(value.imageDigest, { repositoryName: value.repositoryName, digest: value.imageDigest });
    }
    return value;
  });
  const cases = [...images.values()].flatMap((image) =>
    namespaces.map((namespace): AdmittedRecord => ({ ...API, ...image, namespace })),
  );

  it.each(cases.map((c) => [`${c.repositoryName}@${c.digest.slice(7, 19)} in ${c.namespace}`, c] as const))(
    '%s',
    async (_name, record) => {
      const { service, policy } = exampleCore();
      const { request } = parseAdmissionReview(
        podReview({ containers: [digestReference(record)] }, { namespace: record.namespace }),
      );

      const decision = await service.review(request);
      const [exposure] = await findExposure(service, [record], policy);

      const expected = !decision.allowed ? 'denied' : decision.violations.length > 0 ? 'warned' : undefined;
      expect(exposure?.result).toBe(expected);
      expect(exposure?.violations.map((v) => v.code) ?? []).toEqual(decision.violations.map((v) => v.code));
    },
  );
});

describe('the exposure table', () => {
  it('names each workload, its violations, digest and last admission, then counts', async () => {
    const { service, policy } = exampleCore();
    const table = formatExposureTable(await findExposure(service, RECORDS, policy), RECORDS.length);

    expect(table.split('\n')[0]).toMatch(/^RESULT\s+CLUSTER\s+NAMESPACE\s+OWNER\s+IMAGE$/);
    expect(table).toMatch(/DENIED\s+prod-eu\s+shop\s+ReplicaSet\/web-5c8d7b9f4\s+\S+team\/web:latest/);
    expect(table).toContain('    [SEVERITY_LIMIT_EXCEEDED] ');
    expect(table).toContain(`    ${WEB.digest}, last admitted ${WEB.lastAdmittedAt}`);
    expect(table.trimEnd().split('\n').at(-1)).toBe('4 admitted records, 1 denied, 1 warned');
  });

  it('says only the count when nothing is exposed', () => {
    expect(formatExposureTable([], 2)).toBe('2 admitted records, 0 denied\n');
  });
});

/** The CRD's schema as the API server holds an object to it: a field it does not declare is an error (kubectl's strict field validation). */
function strictSchema(): object {
  const schema = JSON.parse(
    readFileSync(join(ROOT, 'test/fixtures/policy-report/policyreport-v1alpha2.schema.json'), 'utf8'),
  );
  const close = (node: Record<string, unknown>): void => {
    if (node.properties && node.additionalProperties === undefined) node.additionalProperties = false;
    for (const child of Object.values((node.properties ?? {}) as Record<string, Record<string, unknown>>))
      close(child);
    if (node.items) close(node.items as Record<string, unknown>);
  };
  close(schema);
  return schema;
}

describe('the PolicyReports', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(strictSchema());

  async function reports(exposures?: readonly Exposure[]) {
    const { service, policy } = exampleCore();
    const found = exposures ?? (await findExposure(service, RECORDS, policy));
    return formatPolicyReports({
      exposures: found,
      namespaces: ['shop', 'sandbox-alice', 'payments'],
      cluster: 'prod-eu',
      now: NOW,
    });
  }

  it('are one per namespace judged, an empty one where nothing is exposed', async () => {
    const made = await reports();

    expect(made.map((r) => (r.metadata as { namespace: string }).namespace)).toEqual([
      'payments',
      'sandbox-alice',
      'shop',
    ]);
    expect(made[0]).toMatchObject({ results: [], summary: { fail: 0, warn: 0, error: 0 } });
  });

  it("each hold the CRD's v1alpha2 schema, strictly (no field it does not declare)", async () => {
    for (const report of await reports()) {
      expect(validate(report) ? [] : validate.errors).toEqual([]);
    }
  });

  it.each([
    ['a severity the CRD does not know', { severity: 'critical' }],
    ['a field the CRD does not declare', { workload: 'x' }],
    ['a timestamp as a string', { timestamp: '2026-11-27T12:00:00Z' }],
  ])('the schema check refuses a result with %s (it tests something)', async (_what, change) => {
    const [, , shop] = await reports();
    const results = ((shop?.results ?? []) as Record<string, unknown>[]).map((r) => ({ ...r, ...change }));

    expect(validate({ ...shop, results })).toBe(false);
  });

  it('carry a result per violation: the code as rule, fail or warn, the owner as resource, the time', async () => {
    const shop = (await reports()).find((r) => (r.metadata as { namespace: string }).namespace === 'shop');

    expect(shop).toMatchObject({
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: {
        name: 'ecr-admission',
        namespace: 'shop',
        annotations: { 'ecr-admission/cluster': 'prod-eu' },
      },
      results: [
        {
          policy: 'ecr-admission',
          rule: 'SEVERITY_LIMIT_EXCEEDED',
          result: 'fail',
          severity: 'high',
          source: 'ecr-admission',
          message: expect.stringContaining(WEB.digest),
          resources: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5c8d7b9f4', namespace: 'shop' },
          ],
          properties: { image: WEB.image, digest: WEB.digest, lastAdmittedAt: WEB.lastAdmittedAt },
          timestamp: { seconds: NOW.getTime() / 1000, nanos: 0 },
        },
      ],
      summary: { fail: 1, warn: 0, error: 0 },
    });
  });

  it('say an image that could not be judged as an error result, with its cause', async () => {
    const unverified: Exposure = {
      ...{ cluster: 'prod-eu', namespace: 'shop', owner: API.owner, image: API.image, digest: API.digest },
      result: 'unverified',
      violations: [{ code: 'NOT_VERIFIED', message: 'could not be verified' }],
      unverified: { reason: 'throttled' },
      lastAdmittedAt: API.lastAdmittedAt,
    };
    const [report] = formatPolicyReports({ exposures: [unverified], namespaces: [], cluster: 'c', now: NOW });

    expect(report).toMatchObject({
      results: [{ result: 'error', rule: 'NOT_VERIFIED', properties: { cause: 'throttled' } }],
      summary: { error: 1 },
    });
    expect(validate(report) ? [] : validate.errors).toEqual([]);
  });

  it('print as multi-document YAML that reads back as the same objects', async () => {
    const made = await reports();
    const printed = printPolicyReports(made);

    expect(parseAllDocuments(printed).map((d) => d.toJS())).toEqual(made);
    expect(parseYaml(printed.split('---\n')[1] ?? '')).toEqual(made[0]);
  });
});
