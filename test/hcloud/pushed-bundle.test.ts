/**
 * The Hetzner redirector's bundle travels with the deploy (lib/host/hcloud/pushed-bundle.ts): its
 * user data waits for a copy with the right sha256. The wait is run by the real sh, base64,
 * sha256sum and tar, with the text the deploy's terraform_data would copy.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { HcloudProjectStack } from '../../constructs/hcloud/project-stack';
import { checkHcloud } from '../../lib/config/hcloud';
import { BUNDLE_PATH } from '../../lib/host/bundle';
import { AWAIT_PUSHED_BUNDLE, PUSHED_BUNDLE_PATH } from '../../lib/host/hcloud/pushed-bundle';
import { USER_DATA_LIMITS } from '../../lib/host/user-data';
import { loadProjectFile, onMaster, onRedirector } from '../../lib/project/project';
import { checkRedirectorHcloud } from '../../lib/roles/redirector/checks';
import { tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

const project = loadProjectFile('examples/project.yaml', [onMaster(checkHcloud), onRedirector(checkHcloud), checkRedirectorHcloud]);
const json = JSON.parse(Testing.synth(new HcloudProjectStack(Testing.app(), 'mirrorfleet-master-example-org', { project })));
const push = json.resource.terraform_data.redirector_bundle;
const text: string = push.provisioner[0].file.content;
const userData: string = json.resource.hcloud_server.redirector.user_data;
const doc = parse(userData);
const sha256 = createHash('sha256').update(Buffer.from(text, 'base64')).digest('hex');

describe('the Hetzner redirector takes its bundle from the deploy', () => {
  it('copies it once per server, over SSH as root with the admin key, to where the user data waits', () => {
    expect(push.triggers_replace).toEqual({ server: '${hcloud_server.redirector.id}' });
    expect(push.depends_on).toEqual(['hcloud_server.redirector']);
    expect(push.connection).toEqual({ type: 'ssh', host: '${hcloud_primary_ip.redirector_ipv4.ip_address}', user: 'root', private_key: '${var.admin_ssh_private_key}' });
    expect(push.provisioner[0].file.destination).toBe(PUSHED_BUNDLE_PATH);
  });

  it('carries no bundle in the user data, only the sha256 it waits for, well under the limit', () => {
    expect(doc.write_files ?? []).toEqual([]);
    expect(doc.runcmd[0].slice(-3)).toEqual([BUNDLE_PATH, sha256, '1800']);
    expect(Buffer.byteLength(userData)).toBeLessThan(USER_DATA_LIMITS.hcloud / 2);
  });

  it('leaves the master and the nodes with their bundle inline', () => {
    expect(json.resource.terraform_data.master_bundle).toBeUndefined();
    expect(json.resource.hcloud_server.master.user_data).toContain('node-files.tar.lzma.b85');
  });
});

describeWith(['sh', 'base64', 'sha256sum', 'tar', 'cloud-init', 'shellcheck'], 'the wait for the pushed bundle, run by the real programs', () => {
  const [cmd, ...args] = doc.runcmd[0] as string[];
  const waitIn = (dir: string, seconds: string) => run(cmd, args.map((a) => (a === PUSHED_BUNDLE_PATH ? path.join(dir, 'b64') : a === BUNDLE_PATH ? path.join(dir, 'bundle.tar.gz') : a === '1800' ? seconds : a)));

  it('passes `cloud-init schema`', () => {
    const dir = tmpDir('pushed-ud');
    fs.writeFileSync(path.join(dir, 'ud.yaml'), userData);
    const r = run('cloud-init', ['schema', '--config-file', path.join(dir, 'ud.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is shellcheck-clean as sh', () => {
    const dir = tmpDir('pushed-sc');
    fs.writeFileSync(path.join(dir, 'await.sh'), `#!/bin/sh\n${AWAIT_PUSHED_BUNDLE}\n`);
    const r = run('shellcheck', ['--format=gcc', path.join(dir, 'await.sh')]);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('gives up with what to do when nothing arrives', () => {
    const dir = tmpDir('pushed-none');
    const r = waitIn(dir, '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no bundle with sha256 ${sha256}`);
    expect(r.stderr).toContain('run cdktf deploy again');
    expect(fs.existsSync(path.join(dir, 'bundle.tar.gz'))).toBe(false);
  });

  it('refuses a copy cut short or altered, and writes nothing', () => {
    const dir = tmpDir('pushed-bad');
    for (const bad of [text.slice(0, text.length / 2), text.replace(/A/, 'B')]) {
      fs.writeFileSync(path.join(dir, 'b64'), bad);
      expect(waitIn(dir, '0').status).toBe(1);
      expect(fs.readdirSync(dir)).toEqual(['b64']);
    }
  });

  it('takes a copy that completes while it waits, and tar finds the whole engine in it', async () => {
    // GIVEN half a copy, as scp leaves it mid-transfer
    const dir = tmpDir('pushed-ok');
    fs.writeFileSync(path.join(dir, 'b64'), text.slice(0, 1000));
    // WHEN the wait runs and the rest arrives a second later
    const child = spawn(cmd, args.map((a) => (a === PUSHED_BUNDLE_PATH ? path.join(dir, 'b64') : a === BUNDLE_PATH ? path.join(dir, 'bundle.tar.gz') : a === '1800' ? '20' : a)));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    setTimeout(() => fs.writeFileSync(path.join(dir, 'b64'), text), 1000);
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // THEN it succeeds with the whole bundle
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const listed = run('tar', ['--list', '--gzip', '--file', path.join(dir, 'bundle.tar.gz')]).stdout;
    for (const f of ['usr/local/bin/mirror-sync', 'usr/local/bin/mirror-sync-plan', 'usr/local/bin/mirrorfleet-reconcile', 'etc/mirrorfleet/redirector/mirrors.json']) expect(listed).toContain(f);
  });
});
