import {
  type EcrRegistry,
  type ImageReference,
  PUBLIC_ECR_HOST,
  parseEcrHost,
  parseImageReference,
} from '../../src/domain/image-ref';

const DIGEST = `sha256:${'a1'.repeat(32)}`;
const ECR = '111122223333.dkr.ecr.us-east-1.amazonaws.com';
const ECR_US_EAST_1: EcrRegistry = {
  accountId: '111122223333',
  region: 'us-east-1',
  fips: false,
  dualStack: false,
};

/** Parses a reference the test expects to be valid, failing with the parser's own error otherwise. */
function parsed(input: string): ImageReference {
  const result = parseImageReference(input);
  if (!result.ok) throw new Error(`expected "${input}" to parse, got: ${result.error}`);
  return result.ref;
}

describe('parseImageReference', () => {
  describe('accepts the references a container runtime accepts', () => {
    it.each<{ name: string; input: string; expected: Omit<ImageReference, 'raw'> }>([
      {
        name: 'a bare Docker Hub name resolves to the library namespace with the latest tag',
        input: 'nginx',
        expected: { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' },
      },
      {
        name: 'a Docker Hub name with a tag keeps the tag',
        input: 'nginx:1.27',
        expected: { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' },
      },
      {
        name: 'a Docker Hub user repository keeps its namespace',
        input: 'user/app',
        expected: { registry: 'docker.io', repository: 'user/app', tag: 'latest' },
      },
      {
        name: 'an explicit docker.io host with a single component gains the library namespace',
        input: 'docker.io/nginx:1.27',
        expected: { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' },
      },
      {
        name: 'index.docker.io is the same registry as docker.io',
        input: 'index.docker.io/nginx',
        expected: { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' },
      },
      {
        name: 'index.docker.io with a user repository keeps the user namespace',
        input: 'index.docker.io/user/app:2',
        expected: { registry: 'docker.io', repository: 'user/app', tag: '2' },
      },
      {
        name: 'localhost with a port is a registry and the port is not taken for a tag',
        input: 'localhost:5000/a',
        expected: { registry: 'localhost:5000', repository: 'a', tag: 'latest' },
      },
      {
        name: 'a registry with a port and a tagged repository keeps both',
        input: 'myreg:5000/a:tag',
        expected: { registry: 'myreg:5000', repository: 'a', tag: 'tag' },
      },
      {
        name: 'localhost without a port is a registry',
        input: 'localhost/team/app:v1',
        expected: { registry: 'localhost', repository: 'team/app', tag: 'v1' },
      },
      {
        name: 'an IPv6 registry with a port is a registry',
        input: '[::1]:5000/app',
        expected: { registry: '[::1]:5000', repository: 'app', tag: 'latest' },
      },
      {
        name: 'a first component without a dot, colon or localhost is a Docker Hub namespace',
        input: 'myreg/app',
        expected: { registry: 'docker.io', repository: 'myreg/app', tag: 'latest' },
      },
      {
        name: 'a name without a registry and with a port-like suffix is a Docker Hub name with a tag',
        input: 'localhost:5000',
        expected: { registry: 'docker.io', repository: 'library/localhost', tag: '5000' },
      },
      {
        name: 'a deep repository path with separators is kept whole',
        input: 'ghcr.io/org/team/my_app-x.y__z:v1.2.3-rc.1',
        expected: { registry: 'ghcr.io', repository: 'org/team/my_app-x.y__z', tag: 'v1.2.3-rc.1' },
      },
      {
        name: 'a reference pinned by digest has no default tag',
        input: `nginx@${DIGEST}`,
        expected: { registry: 'docker.io', repository: 'library/nginx', digest: DIGEST },
      },
      {
        name: 'a reference with both a tag and a digest keeps both',
        input: `nginx:1.27@${DIGEST}`,
        expected: { registry: 'docker.io', repository: 'library/nginx', tag: '1.27', digest: DIGEST },
      },
      {
        name: 'a registry with a port, a tag and a digest keeps all three apart',
        input: `myreg:5000/a/b:tag@${DIGEST}`,
        expected: { registry: 'myreg:5000', repository: 'a/b', tag: 'tag', digest: DIGEST },
      },
      {
        name: 'a digest of another algorithm is accepted as the grammar allows',
        input: `app@sha512:${'0'.repeat(128)}`,
        expected: { registry: 'docker.io', repository: 'library/app', digest: `sha512:${'0'.repeat(128)}` },
      },
      {
        name: 'a tag of 128 characters is the longest accepted',
        input: `app:${'t'.repeat(128)}`,
        expected: { registry: 'docker.io', repository: 'library/app', tag: 't'.repeat(128) },
      },
      {
        name: 'a tag may start with an underscore and use uppercase letters',
        input: 'app:_Build.1-X',
        expected: { registry: 'docker.io', repository: 'library/app', tag: '_Build.1-X' },
      },
      {
        name: 'public ECR is parsed as an ordinary registry that is not private ECR',
        input: `${PUBLIC_ECR_HOST}/nginx/nginx:1.27`,
        expected: { registry: 'public.ecr.aws', repository: 'nginx/nginx', tag: '1.27' },
      },
    ])('$name', ({ input, expected }) => {
      // Prepare: the input is the reference as written in a Pod.

      // Act
      const result = parseImageReference(input);

      // Assess
      expect(result).toEqual({ ok: true, ref: { raw: input, ...expected } });
    });
  });

  describe('rejects invalid references with an error that says what is wrong', () => {
    it.each<{ name: string; input: unknown; error: string | RegExp }>([
      { name: 'an empty string is rejected', input: '', error: 'the image is empty' },
      { name: 'a number is not a reference', input: 42, error: 'the image is not a string' },
      { name: 'null is not a reference', input: null, error: 'the image is not a string' },
      { name: 'undefined is not a reference', input: undefined, error: 'the image is not a string' },
      { name: 'an object is not a reference', input: { image: 'nginx' }, error: 'the image is not a string' },
      { name: 'a list is not a reference', input: ['nginx'], error: 'the image is not a string' },
      {
        name: 'a reference longer than 4096 characters is too long',
        input: `a/${'b'.repeat(4095)}`,
        error: 'the image reference is too long',
      },
      {
        name: 'a repository name longer than 255 characters is too long',
        input: `registry.example/${'a'.repeat(256)}`,
        error: 'the repository name is too long',
      },
      {
        name: 'leading whitespace is rejected',
        input: ' nginx',
        error: 'the image reference contains whitespace',
      },
      {
        name: 'trailing newline is rejected',
        input: 'nginx\n',
        error: 'the image reference contains whitespace',
      },
      {
        name: 'whitespace inside the reference is rejected',
        input: 'nginx :1.27',
        error: 'the image reference contains whitespace',
      },
      {
        name: 'an uppercase repository is rejected',
        input: 'Nginx',
        error: /"library\/Nginx" is not a valid repository name \(lowercase letters/,
      },
      {
        name: 'an uppercase repository under a registry is rejected',
        input: `${ECR}/Team/App:1`,
        error: /"Team\/App" is not a valid repository name/,
      },
      {
        name: 'an uppercase first component without a dot is a repository, so it is rejected',
        input: 'MyRegistry/app',
        error: /"MyRegistry\/app" is not a valid repository name/,
      },
      {
        name: 'an empty path component is rejected',
        input: 'registry.example/a//b',
        error: /"a\/\/b" is not a valid repository name/,
      },
      {
        name: 'a repository component that ends with a separator is rejected',
        input: 'registry.example/app-',
        error: /"app-" is not a valid repository name/,
      },
      {
        name: 'a registry without a repository is rejected',
        input: 'localhost:5000/',
        error: 'the image has no repository name',
      },
      {
        name: 'docker.io without a repository is rejected',
        input: 'docker.io/',
        error: 'the image has no repository name',
      },
      {
        name: 'a digest without a name is rejected as having no repository',
        input: `@${DIGEST}`,
        error: 'the image has no repository name',
      },
      { name: 'an empty tag is rejected', input: 'nginx:', error: '"" is not a valid tag' },
      {
        name: 'a tag that starts with a dash is rejected',
        input: 'nginx:-1',
        error: '"-1" is not a valid tag',
      },
      {
        name: 'a tag with a forbidden character is rejected',
        input: 'nginx:1+2',
        error: '"1+2" is not a valid tag',
      },
      {
        name: 'a tag of 129 characters is rejected',
        input: `nginx:${'t'.repeat(129)}`,
        error: `"${'t'.repeat(129)}" is not a valid tag`,
      },
      { name: 'an empty digest is rejected', input: 'nginx@', error: '"" is not a valid digest' },
      {
        name: 'a digest without an algorithm is rejected',
        input: `nginx@${'a'.repeat(64)}`,
        error: `"${'a'.repeat(64)}" is not a valid digest`,
      },
      {
        name: 'a short sha256 digest is rejected',
        input: 'nginx@sha256:abc123',
        error: '"sha256:abc123" is not a valid digest',
      },
      {
        name: 'a sha256 digest of 63 characters is rejected',
        input: `nginx@sha256:${'a'.repeat(63)}`,
        error: 'a sha256 digest must be 64 lowercase hexadecimal characters',
      },
      {
        name: 'a sha256 digest of 65 characters is rejected',
        input: `nginx@sha256:${'a'.repeat(65)}`,
        error: 'a sha256 digest must be 64 lowercase hexadecimal characters',
      },
      {
        name: 'a sha256 digest in uppercase hexadecimal is rejected',
        input: `nginx@sha256:${'A'.repeat(64)}`,
        error: 'a sha256 digest must be 64 lowercase hexadecimal characters',
      },
      {
        name: 'a sha256 digest with a non-hexadecimal character is rejected',
        input: `nginx@sha256:${'g'.repeat(64)}`,
        error: 'a sha256 digest must be 64 lowercase hexadecimal characters',
      },
      {
        name: 'two digests are rejected',
        input: `nginx@${DIGEST}@${DIGEST}`,
        error: /is not a valid digest/,
      },
      {
        name: 'a registry with a non-numeric port is rejected',
        input: 'myreg:http/app',
        error: '"myreg:http" is not a valid registry host',
      },
      {
        name: 'a registry whose label starts with a dash is rejected',
        input: '-bad.example/app',
        error: '"-bad.example" is not a valid registry host',
      },
      {
        name: 'a registry with an empty label is rejected',
        input: 'bad..example/app',
        error: '"bad..example" is not a valid registry host',
      },
    ])('$name', ({ input, error }) => {
      // Prepare: the input is the value found in the object.

      // Act
      const result = parseImageReference(input);

      // Assess
      expect(result.ok).toBe(false);
      if (result.ok) return;
      if (typeof error === 'string') expect(result.error).toBe(error);
      else expect(result.error).toMatch(error);
    });
  });

  describe('recognises private ECR registries and takes account and region from the host', () => {
    it.each<{ name: string; input: string; ecr: EcrRegistry | undefined }>([
      {
        name: 'a standard ECR reference carries the account and region of its host',
        input: `${ECR}/team/app:1.4.2`,
        ecr: ECR_US_EAST_1,
      },
      {
        name: 'a FIPS GovCloud ECR reference is recognised as FIPS',
        input: '111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/app:1',
        ecr: { accountId: '111122223333', region: 'us-gov-west-1', fips: true, dualStack: false },
      },
      {
        name: 'a China ECR reference is recognised with its China region',
        input: '111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app:1',
        ecr: { accountId: '111122223333', region: 'cn-north-1', fips: false, dualStack: false },
      },
      {
        name: 'a dual-stack ECR reference is recognised as dual-stack',
        input: '444455556666.dkr-ecr.eu-west-1.on.aws/team/app:1',
        ecr: { accountId: '444455556666', region: 'eu-west-1', fips: false, dualStack: true },
      },
      {
        name: 'a look-alike host ending in another domain is not ECR',
        input: `${ECR}.evil.example/team/app:1`,
        ecr: undefined,
      },
      {
        name: 'an ECR host used as a path under another registry is not ECR',
        input: `evil.example/${ECR}/team/app:1`,
        ecr: undefined,
      },
      {
        name: 'an ECR host with a port is not ECR',
        input: `${ECR}:443/team/app:1`,
        ecr: undefined,
      },
      {
        // Host names are DNS names, case-insensitive: the runtime pulls it from the very same registry.
        name: 'an ECR host written in uppercase is the same ECR registry',
        input: `${ECR.toUpperCase()}/team/app:1`,
        ecr: ECR_US_EAST_1,
      },
      {
        name: 'an ECR host in mixed case is the same ECR registry',
        input: '111122223333.Dkr.Ecr.US-EAST-1.amazonaws.com/team/app:1',
        ecr: ECR_US_EAST_1,
      },
      {
        name: 'public ECR is not a private ECR registry',
        input: 'public.ecr.aws/team/app:1',
        ecr: undefined,
      },
      {
        name: 'an ECR host alone, without a repository, is a Docker Hub name and not ECR',
        input: ECR,
        ecr: undefined,
      },
    ])('$name', ({ input, ecr }) => {
      // Prepare: the input is an image as a Pod references it.

      // Act
      const ref = parsed(input);

      // Assess
      expect(ref.ecr).toEqual(ecr);
    });
  });

  describe('does not have the bugs of the AWS sample', () => {
    it('does not have AWS sample bug 2: a look-alike host is not ECR and a real one keeps its own account and region', () => {
      // Prepare: a host that contains an ECR host but does not end there, and an ECR host of
      // another account and region than any caller's.
      const lookAlike = '111122223333.dkr.ecr.us-east-1.amazonaws.com.evil.example/team/app:1';
      const prefixed = 'evil.example/111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1';
      const otherAccount = '444455556666.dkr.ecr.ap-southeast-2.amazonaws.com/team/app:1';

      // Act
      const results = [lookAlike, prefixed, otherAccount].map(parsed);

      // Assess
      expect(results[0]?.ecr).toBeUndefined();
      expect(results[0]?.registry).toBe('111122223333.dkr.ecr.us-east-1.amazonaws.com.evil.example');
      expect(results[1]?.ecr).toBeUndefined();
      expect(results[1]?.registry).toBe('evil.example');
      expect(results[2]?.ecr).toEqual({
        accountId: '444455556666',
        region: 'ap-southeast-2',
        fips: false,
        dualStack: false,
      });
      expect(results[2]?.repository).toBe('team/app');
    });

    it.each<{ name: string; input: string; tag: string | undefined; digest: string | undefined }>([
      {
        name: 'does not have AWS sample bug 3: an ECR reference with no tag defaults to latest',
        input: `${ECR}/team/app`,
        tag: 'latest',
        digest: undefined,
      },
      {
        name: 'does not have AWS sample bug 3: an ECR reference with only a digest has no tag',
        input: `${ECR}/team/app@${DIGEST}`,
        tag: undefined,
        digest: DIGEST,
      },
      {
        name: 'does not have AWS sample bug 3: an ECR reference with a tag and a digest keeps both apart',
        input: `${ECR}/team/app:1.4.2@${DIGEST}`,
        tag: '1.4.2',
        digest: DIGEST,
      },
    ])('$name', ({ input, tag, digest }) => {
      // Prepare: the input is an ECR image as a Pod references it.

      // Act
      const ref = parsed(input);

      // Assess
      expect(ref.registry).toBe(ECR);
      expect(ref.repository).toBe('team/app');
      expect(ref.tag).toBe(tag);
      expect(ref.digest).toBe(digest);
      expect(ref.ecr).toEqual(ECR_US_EAST_1);
    });
  });
});

describe('parseEcrHost', () => {
  it.each<{ name: string; host: string; expected: EcrRegistry }>([
    {
      name: 'a standard commercial-region host is ECR',
      host: '111122223333.dkr.ecr.us-east-1.amazonaws.com',
      expected: ECR_US_EAST_1,
    },
    {
      name: 'a host in a three-part region name is ECR',
      host: '111122223333.dkr.ecr.ap-southeast-2.amazonaws.com',
      expected: { accountId: '111122223333', region: 'ap-southeast-2', fips: false, dualStack: false },
    },
    {
      name: 'a FIPS host in GovCloud is ECR and FIPS',
      host: '111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      expected: { accountId: '111122223333', region: 'us-gov-west-1', fips: true, dualStack: false },
    },
    {
      name: 'a FIPS host in a commercial region is ECR and FIPS',
      host: '111122223333.dkr.ecr-fips.us-east-2.amazonaws.com',
      expected: { accountId: '111122223333', region: 'us-east-2', fips: true, dualStack: false },
    },
    {
      name: 'a China host under amazonaws.com.cn is ECR',
      host: '111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn',
      expected: { accountId: '111122223333', region: 'cn-north-1', fips: false, dualStack: false },
    },
    {
      name: 'a second China region host under amazonaws.com.cn is ECR',
      host: '111122223333.dkr.ecr.cn-northwest-1.amazonaws.com.cn',
      expected: { accountId: '111122223333', region: 'cn-northwest-1', fips: false, dualStack: false },
    },
    {
      name: 'a dual-stack host under on.aws is ECR and dual-stack',
      host: '111122223333.dkr-ecr.us-east-1.on.aws',
      expected: { accountId: '111122223333', region: 'us-east-1', fips: false, dualStack: true },
    },
    {
      name: 'a dual-stack FIPS host under on.aws is ECR, FIPS and dual-stack',
      host: '111122223333.dkr-ecr-fips.us-gov-east-1.on.aws',
      expected: { accountId: '111122223333', region: 'us-gov-east-1', fips: true, dualStack: true },
    },
    {
      name: 'an account with leading zeros keeps them',
      host: '000011112222.dkr.ecr.eu-west-1.amazonaws.com',
      expected: { accountId: '000011112222', region: 'eu-west-1', fips: false, dualStack: false },
    },
  ])('$name', ({ host, expected }) => {
    // Prepare: the host is a registry host as parsed from a reference.

    // Act
    const registry = parseEcrHost(host);

    // Assess
    expect(registry).toEqual(expected);
  });

  it.each<{ name: string; host: string }>([
    { name: 'a host with another domain appended is not ECR', host: `${ECR}.evil.example` },
    { name: 'a host with another domain prepended is not ECR', host: `evil.example.${ECR}` },
    { name: 'a host with a trailing dot is not ECR', host: `${ECR}.` },
    { name: 'a host with a trailing newline is not ECR', host: `${ECR}\n` },
    {
      name: 'a host with an 11-digit account is not ECR',
      host: '11112222333.dkr.ecr.us-east-1.amazonaws.com',
    },
    {
      name: 'a host with a 13-digit account is not ECR',
      host: '1111222233334.dkr.ecr.us-east-1.amazonaws.com',
    },
    {
      name: 'a host with a non-numeric account is not ECR',
      host: 'abcd22223333.dkr.ecr.us-east-1.amazonaws.com',
    },
    {
      name: 'a non-China region under amazonaws.com.cn is not ECR',
      host: '111122223333.dkr.ecr.us-east-1.amazonaws.com.cn',
    },
    {
      name: 'a China region without the .cn suffix is not ECR',
      host: '111122223333.dkr.ecr.cn-north-1.amazonaws.com',
    },
    { name: 'a host with a port is not ECR', host: `${ECR}:443` },
    { name: 'a host written in uppercase is not ECR', host: ECR.toUpperCase() },
    {
      name: 'a host with one uppercase letter is not ECR',
      host: '111122223333.dkr.ecr.us-East-1.amazonaws.com',
    },
    { name: 'public ECR is not a private registry', host: PUBLIC_ECR_HOST },
    { name: 'Docker Hub is not ECR', host: 'docker.io' },
    { name: 'an empty host is not ECR', host: '' },
    { name: 'a host without the dkr label is not ECR', host: '111122223333.ecr.us-east-1.amazonaws.com' },
    { name: 'the ECR API endpoint is not a registry', host: 'api.ecr.us-east-1.amazonaws.com' },
    { name: 'a host without a region is not ECR', host: '111122223333.dkr.ecr.amazonaws.com' },
    { name: 'a region without a number is not ECR', host: '111122223333.dkr.ecr.us-east.amazonaws.com' },
    {
      name: 'a dual-stack label under amazonaws.com is not ECR',
      host: '111122223333.dkr-ecr.us-east-1.amazonaws.com',
    },
    { name: 'a standard label under on.aws is not ECR', host: '111122223333.dkr.ecr.us-east-1.on.aws' },
    {
      name: 'a dual-stack host with a .cn suffix is not ECR',
      host: '111122223333.dkr-ecr.us-east-1.on.aws.cn',
    },
    {
      name: 'a look-alike domain with an extra label is not ECR',
      host: '111122223333.dkr.ecr.us-east-1.amazonaws.co',
    },
    { name: 'a host with a userinfo prefix is not ECR', host: `user@${ECR}` },
  ])('$name', ({ host }) => {
    // Prepare: the host imitates an ECR host without being one.

    // Act
    const registry = parseEcrHost(host);

    // Assess
    expect(registry).toBeUndefined();
  });
});
