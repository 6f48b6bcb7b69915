/**
 * A TCP proxy on 127.0.0.1 in front of a local server (DynamoDB Local) that can stall it the two ways a
 * network does: `pause` (connections open, bytes held, delivered when resumed) and `blackhole` (bytes
 * accepted and dropped, no answer ever; the connections are cut when healed).
 */

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'pause' | 'blackhole';

export interface FaultProxy {
  readonly endpoint: string;
  readonly mode: ProxyMode;
  /** Connections accepted since start (a client's socket pool stays bounded). */
  readonly accepted: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const url = new URL(target);
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  const pairs = new Set<{ client: Socket; upstream?: Socket }>();

  const bridge = (pair: { client: Socket; upstream?: Socket }) => {
    const upstream = connect(Number(url.port), url.hostname);
    pair.upstream = upstream;
    pair.client.pipe(upstream).pipe(pair.client);
    const end = () => {
      pair.client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    upstream.on('error', end).on('close', end);
    pair.client.resume();
  };

  const server: Server = createServer((client) => {
    accepted++;
    const pair: { client: Socket; upstream?: Socket } = { client };
    pairs.add(pair);
    client.on('error', () => client.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (mode === 'blackhole') client.on('data', () => {});
    else if (mode === 'pause') client.pause();
    else bridge(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    setMode(next) {
      const previous = mode;
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'pause') {
          pair.client.pause();
          pair.upstream?.pause();
        } else if (next === 'blackhole') {
          // Whatever is on its way is lost: the peer sees a silent socket.
          pair.client.unpipe();
          pair.upstream?.destroy();
          pair.upstream = undefined;
          pair.client.on('data', () => {});
          pair.client.resume();
        } else if (previous === 'blackhole') {
          pair.client.destroy();
          pairs.delete(pair);
        } else if (pair.upstream) {
          pair.upstream.resume();
          pair.client.resume();
        } else {
          bridge(pair);
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
  return proxy;
}
