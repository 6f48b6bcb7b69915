/**
 * The operator's view: one dashboard (decisions, cache hit ratio, admission latency, workflow failures,
 * event-to-verdict lag) and alarms, published to one SNS topic, on what needs a person: admission
 * errors, slow admissions, failed workflow runs and events that never reached the workflow.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, type MetricName, SERVICE_NAME } from '../../src/contracts/metrics';

export interface OperationsProps {
  readonly admissionFunction: NodejsFunction;
  readonly stateMachine: StateMachine;
  readonly deadLetters: Queue;
  readonly latencyAlarmMs: number;
}

const PERIOD = Duration.minutes(5);

/** A metric the functions publish with Powertools (namespace EcrAdmission, dimension service). */
export function serviceMetric(metricName: MetricName, statistic: string, label?: string): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: PERIOD,
    ...(label && { label }),
  });
}

export class Operations extends Construct {
  readonly dashboard: Dashboard;
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { admissionFunction, stateMachine, deadLetters } = props;

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'ecr-admission alarms',
      enforceSSL: true,
    });
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Carries only alarm state changes (names and thresholds, no workload or image data); CloudWatch ' +
        'cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key for it ' +
        'would add cost without protecting anything sensitive.',
    });

    const latencyP50 = serviceMetric(METRIC.AdmissionLatency, 'p50', 'p50');
    const latencyP99 = serviceMetric(METRIC.AdmissionLatency, 'p99', 'p99');
    const workflowFailures = new MathExpression({
      expression: 'failed + timedOut + aborted',
      label: 'Failed, timed out or aborted runs',
      period: PERIOD,
      usingMetrics: {
        failed: stateMachine.metricFailed({ period: PERIOD }),
        timedOut: stateMachine.metricTimedOut({ period: PERIOD }),
        aborted: stateMachine.metricAborted({ period: PERIOD }),
      },
    });
    const deadLetterDepth = deadLetters.metricApproximateNumberOfMessagesVisible({
      period: PERIOD,
      statistic: 'Maximum',
    });

    const alarm = (
      name: string,
      description: string,
      props: Omit<ConstructorParameters<typeof Alarm>[2], 'alarmDescription'>,
    ) => {
      const created = new Alarm(this, name, {
        alarmDescription: description,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        ...props,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      return created;
    };
    this.alarms = [
      alarm(
        'AdmissionErrors',
        'The admission function failed (an error, not a denial): reviews get HTTP 5xx',
        {
          metric: admissionFunction.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      ),
      alarm(METRIC.AdmissionLatency, `Admission latency p99 is above ${props.latencyAlarmMs} ms`, {
        metric: latencyP99,
        threshold: props.latencyAlarmMs,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      alarm('WorkflowFailures', 'A refresh workflow run failed, timed out or was aborted', {
        metric: workflowFailures,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      alarm('DeadLetters', 'Events could not start the refresh workflow and wait in the dead-letter queue', {
        metric: deadLetterDepth,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
    ];

    const hits = serviceMetric(METRIC.CacheHits, 'Sum');
    const misses = serviceMetric(METRIC.CacheMisses, 'Sum');
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Admission decisions',
        left: [METRIC.Allowed, METRIC.Denied, METRIC.Warned].map((name) => serviceMetric(name, 'Sum', name)),
        stacked: true,
        width: 8,
      }),
      new GraphWidget({
        title: 'Decision cache hit ratio (%)',
        left: [
          new MathExpression({
            expression: '100 * hits / (hits + misses)',
            label: 'Hit ratio',
            period: PERIOD,
            usingMetrics: { hits, misses },
          }),
        ],
        leftYAxis: { min: 0, max: 100 },
        width: 8,
      }),
      new GraphWidget({
        title: 'Admission latency (ms)',
        left: [latencyP50, latencyP99],
        leftAnnotations: [{ value: props.latencyAlarmMs, label: 'alarm' } satisfies HorizontalAnnotation],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Refresh workflow',
        left: [
          stateMachine.metricSucceeded({ period: PERIOD, label: 'Succeeded runs' }),
          workflowFailures,
          serviceMetric(METRIC.RefreshFailures, 'Sum', 'Images not refreshed'),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Event-to-verdict lag (ms)',
        left: [
          serviceMetric(METRIC.EventToVerdictLag, 'p50', 'p50'),
          serviceMetric(METRIC.EventToVerdictLag, 'p99', 'p99'),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead letters and ECR errors',
        left: [deadLetterDepth],
        right: [
          serviceMetric(METRIC.EcrErrors, 'Sum', 'ECR errors'),
          serviceMetric(METRIC.FactsUnavailable, 'Sum', 'Answered by the failure mode'),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
