import { loadConfigFile } from '../../lib/config/load';
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
    return 0;
  },
};
