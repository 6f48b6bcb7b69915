/**
 * The admitted inventory as JSON lines (docs/design.md#admitted-inventory-as-json-lines): what
 * `inventory export` writes, and what `--inventory FILE` reads back, so that `exposure` and `review` run
 * offline. One record a line, parsed with one schema; a bad line is a FileError naming the line and the
 * field, never a crash.
 */
import { z } from 'zod';
import { FileError } from '../domain/errors';
import {
  type AdmittedImage,
  type AdmittedRecord,
  clusterNameProblem,
  type InventoryReader,
  inventoryKey,
} from '../domain/inventory';
import { describeIssues } from '../domain/policy';
import { readText } from './files';

const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time' });
const text = z.string().min(1, 'expected a non-empty string');

/** The record on the wire: `repository` where the domain says `repositoryName`. */
export const inventoryLineSchema = z.strictObject({
  cluster: text.refine((name) => clusterNameProblem(name) === undefined, 'not a valid cluster name'),
  namespace: z.string(),
  owner: z.strictObject({ kind: text, name: text }),
  image: text,
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256: and 64 hex digits'),
  registryId: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region'),
  repository: text,
  firstAdmittedAt: isoTime,
  lastAdmittedAt: isoTime,
});

export type InventoryLine = z.infer<typeof inventoryLineSchema>;

/** One record as its JSON line (no newline), fields in the documented order. */
export function formatInventoryLine(record: AdmittedRecord): string {
  const line: InventoryLine = {
    cluster: record.cluster,
    namespace: record.namespace,
    owner: { kind: record.owner.kind, name: record.owner.name },
    image: record.image,
    digest: record.digest,
    registryId: record.registryId,
    region: record.region,
    repository: record.repositoryName,
    firstAdmittedAt: record.firstAdmittedAt,
    lastAdmittedAt: record.lastAdmittedAt,
  };
  return JSON.stringify(line);
}

/** Every record of a JSON-lines text; blank lines are skipped. Throws FileError naming `source`, the line and the field. */
export function parseInventoryLines(text: string, source: string): AdmittedRecord[] {
  const records: AdmittedRecord[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new FileError(source, `${where}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    const result = inventoryLineSchema.safeParse(value);
    if (!result.success) {
      throw new FileError(
        source,
        `${where}: not an inventory record: ${describeIssues(result.error).join('; ')}`,
      );
    }
    const { repository, ...rest } = result.data;
    records.push({ ...rest, repositoryName: repository });
  });
  return records;
}

/** An exported inventory file, read and parsed once. */
export function loadInventoryFile(file: string): FileInventory {
  return new FileInventory(parseInventoryLines(readText(file), file));
}

/** The inventory of an exported file, read-only, indexed by digest and by record key. */
export class FileInventory implements InventoryReader {
  private readonly byKey = new Map<string, AdmittedRecord>();
  private readonly byDigest = new Map<string, AdmittedRecord[]>();

  constructor(records: readonly AdmittedRecord[]) {
    // A key written twice (two exports concatenated): the later admission wins.
    for (const record of records) {
      const key = inventoryKey(record);
      const known = this.byKey.get(key);
      if (known && known.lastAdmittedAt >= record.lastAdmittedAt) continue;
      this.byKey.set(key, record);
    }
    for (const key of [...this.byKey.keys()].sort()) {
      const record = this.byKey.get(key) as AdmittedRecord;
      const list = this.byDigest.get(record.digest) ?? [];
      list.push(record);
      this.byDigest.set(record.digest, list);
    }
  }

  /** Every record, in key order (digest, cluster, namespace, owner, image). */
  get records(): readonly AdmittedRecord[] {
    return [...this.byDigest.values()].flat();
  }

  async recordsOf(digest: string): Promise<readonly AdmittedRecord[]> {
    return this.byDigest.get(digest) ?? [];
  }

  async findAdmitted(admitted: readonly AdmittedImage[]): Promise<ReadonlyMap<string, AdmittedRecord>> {
    const found = new Map<string, AdmittedRecord>();
    for (const image of admitted) {
      const key = inventoryKey(image);
      const record = this.byKey.get(key);
      if (record) found.set(key, record);
    }
    return found;
  }
}
