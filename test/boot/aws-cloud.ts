import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, waitForPort } from '../support/ports';
import { AgentObject, buildAgentPackages } from './aws-agents';
import { AwsCloudConfig, AwsCloudRequest } from './aws-cloud-server';
import { TEST_ACCOUNT } from './aws-stack';
import { cleanup } from './cleanup';
import { Daemon, startDaemon } from './daemon';
import { must, sh } from './sh';
import { World } from './world';

/** Where EC2's instance metadata service answers, on every instance. */
export const IMDS_ADDRESS = '169.254.169.254';

/**
 * AWS as the node sees it, played by the host (aws-cloud-server.ts does the answering, in its own
 * process): S3 under its own host names, resolved by the world's DNS to the host and served with a
 * certificate of the world's CA (which the image trusts: a property of the test network, not of
 * the product); the instance metadata service at 169.254.169.254 through a DNAT on the host's
 * side of the node's link, the host being the node's gateway as EC2's VPC router is (it forwards
 * nothing); the agents' packages at their download URLs (aws-agents.ts).
 */
export class AwsCloud {
  readonly configFile: string;
  readonly logFile: string;
  readonly userDataFile: string;
  readonly agents: AgentObject[];
  readonly credentials = {
    AccessKeyId: `ASIABOOTTEST${randomBytes(4).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    Token: randomBytes(48).toString('base64'),
  };
  readonly roleName = 'mirrorfleet-boot-test-instance-role';
  private config!: AwsCloudConfig;
  private daemon?: Daemon;

  constructor(
    readonly world: World,
    readonly dir: string,
    readonly region: string,
    readonly requireToken: boolean,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.configFile = path.join(dir, 'aws-cloud.json');
    this.logFile = path.join(dir, 'aws-requests.jsonl');
    this.userDataFile = path.join(dir, 'imds-user-data');
    this.agents = buildAgentPackages(path.join(dir, 'agents'));
  }

  /** S3's names the node may use: the bundle bucket's regional ones, and the global endpoint the agents' URLs name. */
  private s3Names(buckets: readonly string[]): string[] {
    const r = this.region;
    const virtual = [...new Set([...buckets, ...this.agents.map((a) => a.bucket)])].flatMap((b) => [`${b}.s3.${r}.amazonaws.com`, `${b}.s3.amazonaws.com`]);
    return [`s3.${r}.amazonaws.com`, 's3.amazonaws.com', ...virtual];
  }

  async start(userData: string, bundle: { bucket: string; key: string; file: string }): Promise<void> {
    fs.writeFileSync(this.userDataFile, userData);
    const names = this.s3Names([bundle.bucket]);
    const tls = this.world.ca.issue('aws-s3', [`*.s3.${this.region}.amazonaws.com`, `s3.${this.region}.amazonaws.com`, '*.s3.amazonaws.com', 's3.amazonaws.com'], []);
    const imdsPort = await freePort();
    this.config = {
      tls,
      s3: { host: this.world.hostIp, port: 443 },
      imds: { host: this.world.hostIp, port: imdsPort },
      region: this.region,
      accountId: TEST_ACCOUNT,
      instanceId: 'i-0b00715ee7c0ffee1',
      roleName: this.roleName,
      credentials: this.credentials,
      requireToken: this.requireToken,
      userDataFile: this.userDataFile,
      objects: [{ ...bundle, public: false }, ...this.agents.map((a) => ({ bucket: a.bucket, key: a.key, file: a.file, public: true }))],
      log: this.logFile,
    };
    fs.writeFileSync(this.configFile, JSON.stringify(this.config, null, 1));
    fs.writeFileSync(this.logFile, '');
    this.imdsNat(imdsPort);
    this.daemon = startDaemon('AWS stand-ins (S3, IMDS)', process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'aws-cloud-server.ts'), this.configFile], path.join(this.dir, 'aws-cloud-server.log'), {
      ...process.env,
      TS_NODE_TRANSPILE_ONLY: 'true',
    });
    try {
      await waitForPort(443, this.world.hostIp, 30_000);
      await waitForPort(imdsPort, this.world.hostIp, 30_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.daemon.log()}`);
    }
    for (const n of names) await this.world.setA(n, this.world.hostIp);
  }

  /**
   * 169.254.169.254:80 from the node goes to the IMDS stand-in; anything else the node sends
   * to its gateway (not addressed to the host) is refused: the host forwards nothing.
   */
  private imdsNat(port: number): void {
    const table = `mfboot_aws_${this.world.opts.index}`;
    const veth = this.world.vethHost;
    sh('nft', ['delete', 'table', 'inet', table]);
    must('nft', ['-f', '-'], {
      input: `table inet ${table} {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    iifname "${veth}" ip daddr ${IMDS_ADDRESS} tcp dport 80 dnat ip to ${this.world.hostIp}:${port}
  }
  chain forward {
    type filter hook forward priority filter;
    iifname "${veth}" reject
  }
}
`,
    });
    cleanup.add(`delete nft table ${table}`, () => {
      sh('nft', ['delete', 'table', 'inet', table]);
    });
  }

  /** An in-place update: S3 gets the new object (the old one stays, as in a real bucket), IMDS serves the new user data. */
  update(userData: string, object: { bucket: string; key: string; file: string }): void {
    this.config = { ...this.config, objects: [...this.config.objects, { ...object, public: false }] };
    fs.writeFileSync(this.configFile, JSON.stringify(this.config, null, 1));
    fs.writeFileSync(this.userDataFile, userData);
  }

  requests(): AwsCloudRequest[] {
    this.assertAlive();
    return fs
      .readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AwsCloudRequest);
  }

  assertAlive(): void {
    if (this.daemon && !this.daemon.alive()) throw new Error(`the AWS stand-ins exited:\n${this.daemon.log()}`);
  }
}

/** One line per request, for quoting. */
export const formatRequests = (rs: readonly AwsCloudRequest[]) => rs.map((r) => `${r.time.slice(11, 19)} ${r.service} ${r.method} ${r.host}${r.path} -> ${r.status} (${r.auth})`).join('\n');
