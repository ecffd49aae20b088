import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../lib/config/load';
import { MirrorConfigError } from '../lib/config/problems';
import { hostFiles } from '../lib/host/host';
import { renderUserData } from '../lib/host/user-data';
import { mirrorNodeHost } from '../lib/roles/mirror-node/role';

export const USAGE = `usage: mirrorfleet <command> [options]

commands:
  validate --config FILE             check a mirror.yaml and list every problem
  render   --config FILE --out DIR   write every node file at its install path under DIR,
                                     and the cloud-init user data as DIR/user-data.yaml
`;

type Io = { out: (s: string) => void; err: (s: string) => void };
const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Runs one CLI invocation; returns the exit code (0 ok, 1 bad config, 2 bad arguments). */
export function main(argv: string[], io: Io = stdio): number {
  const [command, ...rest] = argv;
  const options = parseOptions(rest);
  const usage = (why: string) => {
    io.err(`mirrorfleet: ${why}\n\n${USAGE}`);
    return 2;
  };
  if (command === undefined || command === '--help' || command === '-h') return usage('no command given');
  if (typeof options === 'string') return usage(options);
  const allowed: Record<string, string[]> = { validate: ['config'], render: ['config', 'out'] };
  if (!(command in allowed)) return usage(`unknown command "${command}"`);
  const unknown = Object.keys(options).filter((k) => !allowed[command].includes(k));
  if (unknown.length > 0) return usage(`unknown option --${unknown[0]} for ${command}`);
  const missing = allowed[command].filter((k) => options[k] === undefined);
  if (missing.length > 0) return usage(`${command} needs --${missing.join(' and --')}`);

  try {
    const config = loadConfigFile(options.config);
    if (command === 'validate') {
      io.out(`${options.config}: valid ${config.preset.id} mirror node ${config.hostname}\n`);
      return 0;
    }
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
  } catch (e) {
    if (e instanceof MirrorConfigError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function parseOptions(args: string[]): Record<string, string> | string {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) return `unexpected argument "${args[i]}"`;
    const value = m[2] ?? args[++i];
    if (value === undefined || value.startsWith('--')) return `--${m[1]} needs a value`;
    if (m[1] in options) return `--${m[1]} given twice`;
    options[m[1]] = value;
  }
  return options;
}
