import { Fn, RemovalPolicy, Validations, aws_ec2 as ec2, aws_elasticache as elasticache } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ScaledConfig } from '../../../lib/project/redirector-scaled';

export const REDIS_PORT = 6379;

/**
 * mirrorbits' Redis on ElastiCache (R1, R5, docs/adr/0065): Valkey, cluster mode off, a primary
 * and a replica in the two zones with automatic failover, snapshots, `noeviction`. Without
 * in-transit encryption, hence without AUTH: mirrorbits speaks neither TLS nor AUTH over TLS, and
 * ElastiCache Serverless and MemoryDB force TLS. The only way in is the tasks' security groups.
 */
export class ScaledRedis extends Construct {
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The primary endpoint as mirrorbits' RedisAddress: "host:port" (it refuses a replica). */
  public readonly address: string;
  /** The two nodes' CacheClusterIds, for their metrics. */
  public readonly nodeIds: readonly string[];

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection; hostname: string; scaled: ScaledConfig }) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'Firewall', {
      vpc: props.vpc,
      description: `mirrorfleet ${props.hostname}: Redis, from the redirector tasks only`,
      allowAllOutbound: false,
    });
    const subnets = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `mirrorfleet ${props.hostname}: Redis in the private subnets`,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: 'valkey8',
      description: `mirrorfleet ${props.hostname}: a full Redis refuses writes instead of forgetting mirrors`,
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: `mirrorfleet ${props.hostname}: mirrorbits' mirrors, index and statistics`,
      engine: 'valkey',
      engineVersion: '8.0',
      cacheNodeType: props.scaled.redisNodeType,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      cacheParameterGroupName: parameters.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: false,
      snapshotRetentionLimit: props.scaled.redisSnapshotDays,
      snapshotWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:04:00-sun:05:00',
      autoMinorVersionUpgrade: true,
    });
    // The statistics live only here: a deleted stack leaves a final snapshot.
    this.replicationGroup.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);
    this.address = Fn.join(':', [this.replicationGroup.attrPrimaryEndPointAddress, this.replicationGroup.attrPrimaryEndPointPort]);
    this.nodeIds = ['001', '002'].map((n) => Fn.join('-', [this.replicationGroup.ref, n]));
    const why = 'mirrorbits v0.6.1 connects to Redis in plain TCP only (no TLS option in its client) and sends AUTH only as a password over that connection; ElastiCache allows AUTH only with in-transit encryption, and Serverless and MemoryDB force TLS. The group has no ingress but 6379 from the redirector\'s own task security groups, in private subnets (docs/adr/0065).';
    Validations.of(this.replicationGroup).acknowledge({ id: 'AwsSolutions-AEC5', reason: `The default port is kept: the security group, not the port number, keeps Redis private. ${why}` });
    Validations.of(this.replicationGroup).acknowledge({ id: 'AwsSolutions-AEC6', reason: `No AUTH token: ${why}` });
    Validations.of(this.replicationGroup).acknowledge({ id: 'AwsSolutions-AEC3', reason: `Encrypted at rest, not in transit: ${why}` });
  }

  /** mirrorbits in these tasks may reach Redis. */
  public allowFrom(group: ec2.ISecurityGroup, who: string): void {
    this.securityGroup.addIngressRule(group, ec2.Port.tcp(REDIS_PORT), `Redis for ${who}`);
  }
}
