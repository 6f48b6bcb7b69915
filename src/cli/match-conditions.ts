/**
 * The webhooks' `matchConditions` (CEL, Kubernetes 1.30+): an UPDATE whose pod spec keeps every image
 * where it was is not sent, since the webhook would judge nothing of it (ADR 0006). Without them every
 * finalizer added, label patched or Job tracked would wait on the webhook, and with `failurePolicy:
 * Fail` be refused whenever it is down.
 *
 * One condition per place a judged kind keeps its PodSpec (`spec`, `template.spec`,
 * `spec.template.spec`, `spec.jobTemplate.spec.template.spec`), from the same table the webhook reads
 * (`podSpecPath`). A condition is false, and the request skipped, only when it is sure: an UPDATE of
 * one of its kinds whose object and oldObject both have the pod spec, and whose every container list
 * (`CONTAINER_FIELDS`) is absent from the object or lists exactly the images of the old one, in order,
 * each a written `image`. Anything else (CREATE, another kind, a missing field) is sent.
 *
 * The expressions never fail on what the API server hands them. `object` and `oldObject` are untyped
 * there, and reading a missing field is an error, which under `failurePolicy: Fail` refuses the
 * request (under Ignore, skips the webhook): so every field is tested with `has()` before it is read.
 * The server has decoded a built-in kind into its Go type before admission, so every step of the path
 * is an object and every image a string when present; only a list without `omitempty` can be null. `request.kind` is always present;
 * `request.subResource` is not (left out when empty), so it is not read: a `pods/ephemeralcontainers`
 * UPDATE compares the same lists as any Pod UPDATE. Nothing is excluded by who asks.
 */
import { CONTAINER_FIELDS, type GroupKind, podSpecPath } from '../domain/workload';

export interface MatchCondition {
  /** A qualified name, unique within the webhook; it names the condition in the API server's errors. */
  readonly name: string;
  /** CEL: true sends the request to the webhook. */
  readonly expression: string;
}

/** `has(o.spec) && has(o.spec.template) && ...`: the object has the path. */
function hasPath(root: string, path: readonly string[]): string[] {
  return path.map((_, i) => `has(${[root, ...path.slice(0, i + 1)].join('.')})`);
}

/**
 * The list's images are exactly the old ones: it is absent now, or both are lists (`containers`, which
 * Kubernetes never omits, can be null) that give every container an image and name the same images in
 * order (a container without one is always judged).
 */
function sameImages(list: string, oldList: string): string {
  return `(!has(${list}) || ${[
    `has(${oldList})`,
    `type(${list}) == list`,
    `type(${oldList}) == list`,
    `${list}.all(c, has(c.image))`,
    `${oldList}.all(c, has(c.image))`,
    `${list}.map(c, c.image) == ${oldList}.map(c, c.image)`,
  ].join(' && ')})`;
}

/** The conditions for the kinds a webhook's rules send: one per pod spec path they use. */
export function imageMatchConditions(kinds: readonly GroupKind[]): MatchCondition[] {
  const byPath = new Map<string, { path: readonly string[]; kinds: string[] }>();
  for (const groupKind of kinds) {
    const path = podSpecPath(groupKind);
    if (!path) continue;
    const entry = byPath.get(path.join('.')) ?? { path, kinds: [] };
    entry.kinds.push(`${groupKind.group}/${groupKind.kind}`);
    byPath.set(path.join('.'), entry);
  }
  return [...byPath].map(([dotted, { path, kinds: keys }]) => {
    const spec = ['object', ...path].join('.');
    const oldSpec = ['oldObject', ...path].join('.');
    const skip = [
      `request.operation == 'UPDATE'`,
      `(request.kind.group + '/' + request.kind.kind) in [${keys.map((k) => `'${k}'`).join(', ')}]`,
      ...hasPath('object', path),
      ...hasPath('oldObject', path),
      ...CONTAINER_FIELDS.map((field) => sameImages(`${spec}.${field}`, `${oldSpec}.${field}`)),
    ];
    return { name: `images-may-change-at-${dotted}`, expression: `!(${skip.join(' && ')})` };
  });
}
