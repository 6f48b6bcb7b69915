/**
 * The operator's view: one dashboard (decisions, cache hit ratio, admission latency, workflow failures,
 * event-to-verdict lag) and alarms, published to one SNS topic, on what needs a person: what the API
 * server sees (5xx answers, throttled calls, slow answers), admission errors and throttles, failed
 * workflow runs, events that never reached the workflow and events left waiting in its buffer. Metric math fills missing data with 0: a
 * period without requests is a healthy one, not a gap that breaks the expression.
 */
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
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
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  LOG_METRIC,
  METRIC,
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_NAME,
} from '../../src/contracts/metrics';

export interface OperationsProps {
  readonly admissionFunction: NodejsFunction;
  readonly api: RestApi;
  /** The API's access log (JSON, with `status`): throttled requests are counted from it. */
  readonly accessLogs: ILogGroup;
  readonly stateMachine: StateMachine;
  /** The paged work's state machine: its failures are the workflow's failures too. */
  readonly pagesStateMachine: StateMachine;
  readonly deadLetters: Queue;
  /** The queue the workflow's events wait in before the Coalesce function starts executions for them. */
  readonly buffer: Queue;
  readonly latencyAlarmMs: number;
}

const PERIOD = Duration.minutes(5);

/**
 * The age of the buffer's oldest event past which the workflow is behind. A batch waits at most the
 * batching window (300 s at most) and its starts; an event whose start failed waits a visibility timeout
 * (6 minutes) before it is delivered again. Past 15 minutes, executions cannot be started, or not fast
 * enough: refreshes lag the events (ADR 0010).
 */
export const BUFFER_AGE_ALARM_SECONDS = 900;

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

    // Without this, the topic policy (which CDK writes for enforceSSL) replaces the default one and
    // CloudWatch may not publish: no alarm would ever be delivered.
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );

    const latencyP50 = serviceMetric(METRIC.AdmissionLatency, 'p50', 'p50');
    const latencyP99 = serviceMetric(METRIC.AdmissionLatency, 'p99', 'p99');
    const apiRequests = props.api.metricCount({ period: PERIOD, statistic: 'Sum' });
    const apiServerErrors = props.api.metricServerError({ period: PERIOD, statistic: 'Sum' });
    const apiErrorRate = new MathExpression({
      expression: 'IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)',
      label: 'API 5xx rate (%)',
      period: PERIOD,
      usingMetrics: { requests: apiRequests, errors: apiServerErrors },
    });
    const apiLatencyP99 = props.api.metricLatency({ period: PERIOD, statistic: 'p99', label: 'API p99' });
    // API Gateway publishes no metric of its own for throttled (429) requests: counted from the access log.
    const throttledFilter = new MetricFilter(this, 'ApiThrottledFilter', {
      logGroup: props.accessLogs,
      filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: METRICS_NAMESPACE,
      metricName: LOG_METRIC.ApiThrottled,
      metricValue: '1',
      defaultValue: 0,
    });
    const apiThrottled = throttledFilter.metric({
      period: PERIOD,
      statistic: 'Sum',
      label: 'Throttled (429)',
    });
    const functionThrottles = admissionFunction.metricThrottles({ period: PERIOD, statistic: 'Sum' });
    const workflowFailures = new MathExpression({
      expression:
        'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0) + ' +
        'FILL(pagesFailed, 0) + FILL(pagesTimedOut, 0) + FILL(pagesAborted, 0)',
      label: 'Failed, timed out or aborted runs',
      period: PERIOD,
      usingMetrics: {
        failed: stateMachine.metricFailed({ period: PERIOD }),
        timedOut: stateMachine.metricTimedOut({ period: PERIOD }),
        aborted: stateMachine.metricAborted({ period: PERIOD }),
        pagesFailed: props.pagesStateMachine.metricFailed({ period: PERIOD }),
        pagesTimedOut: props.pagesStateMachine.metricTimedOut({ period: PERIOD }),
        pagesAborted: props.pagesStateMachine.metricAborted({ period: PERIOD }),
      },
    });
    const deadLetterDepth = deadLetters.metricApproximateNumberOfMessagesVisible({
      period: PERIOD,
      statistic: 'Maximum',
    });
    const bufferAge = props.buffer.metricApproximateAgeOfOldestMessage({
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
      alarm(
        'ApiErrorRate',
        'More than 1% of webhook calls got HTTP 5xx from the API (function errors, timeouts, integration ' +
          'failures): with failurePolicy Fail, the API server refuses those objects',
        {
          metric: apiErrorRate,
          threshold: 1,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        },
      ),
      alarm(
        'ApiThrottled',
        'The API stage throttled webhook calls (HTTP 429): raise throttleRateLimit/throttleBurstLimit, or ' +
          'find who is calling',
        {
          metric: apiThrottled,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      ),
      alarm(
        'AdmissionThrottles',
        'Lambda throttled the admission function (account or reserved concurrency exhausted): reviews get ' +
          'HTTP 5xx; see admissionReservedConcurrency',
        {
          metric: functionThrottles,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      ),
      alarm(
        'ApiLatency',
        `Webhook calls take more than ${props.latencyAlarmMs} ms at p99, as the API server sees them`,
        {
          metric: apiLatencyP99,
          threshold: props.latencyAlarmMs,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
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
      alarm(
        'DeadLetters',
        'Events could not start the refresh workflow and wait in the dead-letter queue: EventBridge could ' +
          'not put them on the buffer, or the Coalesce function failed on them at every delivery',
        {
          metric: deadLetterDepth,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      ),
      alarm(
        'EventsRefused',
        'The refresh workflow received a malformed event, or one of a type it does not know: it was dropped ' +
          '(the Coalesce function logs it as "event refused", with why)',
        {
          metric: serviceMetric(METRIC.EventsRefused, 'Sum'),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      ),
      alarm(
        'BufferBacklog',
        `An event has waited in the refresh buffer for more than ${BUFFER_AGE_ALARM_SECONDS} s: executions ` +
          'cannot be started (Step Functions throttling or errors, the Coalesce function failing), or not ' +
          'as fast as events arrive; see refreshMaxConcurrency',
        {
          metric: bufferAge,
          threshold: BUFFER_AGE_ALARM_SECONDS,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        },
      ),
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
            expression: '100 * FILL(hits, 0) / (FILL(hits, 0) + FILL(misses, 0))',
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
        left: [latencyP50, latencyP99, apiLatencyP99],
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
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Refresh events: buffered, executions started, coalesced into another execution, refused',
        left: [
          serviceMetric(METRIC.BufferedEvents, 'Sum', 'Events'),
          serviceMetric(METRIC.ExecutionsStarted, 'Sum', 'Executions started'),
          serviceMetric(METRIC.EventsCoalesced, 'Sum', 'Events coalesced'),
          serviceMetric(METRIC.EventsRefused, 'Sum', 'Events refused'),
        ],
        right: [bufferAge.with({ label: 'Oldest buffered event (s)' })],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Exposure: admitted images that turned denied where they run (events announced, failed)',
        left: [
          serviceMetric(METRIC.ExposureEvents, 'Sum', 'Exposure events'),
          serviceMetric(METRIC.ExposureEventFailures, 'Sum', 'Not announced'),
        ],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'What the API server sees',
        left: [apiErrorRate],
        right: [apiThrottled, functionThrottles.with({ label: 'Function throttles' })],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
