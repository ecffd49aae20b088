import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { INCOMING_SSHD_DROP_IN, incomingKeysPath, incomingPath, renderMasterFiles } from '../../lib/roles/master/files';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { freePort, waitForPort } from '../support/ports';
import { ensureMirrorAccounts } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';

/*
 * How content reaches the master (M1): a build host's rsync over SSH, with the rendered sshd
 * drop-in and authorized_keys, the real sshd and Debian's rrsync. The build host can write below
 * the incoming area and nothing else: no shell, no reading, no way out, no forwarding.
 */
const TEST_USER = 'mf-upload';

describeWith(['sshd', 'ssh', 'ssh-keygen', 'rsync', 'rrsync'], 'build host uploads over SSH, forced into rrsync (M1)', () => {
  let root: string;
  let sshd: ChildProcess | undefined;
  let port: number;
  let incoming: string;
  let key: string;
  let otherKey: string;
  let sshdLog = '';

  const ssh = (identity: string) => `ssh -i ${identity} -p ${port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR`;
  const upload = (target: string, identity = key, ...opts: string[]) => {
    const src = fs.mkdtempSync(path.join(root, 'out-'));
    fs.mkdirSync(path.join(src, '8.3', 'repodata'), { recursive: true });
    fs.writeFileSync(path.join(src, '8.3', 'repodata', 'repomd.xml'), '<repomd/>\n');
    return run('rsync', ['-rlpt', ...opts, '-e', ssh(identity), `${src}/`, `${TEST_USER}@127.0.0.1:${target}`], { timeoutMs: 30_000 });
  };

  beforeAll(async () => {
    ensureMirrorAccounts();
    if (run('getent', ['passwd', TEST_USER]).status !== 0) {
      run('useradd', ['--system', '-g', 'mirror', '-M', '-d', '/var/lib/mirrorfleet', '-s', '/bin/sh', TEST_USER]);
      fs.mkdirSync('/var/lib/mirrorfleet', { recursive: true });
    }
    root = tmpDir('upload');
    fs.chmodSync(root, 0o755);
    port = await freePort();
    for (const [name] of [['host'], ['client'], ['other']]) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path.join(root, name)]);
    key = path.join(root, 'client');
    otherKey = path.join(root, 'other');
    const pub = fs.readFileSync(`${key}.pub`, 'utf8').trim();
    const file = path.join(root, 'project.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8')
      .replace(/      - ssh-ed25519 \S+ build@ci\.example\.org/, `      - ${pub}`)
      .replace('    mountPoint: /srv/mirror', `    mountPoint: ${root}/srv/mirror`));
    fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
    const p = loadProjectFile(file);
    const layout = testLayout(root);
    const files = renderMasterFiles(p, { public: [], tier1: [] }, { kind: 'file' }, layout);
    const dropIn = files.find((f) => f.path === INCOMING_SSHD_DROP_IN)!.content.replace(/^Match User mirror$/m, `Match User ${TEST_USER}`);
    const keys = files.find((f) => f.path === incomingKeysPath(layout))!.content;
    fs.mkdirSync(path.dirname(incomingKeysPath(layout)), { recursive: true });
    fs.writeFileSync(incomingKeysPath(layout), keys);
    fs.writeFileSync(path.join(root, 'incoming.conf'), dropIn);
    incoming = incomingPath(p.master.node, 'xcp-ng');
    fs.mkdirSync(incoming, { recursive: true });
    run('chown', ['-R', `${TEST_USER}:mirror`, path.dirname(incoming)]);
    fs.mkdirSync('/run/sshd', { recursive: true });
    fs.writeFileSync(path.join(root, 'sshd_config'), `Port ${port}
ListenAddress 127.0.0.1
HostKey ${root}/host
PidFile ${root}/sshd.pid
UsePAM yes
# The scratch directory sits in /tmp (world-writable): the test's own setting, not the product's.
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
Include ${root}/incoming.conf
`);
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(root, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    sshd.stderr!.on('data', (d: Buffer) => (sshdLog += d.toString()));
    await waitForPort(port);
  }, 30_000);

  afterAll(() => {
    sshd?.kill('SIGTERM');
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('the build host\'s key uploads a tree into the incoming area', () => {
    const r = upload('xcp-ng/');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(incoming, '8.3', 'repodata', 'repomd.xml'), 'utf8')).toBe('<repomd/>\n');
  });

  it('cannot escape the incoming area, with ".." or an absolute path', () => {
    const up = upload('../../../etc/');
    expect(up.stderr).toContain('rrsync');
    expect(up.status).not.toBe(0);
    // An absolute path is taken as one below the area (rrsync without -absolute): it stays inside.
    const abs = upload('/etc/mirrorfleet-escape/', key, '--mkpath');
    expect(abs.status).toBe(0);
    expect(fs.existsSync(path.join(path.dirname(incoming), 'etc', 'mirrorfleet-escape', '8.3', 'repodata', 'repomd.xml'))).toBe(true);
    expect(fs.existsSync('/etc/8.3') || fs.existsSync('/etc/mirrorfleet-escape')).toBe(false);
  });

  it('gets no shell: a command is handed to rrsync, which refuses it', () => {
    const r = run('ssh', [...ssh(key).split(' ').slice(1), `${TEST_USER}@127.0.0.1`, 'id; touch /tmp/mirrorfleet-shell'], { timeoutMs: 30_000 });
    expect(r.stderr).toContain('rrsync');
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('uid=');
    expect(fs.existsSync('/tmp/mirrorfleet-shell')).toBe(false);
  });

  it('cannot read: the area is write-only', () => {
    const dst = fs.mkdtempSync(path.join(root, 'read-'));
    const r = run('rsync', ['-rlpt', '-e', ssh(key), `${TEST_USER}@127.0.0.1:xcp-ng/`, `${dst}/`], { timeoutMs: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/reading from write-only server is not allowed|not allowed/);
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('cannot forward ports', () => {
    const r = run('ssh', [...ssh(key).split(' ').slice(1), '-W', `127.0.0.1:${port}`, `${TEST_USER}@127.0.0.1`], { timeoutMs: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/stdio forwarding failed|administratively prohibited/i);
  });

  it('a key not in the list is refused', () => {
    const r = upload('xcp-ng/other/', otherKey);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Permission denied');
    expect(fs.existsSync(path.join(incoming, 'other'))).toBe(false);
  });

  it('sshd accepted the rendered drop-in without complaint', () => {
    expect(sshdLog).not.toMatch(/Bad configuration|Unsupported option|deprecated/i);
  });
});
