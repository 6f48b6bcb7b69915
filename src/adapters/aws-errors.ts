/**
 * An AWS SDK error as a cause class (ports see only the class, never AWS's error text). Shared by the
 * ECR and DynamoDB adapters. The refused IAM action is read from the message when AWS names it (it
 * may be another service's, such as `inspector2:ListFindings` behind enhanced scanning), else it is
 * the operation's own.
 */
import type { FailureCause } from '../domain/errors';

const NO_CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredTokenException',
  'ExpiredToken',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
]);
const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedException',
  'UnauthorizedOperation',
  'NotAuthorized',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottledException',
  'LimitExceededException',
]);
const TIMED_OUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNRESET']);
const NOT_FOUND = new Set(['ResourceNotFoundException']);

/** `operation` as an IAM action, e.g. `ecr` + `DescribeImages` is `ecr:DescribeImages`. */
export function classifyAwsError(error: unknown, service: string, operation: string): FailureCause {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  if (name && NO_CREDENTIALS.has(name)) return { reason: 'no-credentials' };
  if (name && ACCESS_DENIED.has(name)) {
    const named = /not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message ?? '')?.[1];
    return { reason: 'access-denied', action: named ?? `${service}:${operation}` };
  }
  if (name && THROTTLED.has(name)) return { reason: 'throttled' };
  if ((name && TIMED_OUT.has(name)) || (code && TIMEOUT_CODES.has(code))) return { reason: 'timed-out' };
  if (name && NOT_FOUND.has(name)) return { reason: 'not-found' };
  return { reason: 'unavailable' };
}
