/**
 * Builders for AdmissionReview requests (admission.k8s.io/v1 and v1beta1) as the kube-apiserver sends
 * them, around the workload objects that embed a PodSpec. Plain JSON, so cases stay serialisable.
 */
import type { JsonObject } from './snapshot-builder';

export type AdmissionApiVersion = 'admission.k8s.io/v1' | 'admission.k8s.io/v1beta1';
export type ReviewOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionReviewDocument extends JsonObject {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  request: JsonObject & { uid: string };
}

export type WorkloadKind =
  | 'Pod'
  | 'PodTemplate'
  | 'ReplicationController'
  | 'ReplicaSet'
  | 'Deployment'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob';

export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  'Pod',
  'PodTemplate',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
];

const API_VERSIONS: Record<WorkloadKind, string> = {
  Pod: 'v1',
  PodTemplate: 'v1',
  ReplicationController: 'v1',
  ReplicaSet: 'apps/v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

/** Where each kind keeps its PodSpec, as the paths in denial messages spell it. */
export const POD_SPEC_PATH: Record<WorkloadKind, string> = {
  Pod: 'spec',
  PodTemplate: 'template.spec',
  ReplicationController: 'spec.template.spec',
  ReplicaSet: 'spec.template.spec',
  Deployment: 'spec.template.spec',
  StatefulSet: 'spec.template.spec',
  DaemonSet: 'spec.template.spec',
  Job: 'spec.template.spec',
  CronJob: 'spec.jobTemplate.spec.template.spec',
};

/** Container images by list; `null` writes a container without an `image` field. */
export interface PodImages {
  containers?: (string | null)[];
  initContainers?: (string | null)[];
  ephemeralContainers?: (string | null)[];
}

function containerList(prefix: string, images: (string | null)[] | undefined): JsonObject[] | undefined {
  return images?.map((image, index) => ({
    name: `${prefix}-${index}`,
    ...(image !== null && { image }),
    ...(prefix === 'debug' && { targetContainerName: 'app-0' }),
  }));
}

export function podSpec(images: PodImages, extra: JsonObject = {}): JsonObject {
  const init = containerList('init', images.initContainers);
  const ephemeral = containerList('debug', images.ephemeralContainers);
  return {
    ...(init && { initContainers: init }),
    containers: containerList('app', images.containers) ?? [],
    ...(ephemeral && { ephemeralContainers: ephemeral }),
    ...extra,
  };
}

export interface ObjectOptions {
  name?: string;
  namespace?: string;
}

/** A workload object of the given kind whose PodSpec runs the images. */
export function workload(kind: WorkloadKind, images: PodImages, options: ObjectOptions = {}): JsonObject {
  const name = options.name ?? 'app';
  const metadata = { name, namespace: options.namespace ?? 'shop', labels: { app: name } };
  const labels = { app: name };
  const template = (spec: JsonObject) => ({ metadata: { labels }, spec });
  const base = { apiVersion: API_VERSIONS[kind], kind, metadata };
  const spec = podSpec(images);
  switch (kind) {
    case 'Pod':
      return { ...base, spec };
    case 'PodTemplate':
      return { ...base, template: template(spec) };
    case 'ReplicationController':
      return { ...base, spec: { replicas: 1, selector: labels, template: template(spec) } };
    case 'ReplicaSet':
    case 'Deployment':
    case 'DaemonSet':
      return { ...base, spec: { selector: { matchLabels: labels }, template: template(spec) } };
    case 'StatefulSet':
      return {
        ...base,
        spec: { serviceName: name, selector: { matchLabels: labels }, template: template(spec) },
      };
    case 'Job':
      return { ...base, spec: { template: template({ ...spec, restartPolicy: 'Never' }) } };
    case 'CronJob':
      return {
        ...base,
        spec: {
          schedule: '*/5 * * * *',
          jobTemplate: { spec: { template: template({ ...spec, restartPolicy: 'OnFailure' }) } },
        },
      };
  }
}

export interface ReviewOptions {
  apiVersion?: AdmissionApiVersion;
  uid?: string;
  operation?: ReviewOperation;
  /** Defaults to the object's namespace, then `shop`. */
  namespace?: string;
  subResource?: string;
  dryRun?: boolean;
  /** For UPDATE: the object before the update (`oldObject`); without it the review carries none. */
  before?: JsonObject;
}

function resourceOf(kind: string): string {
  return `${kind.toLowerCase()}s`;
}

let counter = 0;

/** A deterministic request uid, unique within a run. */
export function nextUid(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

/**
 * An AdmissionReview request for an object, as the apiserver sends it: `object` for CREATE and UPDATE
 * (with `oldObject` for UPDATE when `before` is given), `oldObject` only for DELETE.
 */
export function review(object: JsonObject, options: ReviewOptions = {}): AdmissionReviewDocument {
  const apiVersion = String(object.apiVersion ?? 'v1');
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  const kind = String(object.kind);
  const metadata = (object.metadata ?? {}) as JsonObject;
  const operation = options.operation ?? 'CREATE';
  const gvk = { group, version, kind };
  const gvr = { group, version, resource: resourceOf(kind) };
  const namespace =
    options.namespace ?? (typeof metadata.namespace === 'string' ? metadata.namespace : 'shop');
  return {
    apiVersion: options.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? nextUid(),
      kind: gvk,
      resource: gvr,
      ...(options.subResource !== undefined && { subResource: options.subResource }),
      requestKind: gvk,
      requestResource: gvr,
      ...(options.subResource !== undefined && { requestSubResource: options.subResource }),
      name: typeof metadata.name === 'string' ? metadata.name : '',
      namespace,
      operation,
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: operation === 'DELETE' || operation === 'CONNECT' ? null : object,
      oldObject: operation === 'DELETE' ? object : operation === 'UPDATE' ? (options.before ?? null) : null,
      dryRun: options.dryRun ?? false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: `${operation.charAt(0)}${operation.slice(1).toLowerCase()}Options`,
      },
    },
  };
}

/** A review of a Pod in `namespace` running the images. */
export function podReview(
  images: PodImages,
  options: ReviewOptions & ObjectOptions = {},
): AdmissionReviewDocument {
  const namespace = options.namespace ?? 'shop';
  return review(workload('Pod', images, { ...options, namespace }), options);
}
