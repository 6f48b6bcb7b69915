/**
 * The shapes of AWS names this project reads from every boundary (events, snapshots, policies, image
 * hosts, the environment): one pattern each, so that no two parsers disagree about what is valid.
 */

/** The source of a region pattern, to embed in larger patterns (image hosts, ARNs). */
export const REGION_SOURCE = '[a-z]{2}(?:-[a-z]+)+-\\d+';
export const REGION = new RegExp(`^${REGION_SOURCE}$`);
export const REGION_MESSAGE = 'expected an AWS region such as us-east-1';

export const ACCOUNT_ID = /^\d{12}$/;
export const ACCOUNT_ID_MESSAGE = 'expected a 12-digit AWS account id';

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
