/**
 * The webhook endpoint: the admission function behind a REST API (why REST and not HTTP API:
 * docs/adr/0002-rest-api-for-the-webhook-endpoint.md). Only `POST /validate` and `POST /mutate`
 * answer, each also as `/{cluster}` (the cluster's name, for the admitted inventory); the EKS control plane sends no credentials, so what protects the endpoint is where it can be
 * reached from, how fast it can be called, and what it says.
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../src/contracts/metrics';
import { FUNCTION_ACTIONS } from '../../src/wiring/permissions';
import type { DeployedPolicy } from '../policy-source';
import type { DeploySettings } from '../settings';
import { bundledFunction, UNUSED_IN_LAMBDA } from './bundled-function';
import type { DecisionCache } from './decision-cache';
import { functionRole } from './function-role';

/** The webhook paths; `mutate` is reserved for a future mutating webhook and reaches the same function. */
/**
 * What the admission function requires only on a rare path, each shipped as a file of its own next to
 * its bundle: the ECR client on a cache miss, the EventBridge client to ask for an image's import or
 * restore (docs/performance.md). The benchmarks bundle the function the same way.
 */
export const ADMISSION_LAZY_MODULES = [
  { specifier: './ecr-sdk', entry: 'src/adapters/ecr-sdk.ts' },
  { specifier: './preparation-events', entry: 'src/adapters/preparation-events.ts' },
] as const;

export const WEBHOOK_PATHS = ['validate', 'mutate'] as const;
export const STAGE_NAME = 'v1';

export interface AdmissionEndpointProps {
  readonly cache: DecisionCache;
  readonly policy: DeployedPolicy;
  readonly settings: DeploySettings;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

export class AdmissionEndpoint extends Construct {
  readonly function: NodejsFunction;
  readonly api: RestApi;
  /** The stage's access log: one JSON object per request. */
  readonly accessLogs: LogGroup;
  /** The base URL: the webhook configuration appends `/validate`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: AdmissionEndpointProps) {
    super(scope, id);
    const { settings } = props;

    const role = functionRole(this, 'Role', {
      description: 'ecr-admission webhook: reads the decision cache and ECR, writes misses through',
      actions: FUNCTION_ACTIONS.Admission,
      cache: props.cache,
      policy: props.policy.policy,
    });

    this.function = bundledFunction(this, 'Function', {
      entry: 'src/handlers/admission.ts',
      handler: 'handler',
      // The ECR client is needed only on a cache miss, the EventBridge client only to ask for an
      // image's import or restore (docs/performance.md).
      lazyModules: ADMISSION_LAZY_MODULES,
      leaveToRuntime: UNUSED_IN_LAMBDA,
      description: 'ecr-admission: answers AdmissionReviews from the decision cache',
      role,
      // The API server stops waiting after the webhook timeout; nothing is gained by running longer.
      timeout: Duration.seconds(settings.webhookTimeoutSeconds),
      // Memory buys CPU: cold starts and JSON parsing of large reviews are CPU-bound.
      memorySize: 1024,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      // Off by default: a new account's concurrency limit (10) leaves nothing to reserve (docs/deploy.md).
      ...(settings.admissionReservedConcurrency !== undefined && {
        reservedConcurrentExecutions: settings.admissionReservedConcurrency,
      }),
      environment: {
        TABLE_NAME: props.cache.table.tableName,
        POLICY: props.policy.json,
        DEADLINE_MS: String(settings.deadlineMs),
        WARM_CACHE_TTL_SECONDS: String(settings.warmCacheTtlSeconds),
        CACHE_TTL_SECONDS: String(settings.cacheTtlSeconds),
        INVENTORY_TTL_SECONDS: String(settings.inventoryTtlSeconds),
        INVENTORY_REFRESH_SECONDS: String(settings.inventoryRefreshSeconds),
        OWN_ACCOUNT_ID: Aws.ACCOUNT_ID,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.accessLogs = accessLogs;
    const isPrivate = settings.endpointType === 'private';
    this.api = new RestApi(this, 'Api', {
      description: 'ecr-admission: Kubernetes validating webhook for Amazon ECR images',
      endpointConfiguration: isPrivate
        ? {
            types: [EndpointType.PRIVATE],
            vpcEndpoints: settings.vpcEndpointIds.map((vpcEndpointId) =>
              InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(this, vpcEndpointId, {
                vpcEndpointId,
                port: 443,
              }),
            ),
          }
        : { types: [EndpointType.REGIONAL] },
      policy: resourcePolicy(settings),
      // Logging needs the account's API Gateway logging role, an account-wide setting shared by every
      // API of the region: set only when the settings say so (apiGatewayAccountRole, docs/deploy.md),
      // and kept on stack deletion because other APIs may rely on it.
      cloudWatchRole: settings.apiGatewayAccountRole === 'create',
      ...(settings.apiGatewayAccountRole === 'create' && {
        cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      }),
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: settings.throttleRateLimit,
        throttlingBurstLimit: settings.throttleBurstLimit,
        // Errors only, and never request bodies: a review carries the whole workload object.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });

    // API Gateway writes execution logs to a group of this name, which it would create with no
    // retention: created here first, with the stack's retention.
    const executionLogs = new LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${STAGE_NAME}`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);

    // The stack's own WebhookUrl output replaces the generated one (which ends in a slash).
    this.api.node.tryRemoveChild('Endpoint');

    const integration = new LambdaIntegration(this.function, {
      proxy: true,
      timeout: Duration.seconds(settings.webhookTimeoutSeconds),
      allowTestInvoke: false,
    });
    // Anything that is not an AdmissionReview is turned away before it costs an invocation.
    const reviewModel = this.api.addModel('AdmissionReview', {
      contentType: 'application/json',
      modelName: 'AdmissionReview',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'AdmissionReview',
        type: JsonSchemaType.OBJECT,
        required: ['apiVersion', 'kind', 'request'],
        properties: {
          apiVersion: {
            type: JsonSchemaType.STRING,
            enum: ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'],
          },
          kind: { type: JsonSchemaType.STRING, enum: ['AdmissionReview'] },
          request: { type: JsonSchemaType.OBJECT, required: ['uid'] },
        },
      },
    });
    const validator = this.api.addRequestValidator('ReviewBody', {
      validateRequestBody: true,
      // No parameters are required; the API server adds `?timeout=`, which is allowed.
      validateRequestParameters: true,
    });
    const reason =
      'The EKS control plane calls admission webhooks without credentials (no IAM signature, token or ' +
      'client certificate), so the method cannot require authorization; the resource policy, stage ' +
      'throttling and optional WAF protect it instead (ADR 0002).';
    for (const path of WEBHOOK_PATHS) {
      const bare = this.api.root.addResource(path);
      // The bare path is cluster `default`; `/{cluster}` names it (validated by the function: 400).
      for (const [resource, parameters] of [
        [bare, {}],
        [bare.addResource('{cluster}'), { 'method.request.path.cluster': true }],
      ] as const) {
        const method = resource.addMethod('POST', integration, {
          authorizationType: AuthorizationType.NONE,
          requestValidator: validator,
          requestModels: { 'application/json': reviewModel },
          requestParameters: parameters,
        });
        Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
        Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
      }
    }
    this.api.addGatewayResponse('NotFound', {
      type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: { 'application/json': '{"error":"no such endpoint; use POST /validate"}' },
    });
    this.api.addGatewayResponse('NotAReview', {
      type: ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json':
          '{"error":"the body is not an AdmissionReview: $context.error.validationErrorString"}',
      },
    });

    if (settings.webAclArn) {
      new CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: settings.webAclArn,
      });
    } else {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is optional (context key webAclArn): a web ACL costs a fixed monthly fee, and the stage is ' +
          'already bounded by throttling, a request model and, when allowedSourceCidrs or a private ' +
          'endpoint is set, the resource policy (ADR 0002).',
      });
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-wide API Gateway logging role must be able to write to any API log group; AWS ' +
          'maintains this managed policy for exactly that purpose.',
      });
    }

    this.url = `https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${STAGE_NAME}`;
  }
}

/**
 * Who may call: anyone for the webhook paths (the control plane has no identity to present), narrowed
 * to source addresses and VPC endpoints when the settings name them. Anything else is refused by the
 * policy's implicit deny.
 */
function resourcePolicy(settings: DeploySettings): PolicyDocument {
  const isPrivate = settings.endpointType === 'private';
  const conditions: Record<string, Record<string, string[]>> = {};
  if (settings.allowedSourceCidrs.length > 0) {
    conditions.IpAddress = {
      [isPrivate ? 'aws:VpcSourceIp' : 'aws:SourceIp']: settings.allowedSourceCidrs,
    };
  }
  if (isPrivate) conditions.StringEquals = { 'aws:SourceVpce': settings.vpcEndpointIds };
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: WEBHOOK_PATHS.flatMap((path) => [
          `execute-api:/*/POST/${path}`,
          `execute-api:/*/POST/${path}/*`,
        ]),
        ...(Object.keys(conditions).length > 0 && { conditions }),
      }),
    ],
  });
}
