import * as fs from 'node:fs';
import { formatReport } from '../../lib/check/format';
import { checkMirror } from '../../lib/check/run';
import { TargetError } from '../../lib/check/target';
import { PRESETS, PRESET_IDS, PresetId } from '../../lib/presets';
import { Command, CommandError } from './command';

export const check: Command = {
  name: 'check',
  summary: "check a live mirror from outside against every prerequisite of its preset; exit 0 only when each required check passes",
  argument: { name: 'URL-or-HOST', help: 'the mirror: a host name, or the URL of one tree (https://mirror.example.org/xcp-ng/)' },
  options: {
    preset: { value: 'PRESET', required: true, choices: PRESET_IDS, help: 'whose prerequisites to check' },
    master: { value: 'URL', help: 'rsync URL of the tree on the master (or upstream): freshness is judged against it' },
    json: { help: 'print the report as JSON' },
    address: { value: 'ADDRS', help: 'addresses to check instead of DNS, comma-separated (a node whose name does not point at it yet)' },
    ca: { value: 'FILE', help: 'PEM roots to trust besides the usual ones (a private CA)' },
    'chain-root': { value: 'NAME', help: "the root the certificate chain must end at, instead of the preset's (XCP-ng: ISRG Root X1)" },
    ports: { value: 'LIST', help: 'ports other than 80, 443, 873: http=8080,https=8443,rsync=8873' },
  },
  async run(options, io) {
    const preset = PRESETS[options.preset as PresetId];
    let ca: string[] | undefined;
    if (options.ca) {
      try {
        ca = [fs.readFileSync(options.ca, 'utf8')];
      } catch (e) {
        throw new CommandError(`--ca ${options.ca}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    try {
      const report = await checkMirror(options['URL-or-HOST'], {
        preset,
        master: options.master,
        ca,
        chainRoot: options['chain-root'],
        addresses: options.address?.split(',').map((a) => a.trim()).filter(Boolean),
        ports: options.ports ? parsePorts(options.ports) : undefined,
      });
      io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return report.ok ? 0 : 1;
    } catch (e) {
      if (e instanceof TargetError) throw new CommandError(e.message);
      throw e;
    }
  },
};

function parsePorts(text: string): { http?: number; https?: number; rsync?: number } {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^(http|https|rsync)=(\d{1,5})$/.exec(part.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new CommandError(`--ports "${text}": a list such as http=8080,https=8443,rsync=8873 (ports 1 to 65535)`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}
