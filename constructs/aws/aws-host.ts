import { Duration, RemovalPolicy, Size, Tags, Validations, aws_ec2 as ec2, aws_route53 as route53 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AwsNodeSpec } from '../../lib/config/aws';
import { AwsHostRender, renderAwsHost } from '../../lib/host/aws/aws-host';
import { HostSpec } from '../../lib/host/host';
import { IngressRule } from '../../lib/host/ingress';
import { HostAlarms } from './host-alarms';
import { HostFirewall } from './host-firewall';
import { HostInstanceRole } from './host-role';
import { HostUserData } from './host-user-data';

/** How big the machine is: the instance, its root disk, its data volume (lib/config/aws.ts). */
export type AwsHostSizing = Pick<AwsNodeSpec, 'instanceType' | 'imageParameter' | 'rootVolumeGiB' | 'dataVolume'>;

export interface AwsHostProps {
  /** What the machine is and runs (lib/host/host.ts): a mirror node's, a master's… */
  readonly host: HostSpec;
  readonly sizing: AwsHostSizing;
  /** Admin ports besides the role's ingress (SSH from aws.sshCidrs). */
  readonly adminIngress: readonly IngressRule[];
  /** Who gets the alarm mails. */
  readonly alarmEmail: string;
  /**
   * The security group's description. CloudFormation replaces a group whose description changes.
   *
   * @default - "mirrorfleet <hostname>: <role title>"
   */
  readonly firewallDescription?: string;
  /** A Route 53 zone holding the host name: A and AAAA records are written. */
  readonly hostedZone?: { readonly id: string; readonly name: string };
  /**
   * The VPC to run in. It must be dual-stack (N9); the host goes into its first public subnet.
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

/** The block device name the data volume is attached as; Nitro ignores it (the host finds the volume by its id). */
const DATA_ATTACH_AS = '/dev/sdf';
/** Root device of Debian's AMIs. */
const DEBIAN_ROOT_DEVICE = '/dev/xvda';

/**
 * One machine on EC2 for any role (P1): Debian 12 of the given size, a separate encrypted data
 * volume that outlives the stack (N20), an Elastic IP and an IPv6 address on an ENI that outlive
 * the instance (N9), a security group built from the ingress table (N22), IMDSv2 only, Session
 * Manager instead of SSH, the role's user data (its bundle from S3), alarms mailed to the admin.
 * A role's construct extends it (MirrorNode), so every role's resources keep the same paths.
 *
 * A config change updates the instance in place: CloudFormation stops it, swaps the user data
 * and starts it; the host then re-provisions itself (docs/adr/0010).
 */
export class AwsHost extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly render: AwsHostRender;
  public readonly instance: ec2.CfnInstance;
  public readonly dataVolume: ec2.Volume;
  public readonly networkInterface: ec2.CfnNetworkInterface;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly instanceRole: HostInstanceRole;
  public readonly alarms: HostAlarms;
  /** The Elastic IP. */
  public readonly ipv4Address: string;
  public readonly ipv6Address: string;

  constructor(scope: Construct, id: string, props: AwsHostProps) {
    super(scope, id);
    const h = props.host;
    if (props.vpc) assertDualStack(props.vpc, props.vpcHasIpv6 ?? false);
    this.render = renderAwsHost(h);

    this.vpc = props.vpc ?? this.createVpc();
    const subnet = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PUBLIC }).subnets[0];
    if (!subnet) throw new Error(`${h.role.title} ${h.hostname}: the VPC has no public subnet; a public host needs a route to the internet gateway`);

    this.securityGroup = new HostFirewall(this, 'Firewall', {
      vpc: this.vpc,
      ingress: [...h.role.ingress, ...props.adminIngress],
      description: props.firewallDescription ?? `mirrorfleet ${h.hostname}: ${h.role.title}`,
    }).securityGroup;
    this.instanceRole = new HostInstanceRole(this, 'Role', { title: h.role.title });

    // The ENI carries both public addresses, so they stay put whatever happens to the instance.
    this.networkInterface = new ec2.CfnNetworkInterface(this, 'Interface', {
      subnetId: subnet.subnetId,
      groupSet: [this.securityGroup.securityGroupId],
      ipv6AddressCount: 1,
      enablePrimaryIpv6: true,
      description: `mirrorfleet ${h.hostname}`,
    });
    const eip = new ec2.CfnEIP(this, 'Ipv4', { domain: 'vpc' });
    const association = new ec2.CfnEIPAssociation(this, 'Ipv4Association', { allocationId: eip.attrAllocationId, networkInterfaceId: this.networkInterface.ref });
    association.node.addDependency(this.vpc.internetConnectivityEstablished);
    this.ipv4Address = eip.ref;
    this.ipv6Address = this.networkInterface.attrPrimaryIpv6Address;

    const size = props.sizing;
    this.dataVolume = new ec2.Volume(this, 'Data', {
      availabilityZone: subnet.availabilityZone,
      size: Size.gibibytes(size.dataVolume.sizeGiB),
      volumeType: size.dataVolume.type === 'st1' ? ec2.EbsDeviceVolumeType.ST1 : ec2.EbsDeviceVolumeType.GP3,
      throughput: size.dataVolume.throughputMiBps,
      encrypted: true,
      // The data must survive `cdk destroy` and any replacement (N20): reattach it by id.
      removalPolicy: RemovalPolicy.RETAIN,
      volumeName: `mirrorfleet ${h.hostname} data`,
    });
    const userData = new HostUserData(this, 'UserData', { render: this.render, dataVolume: this.dataVolume, role: this.instanceRole.role });

    const root = { deviceName: DEBIAN_ROOT_DEVICE, ebs: { volumeSize: size.rootVolumeGiB, volumeType: 'gp3', encrypted: true, deleteOnTermination: true } };
    this.instance = new ec2.CfnInstance(this, 'Instance', {
      // Resolved by EC2 at launch, not by CloudFormation at deploy: a new Debian AMI never replaces a running host.
      imageId: `resolve:ssm:${size.imageParameter}`,
      instanceType: size.instanceType.name,
      iamInstanceProfile: this.instanceRole.instanceProfile.instanceProfileName,
      networkInterfaces: [{ deviceIndex: '0', networkInterfaceId: this.networkInterface.ref }],
      metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [root],
      userData: userData.base64,
      monitoring: false,
    });
    // First boot installs packages and agents over IPv4 and fetches the bundle with the role:
    // the Elastic IP and the role's policy must be in place.
    this.instance.node.addDependency(association, this.instanceRole);
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
      reason: 'The instance holds no state (the data lives on the retained data volume) and `cdk destroy` must be able to remove it; termination protection would also block the documented replacement procedure.',
    });

    new ec2.CfnVolumeAttachment(this, 'DataAttachment', { instanceId: this.instance.ref, volumeId: this.dataVolume.volumeId, device: DATA_ATTACH_AS });

    this.alarms = new HostAlarms(this, 'Alarms', { host: h, instanceId: this.instance.ref, email: props.alarmEmail });

    if (props.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.hostedZone.id, zoneName: props.hostedZone.name });
      const recordName = `${h.hostname}.`;
      const ttl = Duration.minutes(5);
      new route53.ARecord(this, 'ARecord', { zone, recordName, ttl, target: route53.RecordTarget.fromIpAddresses(this.ipv4Address) });
      new route53.AaaaRecord(this, 'AaaaRecord', { zone, recordName, ttl, target: route53.RecordTarget.fromIpAddresses(this.ipv6Address) });
    }
    Tags.of(this).add('mirrorfleet:host', h.hostname);
    Tags.of(this).add('mirrorfleet:role', h.role.kind);
    Tags.of(this.instance).add('Name', h.hostname);
    Tags.of(this.networkInterface).add('Name', h.hostname);
    Tags.of(eip).add('Name', h.hostname);
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
      reason: 'The VPC holds one public download host: every flow is anonymous public traffic that the web server and rsyncd already log per request (N6); flow logs at mirror volumes would cost more than the host.',
    });
    return vpc;
  }
}

/** A public host must answer on IPv6 (N9): refuse a VPC without it before creating anything. */
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
