/**
 * Images the workflow prepares ahead of their Pods (issue 16): one not imported yet through a
 * pull-through cache rule, one archived under `archived: restore`. The request the admission webhook
 * puts and the workflow's parser agree; a Pod waits (denied, retried by its controller) while a workload
 * object is admitted with a warning; the webhook asks once per process and never on a dry run; the
 * workflow does the work once per image, whoever asks.
 */

import { parseRefreshEvent } from '../../src/adapters/ecr-events';
import { MemoryDecisionStore } from '../../src/adapters/memory-store';
import { preparationDetail } from '../../src/adapters/preparation-events';
import { AdmissionService } from '../../src/application/admission-service';
import { RefreshService } from '../../src/application/refresh-service';
import { PREPARATION_REQUESTED } from '../../src/contracts/events';
import type { FactsLookup, FactsSource, RepositoryFacts } from '../../src/domain/facts';
import { parsePolicy } from '../../src/domain/policy';
import type { EcrPreparation, PreparationRequests, PreparationTarget } from '../../src/domain/refresh';
import { parseAdmissionReview } from '../../src/http/admission-review';
import { podReview, review, workload } from '../helpers/reviews';
import { ACCOUNT, digestOf, ecrHost, REGION } from '../helpers/snapshot-builder';

const REPOSITORY = 'docker-hub/library/nginx';
const IMAGE = `${ecrHost()}/${REPOSITORY}:1.27`;
const DIGEST = digestOf('nginx-1.27');

function createdRepository(mutability: RepositoryFacts['imageTagMutability']): RepositoryFacts {
  return {
    registryId: ACCOUNT,
    region: REGION,
    repositoryName: REPOSITORY,
    imageTagMutability: mutability,
    tagMutabilityExclusionFilters: [],
    legacyScanOnPush: false,
    registryScanning: {
      scanType: 'BASIC',
      rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['*'] }],
    },
  };
}

const PENDING: FactsLookup = {
  status: 'pull-through-pending',
  rule: { prefix: 'docker-hub', upstreamRegistryUrl: 'registry-1.docker.io' },
  repositoryExists: false,
  template: 'docker-hub',
  repository: createdRepository('IMMUTABLE'),
};

const facts = (result: FactsLookup): FactsSource => ({ lookup: async () => result });

class RecordedRequests implements PreparationRequests {
  readonly asked: PreparationTarget[][] = [];
  fail = false;
  async request(targets: readonly PreparationTarget[]): Promise<void> {
    if (this.fail) throw new Error('EventBridge is down');
    this.asked.push([...targets]);
  }
}

function service(result: FactsLookup, requests: PreparationRequests, policy = {}) {
  return new AdmissionService({
    policy: parsePolicy(policy),
    facts: facts(result),
    store: new MemoryDecisionStore(),
    preparations: requests,
  });
}

const podRequest = (options: { dryRun?: boolean } = {}) =>
  parseAdmissionReview(podReview({ containers: [IMAGE] }, options)).request;

describe('the request the webhook puts is the one the workflow reads', () => {
  test.each<[string, PreparationTarget]>([
    [
      'An import by tag.',
      { registryId: ACCOUNT, region: REGION, repositoryName: REPOSITORY, action: 'import', tag: '1.27' },
    ],
    [
      'An import by digest.',
      { registryId: ACCOUNT, region: REGION, repositoryName: REPOSITORY, action: 'import', digest: DIGEST },
    ],
    [
      'A restore, always by digest.',
      { registryId: ACCOUNT, region: REGION, repositoryName: 'team/app', action: 'restore', digest: DIGEST },
    ],
  ])('%s', (_name, target) => {
    const event = {
      source: PREPARATION_REQUESTED.source,
      'detail-type': PREPARATION_REQUESTED.detailType,
      account: ACCOUNT,
      region: REGION,
      time: '2026-12-02T10:00:00Z',
      detail: preparationDetail(target),
    };
    expect(parseRefreshEvent(event)).toMatchObject({ kind: 'prepare-image', target });
  });

  test('A restore by tag is refused, naming the detail.', () => {
    const event = {
      source: PREPARATION_REQUESTED.source,
      'detail-type': PREPARATION_REQUESTED.detailType,
      account: ACCOUNT,
      region: REGION,
      time: '2026-12-02T10:00:00Z',
      detail: { action: 'restore', registryId: ACCOUNT, region: REGION, repositoryName: 'a/b', tag: 'v1' },
    };
    expect(() => parseRefreshEvent(event)).toThrow(/Image Preparation Requested event: detail/);
  });
});

describe('an image being imported through a pull-through cache', () => {
  test('A Pod is denied with the import message, and the import is asked for.', async () => {
    const requests = new RecordedRequests();
    const decision = await service(PENDING, requests).review(podRequest());
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('[IMAGE_IMPORTING] tag "1.27" is not in ECR yet');
    expect(decision.message).not.toContain('nothing here asks');
    expect(decision.message).toContain('pull-through cache rule "docker-hub" (registry-1.docker.io)');
    expect(requests.asked).toEqual([
      [{ registryId: ACCOUNT, region: REGION, repositoryName: REPOSITORY, action: 'import', tag: '1.27' }],
    ]);
  });

  test('A Deployment is admitted with a warning, and its image is asked for ahead of its Pods.', async () => {
    const requests = new RecordedRequests();
    const request = parseAdmissionReview(review(workload('Deployment', { containers: [IMAGE] }))).request;
    const decision = await service(PENDING, requests).review(request);
    expect(decision.allowed).toBe(true);
    expect(decision.warnings.join('\n')).toMatch(/IMAGE_IMPORTING.*is not in ECR yet/);
    expect(requests.asked).toHaveLength(1);
  });

  test('A repository the creation template makes mutable is denied at once, for every kind, and nothing is imported.', async () => {
    const requests = new RecordedRequests();
    const mutable: FactsLookup = { ...PENDING, repository: createdRepository('MUTABLE') };
    const request = parseAdmissionReview(review(workload('Deployment', { containers: [IMAGE] }))).request;
    const decision = await service(mutable, requests).review(request);
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain(
      `[TAG_MUTABLE] tag "1.27" can be moved (repository "${REPOSITORY}" will be created by the repository creation template "docker-hub" with tag mutability MUTABLE)`,
    );
    expect(requests.asked).toEqual([]);
  });

  test('Twenty replicas ask once from one process.', async () => {
    const requests = new RecordedRequests();
    const admission = service(PENDING, requests);
    await Promise.all(Array.from({ length: 20 }, () => admission.review(podRequest())));
    expect(requests.asked.flat()).toHaveLength(1);
  });

  test('A dry run asks for nothing.', async () => {
    const requests = new RecordedRequests();
    const decision = await service(PENDING, requests).review(podRequest({ dryRun: true }));
    expect(decision.allowed).toBe(false);
    expect(requests.asked).toEqual([]);
  });

  test('A request that fails leaves the decision as it is, is told, and the next admission asks again.', async () => {
    const requests = new RecordedRequests();
    requests.fail = true;
    const told: unknown[] = [];
    const admission = new AdmissionService({
      policy: parsePolicy({}),
      facts: facts(PENDING),
      store: new MemoryDecisionStore(),
      preparations: requests,
      onPreparationRequest: (_targets, error) => told.push(error),
    });
    const first = await admission.review(podRequest());
    expect(first.allowed).toBe(false);
    expect(told).toHaveLength(1);
    requests.fail = false;
    await admission.review(podRequest());
    expect(requests.asked).toHaveLength(1);
  });

  test('A request that hangs is given up within the cache budget, and the decision stands.', async () => {
    const hanging: PreparationRequests = { request: () => new Promise(() => {}) };
    const admission = new AdmissionService({
      policy: parsePolicy({}),
      facts: facts(PENDING),
      store: new MemoryDecisionStore(),
      preparations: hanging,
      deadlineMs: 400,
    });
    const started = Date.now();
    const decision = await admission.review(podRequest());
    expect(decision.allowed).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('where nothing asks for preparations (the command line, serve)', () => {
  const unwired = (result: FactsLookup, policy = {}) =>
    new AdmissionService({
      policy: parsePolicy(policy),
      facts: facts(result),
      store: new MemoryDecisionStore(),
    });

  test('A Deployment whose image is not imported yet is denied, saying to pull it once: nothing would import it.', async () => {
    const request = parseAdmissionReview(review(workload('Deployment', { containers: [IMAGE] }))).request;
    const decision = await unwired(PENDING).review(request);
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('[IMAGE_IMPORTING]');
    expect(decision.message).toContain('nothing here asks for the import: pull the image once to start it');
  });

  test('Under archived: restore, an archived image is denied with the command that restores it.', async () => {
    const archived: FactsLookup = { status: 'image-not-active', digest: DIGEST, imageStatus: 'ARCHIVED' };
    const decision = await unwired(archived, { archived: 'restore' }).review(podRequest());
    expect(decision.message).toContain('[IMAGE_ARCHIVED]');
    expect(decision.message).toContain(
      `aws ecr update-image-storage-class --registry-id ${ACCOUNT} --region ${REGION} --repository-name ${REPOSITORY} --image-id imageDigest=${DIGEST} --target-storage-class STANDARD`,
    );
  });
});

describe('an archived image', () => {
  const ARCHIVED: FactsLookup = { status: 'image-not-active', digest: DIGEST, imageStatus: 'ARCHIVED' };

  test('Under archived: deny, a Pod is denied with the restore command and nothing is asked.', async () => {
    const requests = new RecordedRequests();
    const decision = await service(ARCHIVED, requests).review(podRequest());
    expect(decision.message).toContain('[IMAGE_ARCHIVED]');
    expect(decision.message).toContain('--target-storage-class STANDARD');
    expect(requests.asked).toEqual([]);
  });

  test('Under archived: restore, a Pod is denied while it is restored, and the restore is asked for.', async () => {
    const requests = new RecordedRequests();
    const decision = await service(ARCHIVED, requests, { archived: 'restore' }).review(podRequest());
    expect(decision.message).toContain('[IMAGE_RESTORING]');
    expect(requests.asked).toEqual([
      [
        {
          registryId: ACCOUNT,
          region: REGION,
          repositoryName: REPOSITORY,
          action: 'restore',
          digest: DIGEST,
        },
      ],
    ]);
  });
});

describe('the Prepare task', () => {
  class RecordedEcr implements EcrPreparation {
    imports = 0;
    restores = 0;
    fail = false;
    async importThroughCache() {
      if (this.fail) throw new Error('registry unavailable');
      this.imports++;
      return 'started' as const;
    }
    async restoreImage() {
      this.restores++;
    }
  }
  const target: PreparationTarget = {
    registryId: ACCOUNT,
    region: REGION,
    repositoryName: REPOSITORY,
    action: 'import',
    tag: '1.27',
  };
  function workflow(result: FactsLookup, ecr: RecordedEcr, policy = {}) {
    const store = new MemoryDecisionStore();
    return new RefreshService({
      policy: parsePolicy(policy),
      facts: facts(result),
      catalog: {
        listRepositories: async () => ({ items: [] }),
        listImages: async () => ({ items: [] }),
      },
      store,
      claims: store,
      preparation: ecr,
      region: REGION,
    });
  }

  test('Asked ten times, it imports once.', async () => {
    const ecr = new RecordedEcr();
    const tasks = workflow(PENDING, ecr);
    const records = await Promise.all(Array.from({ length: 10 }, () => tasks.prepare(target)));
    expect(ecr.imports).toBe(1);
    expect(records.filter((r) => r.outcome === 'import-started')).toHaveLength(1);
    expect(records.filter((r) => r.outcome === 'already-asked')).toHaveLength(9);
  });

  test('A failed import gives its claim up, so that the retry imports.', async () => {
    const ecr = new RecordedEcr();
    ecr.fail = true;
    const tasks = workflow(PENDING, ecr);
    await expect(tasks.prepare(target)).rejects.toThrow('registry unavailable');
    ecr.fail = false;
    await expect(tasks.prepare(target)).resolves.toMatchObject({ outcome: 'import-started' });
  });

  test('An image that is there already needs nothing.', async () => {
    const ecr = new RecordedEcr();
    const record = await workflow({ status: 'image-not-found' }, ecr).prepare(target);
    expect(record).toMatchObject({ outcome: 'not-needed', reason: 'image-not-found' });
    expect(ecr.imports).toBe(0);
  });

  test('A restore is refused where the policy says archived: deny, and done once where it says restore.', async () => {
    const archived: FactsLookup = { status: 'image-not-active', digest: DIGEST, imageStatus: 'ARCHIVED' };
    const restore: PreparationTarget = { ...target, action: 'restore', digest: DIGEST };
    const denying = new RecordedEcr();
    await expect(workflow(archived, denying).prepare(restore)).resolves.toMatchObject({
      outcome: 'not-enabled',
    });
    expect(denying.restores).toBe(0);
    const restoring = new RecordedEcr();
    const tasks = workflow(archived, restoring, { archived: 'restore' });
    await tasks.prepare(restore);
    await tasks.prepare(restore);
    expect(restoring.restores).toBe(1);
  });
});
