/**
 * A local HTTP endpoint speaking EventBridge's JSON 1.1 protocol for PutEvents, for the real
 * `@aws-sdk/client-eventbridge` (point it here with AWS_ENDPOINT_URL_EVENTBRIDGE, or `clientConfig`).
 * It records every entry it accepts; `refuse` makes it answer each entry of a call as failed
 * (`FailedEntryCount`, as EventBridge does for an entry it could not put), and checks the 10-entry limit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const TARGET = 'AWSEvents.PutEvents';

export interface PutEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly EventBusName?: string;
}

export interface LocalEventBridge {
  readonly url: string;
  /** Entries accepted, in order. */
  readonly entries: PutEntry[];
  /** PutEvents calls received (each with at most 10 entries). */
  calls(): number;
  /** While true, every entry is answered as failed. */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startLocalEventBridge(): Promise<LocalEventBridge> {
  let calls = 0;
  const bus: LocalEventBridge = {
    url: '',
    entries: [],
    calls: () => calls,
    refuse: false,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== TARGET) {
        send(400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
        return;
      }
      calls++;
      const { Entries = [] } = JSON.parse(Buffer.concat(chunks).toString()) as { Entries?: PutEntry[] };
      if (Entries.length > 10) {
        send(400, { __type: 'ValidationException', message: 'at most 10 entries' });
        return;
      }
      if (bus.refuse) {
        send(200, {
          FailedEntryCount: Entries.length,
          Entries: Entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'refused' })),
        });
        return;
      }
      bus.entries.push(...Entries);
      send(200, {
        FailedEntryCount: 0,
        Entries: Entries.map((_, i) => ({ EventId: `event-${calls}-${i}` })),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(bus, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
