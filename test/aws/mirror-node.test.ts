import { App, Stack, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MirrorNode, MirrorNodeStack, stackNameFor } from '../../constructs/aws';
import { awsConfigWith, awsExampleConfig, onlyResource, resourcesOf, synthNode } from './support';

const ANY_V4 = '0.0.0.0/0';
const ANY_V6 = '::/0';
const rule = (port: number, cidr: string) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...(cidr.includes(':') ? { CidrIpv6: cidr } : { CidrIp: cidr }) });
const ingressOf = (t: Template) =>
  (onlyResource(t, 'AWS::EC2::SecurityGroup').Properties!.SecurityGroupIngress as Record<string, unknown>[]).map(({ Description: _d, ...r }) => r);

describe('MirrorNode on examples/xcp-ng.yaml', () => {
  const config = awsExampleConfig('xcp-ng');
  const { stack, template } = synthNode(config);

  describe('network: dual stack (N9)', () => {
    it('creates a VPC with an Amazon-provided IPv6 block, public subnets only and no NAT gateway', () => {
      template.hasResourceProperties('AWS::EC2::VPCCidrBlock', { AmazonProvidedIpv6CidrBlock: true });
      template.resourceCountIs('AWS::EC2::Subnet', 2);
      template.allResourcesProperties('AWS::EC2::Subnet', { Ipv6CidrBlock: Match.anyValue(), AssignIpv6AddressOnCreation: true, MapPublicIpOnLaunch: false });
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.hasResourceProperties('AWS::EC2::Route', { DestinationIpv6CidrBlock: ANY_V6, GatewayId: { Ref: Match.stringLikeRegexp('IGW') } });
      template.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: ANY_V4, GatewayId: { Ref: Match.stringLikeRegexp('IGW') } });
    });

    it('gives the node one network interface with an IPv6 address and an Elastic IP', () => {
      const eni = template.findResources('AWS::EC2::NetworkInterface');
      const eniId = Object.keys(eni)[0];
      expect(Object.values(eni)[0]).toMatchObject({ Properties: { Ipv6AddressCount: 1, EnablePrimaryIpv6: true } });
      template.hasResourceProperties('AWS::EC2::EIP', { Domain: 'vpc' });
      template.hasResourceProperties('AWS::EC2::EIPAssociation', { NetworkInterfaceId: { Ref: eniId }, AllocationId: Match.anyValue() });
      template.hasResourceProperties('AWS::EC2::Instance', { NetworkInterfaces: [{ DeviceIndex: '0', NetworkInterfaceId: { Ref: eniId } }] });
    });

    it('starts the instance only once the Elastic IP and the role policy are in place (first boot downloads over IPv4)', () => {
      const instance = onlyResource(template, 'AWS::EC2::Instance') as { DependsOn?: string[] };
      const association = Object.keys(template.findResources('AWS::EC2::EIPAssociation'))[0];
      const policy = Object.keys(template.findResources('AWS::IAM::Policy'))[0];
      expect(instance.DependsOn).toEqual(expect.arrayContaining([association, policy]));
    });
  });

  describe('security group (N22)', () => {
    it('opens 80, 443 and 873 on IPv4 and IPv6 and nothing else; no SSH', () => {
      expect(ingressOf(template)).toEqual([80, 443, 873].flatMap((p) => [rule(p, ANY_V4), rule(p, ANY_V6)]));
    });

    it('lets all traffic out on both families (sync, packages, ACME)', () => {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupEgress: [Match.objectLike({ CidrIp: ANY_V4, IpProtocol: '-1' }), Match.objectLike({ CidrIpv6: ANY_V6, IpProtocol: '-1' })],
      });
    });
  });

  describe('instance', () => {
    it('requires IMDSv2 with a hop limit of 1 (N22)', () => {
      template.hasResourceProperties('AWS::EC2::Instance', { MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 } });
    });

    it('boots Debian 12 from Debian\'s SSM parameter, resolved by EC2 at launch (no AMI lookup)', () => {
      template.hasResourceProperties('AWS::EC2::Instance', { ImageId: 'resolve:ssm:/aws/service/debian/release/12/latest/arm64', InstanceType: 'c6gn.large' });
    });

    it('has an encrypted gp3 root volume and no SSH key', () => {
      template.hasResourceProperties('AWS::EC2::Instance', {
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 20, DeleteOnTermination: true } }],
        KeyName: Match.absent(),
      });
    });
  });

  describe('least-privilege role (N22)', () => {
    it('is assumable by EC2 only and carries Session Manager and nothing else managed', () => {
      template.resourceCountIs('AWS::IAM::Role', 1);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
        ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
      });
    });

    it('may put metrics into the MirrorFleet namespace and read its own bundle object, nothing more', () => {
      template.resourceCountIs('AWS::IAM::Policy', 1);
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            { Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'MirrorFleet' } } },
            {
              Action: 's3:GetObject',
              Effect: 'Allow',
              Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' }, Match.stringLikeRegexp('^/[0-9a-f]{64}\\.gz$')]] },
            },
          ],
        },
      });
    });
  });

  describe('data volume (N20)', () => {
    it('is encrypted, sized by N20, on gp3, and retained on deletion and replacement', () => {
      template.hasResource('AWS::EC2::Volume', {
        Properties: { Encrypted: true, Size: config.storage.sizeGiB, VolumeType: 'gp3' },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('lives in the instance\'s AZ and is attached to it', () => {
      const subnetAz = resourcesOf(template, 'AWS::EC2::Subnet')[0].Properties!.AvailabilityZone;
      template.hasResourceProperties('AWS::EC2::Volume', { AvailabilityZone: subnetAz });
      const eni = onlyResource(template, 'AWS::EC2::NetworkInterface').Properties!;
      expect(eni.SubnetId).toEqual({ Ref: Object.keys(template.findResources('AWS::EC2::Subnet', { Properties: { AvailabilityZone: subnetAz } }))[0] });
      template.hasResourceProperties('AWS::EC2::VolumeAttachment', {
        InstanceId: { Ref: Object.keys(template.findResources('AWS::EC2::Instance'))[0] },
        VolumeId: { Ref: Object.keys(template.findResources('AWS::EC2::Volume'))[0] },
      });
    });

    it('keeps the logical ids of its stateful resources (a new id would mean a new, empty volume)', () => {
      expect(Object.keys(template.findResources('AWS::EC2::Volume'))).toEqual(['NodeData1B05FCC4']);
      expect(Object.keys(template.findResources('AWS::EC2::Instance'))).toEqual(['NodeInstance63EF93A7']);
      expect(Object.keys(template.findResources('AWS::EC2::NetworkInterface'))).toEqual(['NodeInterfaceFBFE3696']);
      expect(Object.keys(template.findResources('AWS::EC2::EIP'))).toEqual(['NodeIpv404062D39']);
    });
  });

  describe('alarms (N20, N21)', () => {
    const instance = { Ref: 'NodeInstance63EF93A7' };
    const alarm = (metric: string, dims: Record<string, string>, props: Record<string, unknown>) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Dimensions: [{ Name: 'InstanceId', Value: instance }, ...Object.entries(dims).map(([Name, Value]) => ({ Name, Value }))],
        AlarmActions: [{ Ref: Match.stringLikeRegexp('NodeAlarmsTopic') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('NodeAlarmsTopic') }],
        ...props,
      });

    it('has six alarms, each notifying the topic on alarm and on recovery', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    });

    it('warns at 80 % and 90 % of the data volume, and at 90 % of the root disk', () => {
      const disk = { Namespace: 'MirrorFleet', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Maximum', Period: 300, EvaluationPeriods: 1 };
      alarm('disk_used_percent', { fstype: 'ext4', path: '/srv/mirror' }, { ...disk, Threshold: 80 });
      alarm('disk_used_percent', { fstype: 'ext4', path: '/srv/mirror' }, { ...disk, Threshold: 90 });
      alarm('disk_used_percent', { fstype: 'ext4', path: '/' }, { ...disk, Threshold: 90 });
    });

    it('alarms when the tree is older than two sync intervals plus an hour; no data before the first good sync is no alarm', () => {
      alarm('mirrorfleet_sync_age_seconds', { metric_type: 'gauge', tree: 'xcp-ng' }, {
        Namespace: 'MirrorFleet', Threshold: (2 * 15 + 60) * 60, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum', Period: 300, TreatMissingData: 'missing',
      });
    });

    it('mails when the sync age stops after it had data (the node stopped reporting), and only that alarm does', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: { MetricName?: string; InsufficientDataActions?: unknown[]; AlarmActions: unknown[] } }[];
      const missingMailed = alarms.filter((a) => (a.Properties.InsufficientDataActions ?? []).length > 0).map((a) => a.Properties.MetricName);
      expect(missingMailed).toEqual(['mirrorfleet_sync_age_seconds']);
      const age = alarms.find((a) => a.Properties.MetricName === 'mirrorfleet_sync_age_seconds')!;
      expect(age.Properties.InsufficientDataActions).toEqual(age.Properties.AlarmActions);
    });

    it('alarms with less than 21 days left on the certificate', () => {
      alarm('mirrorfleet_cert_days_left', { metric_type: 'gauge' }, { Namespace: 'MirrorFleet', Threshold: 21, ComparisonOperator: 'LessThanThreshold', Statistic: 'Minimum', Period: 3600 });
    });

    it('alarms on EC2 status checks for three minutes', () => {
      alarm('StatusCheckFailed', {}, { Namespace: 'AWS/EC2', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Period: 60, EvaluationPeriods: 3 });
    });

    it('mails the admin through a topic that refuses unencrypted publishers', () => {
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'mirror-admin@example.org' });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
      });
    });
  });

  it('outputs what a mirror application needs', () => {
    template.hasOutput('Ipv4Address', { Value: { Ref: 'NodeIpv404062D39' } });
    template.hasOutput('Ipv6Address', { Value: { 'Fn::GetAtt': ['NodeInterfaceFBFE3696', 'PrimaryIpv6Address'] } });
    template.hasOutput('HttpUrl', { Value: 'http://mirror.example.org/' });
    template.hasOutput('HttpsUrl', { Value: 'https://mirror.example.org/' });
    template.hasOutput('RsyncUrl', { Value: 'rsync://mirror.example.org/' });
    template.hasOutput('Region', { Value: { Ref: 'AWS::Region' } });
    template.hasOutput('InstanceId', { Value: { Ref: 'NodeInstance63EF93A7' } });
    template.hasOutput('DataVolumeId', { Value: { Ref: 'NodeData1B05FCC4' } });
  });

  it('creates no DNS records without a hosted zone', () => {
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  it('is named after the host and needs no AZ lookup', () => {
    expect(stackNameFor(config)).toBe('mirrorfleet-mirror-example-org');
    expect(stack.resolve(stack.availabilityZones)).toEqual([{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] }]);
  });
});

describe('MirrorNode: what the config changes', () => {
  it('fedora: the tier-1 port only to its ACL, on both families (N11)', () => {
    const { template } = synthNode(awsExampleConfig('fedora'));
    expect(ingressOf(template)).toEqual([...[80, 443, 873].flatMap((p) => [rule(p, ANY_V4), rule(p, ANY_V6)]), rule(874, '198.51.100.7/32'), rule(874, '2001:db8:100::/64')]);
  });

  it('SSH only from the admin networks listed', () => {
    const { template } = synthNode(awsConfigWith('xcp-ng', 'aws:\n  sshCidrs: [192.0.2.0/24, "2001:db8:aa::/48"]\n'));
    expect(ingressOf(template).filter((r) => r.FromPort === 22)).toEqual([rule(22, '192.0.2.0/24'), rule(22, '2001:db8:aa::/48')]);
  });

  it('only port 80 (ACME and the redirect) when HTTPS and rsync are off', () => {
    const c = awsConfigWith('gentoo', '', [['https:\n  enabled: true', 'https:\n  enabled: false\nrsync:\n  enabled: false']]);
    const { template } = synthNode(c);
    expect(ingressOf(template)).toEqual([rule(80, ANY_V4), rule(80, ANY_V6)]);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
  });

  it('one sync-age alarm per tree, against that tree\'s schedule (gentoo: every 4 hours)', () => {
    const { template } = synthNode(awsExampleConfig('gentoo'));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'mirrorfleet_sync_age_seconds', Threshold: (2 * 240 + 60) * 60 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'disk_used_percent', Dimensions: Match.arrayWith([{ Name: 'fstype', Value: 'xfs' }]) });
  });

  it('instance type and volume type overrides', () => {
    const c = awsConfigWith('gentoo', 'aws:\n  instanceType: m7i.large\n  volumeType: gp3\n', [['bandwidthMbps: 1000', 'bandwidthMbps: 500']]);
    const { template } = synthNode(c);
    template.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 'm7i.large', ImageId: 'resolve:ssm:/aws/service/debian/release/12/latest/amd64' });
    template.hasResourceProperties('AWS::EC2::Volume', { VolumeType: 'gp3', Throughput: Match.absent() });
  });

  it('st1 for a large, fast-enough tree; gp3 throughput raised for a faster pipe', () => {
    const big = synthNode(awsConfigWith('gentoo', '', [['sizeGiB: auto ', 'sizeGiB: 4000 ']])).template;
    big.hasResourceProperties('AWS::EC2::Volume', { VolumeType: 'st1', Size: 4000, Encrypted: true });
    const fast = synthNode(awsConfigWith('gentoo', '', [['bandwidthMbps: 1000', 'bandwidthMbps: 2000']])).template;
    fast.hasResourceProperties('AWS::EC2::Volume', { VolumeType: 'gp3', Throughput: 239 });
  });

  it('A and AAAA records when a hosted zone is given', () => {
    const { template } = synthNode(awsConfigWith('xcp-ng', 'aws:\n  hostedZone: {id: Z0123456789ABC, name: example.org}\n'));
    template.hasResourceProperties('AWS::Route53::RecordSet', { Type: 'A', Name: 'mirror.example.org.', HostedZoneId: 'Z0123456789ABC', ResourceRecords: [{ Ref: 'NodeIpv404062D39' }], TTL: '300' });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: 'AAAA', Name: 'mirror.example.org.', ResourceRecords: [{ 'Fn::GetAtt': ['NodeInterfaceFBFE3696', 'PrimaryIpv6Address'] }],
    });
  });

  it('a config change touches only the instance\'s user data: updated in place, never replaced (docs/adr/0010)', () => {
    const before = onlyResource(synthNode(awsExampleConfig('xcp-ng')).template, 'AWS::EC2::Instance');
    const after = onlyResource(synthNode(awsConfigWith('xcp-ng', '', [['schedule: every 15 minutes', 'schedule: every 30 minutes']])).template, 'AWS::EC2::Instance');
    const { UserData: u1, ...rest1 } = before.Properties!;
    const { UserData: u2, ...rest2 } = after.Properties!;
    // The new bundle has a new key and sha256, both in the user data.
    expect(u1).not.toEqual(u2);
    expect(rest1).toEqual(rest2);
  });

  it('account and region from the YAML still synthesize without a lookup', () => {
    const c = awsConfigWith('xcp-ng', 'aws:\n  region: eu-west-3\n  account: "123456789012"\n');
    const app = new App();
    const stack = new MirrorNodeStack(app, 'Pinned', { config: c, env: { account: c.aws.account, region: c.aws.region } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::Volume', { AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } });
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });
});

describe('MirrorNode in a VPC the caller passes in', () => {
  const config = awsExampleConfig('xcp-ng');
  const node = (vpc: (s: Stack) => ec2.IVpc, vpcHasIpv6?: boolean) => {
    const stack = new Stack(new App(), 'Caller');
    new MirrorNode(stack, 'Node', { config, vpc: vpc(stack), vpcHasIpv6 });
    return stack;
  };
  const nodeResources = (stack: Stack) => stack.node.tryFindChild('Node')?.node.findAll().length ?? 0;

  it('uses a dual-stack VPC as it is', () => {
    const stack = node((s) => new ec2.Vpc(s, 'Shared', { ipProtocol: ec2.IpProtocol.DUAL_STACK, natGateways: 0, maxAzs: 1, subnetConfiguration: [{ name: 'pub', subnetType: ec2.SubnetType.PUBLIC }] }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::NetworkInterface', { SubnetId: { Ref: Match.stringLikeRegexp('^SharedpubSubnet1') } });
  });

  it('fails on an IPv4-only VPC, before creating anything', () => {
    let stack: Stack | undefined;
    expect(() => node((s) => ((stack = s), new ec2.Vpc(s, 'Legacy', { natGateways: 0 })))).toThrow(
      'MirrorNode: vpc Caller/Legacy has no IPv6 CIDR block, but a mirror must answer on IPv4 and IPv6 (N9): create it with ipProtocol: ec2.IpProtocol.DUAL_STACK, or leave vpc unset for a new dual-stack VPC',
    );
    expect(nodeResources(stack!)).toBe(1);
  });

  it('fails on an imported VPC unless the caller vouches for its IPv6', () => {
    const imported = (s: Stack) => ec2.Vpc.fromVpcAttributes(s, 'Imported', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-3a'], publicSubnetIds: ['subnet-0123456789abcdef0'] });
    expect(() => node(imported)).toThrow(
      'MirrorNode: vpc Caller/Imported is imported and its IPv6 cannot be checked, but a mirror must answer on IPv4 and IPv6 (N9): give its public subnets an IPv6 CIDR and a ::/0 route, then set vpcHasIpv6: true',
    );
    const stack = node(imported, true);
    // An imported subnet's AZ is a literal by nature.
    Validations.of(stack).acknowledge({ id: 'CloudFormation-Validate::W3010', reason: 'test: the AZ of an imported subnet' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::NetworkInterface', { SubnetId: 'subnet-0123456789abcdef0' });
    template.hasResourceProperties('AWS::EC2::Volume', { AvailabilityZone: 'eu-west-3a' });
  });
});
