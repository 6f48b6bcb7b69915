/**
 * The AdmissionReview wire format (admission.k8s.io/v1 and v1beta1), translated once at the boundary
 * into the domain's AdmissionRequest, and the domain's Decision back into a response review.
 */
import * as z from 'zod/mini';
import type { AdmissionRequest, Decision } from '../domain/admission';
import { isRecord } from '../domain/aws-names';
import { AdmissionReviewError } from '../domain/errors';
import type { Owner } from '../domain/inventory';
import type { Mutation } from '../domain/pinning';
import { describeIssues } from '../domain/policy';

export const ADMISSION_API_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionApiVersion = (typeof ADMISSION_API_VERSIONS)[number];

/** Kubernetes objects are at most about 1.5 MiB in etcd; a review carries the object and the old one. */
export const MAX_REVIEW_BYTES = 6 * 1024 * 1024;

/** The review's schema at the boundary (exported for the test that holds the fast path to it). */
export const reviewSchema = z.object({
  apiVersion: z.enum(ADMISSION_API_VERSIONS, {
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : `expected ${ADMISSION_API_VERSIONS.join(' or ')}, got ${JSON.stringify(issue.input)}`,
  }),
  kind: z.literal('AdmissionReview', { error: 'expected "AdmissionReview"' }),
  request: z.object(
    {
      uid: z.string({ error: 'expected a string' }).check(z.minLength(1, 'must not be empty')),
      kind: z.object({
        group: z._default(z.string(), ''),
        version: z._default(z.string(), ''),
        kind: z.string({ error: 'expected a string' }).check(z.minLength(1, 'must not be empty')),
      }),
      subResource: z.optional(z.string()),
      name: z.optional(z.string()),
      namespace: z.optional(z.string()),
      operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
      object: z.optional(z.unknown()),
      oldObject: z.optional(z.unknown()),
      dryRun: z.optional(z.boolean()),
    },
    { error: (issue) => (issue.input === undefined ? 'is required' : 'expected an object') },
  ),
});

type WireReview = z.infer<typeof reviewSchema>;

const OPERATIONS: ReadonlySet<unknown> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const API_VERSIONS: ReadonlySet<unknown> = new Set(ADMISSION_API_VERSIONS);

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/**
 * The schema's answer for a review it accepts, without its cost on every request: a review whose few
 * fields are all of the right type (what the apiserver sends) is taken as the schema would return it;
 * anything else goes to the schema, which says what is wrong. It accepts nothing the schema refuses.
 */
export function wellFormed(value: unknown): WireReview | undefined {
  if (!isRecord(value) || !API_VERSIONS.has(value.apiVersion) || value.kind !== 'AdmissionReview') return;
  const request = value.request;
  if (!isRecord(request) || typeof request.uid !== 'string' || request.uid === '') return;
  const kind = request.kind;
  if (!isRecord(kind) || typeof kind.kind !== 'string' || kind.kind === '') return;
  if (!optionalString(kind.group) || !optionalString(kind.version)) return;
  if (!optionalString(request.subResource) || !optionalString(request.name)) return;
  if (!optionalString(request.namespace) || !OPERATIONS.has(request.operation)) return;
  if (request.dryRun !== undefined && typeof request.dryRun !== 'boolean') return;
  return {
    apiVersion: value.apiVersion as AdmissionApiVersion,
    kind: 'AdmissionReview',
    request: {
      uid: request.uid,
      kind: {
        group: (kind.group as string | undefined) ?? '',
        version: (kind.version as string | undefined) ?? '',
        kind: kind.kind,
      },
      subResource: request.subResource as string | undefined,
      name: request.name as string | undefined,
      namespace: request.namespace as string | undefined,
      operation: request.operation as WireReview['request']['operation'],
      object: request.object,
      oldObject: request.oldObject,
      dryRun: request.dryRun as boolean | undefined,
    },
  };
}

function validReview(value: unknown): WireReview {
  const fast = wellFormed(value);
  if (fast) return fast;
  const result = reviewSchema.safeParse(value);
  if (!result.success) {
    throw new AdmissionReviewError(`invalid AdmissionReview: ${describeIssues(result.error).join('; ')}`);
  }
  return result.data;
}

export interface ParsedReview {
  readonly apiVersion: AdmissionApiVersion;
  readonly request: AdmissionRequest;
}

function objectName(object: unknown): string {
  const metadata = (object as { metadata?: { name?: unknown; generateName?: unknown } } | null)?.metadata;
  if (typeof metadata?.name === 'string') return metadata.name;
  if (typeof metadata?.generateName === 'string') return `${metadata.generateName}*`;
  return '';
}

/**
 * What the object runs under (the admitted inventory): a Pod's controlling owner reference (the
 * ReplicaSet of a Deployment's Pod, the Job of a CronJob's), else the object itself. An owner
 * reference without a string kind and name is not one.
 */
function parseOwner(kind: string, name: string, object: unknown): Owner {
  if (kind === 'Pod' && isRecord(object) && isRecord(object.metadata)) {
    const references = object.metadata.ownerReferences;
    const controller = Array.isArray(references)
      ? references.find(
          (ref): ref is { kind: string; name: string } =>
            isRecord(ref) &&
            ref.controller === true &&
            typeof ref.kind === 'string' &&
            ref.kind !== '' &&
            typeof ref.name === 'string' &&
            ref.name !== '',
        )
      : undefined;
    if (controller) return { kind: controller.kind, name: controller.name };
  }
  return { kind, name };
}

/** Parses a review from a body (text or bytes) or an already decoded value. Throws AdmissionReviewError. */
export function parseAdmissionReview(body: string | Buffer | unknown): ParsedReview {
  let value: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    // A string's length counts characters; the limit is on the bytes that arrived.
    if ((typeof body === 'string' ? Buffer.byteLength(body) : body.length) > MAX_REVIEW_BYTES) {
      throw new AdmissionReviewError(`the AdmissionReview is larger than ${MAX_REVIEW_BYTES} bytes`);
    }
    if (body.length === 0) throw new AdmissionReviewError('the body is empty; expected an AdmissionReview');
    try {
      value = JSON.parse(body.toString());
    } catch (error) {
      throw new AdmissionReviewError(`the body is not valid JSON (${(error as Error).message})`);
    }
  }
  const { apiVersion, request } = validReview(value);
  const name = request.name || objectName(request.object);
  if ((request.operation === 'CREATE' || request.operation === 'UPDATE') && !isRecord(request.object)) {
    throw new AdmissionReviewError(
      `invalid AdmissionReview: request.object is required for ${request.operation}`,
    );
  }
  return {
    apiVersion,
    request: {
      uid: request.uid,
      kind: { group: request.kind.group, kind: request.kind.kind },
      subresource: request.subResource ?? '',
      namespace: request.namespace ?? '',
      name,
      operation: request.operation,
      object: request.object,
      ...(isRecord(request.oldObject) && { oldObject: request.oldObject }),
      dryRun: request.dryRun ?? false,
      owner: parseOwner(request.kind.kind, name, request.object),
    },
  };
}

export interface AdmissionReviewResponse {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    patchType?: 'JSONPatch';
    /** base64 of the JSON Patch document. */
    patch?: string;
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
  };
}

/** Every answer echoes the request's version and uid (the apiserver refuses any other). */
function reviewResponse(
  apiVersion: AdmissionApiVersion,
  uid: string,
  response: Omit<AdmissionReviewResponse['response'], 'uid'>,
): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response: { uid, ...response } };
}

export function formatAdmissionResponse(
  apiVersion: AdmissionApiVersion,
  uid: string,
  decision: Decision,
): AdmissionReviewResponse {
  return reviewResponse(apiVersion, uid, {
    allowed: decision.allowed,
    ...(!decision.allowed && {
      status: { code: 403, reason: 'Forbidden', message: decision.message ?? 'denied by ecr-admission' },
    }),
    ...(decision.warnings.length > 0 && { warnings: [...decision.warnings] }),
    auditAnnotations: { ...decision.auditAnnotations },
  });
}

/** The mutating webhook's answer: always allowed (the validating webhook decides), with a patch when one is due. */
export function formatMutationResponse(
  apiVersion: AdmissionApiVersion,
  uid: string,
  mutation: Mutation,
): AdmissionReviewResponse {
  return reviewResponse(apiVersion, uid, {
    allowed: true,
    ...(mutation.patch.length > 0 && {
      patchType: 'JSONPatch' as const,
      patch: Buffer.from(JSON.stringify(mutation.patch)).toString('base64'),
    }),
    auditAnnotations: {
      pinned: String(mutation.pinned.length),
      ...(mutation.unresolved.length > 0 && {
        unpinned: mutation.unresolved.map((u) => `${u.path}: ${u.reason}`).join('; '),
      }),
    },
  });
}
