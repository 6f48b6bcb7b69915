/**
 * Globs for namespaces and ECR tag filters (image exemptions: `compileImageGlobs`): `*` matches any run of characters
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
 * Image exemption globs, matched against a valid reference written out in full
 * (`registry/repository[:tag][@digest]`, so `busybox` is `docker.io/library/busybox:latest`). A glob is
 * split at its first `/` into a host part and a path part:
 *
 * - the host part is matched against the registry host only, case-insensitively, and its `*` (and `?`)
 *   stay within one DNS label: `602401143452.dkr.ecr.*.amazonaws.com` never matches
 *   `602401143452.dkr.ecr.evil.s3.amazonaws.com`;
 * - the path part is matched against everything after the host, and its `*` matches any characters,
 *   `/` included;
 * - a glob with no `/` is a host pattern: it matches every image of the hosts it matches.
 *
 * docs: the table in README's Policy section.
 */
export function compileImageGlobs(patterns: readonly string[]): Matcher {
  const matchers = patterns.map((pattern): Matcher => {
    const slash = pattern.indexOf('/');
    const host = compileHostGlob(slash < 0 ? pattern : pattern.slice(0, slash));
    const path = slash < 0 ? () => true : compileGlob(pattern.slice(slash + 1));
    return (reference) => {
      const split = reference.indexOf('/');
      return split > 0 && host(reference.slice(0, split)) && path(reference.slice(split + 1));
    };
  });
  return (value) => matchers.some((matches) => matches(value));
}

/** A registry host glob: case-insensitive, `*` and `?` never cross a `.` (one DNS label). */
function compileHostGlob(pattern: string): Matcher {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((char) => {
      if (char === '*') return '[^./]*';
      if (char === '?') return '[^./]';
      return char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const regex = new RegExp(`^${source}$`);
  return (host) => regex.test(host.toLowerCase());
}
