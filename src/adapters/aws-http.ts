/**
 * The HTTP settings of every AWS client: with `@smithy/node-http-handler` 4.x a `requestTimeout` only
 * logs a warning unless `throwOnRequestTimeout` is set, and nothing bounds a connection that never
 * opens or a socket that goes silent unless asked. Every client built here asks for all three.
 */
export interface CallTimeouts {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
}

export function boundedRequestHandler(timeouts: CallTimeouts) {
  return {
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    socketTimeout: timeouts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
