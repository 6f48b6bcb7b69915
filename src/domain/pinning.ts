/**
 * Digest pinning: which images of an object the mutating webhook rewrites to the digest they were
 * judged on (`registry/repo:tag@sha256:...`), so that what runs is exactly what was judged. Pure: the
 * digests themselves are resolved by the admission core.
 */
import type { AdmissionRequest } from './admission';
import type { ImageLookup } from './facts';
import { type ImageReference, parseImageReference } from './image-ref';
import type { Policy } from './policy';
import { imagesInScope } from './scope';
import { judgeReference } from './verdict';

export interface PinCandidate {
  /** Field path, e.g. `spec.containers[0].image`. */
  readonly path: string;
  /** The reference as written. */
  readonly image: string;
  readonly ref: ImageReference;
  /** The tag to resolve to a digest. */
  readonly lookup: ImageLookup;
}

export interface JsonPatchOperation {
  readonly op: 'replace';
  readonly path: string;
  readonly value: string;
}

/**
 * The images to pin: ECR references by tag, in a kind the policy pins, not exempt, and (on UPDATE) only
 * those the update changed: rewriting an unchanged image string of a running Pod would restart it.
 */
export function pinCandidates(request: AdmissionRequest, policy: Policy): PinCandidate[] {
  if (policy.pinDigests === 'off') return [];
  if (policy.pinDigests === 'pods' && !(request.kind.group === '' && request.kind.kind === 'Pod')) return [];
  const scope = imagesInScope(request, policy);
  if (scope.kind !== 'images') return [];

  const candidates: PinCandidate[] = [];
  for (const { path, image } of scope.images) {
    if (typeof image !== 'string') continue;
    const parsed = parseImageReference(image);
    if (!parsed.ok || !parsed.ref.ecr || parsed.ref.digest) continue;
    const judged = judgeReference(image, parsed.ref, policy);
    if (judged.kind !== 'needs-facts') continue;
    candidates.push({ path, image, ref: parsed.ref, lookup: judged.lookup });
  }
  return candidates;
}

/** The reference as written, with the tag kept for readers and the digest that was judged. */
export function pinnedReference(candidate: PinCandidate, digest: string): string {
  const written = candidate.ref.raw;
  const hasTag = written.lastIndexOf(':') > written.lastIndexOf('/');
  return `${written}${hasTag ? '' : ':latest'}@${digest}`;
}

/** `spec.template.spec.containers[0].image` as a JSON Pointer: `/spec/template/spec/containers/0/image`. */
export function toJsonPointer(path: string): string {
  return `/${path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .join('/')}`;
}

export interface Mutation {
  /** Empty when nothing is to be pinned. */
  readonly patch: readonly JsonPatchOperation[];
  readonly pinned: readonly { readonly path: string; readonly from: string; readonly to: string }[];
  /** Left as written (the validating webhook decides): not found, or not resolved in time. */
  readonly unresolved: readonly { readonly path: string; readonly image: string; readonly reason: string }[];
}

export const NO_MUTATION: Mutation = { patch: [], pinned: [], unresolved: [] };
