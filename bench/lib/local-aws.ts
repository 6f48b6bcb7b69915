/**
 * The local AWS endpoints the benchmarks count calls on: the local ECR endpoint (serving
 * examples/registry-snapshot.json) and a counting proxy in front of DynamoDB Local. Both run in a child
 * process, so that serving them does not take the event loop of the code being measured; what they
 * count is what crossed the socket.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { type CountingProxy, startCountingProxy } from '../../test/helpers/dynamodb-local';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../../test/helpers/local-ecr';
import { OWN_ACCOUNT, REPO_ROOT, readSnapshot } from './workloads';

export interface WireCounts {
  /** ECR calls (STS excluded). */
  readonly ecr: number;
  /** DynamoDB requests, all operations. */
  readonly dynamo: number;
  readonly dynamoByOperation: Readonly<Record<string, number>>;
}

export interface LocalAws {
  readonly ecrUrl: string;
  readonly dynamoUrl: string;
  counts(): Promise<WireCounts>;
  reset(): Promise<void>;
  /** Every ECR answer waits this long. */
  setEcrDelay(ms: number): Promise<void>;
  close(): Promise<void>;
}

type Command =
  | { readonly cmd: 'start'; readonly dynamoEndpoint: string }
  | { readonly cmd: 'counts' }
  | { readonly cmd: 'reset' }
  | { readonly cmd: 'delay'; readonly ms: number };

export async function startLocalAws(dynamoEndpoint: string): Promise<LocalAws> {
  const child: ChildProcess = fork(__filename, ['--serve'], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id: number; value: unknown }) => {
    waiting.get(message.id)?.resolve(message.value);
    waiting.delete(message.id);
  });
  child.on('exit', (code) => {
    for (const { reject } of waiting.values()) reject(new Error(`the local AWS endpoints exited (${code})`));
    waiting.clear();
  });
  const call = <T>(command: Command): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, command }, (error) => error && reject(error));
    });
  const urls = await call<{ ecrUrl: string; dynamoUrl: string }>({ cmd: 'start', dynamoEndpoint });
  return {
    ...urls,
    counts: () => call<WireCounts>({ cmd: 'counts' }),
    reset: () => call<void>({ cmd: 'reset' }),
    setEcrDelay: (ms) => call<void>({ cmd: 'delay', ms }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The child: serves both endpoints and answers the parent's commands. */
function serve(): void {
  let ecr: LocalEcr | undefined;
  let proxy: CountingProxy | undefined;
  const handle = async (command: Command): Promise<unknown> => {
    switch (command.cmd) {
      case 'start':
        ecr = await startLocalEcr(readSnapshot() as RawSnapshot, { ownAccountId: OWN_ACCOUNT });
        proxy = await startCountingProxy(command.dynamoEndpoint);
        return { ecrUrl: ecr.url, dynamoUrl: proxy.endpoint };
      case 'counts':
        return {
          ecr: ecr?.totalEcrCalls() ?? 0,
          dynamo: proxy?.total() ?? 0,
          dynamoByOperation: Object.fromEntries(proxy?.calls ?? []),
        };
      case 'reset':
        ecr?.reset();
        proxy?.reset();
        return undefined;
      case 'delay':
        if (ecr) ecr.faults = { delayMs: command.ms };
        return undefined;
    }
  };
  process.on('message', (message: { id: number; command: Command }) => {
    handle(message.command).then(
      (value) => process.send?.({ id: message.id, value }),
      (error) => {
        process.stderr.write(`local AWS endpoints: ${(error as Error).stack}\n`);
        process.exit(1);
      },
    );
  });
}

if (require.main === module && process.argv.includes('--serve')) serve();
