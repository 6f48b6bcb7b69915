import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicyText } from '../../src/adapters/files';
import { FileError, PolicyError } from '../../src/domain/errors';
import { compileGlob, compileGlobs } from '../../src/domain/glob';
import { DEFAULT_POLICY, type Policy, parsePolicy, policyFor, policyHash } from '../../src/domain/policy';

/** The policy without its compiled matchers, for comparing with plain data. */
function dataOf(policy: Policy): Omit<Policy, 'match'> {
  const { match: _match, ...data } = policy;
  return data;
}

/** The policy docs/design.md's "Policy" section documents when every key is left out. */
const DOCUMENTED_DEFAULTS: Omit<Policy, 'match'> = {
  mode: 'enforce',
  namespaces: { exempt: ['kube-system'], warn: [] },
  images: { exempt: [], allowPublicEcr: false, allowedRegistries: [] },
  rules: {
    requireEcr: true,
    requireTagImmutability: true,
    requireScanOnPush: true,
    maxSeverityCounts: { CRITICAL: 0 },
    ignoreFindings: [],
    unscanned: 'deny',
    maxScanAgeDays: 0,
  },
  failureMode: 'deny',
  scopes: [],
  pinDigests: 'pods',
  archived: 'deny',
  continuity: { recreate: 'off', graceDays: 14 },
  registries: [],
};

/** Runs parsePolicy and returns the PolicyError it throws, failing when it does not throw one. */
function policyErrorOf(document: unknown): PolicyError {
  try {
    parsePolicy(document);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected the policy to be rejected');
}

function fileErrorOf(text: string, source: string): FileError {
  try {
    parsePolicyText(text, source);
  } catch (error) {
    if (error instanceof FileError) return error;
    throw error;
  }
  throw new Error('expected the policy file to be rejected');
}

describe('parsePolicy', () => {
  describe('fills in the documented defaults', () => {
    it.each<{ name: string; document: unknown }>([
      { name: 'an empty document gets every default', document: {} },
      { name: 'an undefined document (an empty file) gets every default', document: undefined },
      { name: 'a null document (an empty YAML file) gets every default', document: null },
      {
        name: 'empty sections get every default of their keys',
        document: { namespaces: {}, images: {}, rules: {} },
      },
      {
        name: 'an empty severity map keeps the default CRITICAL limit',
        document: { rules: { maxSeverityCounts: {} } },
      },
    ])('$name', ({ document }) => {
      // Prepare: the document as decoded from a policy file.

      // Act
      const policy = parsePolicy(document);

      // Assess
      expect(dataOf(policy)).toEqual(DOCUMENTED_DEFAULTS);
    });

    it('DEFAULT_POLICY is the policy of an empty document', () => {
      // Prepare: nothing; the default is a constant.

      // Act
      const policy = DEFAULT_POLICY;

      // Assess
      expect(dataOf(policy)).toEqual(DOCUMENTED_DEFAULTS);
      expect(policy.match.exemptNamespace('kube-system')).toBe(true);
      expect(policy.match.exemptNamespace('default')).toBe(false);
      expect(policy.match.warnNamespace('default')).toBe(false);
      expect(policy.match.exemptImage('nginx')).toBe(false);
    });

    it.each<{ name: string; document: unknown; expected: Omit<Policy, 'match'> }>([
      {
        name: 'warn namespaces alone keep kube-system exempt',
        document: { namespaces: { warn: ['sandbox-*'] } },
        expected: { ...DOCUMENTED_DEFAULTS, namespaces: { exempt: ['kube-system'], warn: ['sandbox-*'] } },
      },
      {
        name: 'an explicit empty exempt list exempts no namespace at all',
        document: { namespaces: { exempt: [] } },
        expected: { ...DOCUMENTED_DEFAULTS, namespaces: { exempt: [], warn: [] } },
      },
      {
        name: 'one rule switched off keeps every other rule at its default',
        document: { rules: { requireScanOnPush: false } },
        expected: {
          ...DOCUMENTED_DEFAULTS,
          rules: { ...DOCUMENTED_DEFAULTS.rules, requireScanOnPush: false },
        },
      },
      {
        name: 'allowing public ECR keeps the other image settings at their defaults',
        document: { images: { allowPublicEcr: true } },
        expected: {
          ...DOCUMENTED_DEFAULTS,
          images: { exempt: [], allowPublicEcr: true, allowedRegistries: [] },
        },
      },
      {
        name: 'every key set to a non-default value is kept as written',
        document: {
          mode: 'warn',
          namespaces: { exempt: ['kube-system', 'istio-system'], warn: ['dev-*'] },
          images: {
            exempt: ['602401143452.dkr.ecr.*.amazonaws.com/*'],
            allowPublicEcr: true,
            allowedRegistries: ['111122223333'],
          },
          rules: {
            requireEcr: false,
            requireTagImmutability: false,
            requireScanOnPush: false,
            maxSeverityCounts: { CRITICAL: 1, HIGH: 10 },
            ignoreFindings: [{ id: 'CVE-2026-0001', expires: '2027-01-31', reason: 'no fix yet' }],
            unscanned: 'warn',
            maxScanAgeDays: 30,
          },
          failureMode: 'allow',
          pinDigests: 'workloads',
          archived: 'restore',
          continuity: { recreate: 'warn' },
          registries: [{ accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/read' }],
        },
        expected: {
          scopes: [],
          mode: 'warn',
          namespaces: { exempt: ['kube-system', 'istio-system'], warn: ['dev-*'] },
          images: {
            exempt: ['602401143452.dkr.ecr.*.amazonaws.com/*'],
            allowPublicEcr: true,
            allowedRegistries: ['111122223333'],
          },
          rules: {
            requireEcr: false,
            requireTagImmutability: false,
            requireScanOnPush: false,
            maxSeverityCounts: { CRITICAL: 1, HIGH: 10 },
            ignoreFindings: [{ id: 'CVE-2026-0001', expires: '2027-01-31', reason: 'no fix yet' }],
            unscanned: 'warn',
            maxScanAgeDays: 30,
          },
          failureMode: 'allow',
          pinDigests: 'workloads',
          archived: 'restore',
          continuity: { recreate: 'warn', graceDays: 14 },
          registries: [{ accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/read' }],
        },
      },
    ])('$name', ({ document, expected }) => {
      // Prepare: a document that sets some keys.

      // Act
      const policy = parsePolicy(document);

      // Assess
      expect(dataOf(policy)).toEqual(expected);
    });
  });

  describe('merges severity limits with the default', () => {
    it.each<{ name: string; limits: unknown; expected: Record<string, number> }>([
      { name: 'a HIGH limit keeps CRITICAL at 0', limits: { HIGH: 5 }, expected: { CRITICAL: 0, HIGH: 5 } },
      { name: 'a CRITICAL limit replaces the default', limits: { CRITICAL: 2 }, expected: { CRITICAL: 2 } },
      { name: 'a null CRITICAL lifts the limit', limits: { CRITICAL: null }, expected: {} },
      {
        name: 'a null CRITICAL with a HIGH limit keeps only the HIGH limit',
        limits: { CRITICAL: null, HIGH: 0 },
        expected: { HIGH: 0 },
      },
      {
        name: 'a null limit on a severity without a default changes nothing',
        limits: { LOW: null },
        expected: { CRITICAL: 0 },
      },
      {
        name: 'every severity may carry a limit',
        limits: { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFORMATIONAL: 4, UNDEFINED: 5 },
        expected: { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFORMATIONAL: 4, UNDEFINED: 5 },
      },
    ])('$name', ({ limits, expected }) => {
      // Prepare
      const document = { rules: { maxSeverityCounts: limits } };

      // Act
      const policy = parsePolicy(document);

      // Assess
      expect(policy.rules.maxSeverityCounts).toEqual(expected);
    });
  });

  describe('accepts ignored findings with a real calendar date', () => {
    it.each<{ name: string; expires: unknown; expected: string }>([
      { name: 'a date written YYYY-MM-DD is kept', expires: '2027-01-31', expected: '2027-01-31' },
      {
        name: 'the 29th of February of a leap year is a date',
        expires: '2028-02-29',
        expected: '2028-02-29',
      },
      {
        name: 'a Date (as a YAML timestamp decodes) is written back as its UTC day',
        expires: new Date('2027-01-31T00:00:00Z'),
        expected: '2027-01-31',
      },
    ])('$name', ({ expires, expected }) => {
      // Prepare
      const document = { rules: { ignoreFindings: [{ id: 'CVE-2026-0001', expires }] } };

      // Act
      const policy = parsePolicy(document);

      // Assess
      expect(policy.rules.ignoreFindings).toEqual([{ id: 'CVE-2026-0001', expires: expected }]);
    });
  });

  describe('rejects unknown keys by their full path', () => {
    it.each<{ name: string; document: unknown; issue: string }>([
      {
        name: 'an unknown top-level key is named',
        document: { enforce: true },
        issue: 'enforce: unknown key',
      },
      {
        name: 'a misspelt rule is named with its section',
        document: { rules: { maxSeverity: { CRITICAL: 0 } } },
        issue: 'rules.maxSeverity: unknown key',
      },
      {
        name: 'a misspelt namespace key is named with its section',
        document: { namespaces: { exmpt: ['a'] } },
        issue: 'namespaces.exmpt: unknown key',
      },
      {
        name: 'an unknown image key is named with its section',
        document: { images: { allowPublic: true } },
        issue: 'images.allowPublic: unknown key',
      },
      {
        name: 'an unknown severity is named inside maxSeverityCounts',
        document: { rules: { maxSeverityCounts: { SEVERE: 1 } } },
        issue: 'rules.maxSeverityCounts.SEVERE: unknown key',
      },
      {
        name: 'an unknown key of an ignored finding is named with its index',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '2027-01-31', note: 'x' }] } },
        issue: 'rules.ignoreFindings[0].note: unknown key',
      },
      {
        name: 'an unknown key of a registry entry is named with its index',
        document: {
          registries: [
            {
              accountId: '444455556666',
              roleArn: 'arn:aws:iam::444455556666:role/read',
              region: 'us-east-1',
            },
          ],
        },
        issue: 'registries[0].region: unknown key',
      },
    ])('$name', ({ document, issue }) => {
      // Prepare: a document with a key the policy does not have.

      // Act
      const error = policyErrorOf(document);

      // Assess
      expect(error.issues).toEqual([issue]);
      expect(error.message).toBe(issue);
    });
  });

  describe('rejects bad values, naming the key path', () => {
    it.each<{ name: string; document: unknown; issue: string | RegExp }>([
      {
        name: 'a document that is a list is rejected at the top level',
        document: ['mode', 'warn'],
        issue: /^\(top level\): .*expected object/,
      },
      {
        name: 'a document that is a string is rejected at the top level',
        document: 'mode: warn',
        issue: /^\(top level\): .*expected object/,
      },
      {
        name: 'a mode other than enforce or warn is rejected',
        document: { mode: 'audit' },
        issue: /^mode: .*"enforce"\|"warn"/,
      },
      {
        name: 'an unscanned policy other than deny, warn or allow is rejected',
        document: { rules: { unscanned: 'ignore' } },
        issue: /^rules\.unscanned: .*"deny"\|"warn"\|"allow"/,
      },
      {
        name: 'a failure mode other than deny or allow is rejected',
        document: { failureMode: 'warn' },
        issue: /^failureMode: .*"deny"\|"allow"/,
      },
      {
        name: 'a negative maximum scan age is rejected',
        document: { rules: { maxScanAgeDays: -1 } },
        issue: /^rules\.maxScanAgeDays: .*>=0/,
      },
      {
        name: 'a fractional maximum scan age is rejected',
        document: { rules: { maxScanAgeDays: 1.5 } },
        issue: /^rules\.maxScanAgeDays: .*int/,
      },
      {
        name: 'a maximum scan age written as a string is rejected',
        document: { rules: { maxScanAgeDays: '30' } },
        issue: /^rules\.maxScanAgeDays: .*expected number/,
      },
      {
        name: 'a negative severity limit is rejected',
        document: { rules: { maxSeverityCounts: { HIGH: -1 } } },
        issue: /^rules\.maxSeverityCounts\.HIGH: .*>=0/,
      },
      {
        name: 'a severity limit written as a string is rejected',
        document: { rules: { maxSeverityCounts: { CRITICAL: 'none' } } },
        issue: /^rules\.maxSeverityCounts\.CRITICAL: .*expected number/,
      },
      {
        name: 'a rule switch written as a string is rejected',
        document: { rules: { requireEcr: 'false' } },
        issue: /^rules\.requireEcr: .*expected boolean/,
      },
      {
        name: 'an exempt image that is not a string is rejected with its index',
        document: { images: { exempt: ['nginx', 42] } },
        issue: /^images\.exempt\[1\]: .*expected string/,
      },
      {
        name: 'an empty exempt image glob is rejected with its index',
        document: { images: { exempt: [''] } },
        issue: /^images\.exempt\[0\]: /,
      },
      {
        name: 'exempt images written as one string instead of a list are rejected',
        document: { images: { exempt: 'nginx' } },
        issue: /^images\.exempt: .*expected array/,
      },
      {
        name: 'a warn namespace that is not a string is rejected with its index',
        document: { namespaces: { warn: [null] } },
        issue: /^namespaces\.warn\[0\]: .*expected string/,
      },
      {
        name: 'an allowed registry that is not a 12-digit account id is rejected',
        document: { images: { allowedRegistries: ['11112222333'] } },
        issue: 'images.allowedRegistries[0]: expected a 12-digit AWS account id',
      },
      {
        name: 'an allowed registry written as a number is rejected',
        document: { images: { allowedRegistries: [111122223333] } },
        issue: /^images\.allowedRegistries\[0\]: .*expected string/,
      },
      {
        name: 'a registry entry with a 13-digit account id is rejected',
        document: {
          registries: [{ accountId: '4444555566667', roleArn: 'arn:aws:iam::444455556666:role/read' }],
        },
        issue: 'registries[0].accountId: expected a 12-digit AWS account id',
      },
      {
        name: 'a role ARN of another account is rejected',
        document: {
          registries: [{ accountId: '444455556666', roleArn: 'arn:aws:iam::111122223333:role/read' }],
        },
        issue: 'registries[0].roleArn: the role must belong to the account it reads',
      },
      {
        name: 'a role ARN that is not a role is rejected',
        document: {
          registries: [{ accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:user/read' }],
        },
        issue: 'registries[0].roleArn: expected an IAM role ARN',
      },
      {
        name: 'a role ARN that is not an ARN is named once, without a misleading account complaint',
        document: { registries: [{ accountId: '444455556666', roleArn: 'read-role' }] },
        issue: 'registries[0].roleArn: expected an IAM role ARN',
      },
      {
        name: 'a registry entry without a role is rejected',
        document: { registries: [{ accountId: '444455556666' }] },
        issue: /^registries\[0\]\.roleArn: /,
      },
      {
        name: 'an ignored finding without an id is rejected',
        document: { rules: { ignoreFindings: [{ expires: '2027-01-31' }] } },
        issue: /^rules\.ignoreFindings\[0\]\.id: /,
      },
      {
        name: 'an ignored finding without an expiry is rejected',
        document: { rules: { ignoreFindings: [{ id: 'CVE-2026-0001' }] } },
        issue: /^rules\.ignoreFindings\[0\]\.expires: /,
      },
      {
        name: 'the 30th of February is not a date',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '2027-02-30' }] } },
        issue: 'rules.ignoreFindings[0].expires: expected a date written YYYY-MM-DD, got "2027-02-30"',
      },
      {
        name: 'the 29th of February of a common year is not a date',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '2027-02-29' }] } },
        issue: 'rules.ignoreFindings[0].expires: expected a date written YYYY-MM-DD, got "2027-02-29"',
      },
      {
        name: 'a thirteenth month is not a date',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '2027-13-01' }] } },
        issue: 'rules.ignoreFindings[0].expires: expected a date written YYYY-MM-DD, got "2027-13-01"',
      },
      {
        name: 'a date without leading zeros is rejected',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '2027-1-31' }] } },
        issue: 'rules.ignoreFindings[0].expires: expected a date written YYYY-MM-DD, got "2027-1-31"',
      },
      {
        name: 'a date and time is rejected',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '2027-01-31T00:00:00Z' }] } },
        issue: /^rules\.ignoreFindings\[0\]\.expires: expected a date written YYYY-MM-DD/,
      },
      {
        name: 'a day-first date is rejected',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: '31/01/2027' }] } },
        issue: /^rules\.ignoreFindings\[0\]\.expires: expected a date written YYYY-MM-DD/,
      },
      {
        name: 'an expiry written as a number is rejected',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: 20270131 }] } },
        issue: /^rules\.ignoreFindings\[0\]\.expires: /,
      },
      {
        name: 'an invalid Date is rejected rather than thrown',
        document: { rules: { ignoreFindings: [{ id: 'CVE-1', expires: new Date('not a date') }] } },
        issue: /^rules\.ignoreFindings\[0\]\.expires: /,
      },
    ])('$name', ({ document, issue }) => {
      // Prepare: a document with one bad value.

      // Act
      const error = policyErrorOf(document);

      // Assess
      expect(error).toBeInstanceOf(PolicyError);
      expect(error.name).toBe('PolicyError');
      expect(error.issues).toHaveLength(1);
      if (typeof issue === 'string') expect(error.issues[0]).toBe(issue);
      else expect(error.issues[0]).toMatch(issue);
    });

    it.each<{ name: string; roleArn: string }>([
      {
        name: 'a role in the commercial partition is accepted',
        roleArn: 'arn:aws:iam::444455556666:role/read',
      },
      {
        name: 'a role in the GovCloud partition is accepted',
        roleArn: 'arn:aws-us-gov:iam::444455556666:role/read',
      },
      {
        name: 'a role in the China partition is accepted',
        roleArn: 'arn:aws-cn:iam::444455556666:role/read',
      },
      {
        name: 'a role with a path is accepted',
        roleArn: 'arn:aws:iam::444455556666:role/service-role/ecr-admission.read@x',
      },
    ])('$name', ({ roleArn }) => {
      // Prepare
      const document = { registries: [{ accountId: '444455556666', roleArn }] };

      // Act
      const policy = parsePolicy(document);

      // Assess
      expect(policy.registries).toEqual([{ accountId: '444455556666', roleArn }]);
    });

    it('checks the role of each registry entry on its own, whatever is wrong with another entry', () => {
      // Prepare
      const document = {
        registries: [
          { accountId: '1', roleArn: 'arn:aws:iam::444455556666:role/read' },
          { accountId: '444455556666', roleArn: 'arn:aws:iam::111122223333:role/read' },
        ],
      };

      // Act
      const error = policyErrorOf(document);

      // Assess
      expect(error.issues).toEqual([
        'registries[0].accountId: expected a 12-digit AWS account id',
        'registries[1].roleArn: the role must belong to the account it reads',
      ]);
    });

    it('collects every problem, each with its path, before answering', () => {
      // Prepare
      const document = {
        mode: 'audit',
        namespaces: { exempt: 'kube-system' },
        rules: { unscanned: 'maybe', maxScanAgeDays: -3, extra: 1 },
        registries: [{ accountId: '1', roleArn: 'arn:aws:iam::444455556666:role/read' }],
      };

      // Act
      const error = policyErrorOf(document);

      // Assess
      const paths = error.issues.map((issue) => issue.slice(0, issue.indexOf(':')));
      expect(paths.sort()).toEqual(
        [
          'mode',
          'namespaces.exempt',
          'rules.unscanned',
          'rules.maxScanAgeDays',
          'rules.extra',
          'registries[0].accountId',
        ].sort(),
      );
      expect(error.message).toBe(error.issues.join('; '));
    });
  });

  describe('matches globs for exempt images and namespaces', () => {
    const policy = parsePolicy({
      namespaces: { exempt: ['kube-system', 'platform-?'], warn: ['sandbox-*'] },
      images: { exempt: ['602401143452.dkr.ecr.*.amazonaws.com/*', 'registry.k8s.io/pause:3.?'] },
    });

    it.each<{ name: string; image: string; exempt: boolean }>([
      {
        name: 'the EKS add-on registry glob matches a repository path across slashes',
        image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.9',
        exempt: true,
      },
      {
        name: 'the EKS add-on registry glob matches a deep repository with a digest',
        image: `602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni/init:v1.18.0@sha256:${'a'.repeat(64)}`,
        exempt: true,
      },
      {
        name: 'the EKS add-on registry glob does not match another account',
        image: '111122223333.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.9',
        exempt: false,
      },
      {
        name: 'a dot in a glob is literal, not any character',
        image: '602401143452xdkr.ecr.us-west-2.amazonaws.com/eks/pause:3.9',
        exempt: false,
      },
      {
        name: 'the EKS add-on registry glob does not match a host that only ends differently',
        image: '602401143452.dkr.ecr.us-west-2.amazonaws.com.evil.example/eks/pause:3.9',
        exempt: false,
      },
      {
        name: 'a glob is anchored at the start',
        image: 'evil.example/602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.9',
        exempt: false,
      },
      {
        name: 'the registry part of a glob never reaches past the host into a look-alike path',
        image: '602401143452.dkr.ecr.attacker.example/x.amazonaws.com/y:1',
        exempt: false,
      },
      { name: 'a question mark matches one character', image: 'registry.k8s.io/pause:3.9', exempt: true },
      {
        name: 'a question mark does not match two characters',
        image: 'registry.k8s.io/pause:3.10',
        exempt: false,
      },
      {
        name: 'a question mark does not match no character',
        image: 'registry.k8s.io/pause:3.',
        exempt: false,
      },
      { name: 'an image matching no glob is not exempt', image: 'nginx', exempt: false },
    ])('$name', ({ image, exempt }) => {
      // Prepare: the policy above.

      // Act
      const matched = policy.match.exemptImage(image);

      // Assess
      expect(matched).toBe(exempt);
    });

    it.each<{ name: string; namespace: string; exempt: boolean; warn: boolean }>([
      { name: 'kube-system is exempt', namespace: 'kube-system', exempt: true, warn: false },
      {
        name: 'an exact namespace glob does not match a longer name',
        namespace: 'kube-system-2',
        exempt: false,
        warn: false,
      },
      {
        name: 'a sandbox namespace is judged in warn mode',
        namespace: 'sandbox-alice',
        exempt: false,
        warn: true,
      },
      { name: 'a star matches an empty run', namespace: 'sandbox-', exempt: false, warn: true },
      {
        name: 'a namespace without the dash is not a sandbox',
        namespace: 'sandbox',
        exempt: false,
        warn: false,
      },
      {
        name: 'a namespace glob is anchored at the start',
        namespace: 'my-sandbox-x',
        exempt: false,
        warn: false,
      },
      {
        name: 'a question mark matches one character of a namespace',
        namespace: 'platform-a',
        exempt: true,
        warn: false,
      },
      { name: 'a question mark does not match two', namespace: 'platform-ab', exempt: false, warn: false },
      {
        name: 'the default namespace is neither exempt nor warned',
        namespace: 'default',
        exempt: false,
        warn: false,
      },
    ])('$name', ({ namespace, exempt, warn }) => {
      // Prepare: the policy above.

      // Act
      const matches = {
        exempt: policy.match.exemptNamespace(namespace),
        warn: policy.match.warnNamespace(namespace),
      };

      // Assess
      expect(matches).toEqual({ exempt, warn });
    });
  });
});

describe('compileGlob', () => {
  it.each<{ name: string; pattern: string; value: string; matches: boolean }>([
    { name: 'a literal pattern matches only itself', pattern: 'team/app', value: 'team/app', matches: true },
    {
      name: 'a literal pattern is anchored at the end',
      pattern: 'team/app',
      value: 'team/app2',
      matches: false,
    },
    { name: 'a star matches across slashes', pattern: 'team/*', value: 'team/a/b/c:1', matches: true },
    { name: 'a star matches across newlines', pattern: 'a*b', value: 'a\nb', matches: true },
    { name: 'a plus is literal', pattern: 'a+b', value: 'aab', matches: false },
    { name: 'a literal plus matches itself', pattern: 'a+b', value: 'a+b', matches: true },
    { name: 'parentheses and pipes are literal', pattern: '(a|b)', value: 'a', matches: false },
    { name: 'brackets are literal', pattern: '[ab]', value: '[ab]', matches: true },
    { name: 'a dollar and a caret are literal', pattern: '^a$', value: '^a$', matches: true },
    { name: 'a backslash is literal', pattern: 'a\\d', value: 'a\\d', matches: true },
    {
      name: 'a backslash does not become a regular expression class',
      pattern: 'a\\d',
      value: 'a1',
      matches: false,
    },
    { name: 'braces are literal', pattern: 'a{2}', value: 'aa', matches: false },
    { name: 'a lone star matches the empty string', pattern: '*', value: '', matches: true },
  ])('$name', ({ pattern, value, matches }) => {
    // Prepare
    const matcher = compileGlob(pattern);

    // Act
    const matched = matcher(value);

    // Assess
    expect(matched).toBe(matches);
  });

  it.each<{ name: string; patterns: string[]; value: string; matches: boolean }>([
    { name: 'no patterns match nothing', patterns: [], value: 'anything', matches: false },
    { name: 'any one matching pattern is enough', patterns: ['a*', 'b*'], value: 'banana', matches: true },
    { name: 'no matching pattern is no match', patterns: ['a*', 'b*'], value: 'cherry', matches: false },
  ])('compileGlobs: $name', ({ patterns, value, matches }) => {
    // Prepare
    const matcher = compileGlobs(patterns);

    // Act
    const matched = matcher(value);

    // Assess
    expect(matched).toBe(matches);
  });
});

describe('parsePolicyText', () => {
  it.each<{ name: string; text: string; expected: Omit<Policy, 'match'> }>([
    { name: 'an empty YAML file is the default policy', text: '', expected: DOCUMENTED_DEFAULTS },
    {
      name: 'a YAML file of only comments is the default policy',
      text: '# nothing\n',
      expected: DOCUMENTED_DEFAULTS,
    },
    {
      name: 'a YAML policy with an unquoted date is read',
      text: [
        'mode: warn',
        'namespaces:',
        '  warn: ["sandbox-*"]',
        'rules:',
        '  maxSeverityCounts: { HIGH: 5 }',
        '  ignoreFindings:',
        '    - id: CVE-2026-0001',
        '      expires: 2027-01-31',
        '      reason: waiting for a fix',
        '',
      ].join('\n'),
      expected: {
        ...DOCUMENTED_DEFAULTS,
        mode: 'warn',
        namespaces: { exempt: ['kube-system'], warn: ['sandbox-*'] },
        rules: {
          ...DOCUMENTED_DEFAULTS.rules,
          maxSeverityCounts: { CRITICAL: 0, HIGH: 5 },
          ignoreFindings: [{ id: 'CVE-2026-0001', expires: '2027-01-31', reason: 'waiting for a fix' }],
        },
      },
    },
    {
      name: 'a YAML null severity limit lifts it',
      text: 'rules:\n  maxSeverityCounts:\n    CRITICAL: ~\n',
      expected: { ...DOCUMENTED_DEFAULTS, rules: { ...DOCUMENTED_DEFAULTS.rules, maxSeverityCounts: {} } },
    },
    {
      name: 'a JSON policy is read',
      text: JSON.stringify({
        failureMode: 'allow',
        images: { allowedRegistries: ['111122223333'] },
        registries: [{ accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/read' }],
      }),
      expected: {
        ...DOCUMENTED_DEFAULTS,
        failureMode: 'allow',
        images: { exempt: [], allowPublicEcr: false, allowedRegistries: ['111122223333'] },
        registries: [{ accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/read' }],
      },
    },
  ])('$name', ({ text, expected }) => {
    // Prepare: the text of a policy file.

    // Act
    const policy = parsePolicyText(text, 'policy.yaml');

    // Assess
    expect(dataOf(policy)).toEqual(expected);
  });

  it.each<{ name: string; text: string; source: string; message: string | RegExp }>([
    {
      name: 'an unknown key is named with the file',
      text: 'rules:\n  maxSeverity: 1\n',
      source: 'policy.yaml',
      message: 'policy.yaml: invalid policy: rules.maxSeverity: unknown key',
    },
    {
      name: 'several problems are joined on one line',
      text: '{"mode": "audit", "failureMode": "never"}',
      source: 'policy.json',
      message: /^policy\.json: invalid policy: mode: .*; failureMode: /,
    },
    {
      name: 'an impossible date is named with the file',
      text: 'rules:\n  ignoreFindings:\n    - id: CVE-1\n      expires: 2027-02-30\n',
      source: '/etc/ecr-admission/policy.yaml',
      message:
        '/etc/ecr-admission/policy.yaml: invalid policy: rules.ignoreFindings[0].expires: expected a date written YYYY-MM-DD, got "2027-02-30"',
    },
    {
      name: 'broken YAML is named with the file',
      text: 'mode: [enforce\nrules:\n  requireEcr: true\n',
      source: 'policy.yaml',
      message: /^policy\.yaml: not valid YAML or JSON \(.+\)$/,
    },
    {
      name: 'broken JSON is named with the file',
      text: '{"mode": "warn",',
      source: 'policy.json',
      message: /^policy\.json: not valid YAML or JSON \(.+\)$/,
    },
    {
      name: 'a YAML list instead of a mapping is rejected at the top level',
      text: '- mode\n- warn\n',
      source: 'policy.yaml',
      message: /^policy\.yaml: invalid policy: \(top level\): /,
    },
    {
      name: 'a value with a line break still gives a one-line message',
      text: 'rules:\n  ignoreFindings:\n    - id: CVE-1\n      expires: "2027-01-31\\nrm -rf"\n',
      source: 'policy.yaml',
      message: /^policy\.yaml: invalid policy: rules\.ignoreFindings\[0\]\.expires: /,
    },
    {
      name: 'an unknown key with a line break still gives a one-line message',
      text: '"mo\\nde": warn\n',
      source: 'policy.yaml',
      message: /^policy\.yaml: invalid policy: .*unknown key$/,
    },
  ])('$name', ({ text, source, message }) => {
    // Prepare: a bad policy file's text and where it came from.

    // Act
    const error = fileErrorOf(text, source);

    // Assess
    expect(error.name).toBe('FileError');
    expect(error.file).toBe(source);
    expect(error.message).not.toMatch(/[\r\n]/);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('keeps the PolicyError as the cause of an invalid policy', () => {
    // Prepare
    const text = 'mode: audit\n';

    // Act
    const error = fileErrorOf(text, 'policy.yaml');

    // Assess
    expect(error.cause).toBeInstanceOf(PolicyError);
    expect((error.cause as PolicyError).issues).toEqual([expect.stringMatching(/^mode: /)]);
  });
});

describe('risk-based rules: countOnly, scoped exceptions and scopes', () => {
  it.each<{ name: string; document: unknown; issue: string | RegExp }>([
    {
      name: 'a YAML 1.1 boolean in fixAvailable is an error saying to quote it',
      document: { rules: { countOnly: { fixAvailable: [true] } } },
      issue:
        /^rules\.countOnly\.fixAvailable\[0\]: true is a boolean .*write it in quotes, one of YES, PARTIAL, NO, UNKNOWN$/,
    },
    {
      name: 'a YAML 1.1 boolean in exploitAvailable is an error saying to quote it',
      document: { rules: { countOnly: { exploitAvailable: [false] } } },
      issue: /^rules\.countOnly\.exploitAvailable\[0\]: false is a boolean .*write it in quotes/,
    },
    {
      name: 'an unknown fix availability is named',
      document: { rules: { countOnly: { fixAvailable: ['MAYBE'] } } },
      issue: 'rules.countOnly.fixAvailable[0]: expected one of YES, PARTIAL, NO, UNKNOWN, got "MAYBE"',
    },
    {
      name: 'a minScore above 10 is an error',
      document: { rules: { countOnly: { minScore: 10.5 } } },
      issue: /^rules\.countOnly\.minScore: /,
    },
    {
      name: 'a negative minScore is an error',
      document: { rules: { countOnly: { minScore: -1 } } },
      issue: /^rules\.countOnly\.minScore: /,
    },
    {
      name: 'a negative minAgeDays is an error',
      document: { rules: { countOnly: { minAgeDays: -1 } } },
      issue: /^rules\.countOnly\.minAgeDays: /,
    },
    {
      name: 'an unknown countOnly key is named by its path',
      document: { rules: { countOnly: { fixed: ['YES'] } } },
      issue: 'rules.countOnly.fixed: unknown key',
    },
    {
      name: 'an unknown key of a scope is named by its path',
      document: { scopes: [{ namespaces: ['prod'], rules: { maxSeverity: 1 } }] },
      issue: 'scopes[0].rules.maxSeverity: unknown key',
    },
    {
      name: 'a scope without namespaces is an error',
      document: { scopes: [{ mode: 'warn' }] },
      issue: /^scopes\[0\]\.namespaces: /,
    },
    {
      name: 'a scope may not override what is not per namespace',
      document: { scopes: [{ namespaces: ['prod'], pinDigests: 'off' }] },
      issue: 'scopes[0].pinDigests: unknown key',
    },
    {
      name: 'a scope may not override what is done with archived images',
      document: { scopes: [{ namespaces: ['prod'], archived: 'restore' }] },
      issue: 'scopes[0].archived: unknown key',
    },
    {
      name: 'a scope may not override the continuity guard',
      document: { scopes: [{ namespaces: ['prod'], continuity: { recreate: 'warn' } }] },
      issue: 'scopes[0].continuity: unknown key',
    },
    {
      name: 'continuity.recreate is off or warn',
      document: { continuity: { recreate: 'allow' } },
      issue: /^continuity\.recreate: /,
    },
    {
      name: 'continuity.graceDays is a non-negative integer',
      document: { continuity: { graceDays: -1 } },
      issue: /^continuity\.graceDays: /,
    },
    {
      name: 'continuity takes no other key',
      document: { continuity: { recreate: 'warn', forever: true } },
      issue: 'continuity.forever: unknown key',
    },
    {
      name: 'archived is deny or restore',
      document: { archived: 'thaw' },
      issue: /^archived: /,
    },
  ])('$name', ({ document, issue }) => {
    const error = policyErrorOf(document);

    expect(error.issues).toHaveLength(1);
    if (typeof issue === 'string') expect(error.issues[0]).toBe(issue);
    else expect(error.issues[0]).toMatch(issue);
  });

  it('reads fixAvailable YES unquoted from YAML 1.2 as the string it is', () => {
    const policy = parsePolicyText('rules:\n  countOnly:\n    fixAvailable: [YES, PARTIAL]\n', 'policy.yaml');

    expect(policy.rules.countOnly).toEqual({ fixAvailable: ['YES', 'PARTIAL'] });
  });

  it("merges a scope's rules over the top level key by key, limits and countOnly included, exceptions added", () => {
    const policy = parsePolicy({
      rules: {
        maxSeverityCounts: { HIGH: 10 },
        countOnly: { fixAvailable: ['YES'] },
        ignoreFindings: [{ id: 'CVE-1', expires: '2027-01-31' }],
        unscanned: 'warn',
      },
      scopes: [
        {
          namespaces: ['prod-*'],
          failureMode: 'allow',
          rules: {
            maxSeverityCounts: { HIGH: 0, CRITICAL: null },
            countOnly: { minScore: 7 },
            ignoreFindings: [{ id: 'CVE-2', expires: '2027-01-31' }],
          },
        },
      ],
    });

    const { policy: prod, mode } = policyFor(policy, 'prod-eu');
    const { policy: shop } = policyFor(policy, 'shop');

    expect(mode).toBeUndefined();
    expect(prod.rules.maxSeverityCounts).toEqual({ HIGH: 0 });
    expect(prod.rules.countOnly).toEqual({ fixAvailable: ['YES'], minScore: 7 });
    expect(prod.rules.ignoreFindings.map((e) => e.id)).toEqual(['CVE-1', 'CVE-2']);
    expect(prod.rules.unscanned).toBe('warn');
    expect(prod.failureMode).toBe('allow');
    expect(shop).toBe(policy);
  });

  it('resolves exceptions scoped to namespaces for the namespace asked about, and applies none without one', () => {
    const policy = parsePolicy({
      rules: {
        ignoreFindings: [
          { id: 'CVE-1', expires: '2027-01-31', namespaces: ['payments-*'], ticket: 'SEC-1' },
          { id: 'CVE-2', expires: '2027-01-31' },
        ],
      },
    });

    const ids = (namespace: string) =>
      policyFor(policy, namespace).policy.rules.ignoreFindings.map((e) => [e.id, e.namespaces]);

    expect(ids('payments-eu')).toEqual([
      ['CVE-1', undefined],
      ['CVE-2', undefined],
    ]);
    expect(ids('shop')).toEqual([['CVE-2', undefined]]);
    expect(ids('')).toEqual([['CVE-2', undefined]]);
  });

  it('counts the policy hash over scopes and the new keys, so stored verdicts see the change', () => {
    const base = policyHash(parsePolicy({}));

    expect(policyHash(parsePolicy({ rules: { countOnly: { minAgeDays: 14 } } }))).not.toBe(base);
    expect(policyHash(parsePolicy({ scopes: [{ namespaces: ['prod'], mode: 'warn' }] }))).not.toBe(base);
  });
});

describe('examples/policies', () => {
  const dir = join(__dirname, '../../examples/policies');

  it.each(readdirSync(dir))('%s is a valid policy', (file) => {
    expect(() => parsePolicyText(readFileSync(join(dir, file), 'utf8'), file)).not.toThrow();
  });

  it('production-sandbox.yaml tightens production, relaxes sandboxes and leaves the rest alone', () => {
    const policy = parsePolicyText(readFileSync(join(dir, 'production-sandbox.yaml'), 'utf8'), 'p.yaml');

    expect(policyFor(policy, 'prod-eu').policy.rules.maxSeverityCounts).toEqual({ CRITICAL: 0, HIGH: 0 });
    expect(policyFor(policy, 'sandbox-alice').mode).toBe('warn');
    expect(policyFor(policy, 'shop').policy).toBe(policy);
  });
});
