import { RemovalPolicy, aws_ec2 as ec2, aws_ecs as ecs, aws_efs as efs, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EfsMounts } from '../../../lib/roles/redirector/scaled/layout';
import type { Access } from '../../../lib/roles/redirector/scaled/tasks';

/** The owner of every file on EFS: the access points write as this user whatever the container runs as. */
export const EFS_OWNER = { uid: '1001', gid: '1001' } as const;
type Tree = keyof EfsMounts;

/**
 * The scaled redirector's shared storage (R2, R4, R5): one encrypted EFS file system, three trees
 * behind access points (the copy, the sync's state, the GeoIP databases). Who may mount what, and
 * who may write, is IAM: each task role gets ClientMount on the access points it reads and
 * ClientWrite only where it writes; a file system policy refuses every unencrypted connection.
 */
export class ScaledStorage extends Construct {
  public readonly fileSystem: efs.FileSystem;
  public readonly accessPoints: Readonly<Record<Tree, efs.AccessPoint>>;
  private readonly volumes = new Map<ecs.TaskDefinition, Set<string>>();

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection; hostname: string }) {
    super(scope, id);
    this.fileSystem = new efs.FileSystem(this, 'Files', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      // A cache of the master's tree and of MaxMind's files: a new deploy fetches both again.
      removalPolicy: RemovalPolicy.DESTROY,
      fileSystemName: `mirrorfleet ${props.hostname}`,
      fileSystemPolicy: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['*'],
          conditions: { Bool: { 'aws:SecureTransport': 'false' } },
        })],
      }),
    });
    const point = (name: Tree, path: string, mode: string) => this.fileSystem.addAccessPoint(name, {
      path,
      posixUser: EFS_OWNER,
      createAcl: { ownerUid: EFS_OWNER.uid, ownerGid: EFS_OWNER.gid, permissions: mode },
    });
    this.accessPoints = { repository: point('repository', '/repository', '755'), syncState: point('syncState', '/sync-state', '700'), geoip: point('geoip', '/geoip', '755') };
  }

  /** A task reads or writes these trees: the volumes, the mounts, the role's two permissions. */
  public attach(task: ecs.TaskDefinition, container: ecs.ContainerDefinition, mounts: EfsMounts, trees: Partial<Record<Tree, Access>>): void {
    this.mount(task, container, mounts, trees);
    const arn = (t: Tree) => this.accessPoints[t].accessPointArn;
    const entries = Object.entries(trees) as [Tree, Access][];
    const statement = (actions: string[], points: Tree[]) => new iam.PolicyStatement({
      actions, resources: [this.fileSystem.fileSystemArn], conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': points.map(arn) } },
    });
    task.addToTaskRolePolicy(statement(['elasticfilesystem:ClientMount'], entries.map(([t]) => t)));
    const written = entries.filter(([, a]) => a === 'write').map(([t]) => t);
    if (written.length > 0) task.addToTaskRolePolicy(statement(['elasticfilesystem:ClientWrite'], written));
  }

  /** Another container of a task already granted these trees: the mounts only. */
  public mount(task: ecs.TaskDefinition, container: ecs.ContainerDefinition, mounts: EfsMounts, trees: Partial<Record<Tree, Access>>): void {
    const entries = Object.entries(trees) as [Tree, Access][];
    for (const [tree, access] of entries) {
      const name = `efs-${tree}`;
      const added = this.volumes.get(task) ?? new Set<string>();
      this.volumes.set(task, added);
      if (!added.has(name)) {
        added.add(name);
        task.addVolume({
          name,
          efsVolumeConfiguration: { fileSystemId: this.fileSystem.fileSystemId, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: this.accessPoints[tree].accessPointId, iam: 'ENABLED' } },
        });
      }
      container.addMountPoints({ sourceVolume: name, containerPath: mounts[tree], readOnly: access === 'read' });
    }
  }

  /** NFS from these tasks' security group only. */
  public allowFrom(group: ec2.ISecurityGroup, who: string): void {
    this.fileSystem.connections.allowDefaultPortFrom(group, `NFS for ${who}`);
  }
}
