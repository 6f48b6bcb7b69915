/**
 * Coalescing the workflow's buffered events: events whose triggers ask for the same work (the same
 * image refreshed, the same repository listed, a reconciliation) are one execution's worth, started
 * with the latest of them. Safe because the execution starts after every event of the batch arrived,
 * so it reads ECR at least as fresh as each of them (ADR 0010). Nothing is deduplicated across
 * batches: an event that arrives after an execution read the facts is work of its own.
 */
import type { RefreshTrigger, TriggerBody } from './refresh';

/**
 * The work a trigger asks for: the trigger without what only describes its event (id, time, reason).
 * A refresh reads the image's tags from ECR, so the tags an event named are not part of its work; a
 * deletion removes the entries of the tags it names, so they are. None for an `ignore` trigger.
 */
export function workOf(trigger: TriggerBody): string | undefined {
  switch (trigger.kind) {
    case 'ignore':
      return undefined;
    case 'refresh-image': {
      const { registryId, region, repositoryName, digest } = trigger.image;
      return JSON.stringify([trigger.kind, registryId, region, repositoryName, digest]);
    }
    case 'delete-image': {
      const { registryId, region, repositoryName, digest, tags } = trigger.image;
      return JSON.stringify([trigger.kind, registryId, region, repositoryName, digest, [...tags].sort()]);
    }
    case 'refresh-repository':
    case 'delete-repository': {
      const { registryId, region, repositoryName } = trigger.scope;
      return JSON.stringify([trigger.kind, registryId ?? null, region ?? null, repositoryName ?? null]);
    }
    case 'reconcile':
    case 'rejudge-all':
      return JSON.stringify([trigger.kind]);
    case 'prepare-image': {
      // Every replica of a rollout asks for the same import: one execution's worth.
      const { action, registryId, region, repositoryName, tag, digest } = trigger.target;
      return JSON.stringify([
        trigger.kind,
        action,
        registryId,
        region,
        repositoryName,
        tag ?? null,
        digest ?? null,
      ]);
    }
    default: {
      // A new kind of trigger must say what its work is here, not fall through to "nothing to start".
      const unhandled: never = trigger;
      throw new Error(`no work defined for ${(unhandled as TriggerBody).kind}`);
    }
  }
}

/** A buffered event, parsed: its message id in the buffer and its trigger. */
export interface BufferedTrigger {
  readonly messageId: string;
  readonly trigger: RefreshTrigger;
}

/** The events of a batch that ask for one piece of work, and the one whose event starts it. */
export interface CoalescedWork<M extends BufferedTrigger> {
  readonly work: string;
  readonly latest: M;
  /** Every event of the group, the latest included, in batch order. */
  readonly events: readonly M[];
}

export interface Coalesced<M extends BufferedTrigger> {
  readonly work: readonly CoalescedWork<M>[];
  /** `ignore` triggers: nothing to start. */
  readonly ignored: readonly M[];
}

/** An event's time in milliseconds; an unreadable one sorts first (the parser already refused most). */
function timeOf(trigger: TriggerBody): number {
  const ms = Date.parse(trigger.eventTime);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * Groups a batch by the work its events ask for, in the order each work first appears. The latest
 * event of a group is the one with the latest time; of equal times, the one received last.
 */
export function coalesce<M extends BufferedTrigger>(batch: readonly M[]): Coalesced<M> {
  const groups = new Map<string, M[]>();
  const ignored: M[] = [];
  for (const message of batch) {
    const work = workOf(message.trigger);
    if (work === undefined) {
      ignored.push(message);
      continue;
    }
    const group = groups.get(work);
    if (group) group.push(message);
    else groups.set(work, [message]);
  }
  return {
    work: [...groups].map(([work, events]) => ({
      work,
      events,
      latest: events.reduce((latest, m) => (timeOf(m.trigger) >= timeOf(latest.trigger) ? m : latest)),
    })),
    ignored,
  };
}

/** What starts the workflow's executions (Step Functions `StartExecution`, or a local run). */
export interface WorkflowStarter {
  /**
   * Starts an execution by name with one event as its input. `already-started` when an execution of
   * that name exists (a redelivered batch): the work is under way. Throws when it could not start.
   */
  start(name: string, input: string): Promise<'started' | 'already-started'>;
}
