/**
 * Asks the refresh workflow to prepare images by putting `Image Preparation Requested` events on the
 * default event bus (src/contracts/events.ts): a rule starts the workflow for each. Loaded only when a
 * request needs it (./preparation-requests.ts), so the admission function's cold start carries no
 * EventBridge client. Every call ends by its own timeouts and the caller's abort signal.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PREPARATION_REQUESTED } from '../contracts/events';
import { AWS_CALL_TIMEOUTS } from '../contracts/settings';
import { EventsUnavailableError } from '../domain/errors';
import type { PreparationRequests, PreparationTarget } from '../domain/refresh';
import { classifyAwsError } from './aws-errors';
import { boundedRequestHandler, type CallTimeouts } from './aws-http';

/** The IAM actions of `request`, declared beside the call (on the default bus only). */
export const PREPARATION_REQUEST_ACTIONS = ['events:PutEvents'] as const;

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_LIMIT = 10;

export interface EventBridgePreparationOptions {
  readonly timeouts?: CallTimeouts;
  /** Extra client settings (an endpoint, for tests). */
  readonly clientConfig?: ConstructorParameters<typeof EventBridgeClient>[0];
}

export class EventBridgePreparationRequests implements PreparationRequests {
  private readonly client: EventBridgeClient;

  constructor(options: EventBridgePreparationOptions = {}) {
    const timeouts = options.timeouts ?? AWS_CALL_TIMEOUTS.events;
    this.client = new EventBridgeClient({
      requestHandler: boundedRequestHandler(timeouts),
      maxAttempts: timeouts.maxAttempts,
      ...options.clientConfig,
    });
  }

  async request(targets: readonly PreparationTarget[], abortSignal?: AbortSignal): Promise<void> {
    const entries = targets.map((target) => ({
      Source: PREPARATION_REQUESTED.source,
      DetailType: PREPARATION_REQUESTED.detailType,
      Detail: JSON.stringify(preparationDetail(target)),
      EventBusName: 'default',
    }));
    for (let i = 0; i < entries.length; i += PUT_EVENTS_LIMIT) {
      let failed: number | undefined;
      try {
        const out = await this.client.send(
          new PutEventsCommand({ Entries: entries.slice(i, i + PUT_EVENTS_LIMIT) }),
          { abortSignal },
        );
        failed = out.FailedEntryCount;
      } catch (error) {
        throw new EventsUnavailableError('EventBridge PutEvents failed', {
          cause: error,
          failure: classifyAwsError(error, 'events', 'PutEvents'),
        });
      }
      if (failed) throw new EventsUnavailableError(`EventBridge refused ${failed} preparation requests`);
    }
  }
}

/** The event's detail: the target as the workflow's parser reads it (a tag only for an import). */
export function preparationDetail(target: PreparationTarget): Record<string, string> {
  return {
    action: target.action,
    registryId: target.registryId,
    region: target.region,
    repositoryName: target.repositoryName,
    ...(target.digest ? { digest: target.digest } : { tag: target.tag ?? 'latest' }),
  };
}
