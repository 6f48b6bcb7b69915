/**
 * The refresh workflow's tasks: each Task state of statemachine/refresh-decision.asl.json, the
 * `${...}` placeholder CDK fills with its function's ARN, and the export of src/handlers/refresh.ts
 * that runs it. One table: CDK, the handlers and the local runner all derive from it, and a test holds
 * the ASL file's placeholders and the handlers' exports to exactly this.
 */
export const ASL_FILE = 'statemachine/refresh-decision.asl.json';

export const REFRESH_TASKS = {
  Plan: { placeholder: 'PlanFunctionArn', handler: 'plan' },
  Refresh: { placeholder: 'RefreshFunctionArn', handler: 'refresh' },
  Delete: { placeholder: 'DeleteFunctionArn', handler: 'deleteImage' },
  ListTargets: { placeholder: 'ListTargetsFunctionArn', handler: 'listTargets' },
  Rejudge: { placeholder: 'RejudgeFunctionArn', handler: 'rejudge' },
  RecordFailure: { placeholder: 'RecordFailureFunctionArn', handler: 'recordFailure' },
} as const;

export type RefreshTask = keyof typeof REFRESH_TASKS;
export type RefreshHandlerName = (typeof REFRESH_TASKS)[RefreshTask]['handler'];

export const REFRESH_TASK_NAMES = Object.keys(REFRESH_TASKS) as RefreshTask[];
