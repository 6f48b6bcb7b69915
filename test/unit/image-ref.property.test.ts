import fc from 'fast-check';
import {
  type EcrRegistry,
  formatReference,
  type ImageReference,
  parseEcrHost,
  parseImageReference,
} from '../../src/domain/image-ref';

const RUNS = { numRuns: 2000 };

// Generators for the parts of a reference, following the distribution/reference grammar.
const pathComponent = fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,6}){0,2}$/);
const hostLabel = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const port = fc.integer({ min: 1, max: 65535 }).map(String);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const sha256 = fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`);
const account = fc.stringMatching(/^\d{12}$/);
const region = fc.oneof(
  fc.constantFrom(
    'us-east-1',
    'eu-central-2',
    'ap-southeast-4',
    'us-gov-west-1',
    'cn-north-1',
    'cn-northwest-1',
  ),
  // Regions AWS may open later: any name its partitions' region patterns accept.
  fc
    .tuple(
      fc.constantFrom('us', 'eu', 'ap', 'sa', 'ca', 'me', 'af', 'il', 'mx', 'cn', 'us-gov'),
      fc.stringMatching(/^[a-z]{1,9}$/),
      fc.integer({ min: 1, max: 99 }),
    )
    .map(([prefix, word, n]) => `${prefix}-${word}-${n}`),
);

/** The one host a registry's fields allow: what docs/design.md (rule 1) documents, written independently of the parser. */
function canonicalEcrHost(registry: EcrRegistry): string {
  const fips = registry.fips ? '-fips' : '';
  if (registry.dualStack) return `${registry.accountId}.dkr-ecr${fips}.${registry.region}.on.aws`;
  const china = registry.region.startsWith('cn-') ? '.cn' : '';
  return `${registry.accountId}.dkr.ecr${fips}.${registry.region}.amazonaws.com${china}`;
}

const ecrRegistry = fc
  .record({ accountId: account, region, fips: fc.boolean(), dualStack: fc.boolean() })
  .map((registry): EcrRegistry => registry);
const ecrHost = ecrRegistry.map(canonicalEcrHost);

const registryHost = fc.oneof(
  fc.constantFrom('docker.io', 'index.docker.io', 'localhost', 'public.ecr.aws', 'ghcr.io'),
  fc.tuple(fc.constant('localhost'), port).map(([host, p]) => `${host}:${p}`),
  fc
    .tuple(fc.array(hostLabel, { minLength: 2, maxLength: 4 }), fc.option(port, { nil: undefined }))
    .map(([labels, p]) => `${labels.join('.')}${p ? `:${p}` : ''}`),
  ecrHost,
);

interface ReferenceParts {
  registry: string | undefined;
  path: string[];
  tag: string | undefined;
  digest: string | undefined;
}

/** Parts whose meaning is unambiguous: without a registry, the first component must not look like a host. */
const referenceParts: fc.Arbitrary<ReferenceParts> = fc
  .record({
    registry: fc.option(registryHost, { nil: undefined }),
    path: fc.array(pathComponent, { minLength: 1, maxLength: 4 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(sha256, { nil: undefined }),
  })
  .filter(
    ({ registry, path }) =>
      registry !== undefined || path.length === 1 || !(path[0]?.includes('.') || path[0] === 'localhost'),
  );

function writeReference(parts: ReferenceParts): string {
  const name = [parts.registry, ...parts.path].filter((part) => part !== undefined).join('/');
  return `${name}${parts.tag ? `:${parts.tag}` : ''}${parts.digest ? `@${parts.digest}` : ''}`;
}

/** Strings drawn from the characters references are made of, so that many of them parse. */
const referenceLikeString = fc.string({
  unit: fc.constantFrom(...'abcz019AZ./:@_-'.split(''), 'sha256:', 'docker.io/', 'localhost:5000/', '[::1]'),
  maxLength: 40,
});

function fieldsOf(ref: ImageReference) {
  return {
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest: ref.digest,
    ecr: ref.ecr,
  };
}

describe('parseImageReference properties', () => {
  it.each<{ name: string; input: fc.Arbitrary<unknown> }>([
    { name: 'never throws on any JavaScript value', input: fc.anything() },
    { name: 'never throws on strings of any Unicode code points', input: fc.string({ unit: 'binary' }) },
    { name: 'never throws on strings of graphemes', input: fc.string({ unit: 'grapheme', maxLength: 200 }) },
    { name: 'never throws on reference-like strings', input: referenceLikeString },
    {
      name: 'never throws on very long strings',
      input: fc.string({ unit: fc.constantFrom('a', '/', ':', '@', '.'), minLength: 3000, maxLength: 6000 }),
    },
  ])('$name and always answers ok or a non-empty error', ({ input }) => {
    // Prepare: the arbitrary stands for whatever an object may carry in `image`.

    // Act and Assess
    fc.assert(
      fc.property(input, (value) => {
        const result = parseImageReference(value);
        if (result.ok) expect(result.ref.raw).toBe(value);
        else expect(result.error.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('parses every well-formed reference into exactly the parts it was written from', () => {
    // Prepare: references written from generated registry, path, tag and digest.

    fc.assert(
      fc.property(referenceParts, (parts) => {
        // Act
        const result = parseImageReference(writeReference(parts));

        // Assess
        const dockerHub = parts.registry === undefined || /^(index\.)?docker\.io$/.test(parts.registry);
        const repository = parts.path.join('/');
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const { ecr: _ecr, ...fields } = fieldsOf(result.ref);
        expect(fields).toEqual({
          registry: dockerHub ? 'docker.io' : parts.registry,
          repository: dockerHub && parts.path.length === 1 ? `library/${repository}` : repository,
          tag: parts.tag ?? (parts.digest ? undefined : 'latest'),
          digest: parts.digest,
        });
      }),
      RUNS,
    );
  });

  it.each<{ name: string; input: fc.Arbitrary<string> }>([
    { name: 'well-formed references', input: referenceParts.map(writeReference) },
    { name: 'reference-like strings that parse', input: referenceLikeString },
  ])('round-trips $name through formatReference to the same fields', ({ input }) => {
    // Prepare: any reference that parses.

    fc.assert(
      fc.property(input, (raw) => {
        const first = parseImageReference(raw);
        fc.pre(first.ok);
        if (!first.ok) return;

        // Act
        const formatted = formatReference(first.ref);
        const second = parseImageReference(formatted);

        // Assess
        expect(second.ok).toBe(true);
        if (!second.ok) return;
        expect(fieldsOf(second.ref)).toEqual(fieldsOf(first.ref));
        expect(formatReference(second.ref)).toBe(formatted);
      }),
      RUNS,
    );
  });

  it('carries the ECR registry of the host it was written with', () => {
    // Prepare: an ECR host in front of a repository.

    fc.assert(
      fc.property(ecrRegistry, fc.array(pathComponent, { minLength: 1, maxLength: 3 }), (registry, path) => {
        const host = canonicalEcrHost(registry);

        // Act
        const result = parseImageReference(`${host}/${path.join('/')}:1`);

        // Assess
        expect(result.ok && result.ref.ecr).toEqual(registry);
      }),
      RUNS,
    );
  });
});

/** Edits that turn an ECR host into something close to it. */
const mutation = fc.oneof(
  fc.record({ at: fc.nat(), insert: fc.string({ minLength: 1, maxLength: 3 }) }).map(
    ({ at, insert }) =>
      (host: string) =>
        host.slice(0, at % (host.length + 1)) + insert + host.slice(at % (host.length + 1)),
  ),
  fc
    .nat()
    .map((at) => (host: string) => host.slice(0, at % host.length) + host.slice((at % host.length) + 1)),
  fc.record({ at: fc.nat(), char: fc.constantFrom('0', '9', 'a', '.', '-', 'A', ':', '/') }).map(
    ({ at, char }) =>
      (host: string) =>
        host.slice(0, at % host.length) + char + host.slice((at % host.length) + 1),
  ),
  fc
    .constantFrom('.evil.example', '.cn', ':443', '.', '/', '\n', '.on.aws', '.amazonaws.com')
    .map((suffix) => (host: string) => host + suffix),
  fc.constantFrom('evil.', 'x', '1', '.', 'a.b/').map((prefix) => (host: string) => prefix + host),
  fc.nat().map((at) => (host: string) => {
    const i = at % host.length;
    return host.slice(0, i) + host.charAt(i).toUpperCase() + host.slice(i + 1);
  }),
  fc
    .tuple(
      fc.constantFrom('.amazonaws.com.cn', '.amazonaws.com', '.on.aws'),
      fc.constantFrom('.on.aws', '.amazonaws.com'),
    )
    .map(
      ([from, to]) =>
        (host: string) =>
          host.replace(from, to),
    ),
);

const nearEcrHost = fc
  .tuple(ecrHost, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([host, edits]) => edits.reduce((text, edit) => edit(text), host));

describe('parseImageReference properties on look-alike registries', () => {
  it('marks a reference as ECR only when its registry is exactly the host of that ECR registry', () => {
    // Prepare: hosts a few edits away from an ECR host, in front of a repository.

    fc.assert(
      fc.property(nearEcrHost, (host) => {
        // Act
        const raw = `${host}/team/app:1`;
        const result = parseImageReference(raw);

        // Assess: edits may add a `/`, so the registry is the reference's first component.
        if (!result.ok || result.ref.ecr === undefined) return;
        // Host names are case-insensitive (DNS): exactly the host, in any case.
        expect(canonicalEcrHost(result.ref.ecr)).toBe(result.ref.registry.toLowerCase());
        expect(raw.split('/')[0]).toBe(result.ref.registry);
      }),
      RUNS,
    );
  });
});

describe('parseEcrHost properties', () => {
  it('accepts every documented host shape with the account, region and flags it was written with', () => {
    // Prepare: hosts written from generated registries.

    fc.assert(
      fc.property(ecrRegistry, (registry) => {
        // Act
        const parsed = parseEcrHost(canonicalEcrHost(registry));

        // Assess
        expect(parsed).toEqual(registry);
      }),
      RUNS,
    );
  });

  it.each<{ name: string; host: fc.Arbitrary<string> }>([
    { name: 'hosts one to three edits away from an ECR host', host: nearEcrHost },
    { name: 'arbitrary strings', host: fc.string({ unit: 'binary', maxLength: 80 }) },
    {
      name: 'strings made of ECR host pieces',
      host: fc
        .array(
          fc.constantFrom(
            '111122223333',
            '11112222333',
            '1111222233334',
            '.',
            'dkr',
            'dkr-ecr',
            'ecr',
            'ecr-fips',
            '-fips',
            'us-east-1',
            'cn-north-1',
            'us-gov-west-1',
            'amazonaws',
            'com',
            'cn',
            'on',
            'aws',
            ':443',
            'evil',
          ),
          { maxLength: 14 },
        )
        .map((pieces) => pieces.join('')),
    },
  ])('accepts among $name only hosts exactly of a documented shape', ({ host }) => {
    // Prepare: candidate hosts, most of which are not ECR.

    fc.assert(
      fc.property(host, (candidate) => {
        // Act
        const parsed = parseEcrHost(candidate);

        // Assess
        if (parsed === undefined) return;
        expect(parsed.accountId).toMatch(/^\d{12}$/);
        expect(parsed.region).toMatch(/^[a-z]{2}(?:-[a-z]+)+-\d+$/);
        expect(canonicalEcrHost(parsed)).toBe(candidate);
      }),
      { numRuns: 5000 },
    );
  });
});
