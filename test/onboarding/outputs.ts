import { NodeConfig } from '../../lib/config/node-config';
import { stackName } from '../../lib/host/names';
import { synthNode } from '../aws/support';
import { synthStack } from '../hcloud/helpers';

/*
 * Outputs files as each cloud's tool writes them after a deploy, made from the synthesized
 * stacks themselves: every output the stack declares, its literal values kept, its deploy-time
 * values (addresses, ids) replaced by documentation stand-ins. A new output without a stand-in
 * fails here, so the application always reads the stacks' real output names.
 */

const AWS_STAND_INS: Record<string, string> = {
  Ipv4Address: '203.0.113.10',
  Ipv6Address: '2001:db8:10::10',
  Region: 'eu-west-3',
  InstanceId: 'i-0123456789abcdef0',
  DataVolumeId: 'vol-0123456789abcdef0',
  AlarmTopicArn: 'arn:aws:sns:eu-west-3:123456789012:mirrorfleet-alarms',
};

const TERRAFORM_STAND_INS: Record<string, string> = {
  ipv4_address: '203.0.113.20',
  ipv6_address: '2001:db8:20::1',
  ipv6_network: '2001:db8:20::/64',
  volume_id: '100123456',
};

/** What `cdk deploy --outputs-file F` writes: { "<stack>": { OutputKey: value } }. */
export function cdkOutputsFile(c: NodeConfig): string {
  const outputs = synthNode(c).template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const values = Object.fromEntries(
    Object.entries(outputs).map(([k, o]) => {
      if (typeof o.Value === 'string') return [k, o.Value];
      if (!(k in AWS_STAND_INS)) throw new Error(`output ${k} is a deploy-time value without a stand-in in test/onboarding/outputs.ts`);
      return [k, AWS_STAND_INS[k]];
    }),
  );
  return `${JSON.stringify({ [stackName(c.hostname)]: values }, null, 2)}\n`;
}

/** What `terraform output -json` writes in the stack's directory: { name: { sensitive, type, value } }. */
export function terraformOutputsFile(c: NodeConfig): string {
  const outputs = synthStack(c).json.output as Record<string, { value: unknown; sensitive?: boolean }>;
  const typeOf = (v: unknown): unknown => (typeof v === 'string' ? 'string' : ['object', Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, typeOf(x)]))]);
  const values = Object.fromEntries(
    Object.entries(outputs).map(([k, o]) => {
      let value = o.value;
      // The user data's hash changes with every renderer change; the application does not read it.
      if (k === 'user_data_sha256') value = '<sha256 of the user data>';
      else if (typeof value === 'string' && value.includes('${')) {
        if (!(k in TERRAFORM_STAND_INS)) throw new Error(`output ${k} is a deploy-time value without a stand-in in test/onboarding/outputs.ts`);
        value = TERRAFORM_STAND_INS[k];
      }
      return [k, { sensitive: o.sensitive ?? false, type: typeOf(value), value }];
    }),
  );
  return `${JSON.stringify(values, null, 2)}\n`;
}
