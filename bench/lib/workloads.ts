/**
 * The objects the benchmarks admit, with images from examples/registry-snapshot.json, judged by
 * examples/policy.yaml. Objects look like what the kube-apiserver sends a validating webhook: defaulted
 * (probes, resources, the projected service account token, tolerations), so that parsing costs what it
 * costs in a cluster.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { review } from '../../test/helpers/reviews';
import type { JsonObject } from '../../test/helpers/snapshot-builder';

export const REPO_ROOT = resolve(__dirname, '../..');
export const POLICY_FILE = join(REPO_ROOT, 'examples/policy.yaml');
export const SNAPSHOT_FILE = join(REPO_ROOT, 'examples/registry-snapshot.json');
export const OWN_ACCOUNT = '111122223333';
/** The examples' scans are from November 2026; a fixed clock keeps the verdicts the same whenever the bench runs. */
export const NOW = '2026-11-27T12:00:00Z';

const OWN = `${OWN_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const SHARED = '444455556666.dkr.ecr.eu-west-1.amazonaws.com';

export interface PodImages {
  readonly initContainers: readonly string[];
  readonly containers: readonly string[];
}

/**
 * Four ECR images by tag, one of them in an init container. The multi-architecture worker image has a
 * CRITICAL finding on arm64, so this Pod is denied: the heavier path (platform images, a message).
 */
export const POD_IMAGES: PodImages = {
  initContainers: [`${OWN}/team/api:1.4.2`],
  containers: [`${OWN}/team/api:1.5.0`, `${SHARED}/shared/base:12.4`, `${OWN}/team/worker:2.0.0`],
};

/** The same four images by digest. */
export const POD_IMAGES_BY_DIGEST: PodImages = {
  initContainers: [`${OWN}/team/api@sha256:16eb06ced985216bb14744c43dad833c58f56296d152e580542d0e8630f63316`],
  containers: [
    `${OWN}/team/api@sha256:88c54d88a2e99a247f5e1ae2cfd43d31ca6234163289b920b722bf4f1866bd55`,
    `${SHARED}/shared/base@sha256:9d8c943af1979f529ea7846ae0e380a964c98aada0be8749fffee04ffd7dc092`,
    `${OWN}/team/worker@sha256:e2d5349b2d44b94e55bbbc769e098fea2d09a6e8ddf54fbcc2a0be68fc611ca7`,
  ],
};

/** The Deployment of examples/manifests/compliant.yaml: three images, all admitted. */
export const DEPLOYMENT_IMAGES: PodImages = {
  initContainers: [`${OWN}/team/api:1.4.2`],
  containers: [`${OWN}/team/api:1.5.0`, `${SHARED}/shared/base:12.4`],
};

/**
 * Images outside the benchmarks' objects, in both regions: an admission of them opens the SDK clients'
 * connections, as in a webhook that has been running for a while, without caching what is measured.
 */
export const WARMUP_IMAGES: PodImages = {
  initContainers: [],
  containers: [`${OWN}/team/web:2026-11-19`, `${SHARED}/shared/not-there:1.0`],
};

function container(name: string, image: string, port?: number): JsonObject {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    ...(port && {
      ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
      readinessProbe: {
        httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
    }),
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ],
    resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      {
        name: 'kube-api-access-x7k2p',
        readOnly: true,
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
      },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
}

export function podSpec(images: PodImages): JsonObject {
  return {
    initContainers: images.initContainers.map((image, i) => container(`init-${i}`, image)),
    containers: images.containers.map((image, i) => container(`app-${i}`, image, i === 0 ? 8080 : undefined)),
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'api',
    serviceAccount: 'api',
    securityContext: { fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
    schedulerName: 'default-scheduler',
    tolerations: [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    volumes: [
      {
        name: 'kube-api-access-x7k2p',
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [
                  { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                ],
              },
            },
          ],
          defaultMode: 420,
        },
      },
    ],
  };
}

const LABELS = { app: 'api', 'app.kubernetes.io/part-of': 'shop', 'pod-template-hash': '7d9f8c6b5' };

/** A Pod as the ReplicaSet controller creates it (generateName, owner reference). */
export function podObject(name: string, images: PodImages): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: 'api-7d9f8c6b5-',
      namespace: 'shop',
      labels: LABELS,
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-27T11:58:00Z' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'api-7d9f8c6b5',
          uid: '9b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: podSpec(images),
  };
}

export function deploymentObject(name: string, images: PodImages): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'shop',
      labels: { app: 'api' },
      annotations: { 'deployment.kubernetes.io/revision': '7' },
    },
    spec: {
      replicas: 3,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: 'api' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      template: { metadata: { labels: { app: 'api' } }, spec: podSpec(images) },
    },
  };
}

/** The AdmissionReview (admission.k8s.io/v1) body of a CREATE of the object. */
export function reviewBody(object: JsonObject, uid: string): string {
  return JSON.stringify(review(object, { uid }));
}

export function podReviewBody(images: PodImages, index: number): string {
  const name = `api-7d9f8c6b5-${index.toString(36).padStart(5, '0')}`;
  return reviewBody(
    podObject(name, images),
    `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
  );
}

export function deploymentReviewBody(index: number): string {
  return reviewBody(
    deploymentObject('api', DEPLOYMENT_IMAGES),
    `00000000-0000-4000-9000-${index.toString(16).padStart(12, '0')}`,
  );
}

export function readSnapshot(): unknown {
  return JSON.parse(readFileSync(SNAPSHOT_FILE, 'utf8'));
}
