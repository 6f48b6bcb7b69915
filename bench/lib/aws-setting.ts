/**
 * DynamoDB Local, the local ECR endpoint and the counting proxy, started once for the benchmarks that
 * count calls, with the environment that points the production wiring (`createAdmissionService`, the
 * SDK's default configuration) at them.
 */
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../../test/helpers/dynamodb-local';
import { type LocalAws, startLocalAws } from './local-aws';

export interface AwsSetting {
  readonly aws: LocalAws;
  /** A new, empty decision table. */
  newTable(): Promise<string>;
  stop(): Promise<void>;
}

let tables = 0;

export async function startAwsSetting(): Promise<AwsSetting> {
  const saved = { ...process.env };
  // Before the first client: Lambda's Node.js 22 prints no Node-version warning; Node 20 here would.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dynamo: DynamoLocal = await startDynamoLocal();
  const aws = await startLocalAws(dynamo.endpoint);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_ECR: aws.ecrUrl,
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoUrl,
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
  });
  // Tables are created directly on DynamoDB Local: only what the code under test sends is counted.
  const admin = dynamo.client();
  return {
    aws,
    newTable: async () => {
      const name = `bench-${process.pid}-${++tables}`;
      await createDecisionTable(admin, name);
      return name;
    },
    stop: async () => {
      admin.destroy();
      process.env = saved;
      await aws.close();
      await dynamo.stop();
    },
  };
}

let shared: Promise<AwsSetting> | undefined;

/** One setting for every benchmark of a run (DynamoDB Local takes seconds to start). */
export function sharedAwsSetting(): Promise<AwsSetting> {
  shared ??= startAwsSetting();
  return shared;
}

export async function stopSharedAwsSetting(): Promise<void> {
  const setting = shared;
  shared = undefined;
  if (setting) await (await setting).stop();
}
