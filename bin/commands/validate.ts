import { CLOUDS, CLOUD_IDS, CloudId, cloudsNamedIn } from '../../lib/config/clouds';
import { loadConfigFile } from '../../lib/config/load';
import { MirrorConfigError } from '../../lib/config/problems';
import { costWarnings } from '../../lib/cost/warnings';
import { Command } from './command';

export const validate: Command = {
  name: 'validate',
  summary: 'check a mirror.yaml and list every problem, with the rules of the cloud it is for',
  options: {
    config: { value: 'FILE', required: true, help: 'the mirror.yaml to check' },
    cloud: {
      value: 'CLOUD',
      choices: [...CLOUD_IDS, 'all'],
      help: 'the cloud whose rules run too; by default the one whose block (aws:, hcloud:) the config has, both when it has neither or both',
    },
  },
  run(options, io) {
    let clouds: CloudId[] = [];
    const pick = (text: string) => {
      clouds = options.cloud === undefined ? cloudsNamedIn(text) : options.cloud === 'all' ? [...CLOUD_IDS] : [options.cloud as CloudId];
      return clouds.flatMap((id) => CLOUDS[id].checks);
    };
    const checked = () => `checked with the rules of ${clouds.map((id) => CLOUDS[id].title).join(' and ')}`;
    try {
      const config = loadConfigFile(options.config, pick);
      io.out(`${options.config}: valid ${config.preset.id} mirror node ${config.hostname}; ${checked()}\n`);
      for (const w of costWarnings(config)) io.err(`${w}\n`);
      return 0;
    } catch (e) {
      if (e instanceof MirrorConfigError && clouds.length > 0) {
        io.err(`${e.message}\n(${checked()})\n`);
        return 1;
      }
      throw e;
    }
  },
};
