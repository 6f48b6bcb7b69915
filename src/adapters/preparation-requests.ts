/**
 * The preparation requests' EventBridge adapter, loaded on the first request. Requests are rare (an
 * image not imported yet, an archived one), so its SDK client loads on first use instead of at cold
 * start; the admission Lambda ships `./preparation-events` as a file next to its bundle, like
 * `./ecr-sdk` (docs/performance.md).
 */
import type { PreparationRequests, PreparationTarget } from '../domain/refresh';
import type { EventBridgePreparationOptions, EventBridgePreparationRequests } from './preparation-events';

export class LazyPreparationRequests implements PreparationRequests {
  private loaded: EventBridgePreparationRequests | undefined;

  constructor(private readonly options: EventBridgePreparationOptions = {}) {}

  request(targets: readonly PreparationTarget[], signal?: AbortSignal): Promise<void> {
    this.loaded ??= new (
      require('./preparation-events') as typeof import('./preparation-events')
    ).EventBridgePreparationRequests(this.options);
    return this.loaded.request(targets, signal);
  }
}
