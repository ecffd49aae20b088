import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Fn, Stack, aws_cloudwatch as cw, aws_ec2 as ec2, aws_iam as iam, aws_s3_assets as s3assets, aws_ssm as ssm } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import { AwsNodeSpec, awsAdminIngress, awsNodeSpec } from '../../lib/config/aws';
import { CW_METRICS, THRESHOLDS } from '../../lib/host/metrics';
import { stackName } from '../../lib/host/names';
import type { ProjectConfig } from '../../lib/project/project';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { AwsHost } from './aws-host';

export interface RedirectorProps {
  /** The project, with a redirector block (`loadProjectFile(file, [onRedirector(checkAws)…])`). */
  readonly project: ProjectConfig;
  /** @default - a new dual-stack VPC (see AwsHostProps.vpc) */
  readonly vpc?: ec2.IVpc;
  /** @default false */
  readonly vpcHasIpv6?: boolean;
}

/**
 * The project's central redirector on EC2 (R1–R4, R6, R7): the redirector role on an AWS host.
 * The mirror list rides with each deploy as an S3 asset named by an SSM parameter the host
 * checks every minute (the reconciler runs when it changes); the MaxMind licence key is an SSM
 * SecureString the operator creates, readable by this role only; the mirrorbits artifact, when
 * on S3, readable by this role only.
 */
export class Redirector extends AwsHost {
  public readonly spec: AwsNodeSpec;
  public readonly mirrorListParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: RedirectorProps) {
    const p = props.project;
    const r = p.redirector!;
    const spec = awsNodeSpec(r.node);
    const listParameter = `/mirrorfleet/${stackName(r.node.hostname)}/mirror-list`;
    super(scope, id, {
      host: redirectorHost(p, { geoip: { kind: 'aws-ssm' }, mirrorList: { kind: 'aws-ssm', parameter: listParameter }, memoryGiB: spec.instanceType.memoryGiB }),
      sizing: spec,
      adminIngress: awsAdminIngress(r.node.aws),
      alarmEmail: r.node.admin.email,
      hostedZone: r.node.aws.hostedZone,
      vpc: props.vpc,
      vpcHasIpv6: props.vpcHasIpv6,
    });
    this.spec = spec;
    const role = this.instanceRole.role;
    const stack = Stack.of(this);
    const ssmArn = (name: string) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });

    // The mirror list of this deploy: an S3 asset, and a parameter naming it with its sha256.
    const text = renderDesiredMirrors(p.mirrorList);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-mirrors-'));
    let list: s3assets.Asset;
    try {
      fs.writeFileSync(path.join(dir, 'mirrors.json'), text);
      list = new s3assets.Asset(this, 'MirrorList', { path: path.join(dir, 'mirrors.json') });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [list.bucket.arnForObjects(list.s3ObjectKey)] }));
    this.mirrorListParameter = new ssm.StringParameter(this, 'MirrorListPointer', {
      parameterName: listParameter,
      stringValue: Fn.join(' ', [list.s3ObjectUrl, createHash('sha256').update(text).digest('hex')]),
      description: `mirrorfleet ${r.node.hostname}: the mirror list of the last deploy (s3 URL and sha256)`,
    });
    this.mirrorListParameter.grantRead(role);

    // The licence key: created by the operator (never in a template), read at run time.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [ssmArn(r.geoip.licenseKeyParameter)] }));
    const artifact = /^s3:\/\/([^/]+)\/(.+)$/.exec(r.artifact.url);
    if (artifact) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${stack.partition}:s3:::${artifact[1]}/${artifact[2]}`] }));

    const gauge = (name: string, statistic = 'Maximum') => this.alarms.metric(name, { metric_type: 'gauge' }, statistic, Duration.minutes(5));
    const above = cw.ComparisonOperator.GREATER_THAN_THRESHOLD;
    this.alarms.add('MirrorsDown', `at least one mirror down for ${THRESHOLDS.mirrorsDownMinutes} minutes (mirrorbits' health checks, R6)`, {
      metric: this.alarms.metric(CW_METRICS.mirrorsDown, { metric_type: 'gauge' }, 'Minimum', Duration.minutes(THRESHOLDS.mirrorsDownMinutes)), threshold: 0, comparisonOperator: above,
    });
    this.alarms.add('RedisMemory', `Redis above ${THRESHOLDS.redisMemoryPercent}% of its memory: mirrorbits' writes will be refused (noeviction)`, {
      metric: gauge(CW_METRICS.redisMemoryPercent), threshold: THRESHOLDS.redisMemoryPercent, comparisonOperator: above,
    });
    this.alarms.add('GeoipStale', `GeoIP databases older than ${THRESHOLDS.geoipAgeDays} days: the weekly refresh fails (R4)`, {
      metric: gauge(CW_METRICS.geoipAgeDays), threshold: THRESHOLDS.geoipAgeDays, comparisonOperator: above, treatMissingData: cw.TreatMissingData.BREACHING,
    });
    this.alarms.add('ReconcileFailed', 'the last reconcile of the mirror list failed (R3)', {
      metric: gauge(CW_METRICS.reconcileSuccess, 'Minimum'), threshold: 1, comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    const fallbacks = new cw.MathExpression({
      expression: 'IF(DIFF(r) > 0, 100 * DIFF(f) / DIFF(r), 0)',
      usingMetrics: { r: gauge(CW_METRICS.requestsTotal), f: gauge(CW_METRICS.fallbacksTotal) },
      period: Duration.minutes(5),
      label: 'share of redirects sent to the master (%)',
    });
    this.alarms.add('FallbackRate', `more than ${THRESHOLDS.fallbackPercent}% of requests sent to the master: mirrors are missing or out of date (R6)`, {
      metric: fallbacks, threshold: THRESHOLDS.fallbackPercent, comparisonOperator: above, evaluationPeriods: 3,
    });
  }
}
