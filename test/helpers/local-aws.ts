/**
 * DynamoDB Local and the local ECR endpoint for one test file, with the AWS SDK pointed at both (the
 * environment restored after), the ECR snapshot set again before each test, and a fresh decision table
 * on demand. Registers its own Jest hooks: call it inside a `describe`.
 */
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from './dynamodb-local';
import {
  type LocalEcr,
  type LocalEcrOptions,
  type RawSnapshot,
  sdkEnvironment,
  startLocalEcr,
} from './local-ecr';

export interface LocalAws {
  readonly dynamo: DynamoLocal;
  readonly ecr: LocalEcr;
  /** A new, empty decision table named `<prefix>-<n>`. */
  newTable(prefix: string): Promise<string>;
}

export function useLocalAws(snapshot: () => RawSnapshot, options: LocalEcrOptions, region: string): LocalAws {
  let dynamo: DynamoLocal | undefined;
  let ecr: LocalEcr | undefined;
  let tables = 0;
  const saved = { ...process.env };
  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    ecr = await startLocalEcr(snapshot(), options);
    Object.assign(process.env, sdkEnvironment(ecr, region), { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
  });
  afterAll(async () => {
    process.env = saved;
    await ecr?.close();
    await dynamo?.stop();
  });
  beforeEach(() => {
    ecr?.setSnapshot(snapshot());
    ecr?.reset();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started: use it inside a test`);
    return value;
  };
  return {
    get dynamo() {
      return started(dynamo, 'DynamoDB Local');
    },
    get ecr() {
      return started(ecr, 'the local ECR endpoint');
    },
    async newTable(prefix) {
      const tableName = `${prefix}-${++tables}`;
      await createDecisionTable(started(dynamo, 'DynamoDB Local').client(), tableName);
      return tableName;
    },
  };
}
