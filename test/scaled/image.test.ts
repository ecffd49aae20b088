import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { redirectorEnvPath, scaledFiles } from '../../lib/roles/redirector/scaled/files';
import { TASKS_MIRRORBITS_BIN, TASKS_PACKAGES, renderTasksDockerfile, tasksBuildArgs, tasksBuildContext } from '../../lib/roles/redirector/scaled/image';
import { NGINX_CONF, SCALED_LAYOUT } from '../../lib/roles/redirector/scaled/layout';
import { tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { scaledProject } from './support';

/*
 * The tasks image's Dockerfile (docs/adr/0066). Docker cannot build it here (no daemon, no
 * registry): what can be proven is proven with the programs that can run. Its packages exist in
 * Debian 12 (apt-cache), its RUN command is valid sh (shellcheck), and the paths it creates are
 * the paths the rendered configuration and the scripts use.
 */
const dockerfile = renderTasksDockerfile();
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => /^[A-Z]+ /.test(l));

describeWith(['apt-cache', 'shellcheck'], 'the tasks image', () => {
  it('installs packages Debian 12 has', () => {
    for (const pkg of TASKS_PACKAGES) {
      const r = run('apt-cache', ['policy', pkg]);
      expect({ pkg, candidate: /Candidate: (?!\(none\))\S+/.test(r.stdout) }).toEqual({ pkg, candidate: true });
    }
    expect(instructions.filter((l) => l.startsWith('RUN ')).join('\n')).toContain(`apt-get install -y --no-install-recommends ${TASKS_PACKAGES.join(' ')}`);
  });

  it('runs a shell command shellcheck finds nothing in', () => {
    const dir = tmpDir('dockerfile-run');
    const runs = instructions.filter((l) => l.startsWith('RUN ')).map((l) => l.slice(4));
    expect(runs).toHaveLength(1);
    fs.writeFileSync(path.join(dir, 'run.sh'), `#!/bin/sh\n${runs.join('\n')}\n`);
    const r = run('shellcheck', ['--format=gcc', '-s', 'sh', path.join(dir, 'run.sh')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stdout + r.stderr).toBe('');
  });

  it('takes mirrorbits from the pinned image with the build arguments it declares, where the scripts look for it', () => {
    const p = loadProjectFile(scaledProject());
    const args = tasksBuildArgs(p.redirector!.scaled!);
    expect(args.MIRRORBITS_IMAGE).toMatch(/@sha256:[0-9a-f]{64}$/);
    for (const a of Object.keys(args)) expect(dockerfile).toMatch(new RegExp(`^ARG ${a}$`, 'm'));
    expect(instructions).toContain(`COPY --from=mirrorbits \${MIRRORBITS_BINARY} ${TASKS_MIRRORBITS_BIN}`);
    const files = scaledFiles(p, ['10.64.0.0/16']);
    expect(files.sync[redirectorEnvPath()]).toContain(`\nMIRRORBITS_BIN=${TASKS_MIRRORBITS_BIN}\n`);
    expect(files.service[SCALED_LAYOUT.mirrorbitsConf]).toContain(`\nTemplates: ${args.MIRRORBITS_TEMPLATES}\n`);
  });

  it('sends nginx\'s logs where the rendered configuration writes them to the container\'s output', () => {
    const conf = scaledFiles(loadProjectFile(scaledProject()), ['10.64.0.0/16']).service[NGINX_CONF];
    const logs = [...conf.matchAll(/^\s*(access|error)_log (\/\S+?)[ ;]/gm)].map((m) => m[2]).sort();
    expect(logs).toEqual([`${SCALED_LAYOUT.nginxLogDir}/mirrorfleet-access.log`, `${SCALED_LAYOUT.nginxLogDir}/mirrorfleet-error.log`]);
    expect(dockerfile).toContain(`ln -sf /dev/stdout ${logs[0]}`);
    expect(dockerfile).toContain(`ln -sf /dev/stderr ${logs[1]}`);
  });

  it('copies the step runner to the entry point, with every other script beside it', () => {
    const { files } = tasksBuildContext();
    expect(instructions).toContain(`COPY bin/ ${SCALED_LAYOUT.host.binDir}/`);
    expect(instructions.at(-1)).toBe(`ENTRYPOINT ["${SCALED_LAYOUT.host.binDir}/mirrorfleet-task"]`);
    expect(files.filter((f) => f.path.startsWith('bin/')).every((f) => f.mode === 0o755)).toBe(true);
    expect(files.map((f) => f.path)).toContain('bin/mirrorfleet-task');
  });
});
