import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aws, Fn, aws_ec2 as ec2, aws_iam as iam, aws_s3_assets as s3assets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { NodeConfig } from '../../lib/config/node-config';
import { AwsDeployRefs, renderAwsBundle, renderAwsUserData } from '../../lib/host/aws/aws-host';

/**
 * Stand-ins for the deploy-time values while the renderer runs: plain words, so the YAML is
 * quoted exactly as with the real (alphanumeric) values; then swapped for CloudFormation tokens.
 */
export const USER_DATA_SENTINELS: AwsDeployRefs = {
  volumeIdDigits: 'MIRRORFLEETVOLUMEID',
  bundleBucket: 'MIRRORFLEETBUCKET',
  bundleKey: 'MIRRORFLEETKEY',
  region: 'MIRRORFLEETREGION',
};

export interface NodeUserDataProps {
  readonly config: NodeConfig;
  readonly dataVolume: ec2.IVolume;
  /** Gets read access to the bundle object, and nothing else in the bucket. */
  readonly role: iam.IRole;
}

/**
 * The node's user data: the renderers' cloud-config with the data volume's id, the bundle's S3
 * location and the region filled in by CloudFormation; the bundle itself as a CDK file asset
 * (docs/adr/0011).
 */
export class NodeUserData extends Construct {
  /** Fn::Base64 of the cloud-config, for the instance's UserData. */
  public readonly base64: string;
  public readonly bundle: s3assets.Asset;

  constructor(scope: Construct, id: string, props: NodeUserDataProps) {
    super(scope, id);
    const c = props.config;
    // The asset is staged (copied into the cloud assembly) by its constructor, so the scratch copy can go.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-bundle-'));
    try {
      fs.writeFileSync(path.join(dir, 'node-files.tar.gz'), renderAwsBundle(c));
      this.bundle = new s3assets.Asset(this, 'Bundle', { path: path.join(dir, 'node-files.tar.gz') });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    props.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)] }),
    );

    const tokens: Record<keyof AwsDeployRefs, string> = {
      volumeIdDigits: Fn.select(1, Fn.split('-', props.dataVolume.volumeId)),
      bundleBucket: this.bundle.s3BucketName,
      bundleKey: this.bundle.s3ObjectKey,
      region: Aws.REGION,
    };
    const text = renderAwsUserData(c, USER_DATA_SENTINELS);
    const bySentinel = new Map(Object.entries(USER_DATA_SENTINELS).map(([k, v]) => [v, tokens[k as keyof AwsDeployRefs]]));
    const pattern = new RegExp(`(${[...bySentinel.keys()].join('|')})`);
    const parts = text.split(pattern).map((p) => bySentinel.get(p) ?? p);
    this.base64 = Fn.base64(Fn.join('', parts));
  }
}
