/**
 * `ecr-admission serve`: the webhook as a plain HTTPS server, on the same admission core as the Lambda.
 * Bodies are bounded, slow clients are cut off, and a shutdown finishes the reviews in flight.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { MAX_REVIEW_BYTES } from '../adapters/admission-review';
import type { AdmissionService } from '../application/admission-service';
import { handleWebhookRequest } from './webhook';

export interface ServerOptions {
  readonly service: AdmissionService;
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes?: number;
  readonly onError?: (error: unknown) => void;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(graceMs?: number): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? MAX_REVIEW_BYTES;
  let closing = false;
  const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const send = (statusCode: number, headers: Record<string, string>, body: string) => {
      if (res.headersSent) return;
      // Once shutting down, keep-alive clients (the apiserver) are told to reconnect elsewhere, so that
      // the connection ends with the review in flight instead of idling until the grace period is over.
      if (closing) res.setHeader('connection', 'close');
      res.writeHead(statusCode, { ...headers, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const refuse = () => {
      refused = true;
      res.setHeader('connection', 'close');
      send(
        413,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: `body larger than ${limit} bytes` }),
      );
      req.resume();
    };
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      refuse();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) refuse();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      handleWebhookRequest(
        options.service,
        { method: req.method ?? 'GET', path: req.url ?? '/', body },
        { ...(options.onError && { onError: options.onError }) },
      )
        .then((reply) => send(reply.statusCode, { ...reply.headers }, reply.body))
        .catch((error) => {
          options.onError?.(error);
          send(500, { 'content-type': 'application/json' }, JSON.stringify({ error: 'internal error' }));
        });
    });
    req.on('error', () => res.destroy());
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;

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
    close: (graceMs = 10_000) =>
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
