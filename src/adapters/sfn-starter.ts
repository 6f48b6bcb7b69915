/**
 * Starts the refresh state machine's executions with Step Functions' StartExecution. An execution name
 * is unique per state machine for 90 days: the same name with the same input while it runs succeeds
 * again, and otherwise answers `ExecutionAlreadyExists`; either way the work is under way, so a
 * redelivered batch starts nothing twice.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AWS_CALL_TIMEOUTS } from '../contracts/settings';
import type { WorkflowStarter } from '../domain/coalesce';
import { boundedRequestHandler, type CallTimeouts } from './aws-http';

/** The IAM actions of the calls this adapter sends (held to them by test/contract/iam.test.ts). */
export const WORKFLOW_START_ACTIONS = ['states:StartExecution'] as const;

export interface StepFunctionsStarterOptions {
  readonly stateMachineArn: string;
  readonly timeouts?: CallTimeouts;
  /** A client to use instead of the default (tests). */
  readonly client?: SFNClient;
}

export class StepFunctionsStarter implements WorkflowStarter {
  private readonly client: SFNClient;

  constructor(private readonly options: StepFunctionsStarterOptions) {
    const timeouts = options.timeouts ?? AWS_CALL_TIMEOUTS.stepFunctions;
    this.client =
      options.client ??
      new SFNClient({ requestHandler: boundedRequestHandler(timeouts), maxAttempts: timeouts.maxAttempts });
  }

  async start(name: string, input: string): Promise<'started' | 'already-started'> {
    try {
      await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.options.stateMachineArn, name, input }),
      );
      return 'started';
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists') return 'already-started';
      throw error;
    }
  }
}
