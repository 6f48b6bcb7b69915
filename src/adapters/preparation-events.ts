/**
 * Asks the refresh workflow to prepare images by putting `Image Preparation Requested` events on the
 * default event bus (src/contracts/events.ts): a rule starts the workflow for each. Loaded only when a
 * request needs it (./preparation-requests.ts), so the admission function's cold start carries no
 * EventBridge client. Every call ends by its own timeouts and the caller's abort signal.
 */
import { PREPARATION_REQUESTED } from '../contracts/events';
import { AWS_CALL_TIMEOUTS } from '../contracts/settings';
import type { PreparationRequests, PreparationTarget } from '../domain/refresh';
import { DefaultEventBus, type EventBusOptions, PUT_EVENTS_ACTIONS } from './event-bus';

/** The IAM actions of `request`, declared beside the call (on the default bus only). */
export const PREPARATION_REQUEST_ACTIONS = PUT_EVENTS_ACTIONS;

export type EventBridgePreparationOptions = EventBusOptions;

export class EventBridgePreparationRequests implements PreparationRequests {
  private readonly bus: DefaultEventBus;

  constructor(options: EventBridgePreparationOptions = {}) {
    this.bus = new DefaultEventBus(AWS_CALL_TIMEOUTS.events, options);
  }

  async request(targets: readonly PreparationTarget[], abortSignal?: AbortSignal): Promise<void> {
    const events = targets.map((target) => ({
      source: PREPARATION_REQUESTED.source,
      detailType: PREPARATION_REQUESTED.detailType,
      detail: preparationDetail(target),
    }));
    await this.bus.put(events, 'preparation requests', abortSignal);
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
