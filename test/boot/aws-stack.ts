import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { MirrorNodeStack } from '../../constructs/aws';
import { NodeConfig } from '../../lib/config/node-config';

/**
 * What EC2 hands an AWS mirror node, taken from the synthesized CloudFormation template: the
 * instance's UserData with CloudFormation's part played here (every Ref, Fn::Select, Fn::Split,
 * Fn::Join and Fn::Sub resolved with this test's account, region and volume id), the bundle
 * object the user data names (bucket, key and the asset file CDK would upload there), and the
 * instance's metadata options (IMDSv2 required or not). So the boot proves the template's join,
 * not only the renderer behind it.
 */
export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'eu-west-3';
/** An EBS volume id as EC2 makes them: "vol-" and 17 hex digits. */
export const TEST_VOLUME_ID = 'vol-0b00715ee7c0ffee1';

export interface AwsStackRender {
  readonly userData: string;
  readonly bundle: { readonly bucket: string; readonly key: string; readonly file: string };
  /** MetadataOptions.HttpTokens of the instance: 'required' means IMDSv2 only. */
  readonly httpTokens: string;
  readonly region: string;
  readonly seconds: number;
}

export function synthAwsNode(config: NodeConfig, outdir: string): AwsStackRender {
  const t0 = Date.now();
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  const stack = new MirrorNodeStack(app, 'Mirror', { config, env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const asm = app.synth();
  const template = asm.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const instances = Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::Instance');
  if (instances.length !== 1) throw new Error(`expected one AWS::EC2::Instance in the template, found ${instances.length}`);
  const props = instances[0].Properties;
  const volumes = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::EC2::Volume');
  const refs: Record<string, string> = {
    'AWS::AccountId': TEST_ACCOUNT,
    'AWS::Region': TEST_REGION,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    ...Object.fromEntries(volumes.map(([id]) => [id, TEST_VOLUME_ID])),
  };
  const ud = props.UserData as { 'Fn::Base64'?: unknown };
  if (!ud?.['Fn::Base64']) throw new Error(`the instance's UserData is not Fn::Base64: ${JSON.stringify(ud).slice(0, 200)}`);
  const userData = resolveCfn(ud['Fn::Base64'], refs);
  // The runcmd that fetches the bundle names "bucket/key" (FETCH_BUNDLE's second argument).
  const m = /^\s*- (cdk-[a-z0-9-]+)\/([0-9a-f]{64}\.[a-z.]+)$/m.exec(userData);
  if (!m) throw new Error('the user data names no bundle object (bucket/key) in its runcmd');
  const [, bucket, key] = m;
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { bucketName: string; objectKey: string }> }>;
  };
  const asset = Object.values(manifest.files).find((f) => Object.values(f.destinations).some((d) => d.bucketName === bucket && d.objectKey === key));
  if (!asset) throw new Error(`no asset in the cloud assembly is published to s3://${bucket}/${key}`);
  const metadata = (props.MetadataOptions ?? {}) as { HttpTokens?: string };
  return {
    userData,
    bundle: { bucket, key, file: path.join(outdir, asset.source.path) },
    httpTokens: metadata.HttpTokens ?? 'optional',
    region: TEST_REGION,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The CloudFormation intrinsics CDK puts into a UserData, evaluated; anything else is an error. */
export function resolveCfn(v: unknown, refs: Readonly<Record<string, string>>): string {
  const str = (x: unknown) => resolveCfn(x, refs);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  const o = v as Record<string, unknown>;
  const [fn] = Object.keys(o ?? {});
  const arg = o?.[fn];
  switch (fn) {
    case 'Ref': {
      const r = refs[arg as string];
      if (r === undefined) throw new Error(`the user data refers to ${String(arg)}, which this test does not play`);
      return r;
    }
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map(str).join(sep);
    }
    case 'Fn::Select': {
      const [i, list] = arg as [number | string, unknown];
      const items = resolveList(list, refs);
      const item = items[Number(i)];
      if (item === undefined) throw new Error(`Fn::Select ${i} of ${JSON.stringify(items)}`);
      return item;
    }
    case 'Fn::Sub': {
      const [text, vars] = (typeof arg === 'string' ? [arg, {}] : arg) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => (name in vars ? str(vars[name]) : str({ Ref: name })));
    }
    default:
      throw new Error(`the user data uses ${fn}, which this test does not evaluate: ${JSON.stringify(v).slice(0, 200)}`);
  }
}

function resolveList(v: unknown, refs: Readonly<Record<string, string>>): string[] {
  if (Array.isArray(v)) return v.map((x) => resolveCfn(x, refs));
  const o = v as Record<string, unknown>;
  if (o?.['Fn::Split']) {
    const [sep, source] = o['Fn::Split'] as [string, unknown];
    return resolveCfn(source, refs).split(sep);
  }
  throw new Error(`not a list: ${JSON.stringify(v).slice(0, 200)}`);
}
