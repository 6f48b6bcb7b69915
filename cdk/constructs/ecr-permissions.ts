/**
 * What reading ECR takes, and nothing more: the read actions the facts adapter calls, on repositories
 * of the registries the policy can admit, and `sts:AssumeRole` on exactly the roles the policy names
 * for other accounts' registries.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { Policy } from '../../src/domain/policy';

/** Actions that accept a repository ARN as their resource. */
export const ECR_REPOSITORY_READ_ACTIONS = [
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:DescribeImageScanFindings',
  'ecr:BatchGetRepositoryScanningConfiguration',
] as const;

/** Actions on the registry itself, which IAM only grants on `*`. */
export const ECR_REGISTRY_READ_ACTIONS = ['ecr:GetRegistryScanningConfiguration'] as const;

/**
 * Repositories in every region (an image's host names its region) of this account and of the
 * accounts the policy admits; every account when the policy admits any registry.
 */
export function repositoryArns(policy: Policy): string[] {
  const allowed = policy.images.allowedRegistries;
  const accounts = allowed.length > 0 ? [...new Set([Aws.ACCOUNT_ID, ...allowed])] : ['*'];
  return accounts.map((account) => `arn:${Aws.PARTITION}:ecr:*:${account}:repository/*`);
}

export function ecrReadStatements(policy: Policy): PolicyStatement[] {
  const statements = [
    new PolicyStatement({ actions: [...ECR_REPOSITORY_READ_ACTIONS], resources: repositoryArns(policy) }),
    new PolicyStatement({ actions: [...ECR_REGISTRY_READ_ACTIONS], resources: ['*'] }),
  ];
  const roles = policy.registries.map((registry) => registry.roleArn);
  if (roles.length > 0) {
    statements.push(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: roles }));
  }
  return statements;
}

/** Acknowledges, on the role that holds `ecrReadStatements`, the wildcards IAM cannot do without. */
export function acknowledgeEcrWildcards(role: IConstruct, policy: Policy): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetRegistryScanningConfiguration has no resource type: IAM grants it only on *.',
  });
  const allowed = policy.images.allowedRegistries;
  const accounts = allowed.length > 0 ? ['<AWS::AccountId>', ...allowed] : ['*'];
  for (const account of new Set(accounts)) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:*:${account}:repository/*]`,
      reason:
        account === '*'
          ? "The policy's images.allowedRegistries is empty, so an image from any account's registry may be " +
            'judged; listing the accounts there narrows this to their repositories. Every region: an ' +
            "image's host names its region. Read actions only."
          : "Any repository of an admitted account, in every region: an image's host names its repository " +
            'and region. Read actions only.',
    });
  }
}
