/**
 * Puts our own events on the account's default event bus (src/contracts/events.ts): shared by the
 * admission function's preparation requests and the workflow's exposure events. Every call ends by its
 * own timeouts and the caller's abort signal; an entry EventBridge refuses fails the call.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EventsUnavailableError } from '../domain/errors';
import { classifyAwsError } from './aws-errors';
import { boundedRequestHandler, type CallTimeouts } from './aws-http';

/** The IAM actions of `put`, declared beside the call (on the default bus only). */
export const PUT_EVENTS_ACTIONS = ['events:PutEvents'] as const;

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_LIMIT = 10;

export interface EventBusOptions {
  readonly timeouts?: CallTimeouts;
  /** Extra client settings (an endpoint, for tests). */
  readonly clientConfig?: ConstructorParameters<typeof EventBridgeClient>[0];
}

export interface BusEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
}

export class DefaultEventBus {
  private readonly client: EventBridgeClient;

  constructor(timeouts: CallTimeouts, options: EventBusOptions = {}) {
    const bounds = options.timeouts ?? timeouts;
    this.client = new EventBridgeClient({
      requestHandler: boundedRequestHandler(bounds),
      maxAttempts: bounds.maxAttempts,
      ...options.clientConfig,
    });
  }

  /** Puts the events, ten to a call; `what` names them in errors. */
  async put(events: readonly BusEvent[], what: string, abortSignal?: AbortSignal): Promise<void> {
    const entries = events.map((event) => ({
      Source: event.source,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
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
      if (failed) throw new EventsUnavailableError(`EventBridge refused ${failed} ${what}`);
    }
  }
}
