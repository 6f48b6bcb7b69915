/**
 * The refresh task's idempotency records (Powertools Idempotency) on their own DynamoDB table, and the
 * IAM actions its persistence layer performs: it reads a record (GetItem), claims it with a conditional
 * put (PutItem), completes it (UpdateItem) and removes it when the work fails (DeleteItem).
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';

export const IDEMPOTENCY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

export function idempotencyStore(tableName: string): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({ tableName });
}
