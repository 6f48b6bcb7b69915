/**
 * `ecr-admission refresh` on files: a good event runs the workflow's ASL file; a well-formed event about
 * something else is a no-op (exit 0); an event the workflow refuses is one line naming the file and what
 * is wrong (exit 2), checked once, by the Plan task.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_ARGS, expectOneLineError, requireBuiltCli, runCli } from '../helpers/cli';

// Each test runs the built command; on a shared, loaded machine that can take more than jest's 5 s.
jest.setTimeout(30_000);

beforeAll(requireBuiltCli);

const dir = mkdtempSync(join(tmpdir(), 'cli-refresh-'));
function eventFile(name: string, event: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(event));
  return file;
}

const scan = {
  version: '0',
  id: '85fc3613-e913-7fc4-a80c-a3753e4aa9ae',
  'detail-type': 'ECR Image Scan',
  source: 'aws.ecr',
  account: '111122223333',
  time: '2026-11-20T10:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { 'scan-status': 'COMPLETE', 'repository-name': 'team/api', 'image-digest': 'sha256:xyz' },
};

describe('refresh --event', () => {
  it.each([
    {
      name: 'a malformed digest',
      event: scan,
      fragments: ['invalid ECR Image Scan event', 'detail.image-digest'],
    },
    {
      name: 'an unknown event type',
      event: { ...scan, 'detail-type': 'Nope' },
      fragments: ['unknown event', 'detail-type "Nope"'],
    },
    { name: 'something that is not an event', event: [1, 2], fragments: ['not a JSON object'] },
  ])('refuses $name with one line naming the file, exit 2', async ({ name, event, fragments }) => {
    const file = eventFile(`${name.replaceAll(' ', '-')}.json`, event);

    const result = await runCli(['refresh', '--event', file, ...EXAMPLE_ARGS]);

    expectOneLineError(result, file, ...fragments);
  });

  it("ends an Inspector2 Scan of an EC2 instance (AWS's example) as a no-op: exit 0, nothing written", async () => {
    const result = await runCli([
      'refresh',
      '--event',
      'test/fixtures/events/aws/documented/inspector2-scan-ec2.json',
      ...EXAMPLE_ARGS,
    ]);

    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('runs a good event through the workflow and prints what it wrote', async () => {
    const result = await runCli([
      'refresh',
      '--event',
      'examples/events/ecr-image-scan.json',
      ...EXAMPLE_ARGS,
    ]);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).map((r: { action: string }) => r.action)).toContain('written');
  });
});
