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

/** ECR could not answer (throttling, timeouts, access denied). Transient: never cached. */
export class FactsUnavailableError extends EcrAdmissionError {
  override readonly name = 'FactsUnavailableError';
}

/** The decision cache could not be read or written. Transient. */
export class StoreUnavailableError extends EcrAdmissionError {
  override readonly name = 'StoreUnavailableError';
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

/**
 * The errors the refresh workflow's Retry and Catch match by name: transient ones are retried, an
 * invalid event is not.
 */
export const WORKFLOW_ERRORS = {
  retried: ['FactsUnavailableError', 'StoreUnavailableError'],
  invalidEvent: 'InvalidEventError',
} as const;
