/**
 * `ecr-admission manifest`: the webhook configurations for a deployed endpoint, whose base URL is the
 * stack's `WebhookUrl` output. The ValidatingWebhookConfiguration sends every object that embeds a
 * PodSpec (the kinds the webhook judges) and ephemeral containers, on CREATE and on an UPDATE that may
 * change an image (./match-conditions.ts), to `BASE/validate`; the MutatingWebhookConfiguration sends
 * what the policy's `pinDigests` pins to `BASE/mutate` (docs/adr/0005-pin-digests-on-pods.md). With
 * `--cluster NAME`, both URLs end in `/NAME`: the admitted inventory records it.
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { readText } from '../adapters/files';
import { FileError, UsageError } from '../domain/errors';
import { clusterNameProblem } from '../domain/inventory';
import { type GroupKind, JUDGED_KINDS } from '../domain/workload';
import { loadPolicy } from '../wiring/cli';
import { imageMatchConditions } from './match-conditions';

export const CONFIGURATION_NAME = 'ecr-admission';
export const WEBHOOK_NAME = 'images.ecr-admission.io';
export const PIN_WEBHOOK_NAME = 'pin.images.ecr-admission.io';
/** A namespace with this label (any value) is never sent to the webhook. */
export const OPT_OUT_LABEL = 'ecr-admission.io/ignore';
/**
 * Never sent to the webhook, whatever the policy says: if the webhook is unreachable, the cluster's
 * own components must still start.
 */
export const EXEMPT_NAMESPACES = ['kube-system'] as const;

export type FailurePolicy = 'Fail' | 'Ignore';

export interface WebhookOptions {
  /** The endpoint's base URL; the webhook calls `<base>/validate`. */
  readonly baseUrl: string;
  readonly failurePolicy?: FailurePolicy;
  readonly timeoutSeconds?: number;
  /** PEM text of the CA that signed the endpoint's certificate (not needed for API Gateway). */
  readonly caPem?: string;
  /** Namespaces never sent to the webhooks, besides EXEMPT_NAMESPACES (the policy's exact names). */
  readonly exemptNamespaces?: readonly string[];
  /** The cluster's name, appended to both URLs (`<base>/validate/<cluster>`); absent: the bare paths. */
  readonly cluster?: string;
}

/**
 * `BASE/<endpoint>[/<cluster>]`, for an https URL the API server accepts (no query, fragment or
 * credentials).
 */
export function endpointUrl(
  base: string,
  endpoint: 'validate' | 'mutate' = 'validate',
  cluster?: string,
): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url must be an absolute https URL, not "${base}"`);
  }
  if (url.protocol !== 'https:')
    throw new UsageError(`--url must use https (the API server requires it), not "${base}"`);
  if (url.username || url.password) throw new UsageError('--url must not carry credentials');
  if (url.search || url.hash || base.includes('?') || base.includes('#')) {
    throw new UsageError('--url must not have a query or a fragment (the API server adds ?timeout=)');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/${endpoint}${cluster ? `/${cluster}` : ''}`;
}

/** The webhook rules: one per API group, each kind by its resource name (Pod also by its subresource). */
function rules(kinds: readonly GroupKind[] = JUDGED_KINDS): Record<string, unknown>[] {
  const groups = new Map<string, string[]>();
  for (const { group, kind } of kinds) {
    const resource = `${kind.toLowerCase()}s`;
    const resources = groups.get(group) ?? [];
    resources.push(resource, ...(kind === 'Pod' ? ['pods/ephemeralcontainers'] : []));
    groups.set(group, resources);
  }
  return [...groups].map(([group, resources]) => ({
    apiGroups: [group],
    // matchPolicy Equivalent also sends requests made through other versions, converted to v1.
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources,
    scope: 'Namespaced',
  }));
}

/** What both webhooks share: who is sent, which review versions, and no side effects. */
function commonWebhook(options: WebhookOptions, endpoint: 'validate' | 'mutate') {
  return {
    clientConfig: {
      url: endpointUrl(options.baseUrl, endpoint, options.cluster),
      ...(options.caPem !== undefined && { caBundle: Buffer.from(options.caPem).toString('base64') }),
    },
    matchPolicy: 'Equivalent',
    namespaceSelector: {
      matchExpressions: [
        {
          key: 'kubernetes.io/metadata.name',
          operator: 'NotIn',
          values: [...new Set([...EXEMPT_NAMESPACES, ...(options.exemptNamespaces ?? [])])],
        },
        { key: OPT_OUT_LABEL, operator: 'DoesNotExist' },
      ],
    },
    // The side effects (the admitted inventory, preparation requests) are skipped on a dry run, so dry
    // runs are sent too.
    sideEffects: 'NoneOnDryRun',
    timeoutSeconds: options.timeoutSeconds ?? 5,
    admissionReviewVersions: ['v1', 'v1beta1'],
  };
}

const METADATA = { name: CONFIGURATION_NAME, labels: { 'app.kubernetes.io/name': 'ecr-admission' } };

export function webhookConfiguration(options: WebhookOptions): Record<string, unknown> {
  const { clientConfig, ...rest } = commonWebhook(options, 'validate');
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: METADATA,
    webhooks: [
      {
        name: WEBHOOK_NAME,
        clientConfig,
        rules: rules(),
        matchConditions: imageMatchConditions(JUDGED_KINDS),
        failurePolicy: options.failurePolicy ?? 'Fail',
        ...rest,
      },
    ],
  };
}

/**
 * Pinning is best effort (`failurePolicy: Ignore`): when the endpoint cannot pin, the object goes on
 * as written and the validating webhook decides. `reinvocationPolicy: IfNeeded` pins an image that a
 * later mutating webhook (a sidecar injector) adds; the patch is idempotent, so nothing else changes.
 */
export function mutatingWebhookConfiguration(
  options: WebhookOptions & { readonly pinDigests: 'pods' | 'workloads' },
): Record<string, unknown> {
  const { clientConfig, ...rest } = commonWebhook(options, 'mutate');
  const kinds = options.pinDigests === 'pods' ? JUDGED_KINDS.filter((k) => k.kind === 'Pod') : JUDGED_KINDS;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: METADATA,
    webhooks: [
      {
        name: PIN_WEBHOOK_NAME,
        clientConfig,
        rules: rules(kinds),
        matchConditions: imageMatchConditions(kinds),
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'IfNeeded',
        ...rest,
      },
    ],
  };
}

function readCaBundle(file: string): string {
  const pem = readText(file);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FileError(file, 'not a PEM certificate (no "-----BEGIN CERTIFICATE-----")');
  }
  return pem;
}

export async function manifest(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'ca-bundle': { type: 'string' },
      'failure-policy': { type: 'string', default: 'Fail' },
      timeout: { type: 'string', default: '5' },
      'pin-digests': { type: 'string' },
      policy: { type: 'string' },
      cluster: { type: 'string' },
    },
    strict: true,
  });
  if (!values.url)
    throw new UsageError('manifest needs the endpoint: --url BASE (the stack output WebhookUrl)');
  const failurePolicy = values['failure-policy'];
  if (failurePolicy !== 'Fail' && failurePolicy !== 'Ignore') {
    throw new UsageError(`--failure-policy must be Fail or Ignore, not "${failurePolicy}"`);
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30) {
    throw new UsageError(`--timeout must be a whole number of seconds from 1 to 30, not "${values.timeout}"`);
  }
  // With a policy, the selector and the pinning follow it; its namespace globs cannot be a label
  // selector, so those namespaces are still sent and the webhook exempts them itself.
  const policy = values.policy !== undefined ? loadPolicy(values.policy) : undefined;
  const pinDigests = values['pin-digests'] ?? policy?.pinDigests ?? 'pods';
  if (pinDigests !== 'pods' && pinDigests !== 'workloads' && pinDigests !== 'off') {
    throw new UsageError(
      `--pin-digests must be pods, workloads or off (as the policy's pinDigests), not "${pinDigests}"`,
    );
  }
  const problem = values.cluster === undefined ? undefined : clusterNameProblem(values.cluster);
  if (problem) throw new UsageError(`--cluster: ${problem}`);
  const options: WebhookOptions = {
    baseUrl: values.url,
    ...(values.cluster !== undefined && { cluster: values.cluster }),
    failurePolicy,
    timeoutSeconds,
    ...(values['ca-bundle'] !== undefined && { caPem: readCaBundle(values['ca-bundle']) }),
    ...(policy && { exemptNamespaces: policy.namespaces.exempt.filter((ns) => !/[*?[\]]/.test(ns)) }),
  };
  const documents = [
    webhookConfiguration(options),
    ...(pinDigests === 'off' ? [] : [mutatingWebhookConfiguration({ ...options, pinDigests })]),
  ];
  process.stdout.write(documents.map((doc) => `---\n${stringify(doc, { lineWidth: 0 })}`).join(''));
  return 0;
}
