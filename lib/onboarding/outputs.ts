import { NodeConfig } from '../config/node-config';
import { stackName } from '../host/names';
import { nodeUrls } from '../roles/mirror-node/urls';

/*
 * What a deployed stack reports about the node, read from either cloud's outputs file:
 * `cdk deploy --outputs-file F` writes { "<stack>": { Ipv4Address, Ipv6Address, HttpUrl, … } }
 * (constructs/aws/mirror-node-stack.ts); `terraform output -json` in the Hetzner stack's
 * directory writes { ipv4_address: { value, type, sensitive }, … } (constructs/hcloud/mirror-stack.ts).
 * The URLs in the file must be the config's (lib/roles/mirror-node/urls.ts): an outputs file of
 * another node is refused rather than mixed into this node's application.
 */

export interface Deployed {
  readonly cloud: 'aws' | 'hcloud';
  readonly ipv4: string;
  readonly ipv6: string;
  /** AWS region or Hetzner location. */
  readonly where?: string;
}

/** An outputs file that cannot be used for this config: the message names the file and what is wrong. */
export class OutputsError extends Error {
  override readonly name = 'OutputsError';
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

export function parseOutputs(text: string, file: string, c: NodeConfig): Deployed {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new OutputsError(`${file}: not JSON (${(e as Error).message}); expected the file of \`cdk deploy --outputs-file\` or of \`terraform output -json\``);
  }
  if (!isObject(data)) throw new OutputsError(`${file}: a JSON object expected, of \`cdk deploy --outputs-file\` or \`terraform output -json\``);
  const urls = nodeUrls(c);
  if (isObject(data.ipv4_address) && 'value' in data.ipv4_address) return fromTerraform(data, file, urls.site);
  const stack = stackName(c.hostname);
  const stacks = Object.keys(data).filter((k) => isObject(data[k]));
  if (stacks.length === 0) throw new OutputsError(`${file}: neither CDK outputs ({ "<stack>": { "Ipv4Address": … } }) nor Terraform outputs ({ "ipv4_address": { "value": … } })`);
  const s = (data as Json)[stack];
  if (!isObject(s)) throw new OutputsError(`${file}: no outputs of stack ${stack} (the stack of ${c.hostname}); the file has ${stacks.join(', ')}`);
  const want: [string, string | undefined][] = [['HttpUrl', urls.http], ['HttpsUrl', urls.https], ['RsyncUrl', urls.rsync]];
  for (const [key, url] of want) {
    if (url !== undefined && s[key] !== undefined && s[key] !== url) {
      throw new OutputsError(`${file}: ${stack}.${key} is ${JSON.stringify(s[key])}, but this config serves ${url}: outputs of another deploy?`);
    }
  }
  return { cloud: 'aws', ipv4: str(s, 'Ipv4Address', `${file}: ${stack}`), ipv6: str(s, 'Ipv6Address', `${file}: ${stack}`), where: typeof s.Region === 'string' ? s.Region : undefined };
}

function fromTerraform(data: Json, file: string, site: string): Deployed {
  const value = (key: string) => (isObject(data[key]) ? (data[key] as Json).value : undefined);
  const v = Object.fromEntries(['ipv4_address', 'ipv6_address', 'site_url', 'location'].map((k) => [k, value(k)]));
  if (v.site_url !== undefined && v.site_url !== site) {
    throw new OutputsError(`${file}: site_url is ${JSON.stringify(v.site_url)}, but this config serves ${site}: outputs of another deploy?`);
  }
  return { cloud: 'hcloud', ipv4: str(v, 'ipv4_address', file), ipv6: str(v, 'ipv6_address', file), where: typeof v.location === 'string' ? v.location : undefined };
}

function str(o: Json, key: string, where: string): string {
  const x = o[key];
  if (typeof x !== 'string' || x === '') throw new OutputsError(`${where}: no ${key} (a non-empty string); was the stack deployed to the end?`);
  return x;
}
