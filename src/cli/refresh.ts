/**
 * `ecr-admission refresh --event F`: runs the refresh workflow's very ASL file on this machine for one
 * EventBridge event, and prints the cache records written or deleted as a JSON array.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isRecord } from '../domain/aws-names';
import { FileError, UsageError } from '../domain/errors';
import { buildRefreshService } from '../wiring/cli';
import { runWorkflowLocally } from '../wiring/local-workflow';
import { CORE_OPTIONS } from './options';

/**
 * The event as JSON, and the region and account of its envelope (the registry reconciliation lists).
 * Its fields are validated once, by the workflow's Plan task, as in AWS.
 */
function loadEvent(file: string): { event: unknown; region: string; account?: string } {
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(
      file,
      code === 'ENOENT' ? 'no such file' : `not valid JSON (${(error as Error).message})`,
    );
  }
  const envelope = isRecord(event) ? event : {};
  return {
    event,
    region: typeof envelope.region === 'string' ? envelope.region : 'us-east-1',
    ...(typeof envelope.account === 'string' && { account: envelope.account }),
  };
}

export async function refreshCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...CORE_OPTIONS, event: { type: 'string' } },
    strict: true,
  });
  if (!values.event) throw new UsageError('refresh needs an EventBridge event: --event FILE');
  const { event, region, account } = loadEvent(values.event);
  const service = buildRefreshService(values, { region, account });

  const run = await runWorkflowLocally(service, event);
  if (run.refusal) throw new FileError(values.event, run.refusal);
  const changed = run.records.filter(
    (r) => r.action === 'written' || r.action === 'deleted' || r.action === 'rejudged',
  );
  process.stdout.write(`${JSON.stringify(changed, null, 2)}\n`);
  const failed = run.records.filter((r) => r.action === 'failed');
  for (const record of failed) {
    process.stderr.write(
      `ecr-admission refresh: ${record.repositoryName}@${record.digest} failed (${record.reason}); nothing was cached for it\n`,
    );
  }
  if (run.status === 'FAILED')
    process.stderr.write(`ecr-admission refresh: the workflow failed: ${run.error?.name}\n`);
  return failed.length > 0 || run.status === 'FAILED' ? 1 : 0;
}
