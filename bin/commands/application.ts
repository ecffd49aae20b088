import * as fs from 'node:fs';
import { loadConfigFile } from '../../lib/config/load';
import { mirrorApplication } from '../../lib/onboarding/application';
import { OutputsError, parseOutputs } from '../../lib/onboarding/outputs';
import { Command, CommandError } from './command';

export const application: Command = {
  name: 'application',
  summary: "print what the preset's project asks a new mirror to send, filled from the config and the deployed stack",
  options: {
    config: { value: 'FILE', required: true, help: 'the mirror.yaml of the node' },
    outputs: { value: 'FILE', help: 'the stack outputs: `cdk deploy --outputs-file FILE` (AWS) or `terraform output -json > FILE` in the stack directory (Hetzner)' },
  },
  run(options, io) {
    const config = loadConfigFile(options.config);
    let deployed;
    if (options.outputs !== undefined) {
      let text: string;
      try {
        text = fs.readFileSync(options.outputs, 'utf8');
      } catch (e) {
        throw new CommandError(`${options.outputs}: cannot read the outputs file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      try {
        deployed = parseOutputs(text, options.outputs, config);
      } catch (e) {
        if (e instanceof OutputsError) throw new CommandError(e.message);
        throw e;
      }
    }
    io.out(mirrorApplication(config, deployed));
    if (!deployed) io.err('mirrorfleet: the addresses marked [after deploy] come from the stack: rerun with --outputs FILE once it is deployed\n');
    return 0;
  },
};
