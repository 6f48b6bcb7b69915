/**
 * The EventBridge events that start the refresh workflow, translated once into what to refresh. Each
 * event type has its own schema. A well-formed event that is about nothing the workflow handles (an
 * Inspector scan of an EC2 instance, a failed push) is an `ignore` trigger: a successful no-op. An event
 * of another type, and any event whose fields are malformed (a digest that is not `sha256:` and 64
 * lowercase hex characters, as in AWS's documentation samples), is refused with an InvalidEventError
 * naming what is wrong, and nothing is written.
 */
import * as z from 'zod';
import {
  DETAIL_TYPE,
  EVENT_SOURCE,
  IMAGE_ACTION_TYPES,
  INSPECTOR_ECR_SCAN_FIELDS,
  POLICY_CHANGED,
  PREPARATION_REQUESTED,
  PULL_THROUGH_SYNCED,
  REGISTRY_SETTING_CALLS,
  REPLICATE,
  REPOSITORY_DELETE_CALL,
  REPOSITORY_SETTING_CALLS,
  SCAN_FREQUENCY_CHANGE,
} from '../contracts/events';
import { ACCOUNT_ID, ACCOUNT_ID_MESSAGE, REGION, REGION_MESSAGE } from '../domain/aws-names';
import { InvalidEventError } from '../domain/errors';
import { describeIssues } from '../domain/policy';
import {
  type ImageTarget,
  type RefreshTrigger,
  scopeOfRepositories,
  type TriggerBody,
} from '../domain/refresh';
import { isAwsRegion } from '../domain/regions';

const account = z.string().regex(ACCOUNT_ID, ACCOUNT_ID_MESSAGE);
// A region of an AWS partition (src/domain/regions.ts): it becomes a client and a cache key.
const region = z.string().regex(REGION, REGION_MESSAGE).refine(isAwsRegion, REGION_MESSAGE);
const digest = z
  .string()
  .regex(/^sha256:[a-f0-9]{64}$/, 'expected sha256: and 64 lowercase hexadecimal characters');
const repositoryName = z
  .string()
  .min(2)
  .max(256)
  .regex(
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/,
    'expected an ECR repository name',
  );
// ECR allows tags of up to 300 characters (the distribution reference grammar, 128).
const tag = z.string().regex(/^[\w][\w.-]{0,299}$/, 'expected an image tag');

const envelope = {
  account,
  region,
  time: z.string().datetime({ offset: true, error: 'expected an ISO time' }),
};

/** `repository-name` is a bare name in ECR events and may be a repository ARN in Inspector events. */
const REPOSITORY_ARN = /^arn:aws[a-z-]*:ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/;

/**
 * The region of a finding's image: the resource's own, else its ARN's (`arn:aws:ecr:REGION:...`), else
 * the event's. A region taken from the ARN is validated like any other.
 */
function findingRegion(resource: { region?: string; id?: string }, eventRegion: string): string {
  if (resource.region !== undefined && resource.region !== 'N/A') return resource.region;
  const fromArn = /^arn:[a-z-]+:ecr:([^:]+):/.exec(resource.id ?? '')?.[1];
  if (fromArn === undefined) return eventRegion;
  if (!isAwsRegion(fromArn))
    throw new InvalidEventError(
      "invalid Inspector2 Finding event: detail.resources[].id: the ARN's region is not an AWS region",
    );
  return fromArn;
}

function splitRepository(value: string): { name: string; region?: string; account?: string } {
  const match = REPOSITORY_ARN.exec(value);
  return match ? { name: match[3] ?? '', region: match[1] ?? '', account: match[2] ?? '' } : { name: value };
}

const scanEvent = z.object({
  ...envelope,
  detail: z.object({
    'scan-status': z.string(),
    'repository-name': z.string(),
    'image-digest': digest,
    'image-tags': z.array(tag).default([]),
  }),
});

// AWS's examples for EC2 instances, Lambda functions and AMIs: well-formed scans of something else.
const nonImageScanEvent = z.object({
  ...envelope,
  detail: z.object({ 'scan-status': z.string() }),
});

const scanResourceChangeEvent = z.object({
  ...envelope,
  detail: z.object({
    'action-type': z.string(),
    repositories: z
      .array(
        z.object({
          'repository-name': repositoryName,
          'scan-frequency': z.string().optional(),
          'previous-scan-frequency': z.string().optional(),
        }),
      )
      .default([]),
    'scan-type': z.string().optional(),
  }),
});

const actionEvent = z.object({
  ...envelope,
  detail: z.object({
    'action-type': z.enum(IMAGE_ACTION_TYPES),
    result: z.enum(['SUCCESS', 'FAILURE']),
    'repository-name': repositoryName,
    'image-digest': digest,
    'image-tag': tag.optional(),
    /** UPDATE_STORAGE_CLASS: ARCHIVE or STANDARD. */
    'target-storage-class': z.string().optional(),
  }),
});

const replicationEvent = z.object({
  ...envelope,
  detail: z.object({
    'action-type': z.string(),
    result: z.string(),
    'repository-name': repositoryName,
    'image-digest': digest,
    'image-tag': tag.optional(),
  }),
});

// AWS's documented example ends its detail with a trailing comma (not JSON): the fixture has it removed.
const pullThroughEvent = z.object({
  ...envelope,
  detail: z.object({
    'sync-status': z.string(),
    'repository-name': repositoryName,
    'ecr-repository-prefix': z.string().optional(),
    'image-digest': z.string().optional(),
    'image-tag': tag.optional(),
  }),
});

const preparationEvent = z.object({
  ...envelope,
  detail: z.union([
    z.strictObject({
      action: z.enum(['import', 'restore']),
      registryId: account,
      region,
      repositoryName,
      digest,
    }),
    z.strictObject({
      action: z.literal('import'),
      registryId: account,
      region,
      repositoryName,
      tag,
    }),
  ]),
});

const findingEvent = z.object({
  ...envelope,
  detail: z.object({
    status: z.string().optional(),
    resources: z
      .array(
        z.object({
          type: z.string(),
          // AWS's own example finding says "N/A" here: the region then comes from the resource's ARN.
          region: z.union([z.literal('N/A'), region]).optional(),
          id: z.string().optional(),
          details: z
            .object({
              awsEcrContainerImage: z
                .object({
                  imageHash: digest,
                  imageTags: z.array(tag).default([]),
                  registry: account,
                  repositoryName,
                })
                .optional(),
            })
            .optional(),
        }),
      )
      .min(1, 'expected at least one resource'),
  }),
});

const cloudTrailEvent = z.object({
  ...envelope,
  detail: z.object({
    eventName: z.string(),
    awsRegion: region.optional(),
    errorCode: z.string().optional(),
    recipientAccountId: account.optional(),
    requestParameters: z
      .object({ repositoryName: repositoryName.optional(), registryId: account.optional() })
      .nullish(),
  }),
});

const scheduledEvent = z.object({ ...envelope });

const REPOSITORY_SETTINGS = new Set<string>(REPOSITORY_SETTING_CALLS);
const REGISTRY_SETTINGS = new Set<string>(REGISTRY_SETTING_CALLS);

/** The image an ECR event names (its repository and tag), in the account and region it is delivered to. */
function imageOf(
  e: {
    account: string;
    region: string;
    detail: { 'repository-name': string; 'image-tag'?: string | undefined };
  },
  imageDigest: string,
): ImageTarget {
  const tag = e.detail['image-tag'];
  return {
    registryId: e.account,
    region: e.region,
    repositoryName: e.detail['repository-name'],
    digest: imageDigest,
    tags: tag ? [tag] : [],
  };
}

function parse<T extends z.ZodType>(schema: T, event: unknown, what: string): z.output<T> {
  const result = schema.safeParse(event);
  if (!result.success)
    throw new InvalidEventError(`invalid ${what} event: ${describeIssues(result.error).join('; ')}`);
  return result.data;
}

/**
 * The event's trigger, with its EventBridge `id`: a redelivered event has the same id, two events
 * about one image (a push and its scan in the same second) do not.
 */
export function parseRefreshEvent(event: unknown): RefreshTrigger {
  const trigger = parseTrigger(event);
  const id = (event as { id?: unknown }).id;
  return { ...trigger, eventId: typeof id === 'string' && id.length > 0 ? id : trigger.eventTime };
}

function typeOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Whether a scan event names an ECR image (any of the fields that only an image scan carries). */
function isImageScan(event: object): boolean {
  const detail = (event as { detail?: unknown }).detail;
  if (typeof detail !== 'object' || detail === null) return true; // malformed: the schema says why
  return INSPECTOR_ECR_SCAN_FIELDS.some((field) => field in detail);
}

function parseTrigger(event: unknown): TriggerBody {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidEventError('the event is not a JSON object');
  }
  const fields = event as { source?: unknown; 'detail-type'?: unknown };
  // Only strings name an event: anything else (an object, say) is an unknown event, never a TypeError.
  const source = typeof fields.source === 'string' ? fields.source : `(${typeOf(fields.source)})`;
  const detailType =
    typeof fields['detail-type'] === 'string' ? fields['detail-type'] : `(${typeOf(fields['detail-type'])})`;
  const type = `${source} / ${detailType}`;
  switch (type) {
    case `${EVENT_SOURCE.inspector2} / ${DETAIL_TYPE.inspectorScan}`:
    case `${EVENT_SOURCE.ecr} / ${DETAIL_TYPE.imageScan}`: {
      if (detailType === DETAIL_TYPE.inspectorScan && !isImageScan(event)) {
        const e = parse(nonImageScanEvent, event, detailType);
        return {
          kind: 'ignore',
          reason: 'an Inspector2 Scan of a resource that is not an ECR image',
          eventTime: e.time,
        };
      }
      const e = parse(scanEvent, event, String(detailType));
      const repo = splitRepository(e.detail['repository-name']);
      const name = repositoryName.safeParse(repo.name);
      if (repo.region !== undefined && !isAwsRegion(repo.region)) {
        throw new InvalidEventError(
          `invalid ${String(detailType)} event: detail.repository-name: the ARN's region is not an AWS region`,
        );
      }
      if (!name.success) {
        throw new InvalidEventError(
          `invalid ${String(detailType)} event: detail.repository-name: expected an ECR repository name or ARN`,
        );
      }
      return {
        kind: 'refresh-image',
        reason: `${String(detailType)} ${e.detail['scan-status']}`,
        eventTime: e.time,
        image: {
          registryId: repo.account ?? e.account,
          region: repo.region ?? e.region,
          repositoryName: name.data,
          digest: e.detail['image-digest'],
          tags: e.detail['image-tags'],
        },
      };
    }
    case `${EVENT_SOURCE.ecr} / ${DETAIL_TYPE.scanResourceChange}`: {
      const e = parse(scanResourceChangeEvent, event, DETAIL_TYPE.scanResourceChange);
      const action = e.detail['action-type'];
      if (action !== SCAN_FREQUENCY_CHANGE)
        return { kind: 'ignore', reason: `${action} does not change any verdict`, eventTime: e.time };
      // The event names repositories of the registry it is delivered from.
      const scope = scopeOfRepositories(
        { registryId: e.account, region: e.region },
        e.detail.repositories.map((r) => r['repository-name']),
      );
      if (!scope) return { kind: 'ignore', reason: `${action} of no repository`, eventTime: e.time };
      return {
        kind: 'refresh-repository',
        scope,
        reason: `${DETAIL_TYPE.scanResourceChange} ${action}`,
        eventTime: e.time,
      };
    }
    case `${EVENT_SOURCE.ecr} / ${DETAIL_TYPE.imageAction}`: {
      const e = parse(actionEvent, event, 'ECR Image Action');
      if (e.detail.result !== 'SUCCESS') {
        return { kind: 'ignore', reason: `a failed ${e.detail['action-type']}`, eventTime: e.time };
      }
      const image = imageOf(e, e.detail['image-digest']);
      switch (e.detail['action-type']) {
        case 'PUSH':
          return { kind: 'refresh-image', image, reason: 'ECR Image Action PUSH', eventTime: e.time };
        case 'UPDATE_STORAGE_CLASS':
          // Archived: its entries go (it cannot be pulled); restored: judged again.
          return {
            kind: 'refresh-image',
            image,
            reason: `ECR Image Action UPDATE_STORAGE_CLASS ${e.detail['target-storage-class'] ?? ''}`.trim(),
            eventTime: e.time,
          };
        default:
          return { kind: 'delete-image', image, eventTime: e.time };
      }
    }
    case `${EVENT_SOURCE.ecr} / ${DETAIL_TYPE.replicationAction}`: {
      const e = parse(replicationEvent, event, DETAIL_TYPE.replicationAction);
      const action = e.detail['action-type'];
      if (action !== REPLICATE || e.detail.result !== 'SUCCESS') {
        return { kind: 'ignore', reason: `replication ${action} ${e.detail.result}`, eventTime: e.time };
      }
      // Delivered in the destination's account and region: the replica is judged where it is.
      return {
        kind: 'refresh-image',
        image: imageOf(e, e.detail['image-digest']),
        reason: `${DETAIL_TYPE.replicationAction} ${REPLICATE}`,
        eventTime: e.time,
      };
    }
    case `${EVENT_SOURCE.ecr} / ${DETAIL_TYPE.pullThroughCacheAction}`: {
      const e = parse(pullThroughEvent, event, DETAIL_TYPE.pullThroughCacheAction);
      const status = e.detail['sync-status'];
      if (status !== PULL_THROUGH_SYNCED) {
        return { kind: 'ignore', reason: `a pull-through cache sync ${status}`, eventTime: e.time };
      }
      const synced = digest.safeParse(e.detail['image-digest']);
      if (!synced.success) {
        throw new InvalidEventError(
          `invalid ${DETAIL_TYPE.pullThroughCacheAction} event: detail.image-digest: ${synced.error.issues[0]?.message ?? 'expected a digest'}`,
        );
      }
      // The image is in the cache: judged now (its scan, if the registry scans on push, follows).
      return {
        kind: 'refresh-image',
        image: imageOf(e, synced.data),
        reason: `${DETAIL_TYPE.pullThroughCacheAction} ${status}`,
        eventTime: e.time,
      };
    }
    case `${PREPARATION_REQUESTED.source} / ${PREPARATION_REQUESTED.detailType}`: {
      const e = parse(preparationEvent, event, PREPARATION_REQUESTED.detailType);
      return { kind: 'prepare-image', target: e.detail, eventTime: e.time };
    }
    case `${EVENT_SOURCE.inspector2} / ${DETAIL_TYPE.inspectorFinding}`: {
      const e = parse(findingEvent, event, 'Inspector2 Finding');
      const resource = e.detail.resources.find((r) => r.type === 'AWS_ECR_CONTAINER_IMAGE');
      const image = resource?.details?.awsEcrContainerImage;
      if (!image)
        return {
          kind: 'ignore',
          reason: 'a finding on a resource that is not an ECR image',
          eventTime: e.time,
        };
      return {
        kind: 'refresh-image',
        reason: `Inspector2 Finding ${e.detail.status ?? ''}`.trim(),
        eventTime: e.time,
        image: {
          registryId: image.registry,
          region: findingRegion(resource ?? {}, e.region),
          repositoryName: image.repositoryName,
          digest: image.imageHash,
          tags: image.imageTags,
        },
      };
    }
    case `${EVENT_SOURCE.ecr} / ${DETAIL_TYPE.apiCall}`: {
      const e = parse(cloudTrailEvent, event, 'AWS API Call via CloudTrail');
      const { eventName, errorCode } = e.detail;
      if (errorCode)
        return { kind: 'ignore', reason: `a failed ${eventName} (${errorCode})`, eventTime: e.time };
      const registryId = e.detail.requestParameters?.registryId ?? e.detail.recipientAccountId ?? e.account;
      const where = { registryId, region: e.detail.awsRegion ?? e.region };
      const repository = e.detail.requestParameters?.repositoryName;
      if (REPOSITORY_SETTINGS.has(eventName) || eventName === REPOSITORY_DELETE_CALL) {
        if (!repository) {
          throw new InvalidEventError(
            `invalid ${eventName} event: detail.requestParameters.repositoryName is required`,
          );
        }
        return eventName === REPOSITORY_DELETE_CALL
          ? { kind: 'delete-repository', scope: { ...where, repositoryName: repository }, eventTime: e.time }
          : {
              kind: 'refresh-repository',
              scope: { ...where, repositoryName: repository },
              reason: eventName,
              eventTime: e.time,
            };
      }
      if (REGISTRY_SETTINGS.has(eventName)) {
        return { kind: 'refresh-repository', scope: where, reason: eventName, eventTime: e.time };
      }
      return { kind: 'ignore', reason: `${eventName} does not change any verdict`, eventTime: e.time };
    }
    case `${EVENT_SOURCE.schedule} / ${DETAIL_TYPE.scheduled}`:
      return { kind: 'reconcile', eventTime: parse(scheduledEvent, event, 'Scheduled Event').time };
    case `${POLICY_CHANGED.source} / ${POLICY_CHANGED.detailType}`:
      return { kind: 'rejudge-all', eventTime: parse(scheduledEvent, event, 'Policy Changed').time };
    default:
      throw new InvalidEventError(
        `unknown event: source "${String(source)}", detail-type "${String(detailType)}"`,
      );
  }
}
