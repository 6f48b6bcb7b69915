/**
 * The refresh workflow: the state machine of statemachine/refresh-decision.asl.json, its Lambda tasks,
 * the EventBridge rules (each with its own pattern, retries and a dead-letter queue) and the
 * reconciliation schedule, which put their events on a buffer queue, the Coalesce function that starts
 * one execution per piece of work in each batch of it (ADR 0010), and the policy-change announcement
 * that re-judges the cache after a deploy.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Arn, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type EventPattern, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  DETAIL_TYPE,
  EVENT_SOURCE,
  IMAGE_ACTION_TYPES,
  IMAGE_SCAN_END_STATUSES,
  INSPECTOR_ECR_SCAN_FIELDS,
  POLICY_CHANGED,
  PREPARATION_REQUESTED,
  PULL_THROUGH_SYNCED,
  REPLICATE,
  SCAN_FREQUENCY_CHANGE,
  SETTING_CHANGE_CALLS,
} from '../../src/contracts/events';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../src/contracts/metrics';
import {
  ASL_FILE,
  EVENT_BUFFER,
  PAGES_ASL_FILE,
  PAGES_STATE_MACHINE_PLACEHOLDER,
  REFRESH_TASKS,
  type RefreshTask,
} from '../../src/contracts/workflow';
import { FUNCTION_ACTIONS } from '../../src/wiring/permissions';
import type { DeployedPolicy } from '../policy-source';
import type { DeploySettings } from '../settings';
import { bundledFunction, REPO_ROOT } from './bundled-function';
import type { DecisionCache } from './decision-cache';
import { functionRole } from './function-role';

export const DEFAULT_REFRESH_ENTRY = 'src/handlers/refresh.ts';
export const COALESCE_ENTRY = 'src/handlers/coalesce.ts';
export const DEFAULT_DEFINITION_FILE = ASL_FILE;
export const DEFAULT_PAGES_DEFINITION_FILE = PAGES_ASL_FILE;

/** The tasks whose placeholder a definition file holds: its state machine invokes those functions only. */
function tasksIn(definitionFile: string): RefreshTask[] {
  const text = readFileSync(definitionFile, 'utf8');
  return (Object.keys(REFRESH_TASKS) as RefreshTask[]).filter((task) =>
    text.includes(`\${${REFRESH_TASKS[task].placeholder}}`),
  );
}

/** The events that start the workflow, one rule each (the schedule is a rule of its own). */
export const EVENT_PATTERNS = {
  EcrImageScan: {
    source: [EVENT_SOURCE.ecr],
    detailType: [DETAIL_TYPE.imageScan],
    // A scan that FAILED is judged again too: the verdict of an earlier scan must not outlive it.
    detail: { 'scan-status': [...IMAGE_SCAN_END_STATUSES] },
  },
  Inspector2Scan: {
    source: [EVENT_SOURCE.inspector2],
    detailType: [DETAIL_TYPE.inspectorScan],
    // Only scans of ECR images: Inspector scans EC2 instances, Lambda functions and AMIs too.
    detail: Object.fromEntries(INSPECTOR_ECR_SCAN_FIELDS.map((field) => [field, [{ exists: true }]])),
  },
  EcrScanResourceChange: {
    source: [EVENT_SOURCE.ecr],
    detailType: [DETAIL_TYPE.scanResourceChange],
    detail: { 'action-type': [SCAN_FREQUENCY_CHANGE] },
  },
  EcrImageAction: {
    source: [EVENT_SOURCE.ecr],
    detailType: [DETAIL_TYPE.imageAction],
    detail: { result: ['SUCCESS'], 'action-type': [...IMAGE_ACTION_TYPES] },
  },
  EcrReplicationAction: {
    source: [EVENT_SOURCE.ecr],
    detailType: [DETAIL_TYPE.replicationAction],
    // A replica arrived in this region: judge it here before anyone deploys it.
    detail: { result: ['SUCCESS'], 'action-type': [REPLICATE] },
  },
  EcrPullThroughCacheAction: {
    source: [EVENT_SOURCE.ecr],
    detailType: [DETAIL_TYPE.pullThroughCacheAction],
    // An image imported through a pull-through cache rule: judged before its Pods are retried.
    detail: { 'sync-status': [PULL_THROUGH_SYNCED] },
  },
  PreparationRequested: {
    source: [PREPARATION_REQUESTED.source],
    detailType: [PREPARATION_REQUESTED.detailType],
  },
  Inspector2Finding: {
    source: [EVENT_SOURCE.inspector2],
    detailType: [DETAIL_TYPE.inspectorFinding],
    detail: { resources: { type: ['AWS_ECR_CONTAINER_IMAGE'] } },
  },
  EcrSettingChange: {
    source: [EVENT_SOURCE.ecr],
    detailType: [DETAIL_TYPE.apiCall],
    // A call that failed changed nothing.
    detail: {
      eventSource: ['ecr.amazonaws.com'],
      eventName: [...SETTING_CHANGE_CALLS],
      errorCode: [{ exists: false }],
    },
  },
  PolicyChanged: {
    source: [POLICY_CHANGED.source],
    detailType: [POLICY_CHANGED.detailType],
  },
} satisfies Record<string, EventPattern>;

export interface RefreshPipelineProps {
  readonly cache: DecisionCache;
  readonly policy: DeployedPolicy;
  readonly settings: DeploySettings;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** The handlers' file, relative to the repository root or absolute. */
  readonly handlerEntry?: string;
  readonly definitionFile?: string;
  readonly pagesDefinitionFile?: string;
}

export class RefreshPipeline extends Construct {
  /** Started by the events: handles one image, or hands paged work to `pagesStateMachine`. */
  readonly stateMachine: StateMachine;
  /** The paged work, each execution bounded, continuing in a new execution of itself. */
  readonly pagesStateMachine: StateMachine;
  readonly functions: Record<RefreshTask, NodejsFunction>;
  /** Where every rule puts its events; the Coalesce function starts the executions from it. */
  readonly buffer: Queue;
  readonly coalesceFunction: NodejsFunction;
  readonly eventSource: EventSourceMapping;
  /** Events EventBridge could not put on the buffer, and messages the Coalesce function kept failing on. */
  readonly deadLetters: Queue;
  readonly idempotencyTable: Table;
  readonly rules: Record<keyof typeof EVENT_PATTERNS | 'Reconcile', Rule>;

  constructor(scope: Construct, id: string, props: RefreshPipelineProps) {
    super(scope, id);
    const { settings, cache } = props;

    // Records of work done per event, so that a redelivered event does nothing twice; short-lived.
    this.idempotencyTable = new Table(this, 'Idempotency', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.idempotencyTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Holds only idempotency records that expire within hours; after a restore, a redelivered event ' +
        'would simply be processed again, and the conditional write keeps the cache correct.',
    });

    const environment = {
      TABLE_NAME: cache.table.tableName,
      POLICY: props.policy.json,
      OWN_ACCOUNT_ID: Aws.ACCOUNT_ID,
      IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
      CACHE_TTL_SECONDS: String(settings.cacheTtlSeconds),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
    const entry = props.handlerEntry ?? DEFAULT_REFRESH_ENTRY;
    // One function per task, all from one bundle (identical bundling is staged once).
    this.functions = Object.fromEntries(
      Object.entries(REFRESH_TASKS).map(([task, { handler }]) => [
        task,
        bundledFunction(this, task, {
          entry,
          handler,
          description: `ecr-admission refresh workflow: ${task} task`,
          // One role per task: each holds only what its own code calls.
          role: functionRole(this, `${task}Role`, {
            description: `ecr-admission refresh workflow: the ${task} task's permissions`,
            actions: FUNCTION_ACTIONS[task as RefreshTask],
            cache,
            policy: props.policy.policy,
            idempotencyTable: this.idempotencyTable,
          }),
          environment,
          // ECR calls are retried with backoff inside a task; the state machine retries the task.
          timeout: Duration.seconds(60),
          memorySize: 512,
          logRetention: props.logRetention,
          logRemovalPolicy: props.logRemovalPolicy,
        }),
      ]),
    ) as Record<RefreshTask, NodejsFunction>;

    // The paged work first: the event-driven state machine starts its executions.
    const pagesFile = resolve(REPO_ROOT, props.pagesDefinitionFile ?? DEFAULT_PAGES_DEFINITION_FILE);
    this.pagesStateMachine = this.workflowMachine('PagesStateMachine', pagesFile, props, {});
    // Past its budget an execution starts the next one of the same state machine ($$.StateMachine.Id).
    // A policy of its own: in the role's default policy, the ARN would make the state machine depend on itself.
    new Policy(this, 'PagesContinue', {
      roles: [this.pagesStateMachine.role],
      statements: [
        new PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [this.pagesStateMachine.stateMachineArn],
        }),
      ],
    });

    const definitionFile = resolve(REPO_ROOT, props.definitionFile ?? DEFAULT_DEFINITION_FILE);
    this.stateMachine = this.workflowMachine('StateMachine', definitionFile, props, {
      [PAGES_STATE_MACHINE_PLACEHOLDER]: this.pagesStateMachine.stateMachineArn,
    });
    // Fire and forget (states:startExecution, not .sync): no EventBridge rule for Step Functions to manage.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.pagesStateMachine.stateMachineArn],
      }),
    );

    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the EventBridge rule targets and of the buffer.',
    });
    this.buffer = new Queue(this, 'Buffer', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for a Lambda event source: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(
        EVENT_BUFFER.consumerTimeoutSeconds * EVENT_BUFFER.visibilityTimeoutFactor,
      ),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: EVENT_BUFFER.maxReceiveCount },
    });
    this.coalesceFunction = this.coalescer(props);
    // A mapping rather than SqsEventSource, which would also grant the role SQS actions the mapping
    // never calls: the role holds exactly what src/wiring/permissions.ts declares.
    this.eventSource = new EventSourceMapping(this, 'BufferSource', {
      target: this.coalesceFunction,
      eventSourceArn: this.buffer.queueArn,
      batchSize: EVENT_BUFFER.batchSize,
      maxBatchingWindow: Duration.seconds(settings.refreshBatchWindowSeconds),
      maxConcurrency: settings.refreshMaxConcurrency,
      reportBatchItemFailures: true,
    });
    const target = new SqsQueue(this.buffer, {
      deadLetterQueue: this.deadLetters,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });
    const patternRules = Object.fromEntries(
      Object.entries(EVENT_PATTERNS).map(([name, eventPattern]) => [
        name,
        new Rule(this, name, {
          description: `ecr-admission: ${name} starts the refresh workflow`,
          eventPattern,
        }),
      ]),
    ) as Record<keyof typeof EVENT_PATTERNS, Rule>;
    this.rules = {
      ...patternRules,
      Reconcile: new Rule(this, 'Reconcile', {
        description: 'ecr-admission: reconciles the cache with ECR, for events that were never delivered',
        schedule: Schedule.rate(Duration.hours(settings.reconcileEveryHours)),
      }),
    };
    for (const rule of Object.values(this.rules)) rule.addTarget(target);

    this.announcePolicy(props.policy, props.logRetention, props.logRemovalPolicy);
  }

  /**
   * The buffer's consumer: starts the event-driven state machine, once per piece of work of a batch.
   * Its role holds `states:StartExecution` on that state machine and what the event source mapping
   * needs on the buffer (src/wiring/permissions.ts), nothing else.
   */
  private coalescer(props: RefreshPipelineProps): NodejsFunction {
    return bundledFunction(this, 'Coalesce', {
      entry: COALESCE_ENTRY,
      handler: 'coalesce',
      description:
        'ecr-admission refresh workflow: starts one execution per piece of work in a batch of events',
      role: functionRole(this, 'CoalesceRole', {
        description: "ecr-admission refresh workflow: the Coalesce function's permissions",
        actions: FUNCTION_ACTIONS.Coalesce,
        cache: props.cache,
        policy: props.policy.policy,
        stateMachine: this.stateMachine,
        buffer: this.buffer,
      }),
      environment: {
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      timeout: Duration.seconds(EVENT_BUFFER.consumerTimeoutSeconds),
      memorySize: 256,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
  }

  /** A state machine from an ASL file, invoking the functions whose placeholders the file holds. */
  private workflowMachine(
    id: string,
    definitionFile: string,
    props: RefreshPipelineProps,
    substitutions: Record<string, string>,
  ): StateMachine {
    const invoked = tasksIn(definitionFile).map((task) => [task, this.functions[task]] as const);
    const machine = new StateMachine(this, id, {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(definitionFile),
      // The Map states' MaxConcurrency (4) and the pages budget belong to the orchestration, in the ASL file.
      definitionSubstitutions: {
        ...Object.fromEntries(invoked.map(([task, fn]) => [REFRESH_TASKS[task].placeholder, fn.functionArn])),
        ...substitutions,
      },
      // Every state transition is logged, without the facts it carries.
      logs: {
        destination: new LogGroup(this, `${id}Logs`, {
          retention: props.logRetention,
          removalPolicy: props.logRemovalPolicy,
        }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
      tracingEnabled: true,
      // The execution timeout is the ASL file's TimeoutSeconds: CDK's `timeout` applies only to
      // definitions built from chains, not to one read from a file.
    });
    // The definition invokes each function by its unqualified ARN: no versions or aliases (`:*`).
    machine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: invoked.map(([, fn]) => fn.functionArn),
      }),
    );
    Validations.of(machine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Granted by CDK for X-Ray tracing (xray:PutTraceSegments and friends) and CloudWatch Logs vended ' +
        'log delivery (logs:CreateLogDelivery and friends), neither of which supports resource-level permissions.',
    });
    return machine;
  }

  /**
   * On every deploy that changes the policy (the physical id carries its hash), after the functions
   * and rules carry the new policy, puts a `Policy Changed` event that re-judges the cached entries.
   */
  private announcePolicy(policy: DeployedPolicy, logRetention: RetentionDays, removal: RemovalPolicy): void {
    const defaultBus = Arn.format(
      { service: 'events', resource: 'event-bus', resourceName: 'default' },
      Stack.of(this),
    );
    const putEvent: AwsSdkCall = {
      service: 'EventBridge',
      action: 'PutEvents',
      parameters: {
        Entries: [
          {
            Source: POLICY_CHANGED.source,
            DetailType: POLICY_CHANGED.detailType,
            Detail: JSON.stringify({ policyHash: policy.hash }),
            EventBusName: 'default',
          },
        ],
      },
      physicalResourceId: PhysicalResourceId.of(`policy-${policy.hash}`),
    };
    const announce = new AwsCustomResource(this, 'AnnouncePolicy', {
      onCreate: putEvent,
      onUpdate: putEvent,
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({ actions: ['events:PutEvents'], resources: [defaultBus] }),
      ]),
      // The runtime's SDK has PutEvents; installing the latest at deploy time would tie deploys to npm.
      installLatestAwsSdk: false,
      logGroup: new LogGroup(this, 'AnnouncePolicyLogs', { retention: logRetention, removalPolicy: removal }),
    });
    // EventBridge delivers to the buffer only once its queue policy lets it; the consumer starts the work.
    announce.node.addDependency(
      this.rules.PolicyChanged,
      this.buffer,
      this.eventSource,
      this.stateMachine,
      this.pagesStateMachine,
      ...Object.values(this.functions),
    );

    // The library's singleton provider function, shared by every AwsCustomResource of the stack.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's AwsCustomResource provider function is created by the library with this managed policy; " +
          'it runs only during deployments, to put one event on the default bus.',
      });
    }
  }
}
