/**
 * The registry snapshot's pull-through cache rules and repository creation templates: recorded ECR
 * output, validated with the live adapter's shapes, answered per registry.
 */
import { SnapshotReads } from '../../src/adapters/snapshot';
import { SnapshotError } from '../../src/domain/errors';
import { ACCOUNT, OTHER_ACCOUNT, REGION, type RegistryEntry, snapshot } from '../helpers/snapshot-builder';

/** A registry as recorded, with whatever registry-level keys a case gives it. */
const registry = (extra: Record<string, unknown> = {}): RegistryEntry =>
  ({ registryId: ACCOUNT, region: REGION, repositories: [], ...extra }) as RegistryEntry;

/** As `aws ecr describe-pull-through-cache-rules` records it (epoch seconds, keys not read). */
const DOCKER_HUB_RULE = {
  ecrRepositoryPrefix: 'docker-hub',
  upstreamRegistryUrl: 'registry-1.docker.io',
  upstreamRegistry: 'docker-hub',
  registryId: ACCOUNT,
  credentialArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ecr-pullthroughcache/docker-hub`,
  createdAt: 1764000000,
};
/** As `aws ecr describe-repository-creation-templates` records it. */
const DOCKER_HUB_TEMPLATE = {
  prefix: 'docker-hub',
  appliedFor: ['PULL_THROUGH_CACHE'],
  imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
  imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
  encryptionConfiguration: { encryptionType: 'AES256' },
};

describe('SnapshotReads: pull-through cache rules and repository creation templates', () => {
  it("answers the rules and templates a registry records, read with the live adapter's shapes.", async () => {
    const reads = new SnapshotReads(
      snapshot(
        registry({
          pullThroughCacheRules: [DOCKER_HUB_RULE],
          repositoryCreationTemplates: [DOCKER_HUB_TEMPLATE],
        }),
      ),
    );

    const rules = await reads.pullThroughCacheRules(ACCOUNT, REGION);
    const templates = await reads.repositoryCreationTemplates(ACCOUNT, REGION);

    expect(rules).toEqual([
      expect.objectContaining({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
      }),
    ]);
    expect(templates).toEqual([
      expect.objectContaining({
        prefix: 'docker-hub',
        appliedFor: ['PULL_THROUGH_CACHE'],
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filter: 'latest', filterType: 'WILDCARD' }],
      }),
    ]);
  });

  it('takes a registry that records neither key as having no rules and no templates.', async () => {
    const reads = new SnapshotReads(snapshot(registry()));

    expect(await reads.pullThroughCacheRules(ACCOUNT, REGION)).toEqual([]);
    expect(await reads.repositoryCreationTemplates(ACCOUNT, REGION)).toEqual([]);
  });

  it("gives a template without settings ECR's defaults: applied to nothing, tags mutable.", async () => {
    const reads = new SnapshotReads(
      snapshot(registry({ repositoryCreationTemplates: [{ prefix: 'ROOT' }] })),
    );

    expect(await reads.repositoryCreationTemplates(ACCOUNT, REGION)).toEqual([
      { prefix: 'ROOT', appliedFor: [], imageTagMutability: 'MUTABLE' },
    ]);
  });

  it('reports the rules and templates of a registry the file does not hold as unreadable.', async () => {
    const reads = new SnapshotReads(snapshot(registry({ pullThroughCacheRules: [DOCKER_HUB_RULE] })));

    expect(await reads.pullThroughCacheRules(OTHER_ACCOUNT, REGION)).toBeUndefined();
    expect(await reads.repositoryCreationTemplates(ACCOUNT, 'eu-west-1')).toBeUndefined();
  });

  it.each([
    {
      name: 'a rule without its upstream registry',
      extra: { pullThroughCacheRules: [{ ecrRepositoryPrefix: 'docker-hub' }] },
      path: 'registries[0].pullThroughCacheRules[0].upstreamRegistryUrl',
    },
    {
      name: 'a rule with an empty prefix',
      extra: { pullThroughCacheRules: [DOCKER_HUB_RULE, { ...DOCKER_HUB_RULE, ecrRepositoryPrefix: '' }] },
      path: 'registries[0].pullThroughCacheRules[1].ecrRepositoryPrefix',
    },
    {
      name: 'rules that are not a list',
      extra: { pullThroughCacheRules: DOCKER_HUB_RULE },
      path: 'registries[0].pullThroughCacheRules',
    },
    {
      name: 'a template with a tag mutability ECR does not have',
      extra: { repositoryCreationTemplates: [{ ...DOCKER_HUB_TEMPLATE, imageTagMutability: 'FROZEN' }] },
      path: 'registries[0].repositoryCreationTemplates[0].imageTagMutability',
    },
    {
      name: 'a template whose appliedFor is one string instead of a list',
      extra: { repositoryCreationTemplates: [{ ...DOCKER_HUB_TEMPLATE, appliedFor: 'PULL_THROUGH_CACHE' }] },
      path: 'registries[0].repositoryCreationTemplates[0].appliedFor',
    },
    {
      name: 'a template without its prefix',
      extra: { repositoryCreationTemplates: [{ appliedFor: ['PULL_THROUGH_CACHE'] }] },
      path: 'registries[0].repositoryCreationTemplates[0].prefix',
    },
  ])('rejects $name with a message naming its path.', ({ extra, path }) => {
    const load = () => new SnapshotReads(snapshot(registry(extra)));

    expect(load).toThrow(SnapshotError);
    expect(load).toThrow(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}: `));
  });
});
