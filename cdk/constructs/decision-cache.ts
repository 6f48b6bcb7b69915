/**
 * The decision cache (item layout: docs/decision-cache.md): one on-demand table keyed by `pk`, with the
 * sparse `byRepository` index over digest entries that setting changes and reconciliation page
 * through, the sparse `inventoryByDigest` index over the admitted inventory's records, and `expiresAt`
 * as the TTL attribute. Each function's role is granted exactly the table and
 * index actions its code performs (cdk/constructs/function-role.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { INVENTORY_INDEX, REPOSITORY_INDEX } from '../../src/adapters/dynamodb-store';

export interface DecisionCacheProps {
  /** RETAIN for production: the cache is rebuilt by events and reconciliation, but slowly. */
  readonly removalPolicy: RemovalPolicy;
}

export class DecisionCache extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: DecisionCacheProps) {
    super(scope, id);
    const retain = props.removalPolicy === RemovalPolicy.RETAIN;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
      deletionProtection: retain,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: REPOSITORY_INDEX,
      partitionKey: { name: 'repository', type: AttributeType.STRING },
      sortKey: { name: 'pk', type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: ['facts', 'verdict', 'expiresAt', 'kind'],
    });
    // Only inventory records carry `inventoryDigest`: the index holds them alone, whole.
    this.table.addGlobalSecondaryIndex({
      indexName: INVENTORY_INDEX,
      partitionKey: { name: 'inventoryDigest', type: AttributeType.STRING },
      sortKey: { name: 'pk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }
}
