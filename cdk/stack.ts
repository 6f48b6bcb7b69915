/**
 * One stack, from a few purpose-named constructs: the decision cache, the admission endpoint, the
 * refresh pipeline and the operator's view. Infrastructure settings come from `DeploySettings`;
 * everything about what is admitted comes from the policy file.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AdmissionEndpoint } from './constructs/admission-endpoint';
import { DecisionCache } from './constructs/decision-cache';
import { Operations } from './constructs/operations';
import { RefreshPipeline } from './constructs/refresh-pipeline';
import type { DeployedPolicy } from './policy-source';
import type { DeploySettings } from './settings';

export interface EcrAdmissionStackProps extends StackProps {
  readonly settings: DeploySettings;
  readonly policy: DeployedPolicy;
  /** Overrides for tests: the refresh handlers' file and the state machine definition. */
  readonly refreshEntry?: string;
  readonly definitionFile?: string;
}

export class EcrAdmissionStack extends Stack {
  readonly cache: DecisionCache;
  readonly endpoint: AdmissionEndpoint;
  readonly refresh: RefreshPipeline;
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: EcrAdmissionStackProps) {
    super(scope, id, props);
    const { settings, policy } = props;
    const removalPolicy = settings.tableRemoval === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logs = {
      logRetention: settings.logRetentionDays as RetentionDays,
      logRemovalPolicy: removalPolicy,
    };

    this.cache = new DecisionCache(this, 'DecisionCache', { removalPolicy });
    this.endpoint = new AdmissionEndpoint(this, 'Admission', {
      cache: this.cache,
      policy,
      settings,
      ...logs,
    });
    this.refresh = new RefreshPipeline(this, 'Refresh', {
      cache: this.cache,
      policy,
      settings,
      ...logs,
      ...(props.refreshEntry && { handlerEntry: props.refreshEntry }),
      ...(props.definitionFile && { definitionFile: props.definitionFile }),
    });
    this.operations = new Operations(this, 'Operations', {
      admissionFunction: this.endpoint.function,
      api: this.endpoint.api,
      accessLogs: this.endpoint.accessLogs,
      stateMachine: this.refresh.stateMachine,
      pagesStateMachine: this.refresh.pagesStateMachine,
      deadLetters: this.refresh.deadLetters,
      buffer: this.refresh.buffer,
      latencyAlarmMs: settings.latencyAlarmMs,
    });

    new CfnOutput(this, 'WebhookUrl', {
      value: this.endpoint.url,
      description: 'Base URL of the webhook: `ecr-admission manifest --url <this>` points at <this>/validate',
    });
    new CfnOutput(this, 'DecisionTableName', { value: this.cache.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.operations.alarmTopic.topicArn,
      description: 'Subscribe to receive the alarms',
    });
    new CfnOutput(this, 'DashboardName', { value: this.operations.dashboard.dashboardName });
  }
}
