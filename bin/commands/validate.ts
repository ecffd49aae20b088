import { loadConfigFile } from '../../lib/config/load';
import { costWarnings } from '../../lib/cost/warnings';
import { Command } from './command';

export const validate: Command = {
  name: 'validate',
  summary: 'check a mirror.yaml and list every problem',
  options: {
    config: { value: 'FILE', required: true, help: 'the mirror.yaml to check' },
  },
  run(options, io) {
    const config = loadConfigFile(options.config);
    io.out(`${options.config}: valid ${config.preset.id} mirror node ${config.hostname}\n`);
    for (const w of costWarnings(config)) io.err(`${w}\n`);
    return 0;
  },
};
