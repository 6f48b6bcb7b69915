/**
 * `ecr-admission refresh --event F`: runs the refresh workflow's very ASL file on this machine for one
 * EventBridge event, and prints the cache records written or deleted as a JSON array.
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../domain/aws-names';
import { FileError } from '../domain/errors';
import { buildRefreshService, type CoreOptions } from '../wiring/cli';
import { runWorkflowLocally } from '../wiring/local-workflow';

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

export async function refreshCommand(options: CoreOptions & { event: string }): Promise<number> {
  const { event, region, account } = loadEvent(options.event);
  const service = buildRefreshService(options, { region, account });

  const run = await runWorkflowLocally(service, event);
  if (run.refusal) throw new FileError(options.event, run.refusal);
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
