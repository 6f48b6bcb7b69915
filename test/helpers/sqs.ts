/**
 * SQS batches as an event source mapping delivers them to a function, built from AWS's documented
 * example (test/fixtures/sqs/sqs-event.json): one record per body, each with a message id of its own.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

const SAMPLE = JSON.parse(
  readFileSync(join(__dirname, '../fixtures/sqs/sqs-event.json'), 'utf8'),
) as SQSEvent;

/** A message id shaped like SQS's (a UUID), the same for the same seed. */
export function messageId(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** One record per event, as the queue holds them: the EventBridge event as the body's JSON. */
export function sqsBatch(events: readonly unknown[], seed = 'batch'): SQSEvent {
  const template = SAMPLE.Records[0] as SQSRecord;
  return {
    Records: events.map((event, i) => {
      const body = typeof event === 'string' ? event : JSON.stringify(event);
      return {
        ...template,
        messageId: messageId(`${seed}-${i}`),
        body,
        md5OfBody: createHash('md5').update(body).digest('hex'),
      };
    }),
  };
}
