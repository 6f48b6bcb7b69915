/**
 * Every error the project raises on purpose: one base class, each error named by its class, `cause`
 * passed on. The state machine matches some by name (`WORKFLOW_ERRORS`); a test holds the ASL file to
 * that list. Messages never carry AWS error text: that stays in `cause`, for logs.
 */

/** One line of text: whatever a message quotes (a file's content, a YAML error) never spans lines. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * The base class. Each subclass states its name as a literal: bundles are minified, and class names
 * do not survive minification while the ASL and the logs match these names.
 */
export class EcrAdmissionError extends Error {
  override readonly name: string = 'EcrAdmissionError';
}

/**
 * Why a service could not answer, as a class a user can act on: fix credentials, grant an action, retry.
 * `not-found` is a missing resource of ours (the decision table), never a missing image (that is an answer).
 */
export type FailureReason =
  | 'no-credentials'
  | 'access-denied'
  | 'throttled'
  | 'timed-out'
  | 'not-found'
  | 'unavailable'
  /** Not looked up: the review names more images than one review may look up at once. */
  | 'too-many-images'
  /** Not looked up: the process already has as many lookups on their way as it allows. */
  | 'busy';

export interface FailureCause {
  readonly reason: FailureReason;
  /** For `access-denied`: the IAM action that was refused (`ecr:DescribeImages`). */
  readonly action?: string;
  /** For `too-many-images`: how many images one review may look up. */
  readonly limit?: number;
}

/** A service that could not answer, with why (its cause class). Transient: nothing is cached for it. */
abstract class UnavailableError extends EcrAdmissionError {
  readonly reason: FailureReason;
  readonly action?: string;
  constructor(message: string, options?: { cause?: unknown; failure?: FailureCause }) {
    super(message, options);
    this.reason = options?.failure?.reason ?? 'unavailable';
    if (options?.failure?.action) this.action = options.failure.action;
  }
}

/** ECR could not answer (throttling, timeouts, access denied). Transient: never cached. */
export class FactsUnavailableError extends UnavailableError {
  override readonly name = 'FactsUnavailableError';
}

/** The decision cache could not be read or written. Transient. */
export class StoreUnavailableError extends UnavailableError {
  override readonly name = 'StoreUnavailableError';
}

/** EventBridge did not take a request for the workflow (an image's preparation). Transient. */
export class EventsUnavailableError extends UnavailableError {
  override readonly name = 'EventsUnavailableError';
}

/**
 * ECR will not prepare an image (import it through a pull-through cache, restore it from the archive),
 * and asking again will not change that: an invalid reference, an image gone, an update ECR does not
 * make. Permanent: never retried as if transient (those failures are FactsUnavailableErrors).
 */
export class PreparationError extends EcrAdmissionError {
  override readonly name = 'PreparationError';
}

/**
 * An image's facts (or its stored verdict) that do not fit one decision cache item, even compressed.
 * Permanent: the same facts will never fit, so it is logged and counted, never retried as if transient.
 * What the cache held of the image is removed first, so the image is answered from ECR on each
 * admission instead of from older facts.
 */
export class EntryTooLargeError extends EcrAdmissionError {
  override readonly name = 'EntryTooLargeError';
}

/** An EventBridge event the workflow cannot handle: not a known event, or its fields are malformed. */
export class InvalidEventError extends EcrAdmissionError {
  override readonly name = 'InvalidEventError';
}

/** An AdmissionReview that cannot be parsed: the caller's error (HTTP 400). */
export class AdmissionReviewError extends EcrAdmissionError {
  override readonly name = 'AdmissionReviewError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
  }
}

/** A policy document that breaks the policy schema; `issues` names each bad key by its path. */
export class PolicyError extends EcrAdmissionError {
  override readonly name = 'PolicyError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A registry snapshot that is not ECR's API output as the snapshot format records it. */
export class SnapshotError extends EcrAdmissionError {
  override readonly name = 'SnapshotError';
}

/** A file a command takes (policy, snapshot, manifest, event): names the file and the problem, in one line. */
export class FileError extends EcrAdmissionError {
  override readonly name = 'FileError';
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${oneLine(problem)}`, options);
  }
}

/** A bad setting in the functions' environment: fails the cold start, naming the variable. */
export class ConfigError extends EcrAdmissionError {
  override readonly name = 'ConfigError';
}

/** A bad command line: names the option. */
export class UsageError extends EcrAdmissionError {
  override readonly name = 'UsageError';
}

/** A bad CDK context setting: fails synth, naming the context key. */
export class SettingsError extends EcrAdmissionError {
  override readonly name = 'SettingsError';
}

/** A policy file that cannot be deployed as it is (too large for the environment, lost in conversion). */
export class PolicySourceError extends EcrAdmissionError {
  override readonly name = 'PolicySourceError';
}

/** A wait that passed its deadline: the failure mode answers. */
export class DeadlineExceededError extends EcrAdmissionError {
  override readonly name = 'DeadlineExceededError';
}

/** A live lookup not made: the process already has as many on their way as it allows. */
export class LookupLimitError extends EcrAdmissionError {
  override readonly name = 'LookupLimitError';
}

/** The cause class of any error: ours carry it, a passed deadline is a timeout, anything else is unknown. */
export function failureCause(error: unknown): FailureCause {
  if (error instanceof UnavailableError) {
    return { reason: error.reason, ...(error.action && { action: error.action }) };
  }
  if (error instanceof DeadlineExceededError) return { reason: 'timed-out' };
  if (error instanceof LookupLimitError) return { reason: 'busy' };
  return { reason: 'unavailable' };
}

/** The cause in words, and what to do about it: one clause each, for messages, logs and stderr. */
export function describeCause(cause: FailureCause, service: string): { what: string; advice: string } {
  switch (cause.reason) {
    case 'no-credentials':
      return {
        what: `no valid AWS credentials for ${service}`,
        advice: 'configure AWS credentials (AWS_PROFILE, a role, or environment keys)',
      };
    case 'access-denied':
      return {
        what: `${service} denied access${cause.action ? ` (missing IAM permission ${cause.action})` : ''}`,
        advice: `grant ${cause.action ?? 'the missing action'} to the role that reads it`,
      };
    case 'throttled':
      return { what: `${service} throttled the requests`, advice: 'retry in a moment' };
    case 'timed-out':
      return { what: `${service} did not answer in time`, advice: 'retry in a moment' };
    case 'not-found':
      return {
        what: `${service} was not found`,
        advice: 'check its name, region and endpoint',
      };
    case 'too-many-images':
      return {
        what: `the review names more than ${cause.limit ?? 'the allowed number of'} images to look up at once`,
        advice: 'retry: images already cached are answered at once',
      };
    case 'busy':
      return { what: 'too many lookups in flight', advice: 'retry in a moment' };
    default:
      return { what: `${service} could not be reached`, advice: 'retry in a moment' };
  }
}

/**
 * The errors the refresh workflow's Retry and Catch match by name: transient ones are retried, an
 * invalid event is not.
 */
export const WORKFLOW_ERRORS = {
  retried: ['FactsUnavailableError', 'StoreUnavailableError'],
  invalidEvent: 'InvalidEventError',
} as const;
