/**
 * Globs for namespaces, image exemptions and ECR tag filters: `*` matches any run of characters
 * (including `/`), `?` one character; everything else is literal. Compiled once, matched anchored.
 */
export type Matcher = (value: string) => boolean;

export function compileGlob(pattern: string): Matcher {
  const source = pattern
    .split('')
    .map((char) => {
      if (char === '*') return '.*';
      if (char === '?') return '.';
      return char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}

export function compileGlobs(patterns: readonly string[]): Matcher {
  const matchers = patterns.map(compileGlob);
  return (value) => matchers.some((matches) => matches(value));
}
