/**
 * Findings by the thousand, each with every detail Inspector gives, for the cache's item size and the
 * judgement's cost with very many findings (tests and `npm run bench -- --only findings`).
 */
import type { Finding } from '../../src/domain/facts';

const PACKAGES = ['openssl', 'glibc', 'zlib', 'curl', 'libxml2', 'python3.11', 'nodejs', 'ncurses'];

/** The default id: as varied as CVE numbers are, so that compression is not flattered. */
const cveId = (i: number) => `CVE-20${20 + (i % 6)}-${10_000 + ((i * 7919) % 89_999)}`;

/**
 * `count` findings, MEDIUM and LOW with scores under 7 (under the default limits: an image holding them
 * is admitted), fix, exploit, package and first-observed varying with their number.
 */
export function manyFindings(count: number, id: (i: number) => string = cveId): Finding[] {
  return Array.from({ length: count }, (_, i) => ({
    id: id(i),
    severity: i % 2 ? 'MEDIUM' : 'LOW',
    score: ((i * 37) % 70) / 10,
    fixAvailable: ['YES', 'NO', 'PARTIAL'][i % 3] as string,
    exploitAvailable: i % 5 ? 'NO' : 'YES',
    package: PACKAGES[i % PACKAGES.length] as string,
    version: `${i % 4}.${i % 9}.${i % 13}-r${i % 3}`,
    ...(i % 3 !== 1 && { fixedInVersion: `${i % 4}.${i % 9}.${(i % 13) + 1}` }),
    firstObservedAt: new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86_400_000).toISOString(),
  }));
}
