/** `npm run train:profile -- [options]` (--help lists them): the command line of trainProfile (../profile.ts). */
import { commandLine, num, runCli } from './args.js';
import { trainProfile } from '../profile.js';

const cli = {
  name: 'train:profile',
  summary:
    "Trains ELCast's QoE-preference model (1D-CNN) on the simulated viewer population (no dataset needed); the last 20 % of\ntime is bench:profile's test set, never read. Writes OUT/{model.json,weights.bin,norm.json,train.json}.",
  flags: {
    epochs: { type: 'string', default: '30', arg: 'N', help: 'epochs' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation and shuffles' },
    out: { type: 'string', default: 'models/profile', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  await trainProfile({
    epochs: num('epochs', v.epochs, { integer: true, min: 1 }),
    seed: num('seed', v.seed, { integer: true }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
