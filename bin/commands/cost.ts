import { loadConfigFile } from '../../lib/config/load';
import { costReport } from '../../lib/cost/report';
import { Command, CommandError } from './command';

export const cost: Command = {
  name: 'cost',
  summary: "print the node's monthly cost on AWS and on Hetzner Cloud, side by side, at the given traffic",
  options: {
    config: { value: 'FILE', required: true, help: 'the mirror.yaml of the node' },
    traffic: { value: 'TB', required: true, help: 'terabytes served a month (1 TB = 1,024 GB), such as 10 or 0.5' },
  },
  run(options, io) {
    const tb = Number(options.traffic);
    if (!/^\d+(\.\d+)?$/.test(options.traffic) || !Number.isFinite(tb) || tb > 100_000) {
      throw new CommandError(`--traffic "${options.traffic}": terabytes a month, a number from 0 to 100000 such as 10 or 0.5`);
    }
    const config = loadConfigFile(options.config);
    io.out(costReport(config, tb).text);
    return 0;
  },
};
