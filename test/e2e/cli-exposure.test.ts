/**
 * `inventory export`, `exposure` and `review --inventory`, run as the built command against DynamoDB
 * Local: admissions recorded by the real recorder are exported as JSON lines (the decision cache's own
 * entries left out), the export read back with `--inventory` gives the same exposure as `--table`, and
 * the exit codes are those the docs give.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDecisionStore } from '../../src/adapters/dynamodb-store';
import { loadInventoryFile } from '../../src/adapters/inventory-lines';
import { InventoryRecorder } from '../../src/application/inventory-recorder';
import type { AdmittedRecord } from '../../src/domain/inventory';
import { EXAMPLE_ARGS, REPO_ROOT, requireBuiltCli, runCli } from '../helpers/cli';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';

jest.setTimeout(60_000);

const EXAMPLE = loadInventoryFile(join(REPO_ROOT, 'examples/inventory.jsonl')).records;

/** The example records, admitted at their last-admitted times (first and last the same: one admission each). */
async function recordExamples(table: DynamoDecisionStore): Promise<AdmittedRecord[]> {
  const recorder = new InventoryRecorder({ store: table });
  const recorded: AdmittedRecord[] = [];
  for (const { firstAdmittedAt: _first, lastAdmittedAt, ...admitted } of EXAMPLE) {
    await recorder.record([admitted], new Date(lastAdmittedAt));
    recorded.push({ ...admitted, firstAdmittedAt: lastAdmittedAt, lastAdmittedAt });
  }
  return recorded;
}

function sortedLines(text: string): string[] {
  return text.trim().split('\n').sort();
}

describe('exposure and inventory export against DynamoDB Local', () => {
  let dynamo: DynamoLocal;
  let env: Record<string, string>;
  let recorded: AdmittedRecord[];
  const dir = mkdtempSync(join(tmpdir(), 'ecr-admission-exposure-e2e-'));
  const exported = join(dir, 'inventory.jsonl');

  beforeAll(async () => {
    requireBuiltCli();
    dynamo = await startDynamoLocal();
    await createDecisionTable(dynamo.client(), 'decisions');
    env = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    };
    recorded = await recordExamples(
      new DynamoDecisionStore({
        tableName: 'decisions',
        client: dynamo.client(),
        // Recorded "in the past" (the examples' times): kept alive for the real clock's reads.
        inventoryTtlSeconds: 10 * 365 * 86_400,
      }),
    );
  });
  afterAll(async () => {
    await dynamo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exposure --table judges the recorded inventory: exit 1, the denied and the warned listed', async () => {
    const result = await runCli(['exposure', '--table', 'decisions', '-o', 'json', ...EXAMPLE_ARGS], { env });

    expect(result.code).toBe(1);
    expect(
      JSON.parse(result.stdout).map(
        (e: { result: string; namespace: string; owner: { name: string } }) =>
          `${e.result} ${e.namespace} ${e.owner.name}`,
      ),
    ).toEqual(['warned sandbox-alice experiment', 'denied shop web-5c8d7b9f4']);
    expect(result.stderr).toBe('');
  });

  it('inventory export writes every record as a JSON line, and none of the cache entries exposure wrote through', async () => {
    const result = await runCli(['inventory', 'export', '--table', 'decisions'], { env });

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    writeFileSync(exported, result.stdout);
    expect(loadInventoryFile(exported).records).toHaveLength(recorded.length);
    expect(loadInventoryFile(exported).records).toEqual(expect.arrayContaining(recorded));
  });

  it('inventory export --cluster writes that cluster only', async () => {
    const result = await runCli(['inventory', 'export', '--table', 'decisions', '--cluster', 'staging'], {
      env,
    });

    expect(result.code).toBe(0);
    expect(sortedLines(result.stdout).map((l) => JSON.parse(l).cluster)).toEqual(['staging']);
  });

  it.each([
    ['json', []],
    ['table', []],
    ['policyreport', ['--cluster', 'prod-eu']],
  ])('the export read back with --inventory gives what --table gives (-o %s)', async (output, extra) => {
    const args = ['exposure', '-o', output, ...extra, ...EXAMPLE_ARGS];

    const fromTable = await runCli([...args, '--table', 'decisions'], { env });
    const fromFile = await runCli([...args, '--inventory', exported]);

    expect(fromFile.code).toBe(1);
    expect(fromFile).toEqual(fromTable);
  });

  it('exposure --cluster staging finds nothing exposed: exit 0', async () => {
    const result = await runCli([
      'exposure',
      '--inventory',
      exported,
      '--cluster',
      'staging',
      ...EXAMPLE_ARGS,
    ]);

    expect(result).toMatchObject({ code: 0, stdout: '1 admitted record, 0 denied\n' });
  });

  it('exposure with a table that cannot be reached: one line with the cause, exit 3', async () => {
    const result = await runCli(['exposure', '--table', 'decisions', ...EXAMPLE_ARGS], {
      env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' },
    });

    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^ecr-admission exposure: the admitted inventory could not be listed: /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('bad input: exit 2, one line on stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecr-admission-bad-inventory-'));
  const bad = join(dir, 'bad.jsonl');
  const review = readFileSync(join(REPO_ROOT, 'examples/reviews/allowed-pod.json'), 'utf8');

  beforeAll(() => {
    requireBuiltCli();
    const [first] = readFileSync(join(REPO_ROOT, 'examples/inventory.jsonl'), 'utf8').split('\n');
    writeFileSync(bad, `${first}\n${(first ?? '').replace('"owner":{"kind":"ReplicaSet",', '"owner":{')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      'exposure with a bad inventory file',
      ['exposure', '--inventory', bad, ...EXAMPLE_ARGS],
      /line 2: .*owner\.kind/,
    ],
    [
      'review with a bad inventory file',
      ['review', '--inventory', bad, ...EXAMPLE_ARGS],
      /line 2: .*owner\.kind/,
    ],
    ['exposure with no inventory at all', ['exposure', ...EXAMPLE_ARGS], /--table NAME, or --inventory FILE/],
    [
      'exposure with a bad cluster name',
      ['exposure', '--inventory', bad, '--cluster', 'a.b'],
      /--cluster: cluster name/,
    ],
    ['inventory export without --table', ['inventory', 'export'], /--table/],
    [
      'policyreport over two clusters',
      ['exposure', '--inventory', 'examples/inventory.jsonl', '-o', 'policyreport', ...EXAMPLE_ARGS],
      /name one with --cluster/,
    ],
  ])('%s', async (_what, args, message) => {
    const result = await runCli(args, { stdin: review });

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('review --inventory with a good file answers as without it', async () => {
    const withFile = await runCli(['review', '--inventory', 'examples/inventory.jsonl', ...EXAMPLE_ARGS], {
      stdin: review,
    });
    const without = await runCli(['review', ...EXAMPLE_ARGS], { stdin: review });

    expect(withFile.code).toBe(0);
    expect(withFile).toEqual(without);
  });
});
