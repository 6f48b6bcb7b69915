/**
 * Which images of a request are judged (and, on the mutating path, pinned): one answer for both
 * endpoints, so that they never disagree about a request's scope.
 */
import type { AdmissionRequest } from './admission';
import type { Policy } from './policy';
import { extractImages, type ImageAtPath, unchangedImagePaths } from './workload';

export type RequestScope =
  /** Nothing of the request is judged, and why (an operation, an exempt namespace, no pod spec). */
  | { readonly kind: 'untouched'; readonly reason: string; readonly exempt?: boolean }
  /** The pod spec cannot be read: the request is denied with the path and the problem. */
  | { readonly kind: 'malformed'; readonly path: string; readonly problem: string }
  /** The images to judge: on CREATE every image, on UPDATE the images the update changes (ADR 0006). */
  | { readonly kind: 'images'; readonly images: readonly ImageAtPath[] };

export function imagesInScope(request: AdmissionRequest, policy: Policy): RequestScope {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') {
    return { kind: 'untouched', reason: `operation ${request.operation} is not judged` };
  }
  if (request.namespace && policy.match.exemptNamespace(request.namespace)) {
    return { kind: 'untouched', reason: `namespace ${request.namespace} is exempt`, exempt: true };
  }
  const extraction = extractImages(request.kind, request.object, request.subresource);
  if (extraction.kind === 'not-applicable') {
    return { kind: 'untouched', reason: `${request.kind.kind} carries no pod spec` };
  }
  if (extraction.kind === 'malformed') {
    return { kind: 'malformed', path: extraction.path, problem: extraction.problem };
  }
  return { kind: 'images', images: changedImages(request, extraction.images) };
}

function changedImages(request: AdmissionRequest, images: readonly ImageAtPath[]): readonly ImageAtPath[] {
  if (request.operation !== 'UPDATE' || request.oldObject === undefined) return images;
  const unchanged = unchangedImagePaths(request.kind, images, request.oldObject, request.subresource);
  return unchanged.size === 0 ? images : images.filter(({ path }) => !unchanged.has(path));
}
