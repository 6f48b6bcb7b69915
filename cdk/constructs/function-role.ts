/**
 * One role per function, holding exactly the actions its code performs (src/wiring/permissions.ts,
 * built from the adapters' own action lists): the decision table and its index, the idempotency table,
 * ECR reads on the repositories of the registries the policy can admit (and listing on the own
 * registry), what has no resource type on `*`, and `sts:AssumeRole` on exactly the roles the policy names for other accounts' registries.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { INVENTORY_INDEX, REPOSITORY_INDEX } from '../../src/adapters/dynamodb-store';
import type { Policy } from '../../src/domain/policy';
import type { FunctionActions } from '../../src/wiring/permissions';
import type { DecisionCache } from './decision-cache';

export interface FunctionRoleProps {
  readonly description: string;
  readonly actions: FunctionActions;
  readonly cache: DecisionCache;
  readonly policy: Policy;
  readonly idempotencyTable?: ITable;
  /** The event-driven refresh state machine, for a function that starts it. */
  readonly stateMachine?: IStateMachine;
  /** The buffer queue, for a function that an event source mapping feeds from it. */
  readonly buffer?: IQueue;
}

/**
 * Repositories in every region (an image's host names its region) of this account and of the
 * accounts the policy admits; every account when the policy admits any registry.
 */
export function repositoryArns(policy: Policy): string[] {
  const allowed = policy.images.allowedRegistries;
  const accounts = allowed.length > 0 ? [...new Set([Aws.ACCOUNT_ID, ...allowed])] : ['*'];
  return accounts.map((account) => `arn:${Aws.PARTITION}:ecr:*:${account}:repository/*`);
}

export function functionRole(scope: Construct, id: string, props: FunctionRoleProps): Role {
  const { actions, cache, policy } = props;
  const role = new Role(scope, id, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
  });
  const grant = (list: readonly string[], resources: string[]) => {
    if (list.length > 0 && resources.length > 0) {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: [...list], resources }));
    }
  };
  grant(actions.decisionTable, [cache.table.tableArn]);
  grant(actions.decisionIndex, [`${cache.table.tableArn}/index/${REPOSITORY_INDEX}`]);
  grant(actions.inventoryIndex, [`${cache.table.tableArn}/index/${INVENTORY_INDEX}`]);
  if (actions.idempotencyTable.length > 0) {
    if (!props.idempotencyTable) throw new Error(`${id}: the function uses an idempotency table; none given`);
    grant(actions.idempotencyTable, [props.idempotencyTable.tableArn]);
  }
  const resource = <T>(actions: readonly string[], given: T | undefined, what: string): T[] => {
    if (actions.length === 0) return [];
    if (!given) throw new Error(`${id}: the function uses ${what}; none given`);
    return [given];
  };
  grant(
    actions.refreshStateMachine,
    resource(actions.refreshStateMachine, props.stateMachine, 'the refresh state machine').map(
      (m) => m.stateMachineArn,
    ),
  );
  grant(
    actions.buffer,
    resource(actions.buffer, props.buffer, 'the buffer queue').map((q) => q.queueArn),
  );
  grant(actions.ecrRepository, repositoryArns(policy));
  grant(actions.ecrOwnRepository, [`arn:${Aws.PARTITION}:ecr:${Aws.REGION}:${Aws.ACCOUNT_ID}:repository/*`]);
  grant(actions.unscoped, ['*']);
  grant(actions.eventBus, [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`]);
  grant(
    actions.registryRoles,
    policy.registries.map((registry) => registry.roleArn),
  );
  if (actions.unscoped.length > 0) acknowledgeUnscoped(role);
  if (actions.ecrRepository.length > 0) acknowledgeRepositoryWildcards(role, policy);
  if (actions.ecrOwnRepository.length > 0) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]',
      reason: "Reconciliation lists every repository of the deployment's own registry. Read actions only.",
    });
  }
  return role;
}

function acknowledgeUnscoped(role: IConstruct): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetRegistryScanningConfiguration, inspector2:ListFindings and inspector2:ListCoverage have no ' +
      'resource type: IAM grants them only on *. The Inspector reads are what ECR needs from the caller ' +
      'to answer scan reads on a registry with enhanced scanning.',
  });
}

/** Acknowledges the repository wildcards IAM cannot do without. */
function acknowledgeRepositoryWildcards(role: IConstruct, policy: Policy): void {
  const allowed = policy.images.allowedRegistries;
  const accounts = allowed.length > 0 ? ['<AWS::AccountId>', ...allowed] : ['*'];
  for (const account of new Set(accounts)) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:*:${account}:repository/*]`,
      reason:
        account === '*'
          ? "The policy's images.allowedRegistries is empty, so an image from any account's registry may be " +
            'judged; listing the accounts there narrows this to their repositories. Every region: an ' +
            "image's host names its region. Read actions, and the Prepare task's import and restore writes."
          : "Any repository of an admitted account, in every region: an image's host names its repository " +
            'and region. Read actions, and for the workflow task that imports or restores an image the ' +
            'webhook asked for, the writes that does (never a delete).',
    });
  }
}
