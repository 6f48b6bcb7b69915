/**
 * A synthesized template made concrete, for tools that want real ARNs (the IAM simulator): pseudo
 * parameters get fixed values, `Ref` and `Fn::GetAtt …Arn` on a resource become the ARN it would have
 * (named after its logical id), and `Fn::Join` / `Fn::Sub` of those are evaluated.
 */
export const ACCOUNT = '111111111111';
export const REGION = 'eu-west-1';

type Json = unknown;
export type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'EcrAdmission',
};

/** The ARN a resource of this type would have, named after its logical id. */
function arnOf(type: string, id: string): string {
  const at = `${REGION}:${ACCOUNT}`;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${at}:table/${id}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${at}:log-group:${id}:*`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${at}:function:${id}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${at}:${id}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${at}:${id}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${at}:stateMachine:${id}`;
    default:
      return `arn:aws:unknown:${at}:${type}/${id}`;
  }
}

/** What `Ref` returns: a name for most types, the ARN for those whose Ref is their ARN. */
function refOf(type: string, id: string): string {
  if (['AWS::SNS::Topic', 'AWS::StepFunctions::StateMachine'].includes(type)) return arnOf(type, id);
  return id;
}

export function resolve(value: Json, resources: Resources): Json {
  if (Array.isArray(value)) return value.map((item) => resolve(item, resources));
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, Json>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = object[key];
    if (key === 'Ref') {
      const name = String(arg);
      if (PSEUDO[name]) return PSEUDO[name];
      const resource = resources[name];
      if (!resource) throw new Error(`Ref to unknown ${name}`);
      return refOf(resource.Type, name);
    }
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = arg as [string, string];
      const resource = resources[id];
      if (!resource) throw new Error(`GetAtt on unknown ${id}`);
      if (attribute === 'Arn') return arnOf(resource.Type, id);
      return `${id}.${attribute}`;
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, Json[]];
      return parts.map((part) => String(resolve(part, resources))).join(separator);
    }
  }
  return Object.fromEntries(keys.map((key) => [key, resolve(object[key], resources)]));
}
