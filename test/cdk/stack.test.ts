/**
 * The stack as `npx cdk synth` produces it from cdk.json and deploy/policy.yaml: synthesized once,
 * offline, with the functions bundled by the local esbuild and cdk-nag's AwsSolutions checks; every
 * test below reads that one cloud assembly.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { parse as parseYaml } from 'yaml';
import { UNUSED_IN_LAMBDA } from '../../cdk/constructs/bundled-function';
import { BUFFER_AGE_ALARM_SECONDS } from '../../cdk/constructs/operations';
import { WORKFLOW_START_ACTIONS } from '../../src/adapters/sfn-starter';
import { EVENT_BUFFER, REFRESH_TASKS } from '../../src/contracts/workflow';
import { BUFFER_CONSUMER_ACTIONS } from '../../src/wiring/permissions';
import { type CliSynth, cdkCli, REPO_ROOT, removeTemporaryDirectories, templateOf } from './synth';

let synth: CliSynth;
let template: Template;

beforeAll(() => {
  synth = cdkCli();
  if (synth.status !== 0) throw new Error(`cdk synth failed:\n${synth.stderr}`);
  template = templateOf(synth);
}, 120_000);

afterAll(removeTemporaryDirectories);

type Resources = Record<
  string,
  // biome-ignore lint/suspicious/noExplicitAny: template properties are JSON, read by path in assertions
  { Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] }
>;

function only(type: string, props: Record<string, unknown> = {}): [string, Resources[string]] {
  const found = Object.entries(template.findResources(type, { Properties: props }) as Resources);
  expect(found).toHaveLength(1);
  return found[0] as [string, Resources[string]];
}

/** The event-driven state machine (it runs the Plan task), or the pages state machine it starts. */
function machine(which: 'refresh' | 'pages' = 'refresh'): [string, Resources[string]] {
  const found = Object.entries(template.findResources('AWS::StepFunctions::StateMachine') as Resources);
  expect(found).toHaveLength(2);
  const isRefresh = (m: Resources[string]) =>
    'PlanFunctionArn' in (m.Properties.DefinitionSubstitutions ?? {});
  return found.find(([, m]) => isRefresh(m) === (which === 'refresh')) as [string, Resources[string]];
}

/** The workflow's buffer: the queue that redrives to the other, the dead-letter queue. */
const buffer = () => only('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
const deadLetters = () => only('AWS::SQS::Queue', { RedrivePolicy: Match.absent() });
const coalesceFunction = () => only('AWS::Lambda::Function', { Handler: 'index.coalesce' });

const admissionFunction = () => only('AWS::Lambda::Function', { Handler: 'index.handler', Timeout: 5 });
const decisionTable = () =>
  only('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] });

/** Every statement of every identity policy in the stack, with the role it is attached to. */
function statements(): { roles: unknown[]; Action: string | string[]; Resource: unknown; Effect: string }[] {
  return Object.values(template.findResources('AWS::IAM::Policy') as Resources).flatMap((policy) =>
    policy.Properties.PolicyDocument.Statement.map((s: Record<string, unknown>) => ({
      ...s,
      roles: policy.Properties.Roles,
    })),
  );
}

function actionsOf(roleId: string): string[] {
  return statements()
    .filter((s) => JSON.stringify(s.roles).includes(roleId))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('npx cdk synth', () => {
  test('succeeds offline, with the AwsSolutions checks clean', () => {
    expect(synth.status).toBe(0);
    expect(synth.stderr).not.toMatch(/AwsSolutions-|Validation failed/);
    const report = JSON.parse(readFileSync(join(synth.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: { violations?: unknown[] }) => r.violations ?? [])).toEqual([]);
    process.stdout.write(`cdk synth (bundling included) took ${synth.seconds.toFixed(1)} s\n`);
  });
});

describe('the decision cache', () => {
  test('is on demand, keyed by pk, with TTL on expiresAt, point-in-time recovery and encryption', () => {
    const [, table] = decisionTable();
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: expect.arrayContaining([{ AttributeName: 'pk', AttributeType: 'S' }]),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('has the byRepository index (repository and pk, projecting facts, verdict, expiresAt and kind) and the inventoryByDigest index (inventoryDigest and pk, projecting all)', () => {
    const [, table] = decisionTable();
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byRepository',
        KeySchema: [
          { AttributeName: 'repository', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: ['facts', 'verdict', 'expiresAt', 'kind'],
        },
      },
      {
        IndexName: 'inventoryByDigest',
        KeySchema: [
          { AttributeName: 'inventoryDigest', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  test('is retained, and protected from deletion, with the production settings of cdk.json', () => {
    const [, table] = decisionTable();
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
  });

  test('the idempotency table is keyed by id, with TTL on expiration', () => {
    const [, table] = only('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] });
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});

describe('the functions', () => {
  const ownFunctions = () =>
    Object.entries(template.findResources('AWS::Lambda::Function') as Resources).filter(
      ([id]) => !id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
    );

  test('all run Node.js 22 or newer on arm64', () => {
    expect(ownFunctions()).toHaveLength(9);
    for (const [id, fn] of ownFunctions()) {
      const major = Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)?.[1]);
      expect({ id, major: major >= 22, arch: fn.Properties.Architectures }).toEqual({
        id,
        major: true,
        arch: ['arm64'],
      });
    }
  });

  test('the admission function has exactly its configuration, with the policy as validated JSON', () => {
    const [, fn] = admissionFunction();
    const [tableId] = decisionTable();
    const policy = parseYaml(readFileSync(join(REPO_ROOT, 'deploy/policy.yaml'), 'utf8'));
    expect(fn.Properties.Environment.Variables).toEqual({
      TABLE_NAME: { Ref: tableId },
      POLICY: JSON.stringify(policy),
      DEADLINE_MS: '2500',
      WARM_CACHE_TTL_SECONDS: '30',
      CACHE_TTL_SECONDS: String(7 * 86_400),
      INVENTORY_TTL_SECONDS: String(30 * 86_400),
      INVENTORY_REFRESH_SECONDS: '3600',
      OWN_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
      POWERTOOLS_SERVICE_NAME: 'ecr-admission',
      POWERTOOLS_METRICS_NAMESPACE: 'EcrAdmission',
    });
  });

  test('the admission bundle is minified CommonJS with the AWS SDK inside', () => {
    const [id] = admissionFunction();
    const assetDir = join(synth.outdir, template.toJSON().Resources[id].Metadata['aws:asset:path']);
    // The ECR client, needed only on a cache miss, and the EventBridge client, needed only to ask for an
    // image's import or restore, are files of their own that load on first use.
    expect(readdirSync(assetDir).sort()).toEqual(['ecr-sdk.js', 'index.js', 'preparation-events.js']);
    const bundle = readFileSync(join(assetDir, 'index.js'), 'utf8');
    const lazy = readFileSync(join(assetDir, 'ecr-sdk.js'), 'utf8');
    const events = readFileSync(join(assetDir, 'preparation-events.js'), 'utf8');
    expect(bundle).toContain('require("./preparation-events")');
    expect(bundle).not.toContain('AWSEvents.PutEvents');
    expect(events).toContain('AWSEvents');
    // DynamoDB's operation names and ECR's JSON protocol target come from the bundled SDK clients.
    expect(bundle).toContain('BatchGetItem');
    expect(bundle).toContain('require("./ecr-sdk")');
    expect(bundle).not.toContain('AmazonEC2ContainerRegistry_V20150921');
    expect(lazy).toContain('AmazonEC2ContainerRegistry_V20150921');
    expect(lazy).toContain('EcrSdkReads');
    // Nothing is left to the runtime's SDK but the optional CRT signer, which the SDK only tries, and
    // the credential providers the default chain imports only when the environment has no credentials.
    const sdkRequires = new Set([...bundle.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]));
    for (const name of sdkRequires) expect(name).toBe('@aws-sdk/signature-v4-crt');
    const sdkImports = new Set([...bundle.matchAll(/import\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]));
    for (const name of sdkImports) expect(UNUSED_IN_LAMBDA).toContain(name);
    expect(bundle).toContain('AWS_ACCESS_KEY_ID');
    // Minified: long lines (only template literals and legal comments keep their line breaks).
    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
    process.stdout.write(
      `admission bundle: ${(statSync(join(assetDir, 'index.js')).size / 1024).toFixed(0)} KiB\n`,
    );
  });

  test('the refresh workflow has one function per task, from one bundle, with its configuration', () => {
    const [tableId] = decisionTable();
    const [idempotencyId] = only('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
    const tasks = ownFunctions().filter(
      ([, fn]) => !['index.handler', 'index.coalesce'].includes(fn.Properties.Handler),
    );
    expect(tasks.map(([, fn]) => fn.Properties.Handler).sort()).toEqual(
      Object.values(REFRESH_TASKS)
        .map(({ handler }) => `index.${handler}`)
        .sort(),
    );
    expect(new Set(tasks.map(([, fn]) => fn.Properties.Code.S3Key)).size).toBe(1);
    for (const [, fn] of tasks) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        TABLE_NAME: { Ref: tableId },
        POLICY: expect.any(String),
        OWN_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
        IDEMPOTENCY_TABLE_NAME: { Ref: idempotencyId },
        CACHE_TTL_SECONDS: String(7 * 86_400),
      });
    }
  });
});

describe('IAM', () => {
  const ECR_READ = [
    'ecr:BatchGetImage',
    'ecr:BatchGetRepositoryScanningConfiguration',
    'ecr:DescribeImageScanFindings',
    'ecr:DescribeImages',
    'ecr:DescribePullThroughCacheRules',
    'ecr:DescribeRepositories',
    'ecr:DescribeRepositoryCreationTemplates',
    'ecr:GetRegistryScanningConfiguration',
  ];
  const roleOf = (fn: Resources[string]): string => fn.Properties.Role['Fn::GetAtt'][0];
  /** The role of the function each state machine task invokes, by task. */
  const taskRole = (task: string): string => {
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    const substitutions = {
      ...machine('refresh')[1].Properties.DefinitionSubstitutions,
      ...machine('pages')[1].Properties.DefinitionSubstitutions,
    } as Record<string, { 'Fn::GetAtt': [string, string] }>;
    const fnId = substitutions[`${task}FunctionArn`]?.['Fn::GetAtt'][0] ?? '';
    return roleOf(functions[fnId] as Resources[string]);
  };

  test('no statement anywhere in the stack grants a wildcard action', () => {
    const actions = statements().flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  test('the admission function calls BatchGetItem, PutItem and UpdateItem on the cache table, reads ECR, and lists Inspector findings', () => {
    const [, fn] = admissionFunction();
    const [tableId] = decisionTable();
    const role = roleOf(fn);
    expect(
      actionsOf(role)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    const dynamo = statements().filter(
      (s) => JSON.stringify(s.roles).includes(role) && JSON.stringify(s.Action).includes('dynamodb:'),
    );
    expect(dynamo.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
    expect(
      actionsOf(role)
        .filter((a) => a.startsWith('ecr:'))
        .sort(),
    ).toEqual(ECR_READ);
    // Enhanced scanning: ECR answers scan reads from Inspector with the caller's permissions.
    expect(statements()).toContainEqual(
      expect.objectContaining({
        roles: [{ Ref: role }],
        Action: expect.arrayContaining(['inspector2:ListCoverage', 'inspector2:ListFindings']),
        Resource: '*',
      }),
    );
    // deploy/policy.yaml names no registry roles: nothing to assume.
    expect(actionsOf(role)).not.toContain('sts:AssumeRole');
  });

  test('every refresh task has a role of its own: only Refresh, ListTargets and Prepare read ECR, only Refresh records idempotency', () => {
    const [idempotencyId] = only('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
    const roles = Object.keys(REFRESH_TASKS).map((task) => {
      const role = taskRole(task);
      const actions = actionsOf(role);
      return {
        task,
        role,
        readsEcr: actions.some((a) => a.startsWith('ecr:')),
        idempotency: statements().some(
          (s) => JSON.stringify(s.roles).includes(role) && JSON.stringify(s.Resource).includes(idempotencyId),
        ),
        onlyLogs: actions.every((a) => a.startsWith('logs:')),
      };
    });
    expect(new Set(roles.map((r) => r.role)).size).toBe(Object.keys(REFRESH_TASKS).length);
    expect(roles.map(({ role: _, ...r }) => r)).toEqual([
      { task: 'Plan', readsEcr: false, idempotency: false, onlyLogs: true },
      { task: 'Refresh', readsEcr: true, idempotency: true, onlyLogs: false },
      { task: 'Delete', readsEcr: false, idempotency: false, onlyLogs: false },
      { task: 'ListTargets', readsEcr: true, idempotency: false, onlyLogs: false },
      { task: 'Rejudge', readsEcr: false, idempotency: false, onlyLogs: false },
      { task: 'RecordFailure', readsEcr: false, idempotency: false, onlyLogs: true },
      { task: 'Prepare', readsEcr: true, idempotency: false, onlyLogs: false },
    ]);
  });

  test('only Refresh and Rejudge announce exposure: PutEvents on the default bus, Query on the inventory index', () => {
    const granted = (role: string, action: string, resource: string) =>
      statements().some(
        (s) =>
          JSON.stringify(s.roles).includes(role) &&
          JSON.stringify(s.Action).includes(action) &&
          JSON.stringify(s.Resource).includes(resource),
      );
    const announcing = Object.keys(REFRESH_TASKS).filter((task) => {
      const role = taskRole(task);
      const events = granted(role, 'events:PutEvents', 'event-bus/default');
      expect(granted(role, 'dynamodb:Query', '/index/inventoryByDigest')).toBe(events);
      return events;
    });
    expect(announcing).toEqual(['Refresh', 'Rejudge']);
  });

  test.each([
    ['refresh', ['Plan', 'Refresh', 'Delete', 'RecordFailure', 'Prepare']],
    ['pages', ['Refresh', 'Delete', 'ListTargets', 'Rejudge', 'RecordFailure']],
  ] as const)(
    'the %s state machine may invoke exactly the functions of its tasks (%s), by their unqualified ARNs',
    (which, tasks) => {
      const [, found] = machine(which);
      const role = found.Properties.RoleArn['Fn::GetAtt'][0];
      const invoke = statements().filter(
        (s) => JSON.stringify(s.roles).includes(role) && JSON.stringify(s.Action).includes('lambda:'),
      );
      expect(invoke).toHaveLength(1);
      expect(invoke[0]?.Action).toBe('lambda:InvokeFunction');
      const arns = ((invoke[0]?.Resource ?? []) as { 'Fn::GetAtt': [string, string] }[]).map(
        (r) => r['Fn::GetAtt'],
      );
      const substitutions = found.Properties.DefinitionSubstitutions as Record<
        string,
        { 'Fn::GetAtt': [string] }
      >;
      expect(arns.map(([id]) => id).sort()).toEqual(
        tasks.map((task) => substitutions[REFRESH_TASKS[task].placeholder]?.['Fn::GetAtt'][0]).sort(),
      );
      for (const [, attribute] of arns) expect(attribute).toBe('Arn');
    },
  );

  test('the refresh state machine may start the pages state machine, and the pages state machine itself: nothing else', () => {
    const [refreshId, refresh] = machine('refresh');
    const [pagesId, pages] = machine('pages');
    const starts = (found: Resources[string]) =>
      statements()
        .filter(
          (s) =>
            JSON.stringify(s.roles).includes(found.Properties.RoleArn['Fn::GetAtt'][0]) &&
            JSON.stringify(s.Action).includes('states:'),
        )
        .map((s) => ({ Action: s.Action, Resource: s.Resource }));
    expect(starts(refresh)).toEqual([{ Action: 'states:StartExecution', Resource: { Ref: pagesId } }]);
    expect(starts(pages)).toEqual([{ Action: 'states:StartExecution', Resource: { Ref: pagesId } }]);
    expect(refresh.Properties.DefinitionSubstitutions.PagesStateMachineArn).toEqual({ Ref: pagesId });
    // Only the Coalesce function's role starts the event-driven one: the rules feed the buffer.
    const startingRefresh = statements().filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify({ Ref: refreshId }),
    );
    expect(startingRefresh.map((s) => JSON.stringify(s.roles))).toEqual([
      expect.stringMatching(/CoalesceRole/),
    ]);
  });
});

describe('the webhook API', () => {
  test('is a regional REST API whose resource policy lets anyone invoke only POST /validate and /mutate, bare or with a cluster', () => {
    const [, api] = only('AWS::ApiGateway::RestApi');
    expect(api.Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    expect(api.Properties.Policy.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Resource: [
          'execute-api:/*/POST/mutate',
          'execute-api:/*/POST/mutate/*',
          'execute-api:/*/POST/validate',
          'execute-api:/*/POST/validate/*',
        ],
      },
    ]);
  });

  test('answers only POST on /validate, /mutate and each with /{cluster}, all proxied to the admission function within the webhook timeout', () => {
    const paths = Object.values(template.findResources('AWS::ApiGateway::Resource') as Resources).map(
      (r) => r.Properties.PathPart,
    );
    expect(paths.sort()).toEqual(['mutate', 'validate', '{cluster}', '{cluster}']);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
    expect(methods).toHaveLength(4);
    expect(
      methods.filter((m) => m.Properties.RequestParameters?.['method.request.path.cluster'] === true),
    ).toHaveLength(2);
    const [fnId] = admissionFunction();
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        RequestValidatorId: expect.anything(),
        Integration: { Type: 'AWS_PROXY', TimeoutInMillis: 5000 },
      });
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(fnId);
    }
  });

  test('turns away bodies that are not AdmissionReviews before they reach the function', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ required: ['apiVersion', 'kind', 'request'] }),
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
    });
  });

  test('is throttled, logs access and errors, and never logs request bodies', () => {
    const [, stage] = only('AWS::ApiGateway::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: 'v1',
      AccessLogSetting: {
        DestinationArn: expect.anything(),
        Format: expect.stringContaining('$context.identity.sourceIp'),
      },
      MethodSettings: [
        expect.objectContaining({
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  test('outputs WebhookUrl: the stage base URL, without a trailing slash', () => {
    const outputs = template.toJSON().Outputs;
    const [apiId] = only('AWS::ApiGateway::RestApi');
    expect(outputs.WebhookUrl.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: apiId },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/v1',
        ],
      ],
    });
    expect(
      Object.keys(outputs).filter((name) => JSON.stringify(outputs[name]).includes('execute-api')),
    ).toEqual(['WebhookUrl']);
  });
});

describe('the refresh workflow', () => {
  test('fills every placeholder of the ASL file, each task with the function running its export', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    const substitutions: Record<string, unknown> = {};
    for (const [which, file] of [
      ['refresh', 'statemachine/refresh-decision.asl.json'],
      ['pages', 'statemachine/refresh-pages.asl.json'],
    ] as const) {
      const asl = readFileSync(join(REPO_ROOT, file), 'utf8');
      const placeholders = new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
      const filled = machine(which)[1].Properties.DefinitionSubstitutions as Record<string, unknown>;
      expect(Object.keys(filled).sort()).toEqual([...placeholders].sort());
      Object.assign(substitutions, filled);
    }
    for (const [task, { placeholder, handler }] of Object.entries(REFRESH_TASKS)) {
      const [id] = (substitutions[placeholder] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      expect({ task, handler: functions[id]?.Properties.Handler }).toEqual({
        task,
        handler: `index.${handler}`,
      });
    }
  });

  test.each(['refresh', 'pages'] as const)(
    '%s: is loaded from the file, logs every transition without execution data, and is traced',
    (which) => {
      expect(machine(which)[1].Properties).toMatchObject({
        DefinitionS3Location: expect.anything(),
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
        TracingConfiguration: { Enabled: true },
      });
    },
  );

  /** The definition as deployed: the asset uploaded for DefinitionS3Location. */
  const deployedDefinitions = (): { TimeoutSeconds?: number; States: Record<string, unknown> }[] => {
    const definitions = readdirSync(synth.outdir)
      .filter((name) => name.startsWith('asset.') && name.endsWith('.json'))
      .map((name) => readFileSync(join(synth.outdir, name), 'utf8'))
      .filter((text) => text.includes('"StartAt"'));
    expect(definitions).toHaveLength(2);
    return definitions.map((text) => JSON.parse(text));
  };

  test('gives up after 2 hours: TimeoutSeconds is in each deployed definition (the CDK prop does not reach a file)', () => {
    expect(deployedDefinitions().map((d) => d.TimeoutSeconds)).toEqual([7200, 7200]);
  });

  test("every Lambda task retries the Lambda service exceptions of AWS's guidance, ClientExecutionTimeoutException included", () => {
    const tasks: { name: string; retried: string[] }[] = [];
    const visit = (states: Record<string, unknown>) => {
      for (const [name, state] of Object.entries(states) as [string, Record<string, unknown>][]) {
        if (state.Type === 'Task' && !String(state.Resource).startsWith('arn:aws:states:::')) {
          const retry = (state.Retry ?? []) as { ErrorEquals: string[] }[];
          tasks.push({ name, retried: retry.flatMap((r) => r.ErrorEquals) });
        }
        const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, unknown> };
        if (processor?.States) visit(processor.States);
      }
    };
    for (const definition of deployedDefinitions()) visit(definition.States);
    expect(tasks.length).toBeGreaterThanOrEqual(Object.keys(REFRESH_TASKS).length);
    for (const task of tasks) {
      expect({ task: task.name, retried: task.retried }).toEqual({
        task: task.name,
        retried: expect.arrayContaining([
          'Lambda.ClientExecutionTimeoutException',
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
        ]),
      });
    }
  });
});

describe("the refresh workflow's buffer", () => {
  test('is encrypted by SQS, TLS only, hides a batch for six times its consumer’s timeout, and moves a message to the dead-letter queue after 5 receives', () => {
    const [, queue] = buffer();
    const [deadLettersId, dlq] = deadLetters();
    const [, fn] = coalesceFunction();
    expect(fn.Properties.Timeout).toBe(EVENT_BUFFER.consumerTimeoutSeconds);
    expect(queue.Properties).toEqual({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * fn.Properties.Timeout,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLettersId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(dlq.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    for (const [id] of [buffer(), deadLetters()]) {
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy') as Resources).filter(
        (p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: id }]),
      );
      expect(policies).toHaveLength(1);
      expect(policies[0]?.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  test('feeds the Coalesce function in batches of 100 gathered for up to 20 s, at most 2 batches at a time, reporting partial batch failures', () => {
    const [bufferId] = buffer();
    const [fnId] = coalesceFunction();
    const [, mapping] = only('AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [bufferId, 'Arn'] },
      FunctionName: { Ref: fnId },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('the Coalesce function starts the event-driven state machine named in its environment, and reads no table and no policy', () => {
    const [, fn] = coalesceFunction();
    const [machineId] = machine('refresh');
    expect(fn.Properties.Environment.Variables).toEqual({
      STATE_MACHINE_ARN: { Ref: machineId },
      POWERTOOLS_SERVICE_NAME: 'ecr-admission',
      POWERTOOLS_METRICS_NAMESPACE: 'EcrAdmission',
    });
  });

  test('the Coalesce role may start only the event-driven state machine, read only the buffer, and write only its logs', () => {
    const [, fn] = coalesceFunction();
    const [machineId] = machine('refresh');
    const [bufferId] = buffer();
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const held = statements()
      .filter((s) => JSON.stringify(s.roles).includes(role))
      .map((s) => ({ Action: s.Action, Resource: s.Resource }));
    expect(held).toEqual([
      { Action: WORKFLOW_START_ACTIONS[0], Resource: { Ref: machineId } },
      { Action: [...BUFFER_CONSUMER_ACTIONS].sort(), Resource: { 'Fn::GetAtt': [bufferId, 'Arn'] } },
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: expect.anything() },
    ]);
  });
});

describe('operations', () => {
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources);

  test("alarms on API 5xx rate, throttling (stage and function), API and function latency, admission errors, workflow failures, dead letters, refused events and the buffer's oldest event, all to one topic", () => {
    const [fnId] = admissionFunction();
    const [topicId] = only('AWS::SNS::Topic');
    const [machineId] = machine('refresh');
    const [pagesId] = machine('pages');
    const found = alarms().map((alarm) => alarm.Properties);
    expect(found).toHaveLength(10);
    const stat = (metric: string, s: string) =>
      expect.objectContaining({
        MetricStat: expect.objectContaining({
          Metric: expect.objectContaining({ MetricName: metric }),
          Stat: s,
        }),
      });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
          Threshold: 1,
        }),
        expect.objectContaining({ Metrics: [stat('AdmissionLatency', 'p99')], Threshold: 1000 }),
        expect.objectContaining({ Metrics: [stat('Latency', 'p99')], Threshold: 1000 }),
        expect.objectContaining({ Metrics: [stat('ApiThrottled', 'Sum')], Threshold: 1 }),
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
          Threshold: 1,
        }),
        expect.objectContaining({
          Metrics: expect.arrayContaining([
            expect.objectContaining({
              Expression: 'IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)',
            }),
            stat('5XXError', 'Sum'),
            stat('Count', 'Sum'),
          ]),
          Threshold: 1,
        }),
        expect.objectContaining({
          Metrics: expect.arrayContaining([
            expect.objectContaining({
              Expression:
                'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0) + ' +
                'FILL(pagesFailed, 0) + FILL(pagesTimedOut, 0) + FILL(pagesAborted, 0)',
            }),
            stat('ExecutionsFailed', 'Sum'),
            stat('ExecutionsTimedOut', 'Sum'),
            stat('ExecutionsAborted', 'Sum'),
          ]),
          Threshold: 1,
        }),
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetters()[0], 'QueueName'] } }],
          Threshold: 1,
        }),
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [buffer()[0], 'QueueName'] } }],
          Statistic: 'Maximum',
          Threshold: BUFFER_AGE_ALARM_SECONDS,
        }),
        expect.objectContaining({
          Namespace: 'EcrAdmission',
          MetricName: 'EventsRefused',
          Statistic: 'Sum',
          Threshold: 1,
        }),
      ]),
    );
    expect(JSON.stringify(found)).toContain(machineId);
    expect(JSON.stringify(found)).toContain(pagesId);
    for (const alarm of alarms()) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  test('the alarm topic lets CloudWatch alarms of this account publish, over TLS only', () => {
    const [topicId] = only('AWS::SNS::Topic');
    const [, policy] = only('AWS::SNS::TopicPolicy');
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: topicId },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': expect.anything() },
          },
        }),
      ]),
    );
  });

  test('throttled API requests (429) are counted from the access log', () => {
    const [, filter] = only('AWS::Logs::MetricFilter');
    expect(filter.Properties).toMatchObject({
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [
        { MetricNamespace: 'EcrAdmission', MetricName: 'ApiThrottled', MetricValue: '1', DefaultValue: 0 },
      ],
    });
  });

  test("the dashboard shows decisions, cache hit ratio, latency p50/p99, workflow failures, event-to-verdict lag and the buffer's events", () => {
    const [, dashboard] = only('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const fragment of [
      '\\"EcrAdmission\\",\\"Allowed\\"',
      '\\"Denied\\"',
      '\\"Warned\\"',
      '100 * FILL(hits, 0) / (FILL(hits, 0) + FILL(misses, 0))',
      '\\"CacheHits\\"',
      '\\"CacheMisses\\"',
      '\\"AdmissionLatency\\"',
      '\\"stat\\":\\"p50\\"',
      '\\"stat\\":\\"p99\\"',
      'ExecutionsFailed',
      '\\"RefreshFailures\\"',
      '\\"EventToVerdictLag\\"',
      '\\"BufferedEvents\\"',
      '\\"ExecutionsStarted\\"',
      '\\"EventsCoalesced\\"',
      '\\"EventsRefused\\"',
      'ApproximateAgeOfOldestMessage',
      '\\"service\\",\\"ecr-admission\\"',
    ]) {
      expect(body).toContain(fragment);
    }
  });
});
