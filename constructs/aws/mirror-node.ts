import { Duration, RemovalPolicy, Size, Tags, Validations, aws_ec2 as ec2, aws_route53 as route53 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AwsNodeSpec, awsAdminIngress, awsNodeSpec } from '../../lib/config/aws';
import { NodeConfig } from '../../lib/config/node-config';
import { mirrorNodeIngress } from '../../lib/roles/mirror-node/ingress';
import { NodeAlarms } from './node-alarms';
import { HostFirewall } from './host-firewall';
import { NodeRole } from './node-role';
import { NodeUserData } from './node-user-data';

export interface MirrorNodeProps {
  /** The node's validated config (`loadConfigFile(file, [checkAws])`). */
  readonly config: NodeConfig;
  /**
   * The VPC to run in. It must be dual-stack (N9); the node goes into its first public subnet.
   *
   * @default - a new dual-stack VPC with one public subnet per AZ in two AZs and no NAT gateway
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Vouches that an imported `vpc` (not an `ec2.Vpc` of this app, whose IPv6 can be checked)
   * has an IPv6 CIDR on its public subnets and a `::/0` route to its internet gateway.
   *
   * @default false
   */
  readonly vpcHasIpv6?: boolean;
}

/** The block device name the data volume is attached as; Nitro ignores it (the node finds the volume by its id). */
const DATA_ATTACH_AS = '/dev/sdf';
/** Root device of Debian's AMIs. */
const DEBIAN_ROOT_DEVICE = '/dev/xvda';

/**
 * One mirror node on EC2 (P1): Debian 12, sized from the config (N23), a separate encrypted data
 * volume that outlives the stack (N20), an Elastic IP and an IPv6 address (N9), a security
 * group opening only the mirror's ports (N22), IMDSv2 only, Session Manager instead of SSH, the
 * renderers' user data (its bundle from S3), alarms mailed to the admin (N21).
 *
 * A config change updates the instance in place: CloudFormation stops it, swaps the user data
 * and starts it; the node then re-provisions itself (docs/adr/0010). The data volume, the ENI with
 * both addresses, and the instance id all stay.
 */
export class MirrorNode extends Construct {
  public readonly spec: AwsNodeSpec;
  public readonly vpc: ec2.IVpc;
  public readonly instance: ec2.CfnInstance;
  public readonly dataVolume: ec2.Volume;
  public readonly networkInterface: ec2.CfnNetworkInterface;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly alarms: NodeAlarms;
  /** The Elastic IP. */
  public readonly ipv4Address: string;
  public readonly ipv6Address: string;

  constructor(scope: Construct, id: string, props: MirrorNodeProps) {
    super(scope, id);
    const c = props.config;
    // Everything is checked before the first resource exists.
    this.spec = awsNodeSpec(c);
    if (props.vpc) assertDualStack(props.vpc, props.vpcHasIpv6 ?? false);

    this.vpc = props.vpc ?? this.createVpc();
    const subnet = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PUBLIC }).subnets[0];
    if (!subnet) throw new Error('MirrorNode: the VPC has no public subnet; a mirror needs a route to the internet gateway');

    this.securityGroup = new HostFirewall(this, 'Firewall', {
      vpc: this.vpc,
      ingress: [...mirrorNodeIngress(c), ...awsAdminIngress(c.aws)],
      description: `mirrorfleet ${c.hostname}: public mirror ports, tier-1 rsync ACL, admin SSH`,
    }).securityGroup;
    const role = new NodeRole(this, 'Role');

    // The ENI carries both public addresses, so they stay put whatever happens to the instance.
    this.networkInterface = new ec2.CfnNetworkInterface(this, 'Interface', {
      subnetId: subnet.subnetId,
      groupSet: [this.securityGroup.securityGroupId],
      ipv6AddressCount: 1,
      enablePrimaryIpv6: true,
      description: `mirrorfleet ${c.hostname}`,
    });
    const eip = new ec2.CfnEIP(this, 'Ipv4', { domain: 'vpc' });
    const association = new ec2.CfnEIPAssociation(this, 'Ipv4Association', { allocationId: eip.attrAllocationId, networkInterfaceId: this.networkInterface.ref });
    association.node.addDependency(this.vpc.internetConnectivityEstablished);
    this.ipv4Address = eip.ref;
    this.ipv6Address = this.networkInterface.attrPrimaryIpv6Address;

    this.dataVolume = new ec2.Volume(this, 'Data', {
      availabilityZone: subnet.availabilityZone,
      size: Size.gibibytes(this.spec.dataVolume.sizeGiB),
      volumeType: this.spec.dataVolume.type === 'st1' ? ec2.EbsDeviceVolumeType.ST1 : ec2.EbsDeviceVolumeType.GP3,
      throughput: this.spec.dataVolume.throughputMiBps,
      encrypted: true,
      // The mirror must survive `cdk destroy` and any replacement (N20): reattach it by id.
      removalPolicy: RemovalPolicy.RETAIN,
      volumeName: `mirrorfleet ${c.hostname} data`,
    });
    const userData = new NodeUserData(this, 'UserData', { config: c, dataVolume: this.dataVolume, role: role.role });

    const root = { deviceName: DEBIAN_ROOT_DEVICE, ebs: { volumeSize: this.spec.rootVolumeGiB, volumeType: 'gp3', encrypted: true, deleteOnTermination: true } };
    this.instance = new ec2.CfnInstance(this, 'Instance', {
      // Resolved by EC2 at launch, not by CloudFormation at deploy: a new Debian AMI never replaces a running node.
      imageId: `resolve:ssm:${this.spec.imageParameter}`,
      instanceType: this.spec.instanceType.name,
      iamInstanceProfile: role.instanceProfile.instanceProfileName,
      networkInterfaces: [{ deviceIndex: '0', networkInterfaceId: this.networkInterface.ref }],
      metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [root],
      userData: userData.base64,
      monitoring: false,
    });
    // First boot installs packages and agents over IPv4 and fetches the bundle with the role:
    // the Elastic IP and the role's policy must be in place.
    this.instance.node.addDependency(association, role);
    Validations.of(this.instance).acknowledge({
      id: 'CloudFormation-Validate::E1152',
      reason: 'ImageId "resolve:ssm:<parameter>" is resolved by EC2 at launch (RunInstances accepts it, see ec2.MachineImage.resolveSsmParameterAtLaunch); the linter only knows literal AMI ids.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC28',
      reason: 'Detailed monitoring ($2.10/month) adds 1-minute CPU and network graphs only; the alarms use the free 1-minute StatusCheckFailed and the CloudWatch agent\'s own disk, memory and sync metrics.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason: 'The instance holds no state (the mirror lives on the retained data volume) and `cdk destroy` must be able to remove it; termination protection would also block the documented replacement procedure.',
    });

    new ec2.CfnVolumeAttachment(this, 'DataAttachment', { instanceId: this.instance.ref, volumeId: this.dataVolume.volumeId, device: DATA_ATTACH_AS });

    this.alarms = new NodeAlarms(this, 'Alarms', { config: c, instanceId: this.instance.ref });

    if (c.aws.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: c.aws.hostedZone.id, zoneName: c.aws.hostedZone.name });
      const recordName = `${c.hostname}.`;
      const ttl = Duration.minutes(5);
      new route53.ARecord(this, 'ARecord', { zone, recordName, ttl, target: route53.RecordTarget.fromIpAddresses(this.ipv4Address) });
      new route53.AaaaRecord(this, 'AaaaRecord', { zone, recordName, ttl, target: route53.RecordTarget.fromIpAddresses(this.ipv6Address) });
    }
    Tags.of(this).add('mirrorfleet:node', c.hostname);
    Tags.of(this.instance).add('Name', c.hostname);
    Tags.of(this.networkInterface).add('Name', c.hostname);
    Tags.of(eip).add('Name', c.hostname);
  }

  private createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipProtocol: ec2.IpProtocol.DUAL_STACK,
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      // Restricting the default group takes a Lambda-backed custom resource; nothing uses that group.
      restrictDefaultSecurityGroup: false,
    });
    Validations.of(vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'The VPC holds one public download mirror: every flow is anonymous public traffic that Apache and rsyncd already log per request (N6); flow logs at mirror volumes would cost more than the node.',
    });
    return vpc;
  }
}

/** A mirror must answer on IPv6 (N9): refuse a VPC without it before creating anything. */
export function assertDualStack(vpc: ec2.IVpc, vouched: boolean): void {
  if (vpc instanceof ec2.Vpc) {
    const ipv6 = vpc.node.findAll().some((n) => n instanceof ec2.CfnVPCCidrBlock && (n.amazonProvidedIpv6CidrBlock || n.ipv6Pool || n.ipv6CidrBlock || n.ipv6IpamPoolId));
    if (!ipv6) {
      throw new Error(`MirrorNode: vpc ${vpc.node.path} has no IPv6 CIDR block, but a mirror must answer on IPv4 and IPv6 (N9): create it with ipProtocol: ec2.IpProtocol.DUAL_STACK, or leave vpc unset for a new dual-stack VPC`);
    }
  } else if (!vouched) {
    throw new Error(`MirrorNode: vpc ${vpc.node.path} is imported and its IPv6 cannot be checked, but a mirror must answer on IPv4 and IPv6 (N9): give its public subnets an IPv6 CIDR and a ::/0 route, then set vpcHasIpv6: true`);
  }
}
