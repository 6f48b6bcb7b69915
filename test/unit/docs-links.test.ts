/**
 * The repository's documents hold together: every relative Markdown link (and its `#anchor`) resolves
 * to a file of the repository, and nothing cites the original brief, a document that lives outside
 * the repository (docs/design.md is the project's own design document).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The brief's file name, spelled so that this file does not cite it. */
const OUTSIDE_DOCUMENT = ['DESIGN', 'md'].join('.');

/** Files git tracks, or would track (new files not yet committed), matching the pathspecs. */
function repositoryFiles(...pathspecs: string[]): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...pathspecs],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  const files = out.split('\0').filter((file) => file !== '' && existsSync(join(ROOT, file)));
  return [...new Set(files)].sort();
}

/**
 * GitHub's heading anchor: lowercase, punctuation dropped (except `-` and `_`), each space a `-`.
 * Markdown syntax (code spans, emphasis, links) is punctuation or text like any other.
 */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The lines of a Markdown text outside fenced code blocks, with inline code spans blanked. */
function proseLines(text: string): { line: string; number: number }[] {
  const lines: { line: string; number: number }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    lines.push({ line: line.replace(/(`+)[^`]*?\1/g, ''), number: index + 1 });
  });
  return lines;
}

/** The anchors of a Markdown text's headings, numbered as GitHub numbers repeated ones. */
function anchors(text: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

interface Link {
  readonly target: string;
  readonly line: number;
}

/** Inline links and images `[text](target)` and reference definitions `[id]: target`, outside code. */
function links(text: string): Link[] {
  const found: Link[] = [];
  for (const { line, number } of proseLines(text)) {
    for (const match of line.matchAll(/\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+["'][^"']*["'])?\s*\)/g)) {
      const target = (match[1] ?? '').replace(/^<|>$/g, '');
      found.push({ target, line: number });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(line)?.[1];
    if (definition) found.push({ target: definition.replace(/^<|>$/g, ''), line: number });
  }
  return found;
}

/** Links with a scheme (`https:`, `mailto:`) point outside the repository and are not checked here. */
function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/** What is wrong with each relative link of a Markdown file of the repository, one line each. */
function brokenLinks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const problems: string[] = [];
  for (const { target, line } of links(text)) {
    if (isExternal(target)) continue;
    const where = `${file}:${line} (${target || '(empty)'})`;
    if (target === '') {
      problems.push(`${where}: the link has no target`);
      continue;
    }
    const hash = target.indexOf('#');
    const path = decodeURI(hash >= 0 ? target.slice(0, hash) : target);
    const anchor = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : undefined;
    const resolved = path === '' ? join(ROOT, file) : normalize(join(ROOT, dirname(file), path));
    const inside = relative(ROOT, resolved);
    if (path.startsWith('/') || inside.startsWith('..')) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where}: ${inside} does not exist`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
      problems.push(`${where}: an anchor on ${inside}, which is not a Markdown file`);
      continue;
    }
    if (!anchors(readFileSync(resolved, 'utf8')).has(anchor)) {
      problems.push(`${where}: ${inside} has no heading #${anchor}`);
    }
  }
  return problems;
}

/** The files of a pathspec that name the brief outside the repository, with the line. */
function citationsOfOutsideDocument(pathspecs: readonly string[]): string[] {
  return repositoryFiles(...pathspecs).flatMap((file) =>
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .flatMap((text, index) => (text.includes(OUTSIDE_DOCUMENT) ? [`${file}:${index + 1}`] : [])),
  );
}

const MARKDOWN_FILES = repositoryFiles('*.md');

describe('the Markdown helpers', () => {
  test.each([
    ['The four rules', 'the-four-rules'],
    ['Facts, verdict, decision', 'facts-verdict-decision'],
    ['Registry snapshot (the `--snapshot` file)', 'registry-snapshot-the---snapshot-file'],
    ['1. Choose the policy', '1-choose-the-policy'],
    ['What `failureMode: allow` does', 'what-failuremode-allow-does'],
    ['The [policy](policy.md) format', 'the-policy-format'],
    ['snake_case stays', 'snake_case-stays'],
  ])('the heading "%s" has the anchor #%s', (heading, expected) => {
    expect(slug(heading)).toBe(expected);
  });

  it('numbers repeated headings as GitHub does', () => {
    expect([...anchors('# Notes\n\n## Notes\n\n### Notes\n')]).toEqual(['notes', 'notes-1', 'notes-2']);
  });

  it('reads no heading inside a fenced code block', () => {
    expect([...anchors('```sh\n# a shell comment\n```\n## Real\n')]).toEqual(['real']);
  });

  it('finds inline links, images and reference definitions, each with its line', () => {
    const text = 'See [a](docs/a.md#x) and ![b](b.png "title").\n\n[c]: ../c.md\n';
    expect(links(text)).toEqual([
      { target: 'docs/a.md#x', line: 1 },
      { target: 'b.png', line: 1 },
      { target: '../c.md', line: 3 },
    ]);
  });

  it('finds no link inside code spans or fenced code blocks', () => {
    const text = 'Run `[x](not-a-link.md)`.\n\n```md\n[y](not-a-link-either.md)\n```\n';
    expect(links(text)).toEqual([]);
  });
});

describe('every relative link of every Markdown file resolves', () => {
  it('finds the Markdown files of the repository', () => {
    expect(MARKDOWN_FILES).toEqual(expect.arrayContaining(['README.md', 'docs/design.md']));
  });

  test.each(MARKDOWN_FILES)('%s links only to files and headings that exist', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe('nothing cites the brief outside the repository (docs/design.md is the design document)', () => {
  test.each<[string, string[]]>([
    ['no Markdown file', ['*.md']],
    ['no source file under src/', ['src']],
    ['no file of the CDK app under cdk/', ['cdk']],
    ['no test, helper or fixture under test/', ['test']],
    ['no deployment file under deploy/', ['deploy']],
    ['no example under examples/', ['examples']],
    ['neither the state machine nor the benchmarks', ['statemachine', 'bench']],
  ])('%s names it', (_what, pathspecs) => {
    expect(citationsOfOutsideDocument(pathspecs)).toEqual([]);
  });
});
