/**
 * Builds the buffer's consumer: the EventBridge event parser and Step Functions' StartExecution (or
 * another starter, such as a local run of the workflow).
 */
import { parseRefreshEvent } from '../adapters/ecr-events';
import { StepFunctionsStarter } from '../adapters/sfn-starter';
import { CoalesceService } from '../application/coalesce-service';
import type { WorkflowStarter } from '../domain/coalesce';

export type CoalesceWiringOptions =
  | { readonly stateMachineArn: string }
  | { readonly starter: WorkflowStarter };

export function createCoalesceService(options: CoalesceWiringOptions): CoalesceService {
  return new CoalesceService({
    parse: parseRefreshEvent,
    starter: 'starter' in options ? options.starter : new StepFunctionsStarter(options),
  });
}
