/** `npm run bench:abr-sim-real -- [options]` (--help lists them): the command line of benchAbrSimReal (../abr-sim-real.ts). */
import { commandLine, num, runCli } from '../../src/train/cli/args.js';
import { benchAbrSimReal } from '../abr-sim-real.js';

const cli = {
  name: 'bench:abr-sim-real',
  summary:
    'Every real run of bench:browser-abr replayed in a ladder of simulators (Pensieve; our segment sizes; hls.js semantics without and\nwith its emergency abort) to measure each sim-to-real gap, and the hls mode validated against real playback. Writes\nbench/results/abr-sim-real.json.',
  flags: {
    real: { type: 'string', default: 'bench/results/browser-abr.json', arg: 'FILE', help: 'results of bench:browser-abr' },
    model: { type: 'string', default: 'models/abr-drl', arg: 'DIR', help: 'the DRL model of the drl rows' },
    'tol-bitrate': { type: 'string', default: '0.1', arg: 'X', help: 'validation tolerance: relative bitrate difference per run' },
    'tol-stall': { type: 'string', default: '1.5', arg: 'S', help: 'validation tolerance: stall seconds per run' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchAbrSimReal({
    real: v.real,
    model: v.model,
    tolBitrate: num('tol-bitrate', v['tol-bitrate'], { min: 0 }),
    tolStallS: num('tol-stall', v['tol-stall'], { min: 0 }),
    command: commandLine(cli.name),
  });
});
