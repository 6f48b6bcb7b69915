/**
 * The EventBridge events that start the refresh workflow: their sources and detail-types, and the
 * CloudTrail calls that change what images are judged by. The rules CDK deploys and the parser that
 * reads the events both derive from these lists. External names: AWS's, and our own `Policy Changed`.
 */
export const EVENT_SOURCE = {
  ecr: 'aws.ecr',
  inspector2: 'aws.inspector2',
  schedule: 'aws.events',
} as const;

export const DETAIL_TYPE = {
  imageScan: 'ECR Image Scan',
  imageAction: 'ECR Image Action',
  replicationAction: 'ECR Replication Action',
  pullThroughCacheAction: 'ECR Pull Through Cache Action',
  scanResourceChange: 'ECR Scan Resource Change',
  inspectorScan: 'Inspector2 Scan',
  inspectorFinding: 'Inspector2 Finding',
  apiCall: 'AWS API Call via CloudTrail',
  scheduled: 'Scheduled Event',
} as const;

/**
 * The `scan-status` values of a basic scan's end: COMPLETE, and FAILED, whose image is judged again so
 * that a failed rescan never leaves an earlier scan's verdict in the cache.
 */
export const IMAGE_SCAN_END_STATUSES = ['COMPLETE', 'FAILED'] as const;

/**
 * The detail fields that make an `Inspector2 Scan` event one about an ECR image (AWS's examples for
 * EC2 instances, Lambda functions and AMIs carry neither): the rule requires them, and the parser ignores
 * a scan event that has neither.
 */
export const INSPECTOR_ECR_SCAN_FIELDS = ['repository-name', 'image-digest'] as const;

/**
 * The `action-type`s of an `ECR Image Action` the workflow takes: a push, a delete, and a move between
 * storage classes (archived images cannot be pulled; a restored one can again).
 */
export const IMAGE_ACTION_TYPES = ['PUSH', 'DELETE', 'UPDATE_STORAGE_CLASS'] as const;

/** The `action-type` of an `ECR Replication Action` that put a replica in the event's region. */
export const REPLICATE = 'REPLICATE';

/** The `sync-status` of an `ECR Pull Through Cache Action` that put the image in the cache. */
export const PULL_THROUGH_SYNCED = 'SUCCESS';

/** The `action-type` of an `ECR Scan Resource Change`: repositories whose scan frequency changed. */
export const SCAN_FREQUENCY_CHANGE = 'SCAN_FREQUENCY_CHANGE';

/** CloudTrail calls that change how one repository's images are judged. */
export const REPOSITORY_SETTING_CALLS = ['PutImageTagMutability', 'PutImageScanningConfiguration'] as const;
/** CloudTrail calls that change how every repository of a registry is judged. */
export const REGISTRY_SETTING_CALLS = ['PutRegistryScanningConfiguration'] as const;
/** The CloudTrail call whose images leave the cache with their repository. */
export const REPOSITORY_DELETE_CALL = 'DeleteRepository';

export const SETTING_CHANGE_CALLS = [
  ...REPOSITORY_SETTING_CALLS,
  ...REGISTRY_SETTING_CALLS,
  REPOSITORY_DELETE_CALL,
] as const;

/** Announced by the stack after a deploy that changed the policy: every cached image is judged again. */
export const POLICY_CHANGED = { source: 'ecr-admission', detailType: 'Policy Changed' } as const;

/**
 * Put by the admission webhook when a Pod asks for an image that the workflow can make pullable: one
 * not imported yet through a pull-through cache rule, or one archived under `archived: restore`. The
 * detail: `action` (`import` or `restore`), `registryId`, `region`, `repositoryName`, and `tag` or
 * `digest`. The workflow's Prepare task does it, once per image.
 */
export const PREPARATION_REQUESTED = {
  source: 'ecr-admission',
  detailType: 'Image Preparation Requested',
} as const;

/**
 * Put by the refresh workflow when an image the webhook admitted turns denied (a new finding, a failed
 * scan, a setting or the policy changed) and the admitted inventory shows it running: one event per
 * image, none when nothing runs it. The detail (src/domain/exposure.ts `ExposureEvent`): `image`,
 * `digest`, `registryId`, `region`, `repository`, `violations` [{code, message}], `workloads`
 * [{cluster, namespace, owner: {kind, name}, lastAdmittedAt}], and `workloadsOmitted` when there were
 * more workloads than one event names. External names: docs/design.md documents the event.
 */
export const EXPOSURE_DETECTED = {
  source: 'ecr-admission',
  detailType: 'Admitted Image Noncompliant',
} as const;
