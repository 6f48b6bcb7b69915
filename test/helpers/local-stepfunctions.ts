/**
 * A local HTTP endpoint speaking Step Functions' JSON 1.0 protocol for StartExecution, for the real
 * `@aws-sdk/client-sfn` (point it here with AWS_ENDPOINT_URL_SFN). It records each execution started
 * and hands its input to `onStart` (a local run of the workflow, say). As Step Functions does, a name
 * already used answers `ExecutionAlreadyExists` (here every execution has closed by then); `throttle`
 * answers `ThrottlingException` to the names it returns true for, every attempt.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const TARGET = 'AWSStepFunctions.StartExecution';

export interface Started {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
}

export interface LocalStepFunctions {
  readonly url: string;
  /** Executions started, in the order they were started. */
  readonly started: Started[];
  /** StartExecution calls received, retries and refusals included. */
  calls(): number;
  close(): Promise<void>;
}

export interface LocalStepFunctionsOptions {
  readonly onStart?: (execution: Started) => Promise<void>;
  readonly throttle?: (name: string) => boolean;
}

export async function startLocalStepFunctions(
  options: LocalStepFunctionsOptions = {},
): Promise<LocalStepFunctions> {
  const started: Started[] = [];
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== TARGET) {
        send(400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
        return;
      }
      calls++;
      const request = JSON.parse(Buffer.concat(chunks).toString()) as Started;
      if (options.throttle?.(request.name)) {
        send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
        return;
      }
      if (started.some((s) => s.name === request.name)) {
        send(400, {
          __type: 'ExecutionAlreadyExists',
          message: `Execution Already Exists: '${request.name}'`,
        });
        return;
      }
      const execution = {
        stateMachineArn: request.stateMachineArn,
        name: request.name,
        input: request.input,
      };
      started.push(execution);
      await options.onStart?.(execution);
      send(200, {
        executionArn: `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${request.name}`,
        startDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    started,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
