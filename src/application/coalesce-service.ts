/**
 * The buffer's consumer: a batch of EventBridge events becomes one workflow execution per piece of
 * work, each started with the latest event asking for it (src/domain/coalesce.ts). The state machine's
 * input stays one EventBridge event, as `ecr-admission refresh --event F` takes it.
 */
import { createHash } from 'node:crypto';
import { type BufferedTrigger, coalesce, type WorkflowStarter } from '../domain/coalesce';
import { InvalidEventError } from '../domain/errors';
import type { RefreshTrigger } from '../domain/refresh';

/** A message of the buffer: its id, and its body (the EventBridge event as JSON). */
export interface BufferedEvent {
  readonly messageId: string;
  readonly body: string;
}

/** Step Functions' execution names: 1 to 80 of these characters (others are refused or not logged). */
export const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * Executions started at once by one batch: StartExecution is throttled per account and region, and a
 * batch of distinct works still ends within the function's timeout when every attempt times out (a
 * unit test holds the sum).
 */
export const STARTS_IN_FLIGHT = 25;

/**
 * The execution's name: the work's kind and a hash of the work, then the id of the message whose event
 * starts it. The same batch delivered again names the same executions, so nothing starts twice.
 */
export function executionName(work: string, kind: string, messageId: string): string {
  const hash = createHash('sha256').update(work).digest('hex').slice(0, 16);
  return `${kind}-${hash}-${messageId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

export interface CoalesceReport {
  /** Events received in the batch. */
  readonly events: number;
  /** Executions started, or found already started. */
  readonly executions: readonly { readonly name: string; readonly kind: string; readonly events: number }[];
  readonly alreadyStarted: number;
  /** Events whose work an execution started for another event of the batch. */
  readonly coalesced: number;
  /** `ignore` events: nothing to start. */
  readonly ignored: number;
  /** Malformed or unknown events: logged, counted and dropped (redelivering them cannot help). */
  readonly refused: readonly { readonly messageId: string; readonly reason: string }[];
  /** Messages to deliver again: the events of each work whose execution could not be started. */
  readonly failed: readonly { readonly messageId: string; readonly error: unknown }[];
}

export interface CoalesceServiceOptions {
  /** The EventBridge event parser (src/adapters/ecr-events.ts). */
  readonly parse: (event: unknown) => RefreshTrigger;
  readonly starter: WorkflowStarter;
}

interface Parsed extends BufferedTrigger {
  readonly body: string;
}

export class CoalesceService {
  constructor(private readonly options: CoalesceServiceOptions) {}

  async startExecutions(batch: readonly BufferedEvent[]): Promise<CoalesceReport> {
    const parsed: Parsed[] = [];
    const refused: { messageId: string; reason: string }[] = [];
    for (const message of batch) {
      try {
        parsed.push({ ...message, trigger: this.options.parse(parseJson(message.body)) });
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        refused.push({ messageId: message.messageId, reason: error.message });
      }
    }

    const { work, ignored } = coalesce(parsed);
    const executions: { name: string; kind: string; events: number }[] = [];
    const failed: { messageId: string; error: unknown }[] = [];
    let alreadyStarted = 0;
    for (let i = 0; i < work.length; i += STARTS_IN_FLIGHT) {
      const chunk = work.slice(i, i + STARTS_IN_FLIGHT);
      const outcomes = await Promise.allSettled(
        chunk.map(({ work, latest }) => {
          const name = executionName(work, latest.trigger.kind, latest.messageId);
          return this.options.starter.start(name, latest.body).then((outcome) => ({ name, outcome }));
        }),
      );
      outcomes.forEach((outcome, j) => {
        const group = chunk[j];
        if (!group) return;
        if (outcome.status === 'rejected') {
          failed.push(...group.events.map((m) => ({ messageId: m.messageId, error: outcome.reason })));
          return;
        }
        if (outcome.value.outcome === 'already-started') alreadyStarted++;
        executions.push({
          name: outcome.value.name,
          kind: group.latest.trigger.kind,
          events: group.events.length,
        });
      });
    }

    return {
      events: batch.length,
      executions,
      alreadyStarted,
      coalesced: executions.reduce((sum, e) => sum + e.events - 1, 0),
      ignored: ignored.length,
      refused,
      failed,
    };
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new InvalidEventError('the message body is not JSON');
  }
}
