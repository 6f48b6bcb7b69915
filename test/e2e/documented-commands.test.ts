/**
 * Every `npx ecr-admission ...` command that the README and docs/ show in a shell block, run as the
 * built command: each must be accepted as written (no unknown option, no usage error) and end with one
 * of the exit codes the docs give it. The commands are read from the Markdown, so a changed example is
 * tested as it now reads.
 *
 * What a reader supplies is substituted, and said here: `$WEBHOOK_URL` (a stack output), `k8s/` (the
 * reader's manifests: the examples'). A command that reads live ECR is pointed at an endpoint that
 * answers nothing, so it can only judge by its failure mode (exit 3, with the cause on stderr).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, requireBuiltCli, runCli } from '../helpers/cli';

jest.setTimeout(60_000);

const DOCUMENTS = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

const READER_SUPPLIES: Readonly<Record<string, string>> = {
  '"$WEBHOOK_URL"': 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  'k8s/': 'examples/manifests',
};

/** Where an example's shell line stops being the command's own arguments. */
const SHELL_OPERATORS = new Set(['>', '|', '&&', '<', '#']);

interface Example {
  readonly where: string;
  readonly args: readonly string[];
}

function shellBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const fence = /^```(sh|bash|shell)\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(fence)) {
    blocks.push({ line: markdown.slice(0, match.index).split('\n').length + 1, text: match[2] ?? '' });
  }
  return blocks;
}

function examples(): Example[] {
  const found: Example[] = [];
  for (const file of DOCUMENTS) {
    for (const block of shellBlocks(readFileSync(join(REPO_ROOT, file), 'utf8'))) {
      const joined = block.text.replace(/\\\n\s*/g, ' ');
      for (const [index, line] of joined.split('\n').entries()) {
        const at = line.indexOf('npx ecr-admission ');
        if (at < 0) continue;
        const words = line.slice(at + 'npx ecr-admission '.length).split(/\s+/);
        const end = words.findIndex((w) => SHELL_OPERATORS.has(w) || w.startsWith('#'));
        const args = (end < 0 ? words : words.slice(0, end))
          .filter((w) => w !== '')
          .map((w) => READER_SUPPLIES[w] ?? w);
        found.push({ where: `${file}, shell block at line ${block.line}, line ${index + 1}`, args });
      }
    }
  }
  return found;
}

const EXAMPLES = examples();

/** What the docs say each command may end with, when it is run as shown. */
function allowedExits(args: readonly string[]): readonly number[] {
  const live = !args.includes('--snapshot');
  switch (args[0]) {
    case 'check':
      // Live: a rule that needs no facts (NOT_ECR) may still deny; the rest could not be judged.
      return live ? [1, 3] : [0, 1];
    case 'exposure':
      // The example inventory holds a denied workload; live, nothing can be judged.
      return live ? [3] : [0, 1];
    case 'refresh':
      return [0];
    default:
      return [0];
  }
}

beforeAll(() => requireBuiltCli());

test('the docs show commands to run', () => {
  expect(EXAMPLES.map((e) => e.args[0])).toEqual(
    expect.arrayContaining(['check', 'refresh', 'manifest', 'exposure']),
  );
});

test.each(EXAMPLES.map((e) => [e.where, e.args.join(' '), e] as const))(
  '%s: %s',
  async (_where, _line, e) => {
    const result = await runCli(e.args, {
      env: {
        // Live ECR, pointed where nothing answers: the command can only judge by its failure mode.
        AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
        AWS_MAX_ATTEMPTS: '1',
      },
      timeoutMs: 45_000,
    });

    expect(result.stderr).not.toMatch(/unknown option|error: |usage/i);
    expect(allowedExits(e.args)).toContain(result.code);
    if (e.args[0] === 'check' && !e.args.includes('--snapshot')) {
      expect(result.stderr).toContain('could not be judged');
    }
  },
);
