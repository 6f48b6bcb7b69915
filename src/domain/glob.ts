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

/**
 * Image exemption globs. A pattern's first segment (before its first `/`, the registry host) matches
 * only the reference's first segment, so `602401143452.dkr.ecr.*.amazonaws.com/*` can never match a
 * look-alike host such as `602401143452.dkr.ecr.evil.example/x.amazonaws.com/y`; after it, `*` also
 * matches `/`.
 */
export function compileImageGlobs(patterns: readonly string[]): Matcher {
  const matchers = patterns.map((pattern): Matcher => {
    const slash = pattern.indexOf('/');
    if (slash < 0) return compileGlob(pattern);
    const host = compileGlob(pattern.slice(0, slash));
    const rest = compileGlob(pattern.slice(slash + 1));
    return (value) => {
      const split = value.indexOf('/');
      return split >= 0 && host(value.slice(0, split)) && rest(value.slice(split + 1));
    };
  });
  return (value) => matchers.some((matches) => matches(value));
}
