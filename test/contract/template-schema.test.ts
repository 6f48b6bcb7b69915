/**
 * Every resource of the synthesized template, held to its CloudFormation resource schema (the
 * database CDK itself is generated from, @aws-cdk/aws-service-spec): no unknown property names,
 * required properties present, and values of the basic type (string, number, boolean, list, map,
 * object) each property declares, recursively. An intrinsic function is taken as a value of any type.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { removeTemporaryDirectories, synthesizeInProcess } from '../cdk/synth';

type SpecDatabase = ReturnType<typeof loadAwsServiceSpecSync>;
// biome-ignore lint/suspicious/noExplicitAny: the spec database's property types are a JSON union
type PropertyType = any;
interface Property {
  readonly type: PropertyType;
  readonly required?: boolean;
}

const db: SpecDatabase = loadAwsServiceSpecSync();

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntrinsic(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || String(keys[0]).startsWith('Fn::'));
}

function checkProperties(
  properties: Record<string, Property>,
  value: unknown,
  path: string,
  problems: string[],
): void {
  if (isIntrinsic(value)) return;
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object, got ${JSON.stringify(value)}`);
    return;
  }
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && !(name in value)) problems.push(`${path}.${name}: required, missing`);
  }
  for (const [name, child] of Object.entries(value)) {
    const property = properties[name];
    if (!property) problems.push(`${path}.${name}: not a property of this type`);
    else checkType(property.type, child, `${path}.${name}`, problems);
  }
}

function checkType(type: PropertyType, value: unknown, path: string, problems: string[]): void {
  if (isIntrinsic(value)) return;
  const fail = (expected: string) =>
    problems.push(`${path}: expected ${expected}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  switch (type.type) {
    case 'string':
    case 'date-time':
      if (typeof value !== 'string') fail('a string');
      return;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' && !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) {
        fail('a number');
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') fail('a boolean');
      return;
    case 'json':
      return;
    case 'null':
      if (value !== null) fail('null');
      return;
    case 'tag':
      if (!isRecord(value) || !('Key' in value) || !('Value' in value)) fail('a tag { Key, Value }');
      return;
    case 'array':
      if (!Array.isArray(value)) fail('a list');
      else {
        for (const [i, item] of value.entries()) checkType(type.element, item, `${path}[${i}]`, problems);
      }
      return;
    case 'map':
      if (!isRecord(value)) fail('a map');
      else for (const [k, v] of Object.entries(value)) checkType(type.element, v, `${path}.${k}`, problems);
      return;
    case 'union': {
      const fits = (type.types as PropertyType[]).some((alternative) => {
        const local: string[] = [];
        checkType(alternative, value, path, local);
        return local.length === 0;
      });
      if (!fits) fail(`one of ${(type.types as PropertyType[]).map((t) => t.type).join(', ')}`);
      return;
    }
    case 'ref': {
      const definition = db.get('typeDefinition', type.reference.$ref) as {
        properties: Record<string, Property>;
      };
      checkProperties(definition.properties, value, path, problems);
      return;
    }
    default:
      throw new Error(`${path}: unhandled schema type ${JSON.stringify(type)}`);
  }
}

/** Types CloudFormation handles without a registry schema: custom resources. */
const UNSCHEMED = /^(Custom::|AWS::CloudFormation::CustomResource$|AWS::CDK::Metadata$)/;

function problemsOf(resources: Record<string, { Type: string; Properties?: unknown }>): string[] {
  const problems: string[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (UNSCHEMED.test(resource.Type)) continue;
    const [spec] = db.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (!spec) {
      problems.push(`${id}: ${resource.Type} is not a CloudFormation resource type`);
      continue;
    }
    checkProperties(
      spec.properties as Record<string, Property>,
      resource.Properties ?? {},
      `${id}(${resource.Type})`,
      problems,
    );
  }
  return problems;
}

afterAll(removeTemporaryDirectories);

describe.each([
  ['the default settings', {}],
  [
    'every optional setting turned on',
    {
      endpointType: 'private',
      vpcEndpointIds: 'vpce-0123456789abcdef0',
      allowedSourceCidrs: '10.0.0.0/16',
      webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/ecr-admission/abcd',
      admissionReservedConcurrency: 50,
      // The buffer's event source mapping at the largest window and concurrency Lambda accepts.
      refreshBatchWindowSeconds: 300,
      refreshMaxConcurrency: 1000,
      apiGatewayAccountRole: 'existing',
      tableRemoval: 'destroy',
    },
  ],
])('the template with %s', (_, context) => {
  const { template } = synthesizeInProcess({ context });
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: unknown }>;

  test('has resources of many types to check', () => {
    expect(new Set(Object.values(resources).map((r) => r.Type)).size).toBeGreaterThan(10);
  });

  test('every resource matches its CloudFormation schema', () => {
    expect(problemsOf(resources)).toEqual([]);
  });
});

describe('the checker itself', () => {
  test.each([
    [
      'an unknown property',
      { Type: 'AWS::SQS::Queue', Properties: { RetentionPeriod: 60 } },
      /not a property/,
    ],
    [
      'a missing required property',
      { Type: 'AWS::Lambda::Function', Properties: { Role: 'arn' } },
      /Code: required/,
    ],
    [
      'a list where a string belongs',
      { Type: 'AWS::SNS::Topic', Properties: { DisplayName: ['x'] } },
      /expected a string/,
    ],
    [
      'an unknown nested property',
      {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { RoleArn: 'x', TracingConfiguration: { On: true } },
      },
      /TracingConfiguration\.On: not a property/,
    ],
  ])('refuses %s', (_, resource, message) => {
    expect(problemsOf({ R: resource }).join('\n')).toMatch(message);
  });

  test('takes an intrinsic function as a value of any type', () => {
    expect(problemsOf({ R: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: { Ref: 'X' } } } })).toEqual(
      [],
    );
  });
});
