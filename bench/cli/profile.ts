/** `npm run bench:profile -- [options]` (--help lists them): the command line of benchProfile (../profile.ts). */
import { commandLine, runCli } from '../../src/train/cli/args.js';
import { benchProfile } from '../profile.js';

const cli = {
  name: 'bench:profile',
  summary:
    'The viewer population against the Twitch data and ELCast (calibration), the profiler against mean / decision tree /\nrandom forest on the simulated population, and channels per visit on the Twitch sample. Writes bench/results/profile.json.',
  flags: {
    data: { type: 'string', arg: 'DIR', help: "the Twitch sample's directory (default: $EDGEPLAY_DATA/live)" },
    model: { type: 'string', default: 'models/profile', arg: 'DIR', help: 'the trained profiler' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchProfile({ data: v.data, model: v.model, command: commandLine(cli.name) });
});
