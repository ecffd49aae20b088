import { Template } from 'aws-cdk-lib/assertions';
import { EXAMPLES } from '../support/fixtures';
import { awsExampleConfig, onlyResource, resourcesOf, scrubHashes, synthNode } from './support';

/*
 * One small, normalised view per example: what a reviewer checks when a change touches the AWS
 * node (sizing, exposure, retention, alarms, outputs). Paired with the explicit assertions in
 * mirror-node.test.ts; regenerated only on purpose (`jest -u test/aws/snapshot.test.ts`), and
 * CI's `jest --ci` never writes it.
 */
function view(template: Template) {
  const instance = onlyResource(template, 'AWS::EC2::Instance');
  const { InstanceType, ImageId, MetadataOptions, BlockDeviceMappings } = instance.Properties as Record<string, unknown>;
  const volume = onlyResource(template, 'AWS::EC2::Volume');
  const { Size, VolumeType, Throughput, Encrypted } = volume.Properties as Record<string, unknown>;
  const sg = onlyResource(template, 'AWS::EC2::SecurityGroup').Properties as { SecurityGroupIngress: Record<string, unknown>[] };
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map((a) => {
    const p = a.Properties as Record<string, unknown>;
    return {
      what: p.AlarmDescription,
      metric: `${p.Namespace}/${p.MetricName} ${(p.Dimensions as { Name: string; Value: unknown }[]).filter((d) => d.Name !== 'InstanceId').map((d) => `${d.Name}=${d.Value}`).join(',')}`,
      when: `${p.Statistic} ${p.ComparisonOperator} ${p.Threshold} over ${p.EvaluationPeriods}x${p.Period}s, missing: ${p.TreatMissingData}`,
    };
  });
  const counts: Record<string, number> = {};
  for (const r of Object.values(template.toJSON().Resources as Record<string, { Type: string }>)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  return scrubHashes({
    instance: { InstanceType, ImageId, MetadataOptions, BlockDeviceMappings },
    dataVolume: { Size, VolumeType, Throughput, Encrypted, DeletionPolicy: volume.DeletionPolicy, UpdateReplacePolicy: volume.UpdateReplacePolicy },
    ingress: sg.SecurityGroupIngress.map((r) => `${r.FromPort}/${r.IpProtocol} from ${r.CidrIp ?? r.CidrIpv6}: ${r.Description}`),
    alarms,
    outputs: template.toJSON().Outputs,
    resources: Object.fromEntries(Object.entries(counts).sort()),
  });
}

describe.each(EXAMPLES)('examples/%s.yaml on AWS', (example) => {
  const config = awsExampleConfig(example);
  const { template } = synthNode(config);

  it('has the reviewed shape', () => {
    const v = view(template);
    expect(v.alarms).toHaveLength(4 + config.trees.length + (config.https.enabled ? 1 : 0));
    expect(v).toMatchSnapshot();
  });
});
