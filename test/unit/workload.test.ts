import {
  type Extraction,
  embedsPodSpec,
  extractImages,
  type GroupKind,
  groupFromApiVersion,
  JUDGED_KINDS,
} from '../../src/domain/workload';

/** A PodSpec with one container of each sort, each image naming where it sits. */
function podSpec(): Record<string, unknown> {
  return {
    initContainers: [{ name: 'init', image: 'registry.example/init:1' }],
    containers: [
      { name: 'app', image: 'registry.example/app:1' },
      { name: 'sidecar', image: 'registry.example/sidecar:1' },
    ],
    ephemeralContainers: [{ name: 'debug', image: 'registry.example/debug:1' }],
  };
}

/** The images of `podSpec()` at a PodSpec path. */
function imagesAt(base: string) {
  return {
    kind: 'images',
    images: [
      { path: `${base}.initContainers[0].image`, image: 'registry.example/init:1' },
      { path: `${base}.containers[0].image`, image: 'registry.example/app:1' },
      { path: `${base}.containers[1].image`, image: 'registry.example/sidecar:1' },
      { path: `${base}.ephemeralContainers[0].image`, image: 'registry.example/debug:1' },
    ],
  };
}

const template = () => ({ metadata: { labels: { app: 'x' } }, spec: podSpec() });

describe('extractImages', () => {
  describe('finds every image of every kind that embeds a PodSpec, with its path', () => {
    it.each<{ name: string; groupKind: GroupKind; object: unknown; base: string }>([
      {
        name: 'a Pod keeps its PodSpec at spec',
        groupKind: { group: '', kind: 'Pod' },
        object: { apiVersion: 'v1', kind: 'Pod', spec: podSpec() },
        base: 'spec',
      },
      {
        name: 'a PodTemplate keeps its PodSpec at template.spec',
        groupKind: { group: '', kind: 'PodTemplate' },
        object: { apiVersion: 'v1', kind: 'PodTemplate', template: template() },
        base: 'template.spec',
      },
      {
        name: 'a ReplicationController keeps its PodSpec at spec.template.spec',
        groupKind: { group: '', kind: 'ReplicationController' },
        object: { apiVersion: 'v1', kind: 'ReplicationController', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a ReplicaSet keeps its PodSpec at spec.template.spec',
        groupKind: { group: 'apps', kind: 'ReplicaSet' },
        object: { apiVersion: 'apps/v1', kind: 'ReplicaSet', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a Deployment keeps its PodSpec at spec.template.spec',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 3, template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a StatefulSet keeps its PodSpec at spec.template.spec',
        groupKind: { group: 'apps', kind: 'StatefulSet' },
        object: { apiVersion: 'apps/v1', kind: 'StatefulSet', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a DaemonSet keeps its PodSpec at spec.template.spec',
        groupKind: { group: 'apps', kind: 'DaemonSet' },
        object: { apiVersion: 'apps/v1', kind: 'DaemonSet', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a Job keeps its PodSpec at spec.template.spec',
        groupKind: { group: 'batch', kind: 'Job' },
        object: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a CronJob keeps its PodSpec at spec.jobTemplate.spec.template.spec',
        groupKind: { group: 'batch', kind: 'CronJob' },
        object: {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          spec: { schedule: '* * * * *', jobTemplate: { spec: { template: template() } } },
        },
        base: 'spec.jobTemplate.spec.template.spec',
      },
      {
        name: 'a Deployment from the old extensions group is still judged',
        groupKind: { group: 'extensions', kind: 'Deployment' },
        object: { apiVersion: 'extensions/v1beta1', kind: 'Deployment', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a ReplicaSet from the old extensions group is still judged',
        groupKind: { group: 'extensions', kind: 'ReplicaSet' },
        object: { apiVersion: 'extensions/v1beta1', kind: 'ReplicaSet', spec: { template: template() } },
        base: 'spec.template.spec',
      },
      {
        name: 'a DaemonSet from the old extensions group is still judged',
        groupKind: { group: 'extensions', kind: 'DaemonSet' },
        object: { apiVersion: 'extensions/v1beta1', kind: 'DaemonSet', spec: { template: template() } },
        base: 'spec.template.spec',
      },
    ])('$name', ({ groupKind, object, base }) => {
      // Prepare: an object whose PodSpec has init, regular and ephemeral containers.

      // Act
      const extraction = extractImages(groupKind, object);

      // Assess
      expect(extraction).toEqual(imagesAt(base));
    });
  });

  describe('reads the containers of a PodSpec', () => {
    it.each<{ name: string; spec: Record<string, unknown>; expected: Extraction }>([
      {
        name: 'init containers come first, with their own index, so a denial can name them',
        spec: {
          initContainers: [{ image: 'a' }, { image: 'b' }],
          containers: [{ image: 'c' }],
        },
        expected: {
          kind: 'images',
          images: [
            { path: 'spec.template.spec.initContainers[0].image', image: 'a' },
            { path: 'spec.template.spec.initContainers[1].image', image: 'b' },
            { path: 'spec.template.spec.containers[0].image', image: 'c' },
          ],
        },
      },
      {
        name: 'a PodSpec without containers has no images',
        spec: {},
        expected: { kind: 'images', images: [] },
      },
      {
        name: 'null container lists are treated as absent',
        spec: { initContainers: null, containers: [{ image: 'c' }], ephemeralContainers: null },
        expected: {
          kind: 'images',
          images: [{ path: 'spec.template.spec.containers[0].image', image: 'c' }],
        },
      },
      {
        name: 'empty container lists have no images',
        spec: { initContainers: [], containers: [], ephemeralContainers: [] },
        expected: { kind: 'images', images: [] },
      },
      {
        name: 'a container without an image is listed with an undefined image for the caller to judge',
        spec: { containers: [{ name: 'no-image' }] },
        expected: {
          kind: 'images',
          images: [{ path: 'spec.template.spec.containers[0].image', image: undefined }],
        },
      },
      {
        name: 'a container that is not an object is listed with an undefined image',
        spec: { containers: ['nginx', null, 7] },
        expected: {
          kind: 'images',
          images: [
            { path: 'spec.template.spec.containers[0].image', image: undefined },
            { path: 'spec.template.spec.containers[1].image', image: undefined },
            { path: 'spec.template.spec.containers[2].image', image: undefined },
          ],
        },
      },
      {
        name: 'an image that is not a string is returned as found',
        spec: { containers: [{ image: 42 }, { image: { name: 'nginx' } }] },
        expected: {
          kind: 'images',
          images: [
            { path: 'spec.template.spec.containers[0].image', image: 42 },
            { path: 'spec.template.spec.containers[1].image', image: { name: 'nginx' } },
          ],
        },
      },
      {
        name: 'the same image in two containers is listed twice, once per path',
        spec: { containers: [{ image: 'same' }, { image: 'same' }] },
        expected: {
          kind: 'images',
          images: [
            { path: 'spec.template.spec.containers[0].image', image: 'same' },
            { path: 'spec.template.spec.containers[1].image', image: 'same' },
          ],
        },
      },
    ])('$name', ({ spec, expected }) => {
      // Prepare
      const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec } } };

      // Act
      const extraction = extractImages({ group: 'apps', kind: 'Deployment' }, deployment);

      // Assess
      expect(extraction).toEqual(expected);
    });
  });

  describe('judges subresources as the API server sends them', () => {
    it.each<{
      name: string;
      groupKind: GroupKind;
      object: unknown;
      subresource: string;
      expected: Extraction;
    }>([
      {
        name: 'the ephemeralcontainers subresource judges only the ephemeral containers of a Pod',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: podSpec() },
        subresource: 'ephemeralcontainers',
        expected: {
          kind: 'images',
          images: [{ path: 'spec.ephemeralContainers[0].image', image: 'registry.example/debug:1' }],
        },
      },
      {
        name: 'the ephemeralcontainers subresource of a Pod without ephemeral containers has no images',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: { containers: [{ image: 'a' }] } },
        subresource: 'ephemeralcontainers',
        expected: { kind: 'images', images: [] },
      },
      {
        name: 'the ephemeralcontainers subresource reports malformed ephemeral containers',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: { ephemeralContainers: { image: 'a' } } },
        subresource: 'ephemeralcontainers',
        expected: { kind: 'malformed', path: 'spec.ephemeralContainers', problem: 'is not a list' },
      },
      {
        name: 'the status subresource of a Pod is not applicable',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: podSpec() },
        subresource: 'status',
        expected: { kind: 'not-applicable' },
      },
      {
        name: 'the binding subresource of a Pod is not applicable',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: podSpec() },
        subresource: 'binding',
        expected: { kind: 'not-applicable' },
      },
      {
        name: 'the scale subresource of a Deployment is not applicable',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { spec: { replicas: 3 } },
        subresource: 'scale',
        expected: { kind: 'not-applicable' },
      },
      {
        name: 'the status subresource of a Deployment is not applicable',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { spec: { template: template() } },
        subresource: 'status',
        expected: { kind: 'not-applicable' },
      },
      {
        name: 'an ephemeralcontainers subresource on a kind other than Pod is not applicable',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { spec: { template: template() } },
        subresource: 'ephemeralcontainers',
        expected: { kind: 'not-applicable' },
      },
    ])('$name', ({ groupKind, object, subresource, expected }) => {
      // Prepare: the subresource as the AdmissionReview names it.

      // Act
      const extraction = extractImages(groupKind, object, subresource);

      // Assess
      expect(extraction).toEqual(expected);
    });
  });

  describe('leaves objects without a PodSpec alone', () => {
    it.each<{ name: string; groupKind: GroupKind; object: unknown }>([
      {
        name: 'a ConfigMap is not applicable',
        groupKind: { group: '', kind: 'ConfigMap' },
        object: { data: { image: 'evil.example/app' } },
      },
      {
        name: 'a Service is not applicable',
        groupKind: { group: '', kind: 'Service' },
        object: { spec: { ports: [] } },
      },
      {
        name: 'a Deployment in a custom group is not applicable',
        groupKind: { group: 'example.com', kind: 'Deployment' },
        object: { spec: { template: template() } },
      },
      {
        name: 'a Deployment in the core group is not applicable',
        groupKind: { group: '', kind: 'Deployment' },
        object: { spec: { template: template() } },
      },
      {
        name: 'a Pod in a non-core group is not applicable',
        groupKind: { group: 'example.com', kind: 'Pod' },
        object: { spec: podSpec() },
      },
      {
        name: 'a Job in the apps group is not applicable',
        groupKind: { group: 'apps', kind: 'Job' },
        object: { spec: { template: template() } },
      },
      {
        name: 'a kind written in lowercase is not applicable',
        groupKind: { group: 'apps', kind: 'deployment' },
        object: { spec: { template: template() } },
      },
      {
        name: 'an unknown kind is not applicable even when its object is not an object',
        groupKind: { group: '', kind: 'Secret' },
        object: 'not an object',
      },
    ])('$name', ({ groupKind, object }) => {
      // Prepare: an object the webhook does not judge.

      // Act
      const extraction = extractImages(groupKind, object);

      // Assess
      expect(extraction).toEqual({ kind: 'not-applicable' });
    });
  });

  describe('reports a malformed object with its path and never throws', () => {
    it.each<{ name: string; groupKind: GroupKind; object: unknown; path: string; problem: string }>([
      {
        name: 'a Pod that is null is not an object',
        groupKind: { group: '', kind: 'Pod' },
        object: null,
        path: '',
        problem: 'the object is not a JSON object',
      },
      {
        name: 'a Pod that is a list is not an object',
        groupKind: { group: '', kind: 'Pod' },
        object: [{ spec: podSpec() }],
        path: '',
        problem: 'the object is not a JSON object',
      },
      {
        name: 'a Pod that is a string is not an object',
        groupKind: { group: '', kind: 'Pod' },
        object: 'apiVersion: v1',
        path: '',
        problem: 'the object is not a JSON object',
      },
      {
        name: 'a Pod without a spec is malformed at spec',
        groupKind: { group: '', kind: 'Pod' },
        object: { metadata: { name: 'x' } },
        path: 'spec',
        problem: 'is missing or not an object',
      },
      {
        name: 'a Pod whose spec is a list is malformed at spec',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: [podSpec()] },
        path: 'spec',
        problem: 'is missing or not an object',
      },
      {
        name: 'a Deployment without a template is malformed at spec.template',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { spec: { replicas: 1 } },
        path: 'spec.template',
        problem: 'is missing or not an object',
      },
      {
        name: 'a Deployment whose template spec is null is malformed at spec.template.spec',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { spec: { template: { spec: null } } },
        path: 'spec.template.spec',
        problem: 'is missing or not an object',
      },
      {
        name: 'a CronJob without a job template is malformed at spec.jobTemplate',
        groupKind: { group: 'batch', kind: 'CronJob' },
        object: { spec: { schedule: '* * * * *', template: template() } },
        path: 'spec.jobTemplate',
        problem: 'is missing or not an object',
      },
      {
        name: 'a CronJob whose job template has no template is malformed at spec.jobTemplate.spec.template',
        groupKind: { group: 'batch', kind: 'CronJob' },
        object: { spec: { jobTemplate: { spec: {} } } },
        path: 'spec.jobTemplate.spec.template',
        problem: 'is missing or not an object',
      },
      {
        name: 'a PodTemplate with a string template is malformed at template',
        groupKind: { group: '', kind: 'PodTemplate' },
        object: { template: 'spec' },
        path: 'template',
        problem: 'is missing or not an object',
      },
      {
        name: 'containers that are an object instead of a list are malformed',
        groupKind: { group: 'apps', kind: 'Deployment' },
        object: { spec: { template: { spec: { containers: { image: 'a' } } } } },
        path: 'spec.template.spec.containers',
        problem: 'is not a list',
      },
      {
        name: 'containers that are a string are malformed',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: { containers: 'nginx' } },
        path: 'spec.containers',
        problem: 'is not a list',
      },
      {
        name: 'init containers that are not a list are malformed even when containers are fine',
        groupKind: { group: 'batch', kind: 'Job' },
        object: { spec: { template: { spec: { initContainers: 1, containers: [{ image: 'a' }] } } } },
        path: 'spec.template.spec.initContainers',
        problem: 'is not a list',
      },
      {
        name: 'ephemeral containers that are not a list are malformed after good containers',
        groupKind: { group: '', kind: 'Pod' },
        object: { spec: { containers: [{ image: 'a' }], ephemeralContainers: true } },
        path: 'spec.ephemeralContainers',
        problem: 'is not a list',
      },
    ])('$name', ({ groupKind, object, path, problem }) => {
      // Prepare: an object that does not have the shape its kind promises.

      // Act
      const extraction = extractImages(groupKind, object);

      // Assess
      expect(extraction).toEqual({ kind: 'malformed', path, problem });
    });
  });
});

describe('JUDGED_KINDS', () => {
  it('lists exactly the kinds that embed a PodSpec, in their current groups', () => {
    // Prepare
    const expected: GroupKind[] = [
      { group: '', kind: 'Pod' },
      { group: '', kind: 'PodTemplate' },
      { group: '', kind: 'ReplicationController' },
      { group: 'apps', kind: 'ReplicaSet' },
      { group: 'apps', kind: 'Deployment' },
      { group: 'apps', kind: 'StatefulSet' },
      { group: 'apps', kind: 'DaemonSet' },
      { group: 'batch', kind: 'Job' },
      { group: 'batch', kind: 'CronJob' },
    ];

    // Act
    const kinds = [...JUDGED_KINDS];

    // Assess
    expect(kinds).toEqual(expect.arrayContaining(expected));
    expect(kinds).toHaveLength(expected.length);
  });

  it('lists only kinds that extractImages judges', () => {
    // Prepare: nothing beyond the list itself.

    // Act
    const unjudged = JUDGED_KINDS.filter((groupKind) => !embedsPodSpec(groupKind));

    // Assess
    expect(unjudged).toEqual([]);
  });
});

describe('embedsPodSpec', () => {
  it.each<{ name: string; groupKind: GroupKind; expected: boolean }>([
    { name: 'a core Pod embeds a PodSpec', groupKind: { group: '', kind: 'Pod' }, expected: true },
    {
      name: 'a batch CronJob embeds a PodSpec',
      groupKind: { group: 'batch', kind: 'CronJob' },
      expected: true,
    },
    {
      name: 'an extensions DaemonSet embeds a PodSpec',
      groupKind: { group: 'extensions', kind: 'DaemonSet' },
      expected: true,
    },
    { name: 'a core ConfigMap does not', groupKind: { group: '', kind: 'ConfigMap' }, expected: false },
    {
      name: 'a Deployment in another group does not',
      groupKind: { group: 'example.com', kind: 'Deployment' },
      expected: false,
    },
  ])('$name', ({ groupKind, expected }) => {
    // Prepare: the group and kind of a request.

    // Act
    const embeds = embedsPodSpec(groupKind);

    // Assess
    expect(embeds).toBe(expected);
  });
});

describe('groupFromApiVersion', () => {
  it.each<{ name: string; apiVersion: string; group: string }>([
    { name: 'the core version v1 has the empty group', apiVersion: 'v1', group: '' },
    { name: 'apps/v1 is in the apps group', apiVersion: 'apps/v1', group: 'apps' },
    { name: 'batch/v1beta1 is in the batch group', apiVersion: 'batch/v1beta1', group: 'batch' },
    { name: 'a dotted custom group is kept whole', apiVersion: 'example.com/v1alpha1', group: 'example.com' },
    { name: 'an empty apiVersion has the empty group', apiVersion: '', group: '' },
  ])('$name', ({ apiVersion, group }) => {
    // Prepare: the apiVersion as written in an object.

    // Act
    const found = groupFromApiVersion(apiVersion);

    // Assess
    expect(found).toBe(group);
  });
});
