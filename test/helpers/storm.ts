/**
 * Event storms from AWS's documented samples (test/fixtures/events/aws, copied from the shared
 * fixtures): Inspector findings by the hundred on a few images, each finding an event of its own with
 * its own id, time and CVE, as Inspector sends them when a new CVE touches many packages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageId } from './sqs';

const FIXTURES = join(__dirname, '../fixtures/events/aws');

export function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
}

export interface StormImage {
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
  readonly digest: string;
  readonly tags: readonly string[];
}

/** An `Inspector2 Finding` on an image, at `time`: the documented sample pointed at the image. */
export function findingEvent(
  image: StormImage,
  time: Date,
  cve: string,
  id: string,
): Record<string, unknown> {
  const event = sample('inspector2-finding.json') as {
    detail: { resources: { details: { awsEcrContainerImage: object } }[] };
  };
  const [resource] = event.detail.resources;
  const arn = `arn:aws:ecr:${image.region}:${image.registryId}:repository/${image.repositoryName}/${image.digest}`;
  return {
    ...event,
    id,
    account: image.registryId,
    region: image.region,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resources: [arn],
    detail: {
      ...event.detail,
      title: `${cve} - expat`,
      resources: [
        {
          ...resource,
          id: arn,
          region: image.region,
          details: {
            awsEcrContainerImage: {
              ...resource?.details.awsEcrContainerImage,
              imageHash: image.digest,
              imageTags: [...image.tags],
              registry: image.registryId,
              repositoryName: image.repositoryName,
            },
          },
        },
      ],
    },
  };
}

/** `count` findings spread over `images` in turn, a second apart from `start`. */
export function cveStorm(
  count: number,
  images: readonly StormImage[],
  start = new Date('2026-11-20T10:00:00Z'),
): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) =>
    findingEvent(
      images[i % images.length] as StormImage,
      new Date(start.getTime() + i * 1000),
      `CVE-2026-${10_000 + i}`,
      messageId(`finding-${i}`),
    ),
  );
}
