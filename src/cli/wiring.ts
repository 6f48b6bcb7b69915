/**
 * Builds the admission core from the command line's options: the policy file (or the embedded
 * defaults), the facts source and the decision cache, and a fixed clock when `--now` is given.
 */
import { EcrFactsSource } from '../adapters/ecr-facts';
import { loadPolicyFile, loadSnapshotFile } from '../adapters/files';
import { MemoryDecisionStore } from '../adapters/memory-store';
import { AdmissionService } from '../application/admission-service';
import { DEFAULT_POLICY } from '../domain/policy';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CoreOptions {
  readonly policy?: string | undefined;
  readonly snapshot?: string | undefined;
  readonly table?: string | undefined;
  readonly now?: string | undefined;
}

export function parseNow(now: string | undefined): (() => Date) | undefined {
  if (now === undefined) return undefined;
  const fixed = new Date(now);
  if (Number.isNaN(fixed.getTime()))
    throw new UsageError(`--now must be an ISO time such as 2026-11-27T12:00:00Z, not "${now}"`);
  return () => fixed;
}

export function buildService(options: CoreOptions): AdmissionService {
  const now = parseNow(options.now);
  const policy = options.policy ? loadPolicyFile(options.policy) : DEFAULT_POLICY;
  if (!options.snapshot) {
    throw new UsageError(
      'live ECR lookups are not available yet; pass --snapshot FILE (a registry snapshot)',
    );
  }
  if (options.table) {
    throw new UsageError('the DynamoDB decision cache is not available yet; leave out --table');
  }
  const facts = new EcrFactsSource(loadSnapshotFile(options.snapshot), now);
  return new AdmissionService({ policy, facts, store: new MemoryDecisionStore(), ...(now && { now }) });
}
