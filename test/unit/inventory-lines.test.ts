/**
 * The admitted inventory as JSON lines: the record written is the documented one, read back the same;
 * a bad line is refused with its line number and field, never a crash; the file answers lookups by
 * digest and by record.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FileInventory,
  formatInventoryLine,
  loadInventoryFile,
  parseInventoryLines,
} from '../../src/adapters/inventory-lines';
import { FileError } from '../../src/domain/errors';
import { type AdmittedRecord, inventoryKey } from '../../src/domain/inventory';

const ROOT = join(__dirname, '../..');
const DIGEST = `sha256:${'a'.repeat(64)}`;

const RECORD: AdmittedRecord = {
  cluster: 'prod-eu',
  namespace: 'shop',
  owner: { kind: 'ReplicaSet', name: 'web-7d4b9' },
  image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/web:1.0',
  digest: DIGEST,
  registryId: '111122223333',
  region: 'us-east-1',
  repositoryName: 'team/web',
  firstAdmittedAt: '2026-11-20T09:00:00.000Z',
  lastAdmittedAt: '2026-11-27T08:00:00.000Z',
};

function line(changes: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(formatInventoryLine(RECORD)), ...changes });
}

function problem(text: string): string {
  try {
    parseInventoryLines(text, 'inv.jsonl');
  } catch (error) {
    expect(error).toBeInstanceOf(FileError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('the JSON-lines record', () => {
  it('is exactly the documented fields, in order, with repository for the repository name', () => {
    expect(Object.keys(JSON.parse(formatInventoryLine(RECORD)))).toEqual([
      'cluster',
      'namespace',
      'owner',
      'image',
      'digest',
      'registryId',
      'region',
      'repository',
      'firstAdmittedAt',
      'lastAdmittedAt',
    ]);
    expect(JSON.parse(formatInventoryLine(RECORD))).toMatchObject({
      owner: { kind: 'ReplicaSet', name: 'web-7d4b9' },
      repository: 'team/web',
    });
  });

  it('reads back as the record it was written from, blank lines skipped', () => {
    expect(parseInventoryLines(`${formatInventoryLine(RECORD)}\n\n`, 'inv.jsonl')).toEqual([RECORD]);
  });

  it('parses the example file', () => {
    expect(loadInventoryFile(join(ROOT, 'examples/inventory.jsonl')).records).toHaveLength(
      readFileSync(join(ROOT, 'examples/inventory.jsonl'), 'utf8').trim().split('\n').length,
    );
  });
});

describe.each([
  ['text that is not JSON', 'not json', /inv\.jsonl: line 2: not valid JSON/],
  ['a missing field', line({ digest: undefined }), /line 2: not an inventory record: digest: /],
  ['a field of the wrong type', line({ owner: { kind: 'Pod', name: 3 } }), /line 2: .*owner\.name: /],
  ['an unknown field', line({ extra: 1 }), /line 2: .*extra: unknown key/],
  [
    'a time that is not ISO 8601',
    line({ lastAdmittedAt: 'yesterday' }),
    /lastAdmittedAt: expected an ISO 8601 time/,
  ],
  ['a digest that is not sha256', line({ digest: 'sha256:abc' }), /digest: expected sha256:/],
  ['a bad cluster name', line({ cluster: 'prod.eu' }), /cluster: not a valid cluster name/],
  ['an array, not a record', '[]', /line 2: not an inventory record/],
])('a file with %s on line 2', (_what, bad, message) => {
  it('is refused with the file, the line and the field', () => {
    expect(problem(`${formatInventoryLine(RECORD)}\n${bad}\n`)).toMatch(message);
  });
});

describe('a missing file', () => {
  it('is a FileError naming it', () => {
    expect(() => loadInventoryFile('/nonexistent/inv.jsonl')).toThrow(/inv\.jsonl: no such file/);
  });
});

describe('the file inventory', () => {
  const other = { ...RECORD, namespace: 'admin', lastAdmittedAt: '2026-11-26T00:00:00.000Z' };
  const older = { ...RECORD, lastAdmittedAt: '2026-11-21T00:00:00.000Z' };
  const elsewhere = { ...RECORD, digest: `sha256:${'b'.repeat(64)}` };
  const inventory = new FileInventory([RECORD, other, older, elsewhere]);

  it('lists the records of a digest in key order, one per record key (the latest admission)', async () => {
    expect(await inventory.recordsOf(DIGEST)).toEqual([other, RECORD]);
    expect(await inventory.recordsOf(`sha256:${'c'.repeat(64)}`)).toEqual([]);
  });

  it('finds a record by its key, whatever the times asked with', async () => {
    const { firstAdmittedAt: _f, lastAdmittedAt: _l, ...admitted } = RECORD;
    const other = { ...admitted, owner: { kind: 'Pod', name: 'x' } };
    const found = await inventory.findAdmitted([admitted, other]);
    expect([...found.values()]).toEqual([RECORD]);
    expect(found.get(inventoryKey(other))).toBeUndefined();
  });
});
