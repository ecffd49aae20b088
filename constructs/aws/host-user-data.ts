import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aws, Fn, aws_ec2 as ec2, aws_iam as iam, aws_s3_assets as s3assets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AwsDeployRefs, AwsHostRender } from '../../lib/host/aws/aws-host';
import { fillStandIns } from '../../lib/host/deploy-values';

/** Stand-ins for the deploy-time values while lib/ renders (lib/host/deploy-values.ts). */
export const USER_DATA_STAND_INS: AwsDeployRefs = {
  volumeIdDigits: 'MIRRORFLEETVOLUMEID',
  bundleBucket: 'MIRRORFLEETBUCKET',
  bundleKey: 'MIRRORFLEETKEY',
  region: 'MIRRORFLEETREGION',
};

export interface HostUserDataProps {
  /** The host rendered once for this synth (renderAwsHost). */
  readonly render: AwsHostRender;
  readonly dataVolume: ec2.IVolume;
  /** Gets read access to the bundle object, and nothing else in the bucket. */
  readonly role: iam.IRole;
}

/**
 * The host's user data: the rendered cloud-config with the data volume's id, the bundle's S3
 * location and the region filled in by CloudFormation; the bundle itself as a CDK file asset
 * (docs/adr/0011).
 */
export class HostUserData extends Construct {
  /** Fn::Base64 of the cloud-config, for the instance's UserData. */
  public readonly base64: string;
  public readonly bundle: s3assets.Asset;

  constructor(scope: Construct, id: string, props: HostUserDataProps) {
    super(scope, id);
    // The asset is staged (copied into the cloud assembly) by its constructor, so the scratch copy can go.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-bundle-'));
    try {
      fs.writeFileSync(path.join(dir, 'node-files.tar.gz'), props.render.bundle);
      this.bundle = new s3assets.Asset(this, 'Bundle', { path: path.join(dir, 'node-files.tar.gz') });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    props.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)] }),
    );

    const tokens: AwsDeployRefs = {
      volumeIdDigits: Fn.select(1, Fn.split('-', props.dataVolume.volumeId)),
      bundleBucket: this.bundle.s3BucketName,
      bundleKey: this.bundle.s3ObjectKey,
      region: Aws.REGION,
    };
    const parts = fillStandIns(props.render.userData(USER_DATA_STAND_INS), USER_DATA_STAND_INS, tokens);
    this.base64 = Fn.base64(Fn.join('', parts.map((p) => ('literal' in p ? p.literal : p.value))));
  }
}
