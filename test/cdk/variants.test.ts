/**
 * The stack under other settings and policies (synthesized in process, without bundling, with the
 * AwsSolutions checks: every variant must stay cdk-nag clean), and synth refusing bad input.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { loadDeployedPolicy, MAX_POLICY_JSON_BYTES } from '../../cdk/policy-source';
import { cdkCli, removeTemporaryDirectories, synthesizeInProcess, writeTemp } from './synth';

afterAll(removeTemporaryDirectories);

const VPCE = 'vpce-0123456789abcdef0';
const WEB_ACL = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/ecr-admission/0a1b2c3d';

describe('the API protections that the settings turn on', () => {
  test('a private endpoint is reachable only through the listed VPC endpoints and source addresses', () => {
    const { template } = synthesizeInProcess({
      context: { endpointType: 'private', vpcEndpointIds: VPCE, allowedSourceCidrs: '10.0.0.0/16' },
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['PRIVATE'], VpcEndpointIds: [VPCE] },
      Policy: {
        Statement: [
          Match.objectLike({
            Action: 'execute-api:Invoke',
            Condition: {
              StringEquals: { 'aws:SourceVpce': [VPCE] },
              IpAddress: { 'aws:VpcSourceIp': ['10.0.0.0/16'] },
            },
          }),
        ],
      },
    });
  });

  test('a regional endpoint can be limited to the cluster’s egress addresses, and get a WAF web ACL', () => {
    const { template } = synthesizeInProcess({
      context: { allowedSourceCidrs: ['203.0.113.10/32', '203.0.113.11/32'], webAclArn: WEB_ACL },
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      Policy: {
        Statement: [
          Match.objectLike({
            Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.10/32', '203.0.113.11/32'] } },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: WEB_ACL });
  });

  test('the webhook timeout bounds the function and the integration alike', () => {
    const { template } = synthesizeInProcess({
      context: { webhookTimeoutSeconds: '10', deadlineMs: '4000' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 10,
      Environment: { Variables: Match.objectLike({ DEADLINE_MS: '4000' }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: Match.objectLike({ TimeoutInMillis: 10_000 }),
    });
  });

  test('tableRemoval=destroy deletes the cache with the stack', () => {
    const { template } = synthesizeInProcess({ context: { tableRemoval: 'destroy' } });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        DeletionProtectionEnabled: false,
      }),
    });
  });
});

describe("the workflow's buffer under its settings", () => {
  test('the batching window and the maximum concurrency reach the event source mapping, at the least Lambda accepts', () => {
    const { template } = synthesizeInProcess({
      context: { refreshBatchWindowSeconds: '1', refreshMaxConcurrency: '2' },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });
});

describe('permissions that follow the policy', () => {
  const POLICY = [
    'images:',
    '  allowedRegistries: ["111122223333", "444455556666"]',
    'registries:',
    '  - { accountId: "444455556666", roleArn: "arn:aws:iam::444455556666:role/ecr-admission-read" }',
    '',
  ].join('\n');

  test('the functions may assume exactly the registry roles the policy names, and read only admitted accounts', () => {
    const { template } = synthesizeInProcess({ policyText: POLICY });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[],
    );
    const assume = statements.filter((s) => s.Action === 'sts:AssumeRole');
    // The admission role, and the roles of the refresh tasks that read ECR (Refresh, Prepare).
    expect(assume).toHaveLength(3);
    for (const statement of assume) {
      expect(statement.Resource).toBe('arn:aws:iam::444455556666:role/ecr-admission-read');
    }
    const repositories = statements.filter(
      (s) =>
        JSON.stringify(s.Action).includes('ecr:DescribeImages') &&
        !JSON.stringify(s.Resource).includes('AWS::Region'),
    );
    // The admission role, the Refresh and Prepare tasks'; ListTargets lists only the own registry, in its region.
    expect(repositories).toHaveLength(3);
    for (const statement of repositories) {
      expect(JSON.stringify(statement.Resource)).not.toContain(':ecr:*:*:');
      expect(statement.Resource).toEqual([
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ecr:*:', { Ref: 'AWS::AccountId' }, ':repository/*'],
          ],
        },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:*:111122223333:repository/*']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:*:444455556666:repository/*']] },
      ]);
    }
  });

  test('a policy too large for the functions’ environment is refused at synth', () => {
    const findings = Array.from(
      { length: 60 },
      (_, i) =>
        `    - { id: CVE-2026-${1000 + i}, expires: 2027-01-31, reason: "reviewed by the security team" }`,
    );
    const file = writeTemp(['rules:', '  ignoreFindings:', ...findings, ''].join('\n'));
    expect(() => loadDeployedPolicy(file)).toThrow(new RegExp(`bytes as JSON.*${MAX_POLICY_JSON_BYTES}`));
  });
});

describe('npx cdk synth refuses bad input with one line naming it', () => {
  test('a bad policy fails synth with the file and the key path', () => {
    const file = writeTemp('rules:\n  unscanned: sometimes\n');
    const result = cdkCli({ policyFile: file });
    expect(result.status).not.toBe(0);
    const line = result.stderr.split('\n').find((l) => l.startsWith('ecr-admission:'));
    expect(line).toContain(file);
    expect(line).toContain('rules.unscanned');
  }, 60_000);

  test('a bad setting fails synth naming the context key', () => {
    const result = cdkCli({ webhookTimeoutSeconds: '45' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/^ecr-admission: context key webhookTimeoutSeconds: /m);
  }, 60_000);
});
