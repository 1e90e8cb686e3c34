/** `npm run bench:abr-sim-real -- [options]` (--help lists them): the command line of benchAbrSimReal (../abr-sim-real.ts). */
import { commandLine, num, runCli } from '../../src/train/cli/args.js';
import { benchAbrSimReal } from '../abr-sim-real.js';

const cli = {
  name: 'bench:abr-sim-real',
  summary:
    'Every real run of bench:browser-abr replayed in a ladder of simulators (Pensieve; our segment sizes; hls.js semantics without and\nwith its emergency abort; with the measured re-fetch; as each run was played: +norefetch, +abandon) to measure each sim-to-real\ngap, and the hls mode validated against real playback. Writes bench/results/abr-sim-real.json (--out).',
  flags: {
    real: { type: 'string', default: 'bench/results/browser-abr.json', arg: 'FILE', help: 'results of bench:browser-abr' },
    model: { type: 'string', default: 'models/abr-drl', arg: 'DIR', help: 'the DRL model of the drl rows' },
    'tol-bitrate': { type: 'string', default: '0.1', arg: 'X', help: 'validation tolerance: relative bitrate difference per run' },
    'tol-stall': { type: 'string', default: '1.5', arg: 'S', help: 'validation tolerance: stall seconds per run' },
    out: { type: 'string', default: 'bench/results/abr-sim-real.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchAbrSimReal({
    real: v.real,
    model: v.model,
    tolBitrate: num('tol-bitrate', v['tol-bitrate'], { min: 0 }),
    tolStallS: num('tol-stall', v['tol-stall'], { min: 0 }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
