import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUTO_INSTANCE_TYPES, AWS_DEFAULTS, EBS, INSTANCE_TYPES, awsNodeSpec, chooseDataVolume, chooseInstanceType, internetMbps, memoryNeedGiB } from '../../lib/config/aws';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { MirrorConfigError } from '../../lib/config/problems';
import { EXAMPLES, REPO } from '../support/fixtures';
import { awsConfigWith, awsExampleConfig } from './support';

/** The config an AWS deploy would refuse, with the loader's FILE:LINE:COL lines. */
function awsProblems(name: string, extra: string, replace: [string, string][] = []): string[] {
  try {
    awsConfigWith(name, extra, replace);
  } catch (e) {
    if (e instanceof MirrorConfigError) return [...e.lines];
    throw e;
  }
  return [];
}

const withSizing = (c: NodeConfig, bandwidthMbps: number, workers: number, sizeGiB = c.storage.sizeGiB): NodeConfig => ({
  ...c,
  bandwidthMbps,
  http: { ...c.http, maxRequestWorkers: workers },
  storage: { ...c.storage, sizeGiB },
});

describe('instance sizing (N23)', () => {
  const base = awsExampleConfig('xcp-ng');

  it.each([
    // bandwidthMbps, workers, region -> type: the first automatic type that fits
    [100, 150, undefined, 'm7g.large'],
    [937, 500, undefined, 'm7g.large'],
    [938, 500, undefined, 'c6gn.large'],
    [1000, 500, undefined, 'c6gn.large'],
    [3000, 1500, undefined, 'c6gn.large'],
    [1000, 2000, undefined, 'c6g.xlarge'],
    [1000, 4000, undefined, 'm7g.xlarge'],
    [5000, 2500, undefined, 'c6gn.xlarge'],
    [500, 250, 'eu-south-1', 'm6g.large'],
    [1000, 500, 'me-central-1', 'c6g.xlarge'],
    [1000, 500, 'eu-west-3', 'c6gn.large'],
  ])('%d Mbit/s with %d workers in %s: %s', (mbps, workers, region, expected) => {
    const c = withSizing(base, mbps as number, workers as number);
    expect(chooseInstanceType({ ...c, aws: { ...c.aws, region: region as string | undefined } })?.name).toBe(expected);
  });

  it('counts the baseline, never the burst, and the 5 Gbit/s internet gateway cap', () => {
    const c6gnXl = INSTANCE_TYPES.find((i) => i.name === 'c6gn.xlarge')!;
    expect(c6gnXl.baselineMbps).toBe(6300);
    expect(internetMbps(c6gnXl)).toBe(5000);
    expect(internetMbps(INSTANCE_TYPES.find((i) => i.name === 'm7g.large')!)).toBe(937);
  });

  it('needs 1 GiB plus 2 MiB per Apache worker', () => {
    expect(memoryNeedGiB(0)).toBe(1);
    expect(memoryNeedGiB(512)).toBe(2);
  });

  it('chooses automatically among non-burstable Graviton types only, and never c7gn (missing in most regions)', () => {
    const auto = AUTO_INSTANCE_TYPES.map((n) => INSTANCE_TYPES.find((i) => i.name === n)!);
    expect(auto.every((i) => i.arch === 'arm64' && !i.burstable && i.vcpus >= 2)).toBe(true);
    expect(AUTO_INSTANCE_TYPES).not.toContain('c7gn.large');
    expect(INSTANCE_TYPES.find((i) => i.name === 'c7gn.large')!.missingIn).toContain('eu-west-3');
  });

  it.each(EXAMPLES)('examples/%s.yaml (1000 Mbit/s) runs on c6gn.large with the Debian 12 arm64 image', (example) => {
    const spec = awsNodeSpec(awsExampleConfig(example));
    expect(spec.instanceType.name).toBe('c6gn.large');
    expect(spec.imageParameter).toBe('/aws/service/debian/release/12/latest/arm64');
  });

  it('an x86 override gets the amd64 image', () => {
    expect(awsNodeSpec(awsConfigWith('gentoo', 'aws:\n  instanceType: t3.medium\n', [['bandwidthMbps: 1000', 'bandwidthMbps: 100']])).imageParameter).toBe(
      '/aws/service/debian/release/12/latest/amd64',
    );
  });
});

describe('data volume (N20)', () => {
  const base = awsExampleConfig('fedora');

  it.each([
    // size GiB, Mbit/s -> type, gp3 throughput in MiB/s beyond the included 125
    [90, 1000, 'gp3', 'included'],
    [1910, 1000, 'gp3', 'included'],
    [2048, 100, 'st1', 'n/a'],
    [3052, 1000, 'st1', 'n/a'],
    [3000, 1000, 'gp3', 'included'],
    [500, 2000, 'gp3', 239],
  ])('%d GiB at %d Mbit/s: %s, throughput %s', (size, mbps, type, throughput) => {
    const v = chooseDataVolume(withSizing(base, mbps, 500, size));
    expect(v).toEqual({ type, sizeGiB: size, ...(typeof throughput === 'number' ? { throughputMiBps: throughput } : {}) });
  });

  it('st1 is chosen only from 2 TiB, where small-file metadata is a small part of the tree', () => {
    expect(EBS.st1AutoMinSizeGiB).toBe(2048);
    expect(chooseDataVolume(withSizing(base, 100, 150, 2047)).type).toBe('gp3');
  });

  it.each(EXAMPLES)('examples/%s.yaml: the N20 size on gp3 with its included 125 MiB/s', (example) => {
    const c = awsExampleConfig(example);
    expect(awsNodeSpec(c).dataVolume).toEqual({ type: 'gp3', sizeGiB: c.storage.sizeGiB });
  });
});

describe('AWS config problems, reported by the loader with positions', () => {
  it('an instance type below the bandwidth asked', () => {
    expect(awsProblems('xcp-ng', 'aws:\n  instanceType: m7g.large\n')).toEqual([
      'examples/xcp-ng.yaml (test copy):51:17 aws.instanceType: "m7g.large" — a type that sustains bandwidthMbps 1000 (N23): m7g.large\'s baseline is 937 Mbit/s ("up to" figures are bursts); "auto" picks c6gn.large',
    ]);
  });

  it('an instance type without the memory for the workers', () => {
    expect(awsProblems('xcp-ng', 'aws:\n  instanceType: c7gn.large\n', [['http:\n  enabled: true', 'http:\n  maxRequestWorkers: 4000']])).toEqual([
      'examples/xcp-ng.yaml (test copy):51:17 aws.instanceType: "c7gn.large" — a type with at least 8.8 GiB of memory for http.maxRequestWorkers 4000 (1 GiB + 2 MiB per worker): c7gn.large has 4 GiB; "auto" picks m7g.xlarge',
    ]);
  });

  it('an unknown instance type, with a suggestion', () => {
    const [line] = awsProblems('xcp-ng', 'aws:\n  instanceType: m7g.lrge\n');
    expect(line).toMatch(/^examples\/xcp-ng\.yaml \(test copy\):51:17 aws\.instanceType: "m7g\.lrge" — did you mean "m7g\.large"\? a type whose sustained bandwidth mirrorfleet knows \(N23\): t4g\.medium, /);
  });

  it('a type the region does not offer', () => {
    expect(awsProblems('xcp-ng', 'aws:\n  region: eu-west-3\n  instanceType: c7gn.large\n')).toEqual([
      'examples/xcp-ng.yaml (test copy):52:17 aws.instanceType: "c7gn.large" — a type offered in aws.region eu-west-3: c7gn.large is not (cfn-lint\'s region data); "auto" picks c6gn.large',
    ]);
  });

  it('more bandwidth than any instance can send through an internet gateway', () => {
    expect(awsProblems('xcp-ng', '', [['bandwidthMbps: 1000', 'bandwidthMbps: 6000']])).toEqual([
      'examples/xcp-ng.yaml (test copy):22:16 bandwidthMbps: 6000 — at most 5000 on AWS: an internet gateway carries at most 5000 Mbit/s for instances with fewer than 32 vCPUs (N23)',
    ]);
  });

  it('st1 below its minimum size, or too slow for the bandwidth', () => {
    expect(awsProblems('xcp-ng', 'aws:\n  volumeType: st1\n')).toEqual([
      'examples/xcp-ng.yaml (test copy):51:15 aws.volumeType: "st1" — gp3 or "auto": st1 volumes start at 125 GiB and storage.sizeGiB is 90',
    ]);
    expect(awsProblems('gentoo', 'aws:\n  volumeType: st1\n')).toEqual([
      'examples/gentoo.yaml (test copy):38:15 aws.volumeType: "st1" — gp3 or "auto": st1 at 1130 GiB streams 44.1 MiB/s sustained (40 MiB/s per TiB), below the 119.2 MiB/s that bandwidthMbps 1000 needs; st1 fits from 3052 GiB',
    ]);
  });

  it('a volume larger than EBS allows', () => {
    expect(awsProblems('xcp-ng', '', [['sizeGiB: auto ', 'sizeGiB: 20000 ']])).toEqual([
      'examples/xcp-ng.yaml (test copy):43:12 storage.sizeGiB: 20000 — at most 16384 on AWS: the largest gp3 or st1 volume',
    ]);
  });

  it('SSH open to the whole Internet, and a hosted zone that does not hold the host name', () => {
    expect(awsProblems('xcp-ng', 'aws:\n  sshCidrs: [0.0.0.0/0, "2001:db8::/48"]\n  hostedZone: {id: Z0123456789ABC, name: other.org}\n')).toEqual([
      'examples/xcp-ng.yaml (test copy):51:14 aws.sshCidrs[0]: "0.0.0.0/0" — an admin network, never the whole Internet: the firewall opens port 22 to these only (N22); leave sshCidrs empty and use SSM Session Manager',
      'examples/xcp-ng.yaml (test copy):52:42 aws.hostedZone.name: "other.org" — the zone that holds hostname mirror.example.org, such as example.org',
    ]);
  });

  it('the schema rejects a bad aws key with the allowed keys', () => {
    const [line] = awsProblems('xcp-ng', 'aws:\n  instanceTyp: m7g.large\n');
    expect(line).toBe(
      'examples/xcp-ng.yaml (test copy):51:3 aws.instanceTyp: unknown key — did you mean "instanceType"? allowed keys here: region, account, instanceType, volumeType, sshCidrs, hostedZone',
    );
  });

  it('AWS rules apply only when a deploy asks for them: the plain loader accepts 6000 Mbit/s', () => {
    const text = fs.readFileSync(path.join(REPO, 'examples', 'xcp-ng.yaml'), 'utf8').replace('bandwidthMbps: 1000', 'bandwidthMbps: 6000');
    expect(parseConfig(text).bandwidthMbps).toBe(6000);
  });

  it('the construct refuses a config the loader was not asked to check', () => {
    const c = withSizing(awsExampleConfig('xcp-ng'), 6000, 500);
    expect(() => awsNodeSpec(c)).toThrow(/^mirror node mirror\.example\.org cannot run on AWS:\nbandwidthMbps: at most 5000 on AWS/);
  });
});

describe('defaults', () => {
  it('resolve to automatic sizing and no SSH', () => {
    const c = awsExampleConfig('xcp-ng');
    expect(c.aws).toEqual({ instanceType: AWS_DEFAULTS.instanceType, volumeType: AWS_DEFAULTS.volumeType, sshCidrs: [] });
  });
});
