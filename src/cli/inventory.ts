/**
 * `ecr-admission inventory export`: the table's admitted inventory as JSON lines on stdout, one record a
 * line (docs/design.md#admitted-inventory-as-json-lines), written as the scan pages in: what `exposure`
 * and `review` read back with `--inventory FILE`. Exit 0 when written; 2 bad usage.
 */
import { formatInventoryLine } from '../adapters/inventory-lines';
import { parseCluster, tableInventory } from '../wiring/cli';

export interface InventoryExportOptions {
  readonly table: string;
  readonly cluster?: string;
}

export async function inventoryExportCommand(options: InventoryExportOptions): Promise<number> {
  const cluster = parseCluster(options.cluster);
  for await (const record of tableInventory(options.table, cluster)) {
    process.stdout.write(`${formatInventoryLine(record)}\n`);
  }
  return 0;
}
