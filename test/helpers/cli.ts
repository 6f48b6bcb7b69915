/**
 * Runs the BUILT `ecr-admission` command (dist/src/cli/main.js) as a child process, the way a user or
 * a CI job does: `npm test` builds before jest runs, so the end-to-end tests judge what ships.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');
export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

/** The example policy and snapshot, at a fixed time well before the example exception expires. */
export const EXAMPLE_ARGS: readonly string[] = [
  '--policy',
  'examples/policy.yaml',
  '--snapshot',
  'examples/registry-snapshot.json',
  '--now',
  '2026-11-27T12:00:00Z',
];

const CHILD_ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export interface CliResult {
  /** The exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed (closed at once when absent). */
  readonly stdin?: string | Buffer;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /** Added to the child's environment (endpoint overrides for the local AWS servers, say). */
  readonly env?: Readonly<Record<string, string>>;
}

/** For a beforeAll: fails with a message that says what to do when the command has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) {
    throw new Error(
      `${CLI} is missing: the end-to-end tests run the built command; run "npm run build" first ` +
        '(or "npm test", which builds before running jest)',
    );
  }
}

function describeRun(args: readonly string[], stdout: string, stderr: string): string {
  return `ecr-admission ${args.join(' ')}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
}

/** Runs one command to completion: its exit code and everything it printed. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...CHILD_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // The command may exit (a bad option or file) before it reads stdin: that is not the test's failure.
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${describeRun(args, stdout, stderr)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A long-running command (`serve`): its process and what it has printed so far. */
export interface RunningCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly args: readonly string[];
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first complete stdout line that matches; rejects when the process exits first
   * or the time is up.
   */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited (at once when it already has). */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the process whatever its state; safe to call more than once (for afterAll). */
  kill(): Promise<void>;
}

export function startCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...CHILD_ENV, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => {});
  child.stdin.end();
  const output = { stdout: '', stderr: '' };
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('close', (code, signal) => {
      exit = { code, signal };
      done(exit);
    });
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });

  const waitFor = (stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolvePromise, reject) => {
      // Complete lines only: a line cut between two chunks could match with half a port number.
      const find = () =>
        output[stream]
          .split('\n')
          .slice(0, -1)
          .map((line) => line.match(pattern))
          .find((match) => match !== null);
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        child[stream].off('data', onData);
        child.off('close', onClose);
        outcome();
      };
      const onData = () => {
        // Listeners run in order: the collector above has already appended this chunk.
        const match = find();
        if (match) settle(() => resolvePromise(match));
      };
      const onClose = () =>
        settle(() =>
          reject(
            new Error(
              `exited (${JSON.stringify(exit)}) before printing ${pattern} on ${stream}: ${describeRun(args, output.stdout, output.stderr)}`,
            ),
          ),
        );
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              new Error(
                `no ${pattern} on ${stream} after ${timeoutMs} ms: ${describeRun(args, output.stdout, output.stderr)}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const already = find();
      if (already) return settle(() => resolvePromise(already));
      if (exit) return onClose();
      child[stream].on('data', onData);
      child.on('close', onClose);
    });

  const exited = (timeoutMs = 15_000) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `still running after ${timeoutMs} ms: ${describeRun(args, output.stdout, output.stderr)}`,
            ),
          ),
        timeoutMs,
      );
      exitedPromise.then((result) => {
        clearTimeout(timer);
        resolvePromise(result);
      });
    });

  return {
    child,
    args,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    waitForStdout: (pattern, timeoutMs) => waitFor('stdout', pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs) => waitFor('stderr', pattern, timeoutMs),
    exited,
    kill: async () => {
      if (exit) return;
      child.kill('SIGKILL');
      await exitedPromise;
    },
  };
}

/**
 * The command's contract for bad input: exit 2, nothing on stdout, one line on stderr that contains
 * every fragment (a file name, what is wrong).
 */
export function expectOneLineError(result: CliResult, ...fragments: readonly string[]): void {
  // On failure, jest prints the whole result, stderr included.
  expect(result).toMatchObject({ code: 2, stdout: '' });
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  for (const fragment of fragments) expect(lines[0]).toContain(fragment);
}

/** POSTs a JSON body to `serve` on 127.0.0.1, trusting its CA; the status and the body as text. */
export function postToServe(
  port: number,
  ca: Buffer,
  path: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        ca,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
