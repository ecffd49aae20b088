import { loadConfigFile } from '../../lib/config/load';
import { hostFiles } from '../../lib/host/host';
import { renderUserData } from '../../lib/host/user-data';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { Command } from './command';
import { prepareOutputDir, writeUnder } from './output-dir';

export const render: Command = {
  name: 'render',
  summary: 'write every node file at its install path under DIR, and the cloud-init user data as DIR/user-data.yaml',
  options: {
    config: { value: 'FILE', required: true, help: 'the mirror.yaml to render' },
    out: { value: 'DIR', required: true, help: 'the directory to write into (created if missing)' },
  },
  run(options, io) {
    const config = loadConfigFile(options.config);
    const outDir = options.out;
    const host = mirrorNodeHost(config);
    const files = hostFiles(host);
    prepareOutputDir('out', outDir);
    for (const f of files) writeUnder(outDir, f.path, f.content, Number.parseInt(f.mode, 8));
    writeUnder(outDir, 'user-data.yaml', renderUserData(host), 0o644);
    io.out(`${files.length} files and user-data.yaml written under ${outDir}\n`);
    return 0;
  },
};
