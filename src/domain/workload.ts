import { isRecord } from './aws-names';
/**
 * Finds every image of an object that embeds a PodSpec, each with its field path, so that a denial
 * can name `spec.template.spec.initContainers[0].image`.
 */

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

export interface ImageAtPath {
  /** Field path, e.g. `spec.template.spec.containers[1].image`. */
  readonly path: string;
  /** The value as found; not necessarily a string when the object is malformed. */
  readonly image: unknown;
}

/** Where each kind keeps its PodSpec, keyed by `group/Kind` (the core group is empty). */
const POD_SPEC_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/Pod', ['spec']],
  ['/PodTemplate', ['template', 'spec']],
  ['/ReplicationController', ['spec', 'template', 'spec']],
  ['apps/ReplicaSet', ['spec', 'template', 'spec']],
  ['apps/Deployment', ['spec', 'template', 'spec']],
  ['apps/StatefulSet', ['spec', 'template', 'spec']],
  ['apps/DaemonSet', ['spec', 'template', 'spec']],
  ['batch/Job', ['spec', 'template', 'spec']],
  ['batch/CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
  // Clusters older than 1.16 still serve these kinds from extensions/v1beta1.
  ['extensions/ReplicaSet', ['spec', 'template', 'spec']],
  ['extensions/Deployment', ['spec', 'template', 'spec']],
  ['extensions/DaemonSet', ['spec', 'template', 'spec']],
]);

/** The container lists of a PodSpec whose images are judged. */
export const CONTAINER_FIELDS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** The kinds this webhook judges, for the webhook configuration's rules. */
export const JUDGED_KINDS: readonly GroupKind[] = [...POD_SPEC_PATHS.keys()]
  .filter((key) => !key.startsWith('extensions/'))
  .map((key) => {
    const [group = '', kind = ''] = key.split('/');
    return { group, kind };
  });

/** Where a kind keeps its PodSpec (`['spec', 'template', 'spec']`), or undefined for other kinds. */
export function podSpecPath(groupKind: GroupKind): readonly string[] | undefined {
  return POD_SPEC_PATHS.get(`${groupKind.group}/${groupKind.kind}`);
}

export function groupFromApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash >= 0 ? apiVersion.slice(0, slash) : '';
}

export function embedsPodSpec(groupKind: GroupKind): boolean {
  return POD_SPEC_PATHS.has(`${groupKind.group}/${groupKind.kind}`);
}

export type Extraction =
  | { readonly kind: 'not-applicable' }
  | { readonly kind: 'images'; readonly images: readonly ImageAtPath[] }
  | { readonly kind: 'malformed'; readonly path: string; readonly problem: string };

/**
 * Lists the images of an object. `subresource` `ephemeralcontainers` judges only the ephemeral
 * containers (the others already run). A malformed PodSpec is reported, never thrown.
 */
export function extractImages(groupKind: GroupKind, object: unknown, subresource = ''): Extraction {
  const specPath = podSpecPath(groupKind);
  if (!specPath) return { kind: 'not-applicable' };
  if (groupKind.kind === 'Pod' && subresource !== '' && subresource !== 'ephemeralcontainers') {
    return { kind: 'not-applicable' };
  }
  if (groupKind.kind !== 'Pod' && subresource !== '') return { kind: 'not-applicable' };
  if (!isRecord(object)) return { kind: 'malformed', path: '', problem: 'the object is not a JSON object' };

  let spec: unknown = object;
  const walked: string[] = [];
  for (const key of specPath) {
    walked.push(key);
    spec = isRecord(spec) ? spec[key] : undefined;
    if (!isRecord(spec)) {
      return { kind: 'malformed', path: walked.join('.'), problem: 'is missing or not an object' };
    }
  }
  const podSpec = spec as Record<string, unknown>;
  const base = specPath.join('.');
  const fields =
    subresource === 'ephemeralcontainers' ? (['ephemeralContainers'] as const) : CONTAINER_FIELDS;

  const images: ImageAtPath[] = [];
  for (const field of fields) {
    const list = podSpec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list))
      return { kind: 'malformed', path: `${base}.${field}`, problem: 'is not a list' };
    list.forEach((container: unknown, index) => {
      const path = `${base}.${field}[${index}].image`;
      images.push({ path, image: isRecord(container) ? container.image : undefined });
    });
  }
  return { kind: 'images', images };
}

/**
 * On UPDATE, the paths whose image is exactly what it was before. Such an image was judged when it was
 * admitted; judging it again on every update would block unrelated changes (a finalizer removed, a
 * label patched) once a new finding appears (docs/adr/0006-judge-changed-images-on-update.md).
 */
export function unchangedImagePaths(
  groupKind: GroupKind,
  images: readonly ImageAtPath[],
  oldObject: unknown,
  subresource = '',
): Set<string> {
  const before = extractImages(groupKind, oldObject, subresource);
  if (before.kind !== 'images') return new Set();
  const old = new Map(before.images.map(({ path, image }) => [path, image]));
  return new Set(
    images
      .filter(({ path, image }) => typeof image === 'string' && old.get(path) === image)
      .map(({ path }) => path),
  );
}
