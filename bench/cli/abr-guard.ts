/** `npm run bench:abr-guard -- [options]` (--help lists them): the command line of benchAbrGuard (../abr-guard.ts). */
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { benchAbrGuard } from '../abr-guard.js';

const cli = {
  name: 'bench:abr-guard',
  summary:
    "The DRL's stall guard over a grid (reserve × throughput factor) against the DRL as trained and hls.js' rate rule, in the\nplayer simulator (stage E) on a trace split. Selection split: train. Writes bench/results/abr-guard.json.",
  flags: {
    split: { type: 'string', default: 'train', arg: 'train|test', help: 'trace split (select on train; test is reported only)' },
    reserves: { type: 'string', default: '2,3,4,5,6', arg: 'LIST', help: 'reserves to try, s' },
    factors: { type: 'string', default: '0.6,0.7,0.8,0.9,1', arg: 'LIST', help: 'throughput factors to try' },
    chunks: { type: 'string', default: '30', arg: 'N', help: 'fragments per run' },
    model: { type: 'string', default: 'models/abr-drl', arg: 'DIR', help: 'the DRL model' },
    out: { type: 'string', default: 'bench/results/abr-guard.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchAbrGuard({
    split: listOf('split', v.split, ['train', 'test'] as const)[0],
    reserves: listOf('reserves', v.reserves).map((x) => num('reserves', x, { min: 0 })),
    factors: listOf('factors', v.factors).map((x) => num('factors', x, { min: 0 })),
    chunks: num('chunks', v.chunks, { integer: true, min: 2 }),
    model: v.model,
    out: v.out,
    command: commandLine(cli.name),
  });
});
