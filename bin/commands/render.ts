import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../../lib/config/load';
import { hostFiles } from '../../lib/host/host';
import { renderUserData } from '../../lib/host/user-data';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { Command } from './command';

export const render: Command = {
  name: 'render',
  summary: 'write every node file at its install path under DIR, and the cloud-init user data as DIR/user-data.yaml',
  options: {
    config: { value: 'FILE', required: true, help: 'the mirror.yaml to render' },
    out: { value: 'DIR', required: true, help: 'the directory to write into' },
  },
  run(options, io) {
    const config = loadConfigFile(options.config);
    const outDir = options.out;
    const host = mirrorNodeHost(config);
    const files = hostFiles(host);
    for (const f of files) {
      const target = path.join(outDir, f.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content, { mode: Number.parseInt(f.mode, 8) });
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'user-data.yaml'), renderUserData(host));
    io.out(`${files.length} files and user-data.yaml written under ${outDir}\n`);
    return 0;
  },
};
