/**
 * What the handlers actually emit, against what the alarms and the dashboard read. The admission and
 * refresh handlers run in process against real local servers (DynamoDB Local, the local ECR endpoint)
 * through allowed, warned, denied and failed paths, and the buffer's consumer against a local Step
 * Functions endpoint; the EMF documents Powertools writes to stdout are
 * captured; every metric of the service's namespace that the synthesized alarms and dashboard
 * reference must be among them, with the same dimensions (or come from the access log's metric filter).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LOG_METRIC, METRIC, METRICS_NAMESPACE } from '../../src/contracts/metrics';
import { removeTemporaryDirectories, synthesizeInProcess } from '../cdk/synth';
import { createDecisionTable, type DynamoLocal, startDynamoLocal } from '../helpers/dynamodb-local';
import { coldStart, lambdaContext } from '../helpers/lambda';
import { type LocalEcr, type RawSnapshot, startLocalEcr } from '../helpers/local-ecr';
import { type LocalEventBridge, startLocalEventBridge } from '../helpers/local-eventbridge';
import { type LocalStepFunctions, startLocalStepFunctions } from '../helpers/local-stepfunctions';
import { sqsBatch } from '../helpers/sqs';
import { cveStorm } from '../helpers/storm';

jest.setTimeout(60_000);

const OWN = '111122223333';
const HOST = `${OWN}.dkr.ecr.us-east-1.amazonaws.com`;
const DIGEST = `sha256:${'c'.repeat(64)}`;
const NEXT = `sha256:${'d'.repeat(64)}`;
const scanned = (critical: number) => ({
  imageScanStatus: { status: 'COMPLETE' },
  imageScanFindings: {
    findingSeverityCounts: critical > 0 ? { CRITICAL: critical } : {},
    imageScanCompletedAt: critical > 0 ? '2026-11-21T10:00:00Z' : '2026-11-20T10:00:00Z',
  },
});
/** team/api 1.0.0 and 1.1.0, clean or (after a rescan) each with a CRITICAL finding. */
const snapshot = (critical = 0): RawSnapshot => ({
  registries: [
    {
      registryId: OWN,
      region: 'us-east-1',
      scanningConfiguration: { scanType: 'BASIC', rules: [] },
      repositories: [
        {
          repository: { repositoryName: 'team/api', registryId: OWN, imageTagMutability: 'IMMUTABLE' },
          scanningConfiguration: {
            repositoryName: 'team/api',
            scanOnPush: true,
            scanFrequency: 'SCAN_ON_PUSH',
          },
          images: [
            {
              imageDigest: DIGEST,
              imageTags: ['1.0.0'],
              imagePushedAt: '2026-11-20T09:00:00Z',
              scan: scanned(critical),
            },
            {
              imageDigest: NEXT,
              imageTags: ['1.1.0'],
              imagePushedAt: '2026-11-20T09:00:00Z',
              scan: scanned(critical),
            },
          ],
        },
      ],
    },
  ],
});
const SNAPSHOT = snapshot();

/** A metric as CloudWatch identifies it: namespace, name, and dimensions (sorted `name=value`). */
interface MetricId {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: string;
}
const key = (m: MetricId) => `${m.namespace} ${m.name} {${m.dimensions}}`;

/** The metrics of EMF documents among lines written to stdout. */
function emfMetrics(lines: string[]): MetricId[] {
  return lines.flatMap((line) => {
    let doc: Record<string, unknown> & { _aws?: { CloudWatchMetrics: unknown[] } };
    try {
      doc = JSON.parse(line);
    } catch {
      return [];
    }
    const directives = (doc._aws?.CloudWatchMetrics ?? []) as {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string }[];
    }[];
    return directives.flatMap((d) =>
      d.Metrics.flatMap((metric) =>
        d.Dimensions.map((set) => ({
          namespace: d.Namespace,
          name: metric.Name,
          dimensions: set
            .map((dim) => `${dim}=${doc[dim]}`)
            .sort()
            .join(','),
        })),
      ),
    );
  });
}

/** Every metric of the namespace that an alarm or the dashboard reads. */
let referenced: { alarms: MetricId[]; dashboard: MetricId[]; filters: MetricId[] } | undefined;

function referencedMetrics(): { alarms: MetricId[]; dashboard: MetricId[]; filters: MetricId[] } {
  referenced ??= readReferences();
  return referenced;
}

function readReferences(): { alarms: MetricId[]; dashboard: MetricId[]; filters: MetricId[] } {
  const { template } = synthesizeInProcess();
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);
  const dims = (list: { Name: string; Value: unknown }[] = []) =>
    list
      .map((d) => `${d.Name}=${typeof d.Value === 'string' ? d.Value : JSON.stringify(d.Value)}`)
      .sort()
      .join(',');
  const alarms = ofType('AWS::CloudWatch::Alarm').flatMap((alarm) => {
    const p = alarm.Properties as {
      Namespace?: string;
      MetricName?: string;
      Dimensions?: { Name: string; Value: unknown }[];
      Metrics?: {
        MetricStat?: {
          Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
        };
      }[];
    };
    const direct = p.MetricName
      ? [{ namespace: p.Namespace ?? '', name: p.MetricName, dimensions: dims(p.Dimensions) }]
      : [];
    const math = (p.Metrics ?? []).flatMap((m) =>
      m.MetricStat
        ? [
            {
              namespace: m.MetricStat.Metric.Namespace,
              name: m.MetricStat.Metric.MetricName,
              dimensions: dims(m.MetricStat.Metric.Dimensions),
            },
          ]
        : [],
    );
    return [...direct, ...math];
  });
  // The dashboard body is a Fn::Join of JSON text and tokens: the tokens become placeholders.
  const body = ofType('AWS::CloudWatch::Dashboard').map((d) => {
    const join = d.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] } | string;
    return typeof join === 'string'
      ? join
      : join['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  })[0] as string;
  const widgets = JSON.parse(body).widgets as { properties: { metrics?: unknown[][] } }[];
  const dashboard = widgets.flatMap((w) =>
    (w.properties.metrics ?? []).flatMap((row) => {
      const parts = row.filter((item) => typeof item === 'string') as string[];
      if (parts.length < 2) return [];
      const [namespace, name, ...rest] = parts;
      const pairs: string[] = [];
      for (let i = 0; i + 1 < rest.length; i += 2) pairs.push(`${rest[i]}=${rest[i + 1]}`);
      return [{ namespace: namespace as string, name: name as string, dimensions: pairs.sort().join(',') }];
    }),
  );
  const filters = ofType('AWS::Logs::MetricFilter').flatMap((f) =>
    (f.Properties.MetricTransformations as { MetricNamespace: string; MetricName: string }[]).map((t) => ({
      namespace: t.MetricNamespace,
      name: t.MetricName,
      dimensions: '',
    })),
  );
  return { alarms, dashboard, filters };
}

describe('metrics', () => {
  let dynamo: DynamoLocal;
  let ecr: LocalEcr;
  let sfn: LocalStepFunctions;
  let events: LocalEventBridge;
  const saved = { ...process.env };
  const written: string[] = [];
  let emitted: MetricId[] = [];

  const apiEvent = (body: object): APIGatewayProxyEvent =>
    ({
      httpMethod: 'POST',
      path: '/validate',
      body: JSON.stringify(body),
      isBase64Encoded: false,
    }) as APIGatewayProxyEvent;
  const podReview = (uid: string, namespace: string, image: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: uid, namespace },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  });

  beforeAll(async () => {
    dynamo = await startDynamoLocal();
    ecr = await startLocalEcr(SNAPSHOT, { ownAccountId: OWN });
    sfn = await startLocalStepFunctions();
    events = await startLocalEventBridge();
    await createDecisionTable(dynamo.client(), 'decisions');
    await dynamo.client().send(
      new CreateTableCommand({
        TableName: 'idempotency',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SFN: sfn.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
      AWS_ACCESS_KEY_ID: 'AKIDOWN',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_DEV;

    const write = process.stdout.write.bind(process.stdout);
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        written.push(...String(chunk).split('\n'));
        return chunk.length === 0 ? write(chunk, ...(rest as [])) : true;
      });
    try {
      const env = {
        TABLE_NAME: 'decisions',
        IDEMPOTENCY_TABLE_NAME: 'idempotency',
        OWN_ACCOUNT_ID: OWN,
        POLICY: JSON.stringify({ namespaces: { warn: ['sandbox'] } }),
        DEADLINE_MS: '1000',
      };
      const admission = coldStart(
        () => require('../../src/handlers/admission'),
        env,
      ) as typeof import('../../src/handlers/admission');
      const refresh = coldStart(
        () => require('../../src/handlers/refresh'),
        env,
      ) as typeof import('../../src/handlers/refresh');
      const target = {
        registryId: OWN,
        region: 'us-east-1',
        repositoryName: 'team/api',
        digest: DIGEST,
        tags: ['1.0.0'],
        eventTime: '2026-11-20T10:00:05Z',
        eventId: 'e1',
      };
      // First, while nothing is cached: the refresh writes a verdict (and measures the lag).
      await refresh.refresh({ ...target, eventTime: new Date().toISOString() }, lambdaContext());
      const image = `${HOST}/team/api:1.0.0`;
      const missing = `${HOST}/team/api:9.9.9`;
      await admission.handler(apiEvent(podReview('allowed', 'shop', image)), lambdaContext());
      await admission.handler(apiEvent(podReview('denied', 'shop', missing)), lambdaContext());
      await admission.handler(apiEvent(podReview('warned', 'sandbox', missing)), lambdaContext());
      ecr.faults = { deny: () => true };
      await admission.handler(
        apiEvent(podReview('unavailable', 'shop', `${HOST}/team/api:2.0.0`)),
        lambdaContext(),
      );
      ecr.faults = {};
      await refresh.recordFailure({ ...target, error: { Error: 'FactsUnavailableError' } }, lambdaContext());
      // Exposure: both running images turn denied; one announcement is refused, the other published.
      await admission.handler(apiEvent(podReview('next', 'shop', `${HOST}/team/api:1.1.0`)), lambdaContext());
      ecr.setSnapshot(snapshot(1));
      events.refuse = true;
      await refresh.refresh({ ...target, digest: NEXT, tags: ['1.1.0'], eventId: 'e3' }, lambdaContext());
      events.refuse = false;
      await refresh.refresh({ ...target, eventId: 'e2' }, lambdaContext());
      expect(events.entries.map((e) => JSON.parse(e.Detail).digest)).toEqual([DIGEST]);
      // The buffer's consumer: two findings on one image (one execution, one event coalesced), one refused.
      const { coalesce } = coldStart(() => require('../../src/handlers/coalesce'), {
        STATE_MACHINE_ARN: `arn:aws:states:us-east-1:${OWN}:stateMachine:Refresh`,
      }) as typeof import('../../src/handlers/coalesce');
      const image_ = {
        registryId: OWN,
        region: 'us-east-1',
        repositoryName: 'team/api',
        digest: DIGEST,
        tags: [],
      };
      await coalesce(sqsBatch(['{}', ...cveStorm(2, [image_])]), lambdaContext());
    } finally {
      spy.mockRestore();
    }
    emitted = emfMetrics(written);
  });

  afterAll(async () => {
    process.env = saved;
    removeTemporaryDirectories();
    await ecr?.close();
    await sfn?.close();
    await events?.close();
    await dynamo?.stop();
  });

  test('the handlers emitted EMF documents in the service namespace, dimension service', () => {
    expect(emitted.length).toBeGreaterThan(5);
    for (const metric of emitted) {
      expect(metric).toMatchObject({ namespace: METRICS_NAMESPACE, dimensions: 'service=ecr-admission' });
    }
  });

  test('every metric the handlers emit is a name of src/contracts/metrics.ts', () => {
    const names = new Set<string>(Object.values(METRIC));
    expect(emitted.filter((m) => !names.has(m.name))).toEqual([]);
  });

  test('every metric of the service namespace that an alarm or the dashboard reads is emitted as read', () => {
    const { alarms, dashboard, filters } = referencedMetrics();
    const produced = new Set([...emitted, ...filters].map(key));
    const read = [...alarms, ...dashboard].filter((m) => m.namespace === METRICS_NAMESPACE);
    expect(read.length).toBeGreaterThan(10);
    expect([...new Set(read.map(key))].filter((k) => !produced.has(k))).toEqual([]);
  });

  test('the throttling metric comes from the access log filter, under its contract name', () => {
    const { filters } = referencedMetrics();
    expect(filters).toEqual([
      { namespace: METRICS_NAMESPACE, name: LOG_METRIC.ApiThrottled, dimensions: '' },
    ]);
  });
});
