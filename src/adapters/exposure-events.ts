/**
 * Announces admitted images that turned denied: `Admitted Image Noncompliant` events on the default
 * event bus (src/contracts/events.ts), for whoever routes them (docs/deploy.md). The refresh workflow's
 * only EventBridge call.
 */
import { EXPOSURE_DETECTED } from '../contracts/events';
import { AWS_CALL_TIMEOUTS } from '../contracts/settings';
import type { ExposureEvent, ExposureEvents } from '../domain/exposure';
import { DefaultEventBus, type EventBusOptions, PUT_EVENTS_ACTIONS } from './event-bus';

/** The IAM actions of `publish`, declared beside the call (on the default bus only). */
export const EXPOSURE_EVENT_ACTIONS = PUT_EVENTS_ACTIONS;

export class EventBridgeExposureEvents implements ExposureEvents {
  private readonly bus: DefaultEventBus;

  constructor(options: EventBusOptions = {}) {
    this.bus = new DefaultEventBus(AWS_CALL_TIMEOUTS.exposureEvents, options);
  }

  async publish(events: readonly ExposureEvent[]): Promise<void> {
    await this.bus.put(
      events.map((detail) => ({
        source: EXPOSURE_DETECTED.source,
        detailType: EXPOSURE_DETECTED.detailType,
        detail,
      })),
      'exposure events',
    );
  }
}
