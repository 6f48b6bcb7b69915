/**
 * `ecr-admission serve`: the webhook as a plain HTTPS server, on the same admission core as the Lambda.
 * Bodies are bounded one by one and together (bytes buffered across requests), connections are
 * bounded, slow clients are cut off, load beyond the bounds is shed with a 503 that says so, and a
 * shutdown finishes the reviews in flight within a bounded grace period.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AdmissionService } from '../application/admission-service';
import { MAX_REVIEW_BYTES } from './admission-review';
import { handleWebhookRequest, type WebhookHooks, type WebhookOptions } from './webhook';

export interface ServerOptions {
  readonly service: AdmissionService;
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes?: number;
  readonly limits?: Partial<ServerLimits>;
  readonly onError?: (error: unknown) => void;
  /** Told of each review answered (request logs, metrics). */
  readonly hooks?: WebhookHooks;
  /** The cluster of reviews posted to the bare paths. */
  readonly webhook?: WebhookOptions;
  /** `GET /metrics`: the metrics in the Prometheus text format. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
}

export interface ServerLimits {
  /** Open connections at once; more are refused as they arrive. */
  readonly maxConnections: number;
  /** Request bytes buffered at once across all requests; a request that would pass it gets a 503. */
  readonly maxBufferedBytes: number;
  /** Reviews being judged at once; more get a 503. */
  readonly maxRequestsInFlight: number;
  /** Time for a client to send its headers, and its whole request. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * The apiserver sends a review in one go and waits at most 30 s (`timeoutSeconds`); bounds well above
 * what a cluster needs and well below what would exhaust memory (16 reviews of the largest size).
 */
export const SERVER_LIMITS: ServerLimits = {
  maxConnections: 256,
  maxBufferedBytes: 16 * MAX_REVIEW_BYTES,
  maxRequestsInFlight: 128,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
};

const BUSY = JSON.stringify({ error: 'the webhook is busy (too many requests or bytes in flight); retry' });

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(graceMs?: number): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? MAX_REVIEW_BYTES;
  const limits = { ...SERVER_LIMITS, ...options.limits };
  let closing = false;
  let buffered = 0;
  let inFlight = 0;
  const hooks: WebhookHooks = { ...options.hooks, ...(options.onError && { onError: options.onError }) };
  const server = createServer(
    // Checked every second (not every 30 s), so a held body is cut off close to requestTimeout.
    { cert: options.tls.cert, key: options.tls.key, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      let counted = false;
      // Bytes held for this request count against the shared budget until it is answered or gone.
      const release = () => {
        buffered -= size;
        size = 0;
        chunks.length = 0;
        if (counted) inFlight--;
        counted = false;
      };
      res.once('close', release);
      const send = (statusCode: number, headers: Readonly<Record<string, string>>, body: string) => {
        if (res.headersSent) return;
        // Once shutting down, keep-alive clients (the apiserver) are told to reconnect elsewhere, so that
        // the connection ends with the review in flight instead of idling until the grace period is over.
        if (closing) res.setHeader('connection', 'close');
        res.writeHead(statusCode, { ...headers, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      const refuse = () => {
        refused = true;
        release();
        res.setHeader('connection', 'close');
        send(
          413,
          { 'content-type': 'application/json' },
          JSON.stringify({ error: `body larger than ${limit} bytes` }),
        );
        req.resume();
      };
      const shed = () => {
        refused = true;
        release();
        res.setHeader('connection', 'close');
        send(503, { 'content-type': 'application/json', 'retry-after': '1' }, BUSY);
        req.resume();
      };
      const metrics = options.metrics;
      if (metrics && req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
        metrics().then(
          ({ contentType, body }) => send(200, { 'content-type': contentType }, body),
          () =>
            send(500, { 'content-type': 'application/json' }, JSON.stringify({ error: 'internal error' })),
        );
        req.resume();
        return;
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > limit) {
        refuse();
        return;
      }
      if (inFlight >= limits.maxRequestsInFlight || buffered + declared > limits.maxBufferedBytes) {
        shed();
        return;
      }
      inFlight++;
      counted = true;
      req.on('data', (chunk: Buffer) => {
        if (refused) return;
        if (size + chunk.length > limit) return refuse();
        if (buffered + chunk.length > limits.maxBufferedBytes) return shed();
        size += chunk.length;
        buffered += chunk.length;
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (refused) return;
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        handleWebhookRequest(
          options.service,
          { method: req.method ?? 'GET', path: req.url ?? '/', body },
          hooks,
          options.webhook,
        )
          .then((reply) => send(reply.statusCode, reply.headers, reply.body))
          .catch((error) => {
            options.onError?.(error);
            send(500, { 'content-type': 'application/json' }, JSON.stringify({ error: 'internal error' }));
          });
      });
      req.on('error', () => res.destroy());
    },
  );
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = 65_000;
  server.maxConnections = limits.maxConnections;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    port,
    url: `https://${host}:${port}`,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
