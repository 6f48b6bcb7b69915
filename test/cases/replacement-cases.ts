/**
 * The replacement rule of the decision cache (`replacement()` in src/domain/decision-store.ts, and
 * the DynamoDB store's condition expression that states it again), as one case table run against the
 * pure rule, the in-process store and the DynamoDB store: what a key holds after `stored` and then
 * `next` are written.
 */
import type { Facts, Finding } from '../../src/domain/facts';

export const REPO = { registryId: '111122223333', region: 'us-east-1', repositoryName: 'team/app' };

export function digestOf(n: number): string {
  return `sha256:${n.toString(16).padStart(64, '0')}`;
}

export interface FactsOverrides {
  readonly digest?: string;
  readonly tags?: string[];
  /** When the scan completed; `null`: no completed scan (failed or expired). */
  readonly scanAt?: string | null;
  readonly gatheredAt?: string;
  readonly pushedAt?: string;
  readonly critical?: number;
  /** The scan's listed findings (default none). */
  readonly findings?: Finding[];
}

export function facts(overrides: FactsOverrides = {}): Facts {
  const scanned = overrides.scanAt !== null;
  return {
    repository: {
      ...REPO,
      imageTagMutability: 'IMMUTABLE',
      tagMutabilityExclusionFilters: [],
      legacyScanOnPush: false,
      repositoryScanning: { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH' },
    },
    image: {
      digest: overrides.digest ?? digestOf(1),
      tags: overrides.tags ?? ['1.0.0'],
      pushedAt: overrides.pushedAt ?? '2026-11-20T09:00:00.000Z',
      scan: scanned
        ? {
            status: 'COMPLETE',
            completedAt: overrides.scanAt ?? '2026-11-20T10:00:00.000Z',
            severityCounts: { CRITICAL: overrides.critical ?? 0 },
            findings: overrides.findings ?? [],
          }
        : { status: 'SCAN_ELIGIBILITY_EXPIRED', severityCounts: {}, findings: [] },
    },
    gatheredAt: overrides.gatheredAt ?? '2026-11-20T10:01:00.000Z',
  };
}

const LATER = '2026-11-27T11:00:00.000Z';

export interface ReplacementCase {
  readonly name: string;
  readonly stored: Facts;
  readonly next: Facts;
  /** The key both are written under, looked at after. */
  readonly key: { readonly digest: string } | { readonly tag: string };
  readonly outcome: 'replace' | 'extend' | 'keep';
}

export const REPLACEMENT_CASES: readonly ReplacementCase[] = [
  {
    name: 'the same facts read again only extend the entry',
    stored: facts({ critical: 2 }),
    next: facts({ critical: 2, gatheredAt: LATER }),
    key: { digest: digestOf(1) },
    outcome: 'extend',
  },
  {
    name: 'other facts read later for the same scan replace it',
    stored: facts({ gatheredAt: '2026-11-21T10:00:00.000Z', critical: 3 }),
    next: facts({ gatheredAt: '2026-11-21T11:00:00.000Z', critical: 1 }),
    key: { tag: '1.0.0' },
    outcome: 'replace',
  },
  {
    name: 'facts read earlier never replace it',
    stored: facts({ gatheredAt: '2026-11-21T11:00:00.000Z', critical: 1 }),
    next: facts({ gatheredAt: '2026-11-21T10:00:00.000Z', critical: 3 }),
    key: { digest: digestOf(1) },
    outcome: 'keep',
  },
  {
    name: 'facts read at the same time never replace it',
    stored: facts({ critical: 1 }),
    next: facts({ critical: 3 }),
    key: { digest: digestOf(1) },
    outcome: 'keep',
  },
  {
    name: 'an older completed scan of the same image never replaces a newer one, even read later',
    stored: facts({ scanAt: '2026-11-21T10:00:00.000Z', critical: 0 }),
    next: facts({ scanAt: '2026-11-20T10:00:00.000Z', critical: 3, gatheredAt: LATER }),
    key: { digest: digestOf(1) },
    outcome: 'keep',
  },
  {
    name: 'a newer scan replaces an older one',
    stored: facts({ scanAt: '2026-11-20T10:00:00.000Z', critical: 3 }),
    next: facts({ scanAt: '2026-11-21T10:00:00.000Z', critical: 0, gatheredAt: LATER }),
    key: { tag: '1.0.0' },
    outcome: 'replace',
  },
  {
    name: 'a later read showing no completed scan (failed, expired) replaces a completed one',
    stored: facts(),
    next: facts({ scanAt: null, gatheredAt: LATER }),
    key: { tag: '1.0.0' },
    outcome: 'replace',
  },
  {
    name: 'a tag read later pointing at another image replaces it, however old that image or its scan',
    stored: facts({ digest: digestOf(1), tags: ['latest'] }),
    next: facts({
      digest: digestOf(2),
      tags: ['latest'],
      scanAt: '2026-01-01T00:00:00.000Z',
      gatheredAt: LATER,
    }),
    key: { tag: 'latest' },
    outcome: 'replace',
  },
  {
    name: 'a tag moves to the image pushed later, even when that image is not scanned yet',
    stored: facts({ digest: digestOf(1), tags: ['latest'], pushedAt: '2026-11-20T09:00:00.000Z' }),
    next: facts({
      digest: digestOf(2),
      tags: ['latest'],
      pushedAt: '2026-11-22T09:00:00.000Z',
      scanAt: null,
      gatheredAt: LATER,
    }),
    key: { tag: 'latest' },
    outcome: 'replace',
  },
  {
    name: "a tag moves back to an older image it is re-tagged to (ECR keeps that image's push time)",
    stored: facts({ digest: digestOf(2), tags: ['prod'], pushedAt: '2026-11-10T00:00:00.000Z' }),
    next: facts({
      digest: digestOf(1),
      tags: ['prod'],
      pushedAt: '2026-11-01T00:00:00.000Z',
      gatheredAt: LATER,
    }),
    key: { tag: 'prod' },
    outcome: 'replace',
  },
  {
    name: 'a tag read earlier pointing at another image does not move it',
    stored: facts({ digest: digestOf(2), tags: ['prod'], gatheredAt: '2026-11-21T10:00:00.000Z' }),
    next: facts({ digest: digestOf(1), tags: ['prod'], gatheredAt: '2026-11-20T10:00:00.000Z' }),
    key: { tag: 'prod' },
    outcome: 'keep',
  },
];
