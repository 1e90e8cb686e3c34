/** `npm run bench:chunks -- [options]` (--help lists them): the command line of benchChunks (../chunks.ts). */
import { commandLine, runCli } from '../../src/train/cli/args.js';
import { benchChunks } from '../chunks.js';

const cli = {
  name: 'bench:chunks',
  summary:
    "Chunk-size forecasting on the protocol of ../shared/data/chunks/README.md: MAPE / median APE at horizons 1..5, pooled and per\nsource, for the README's baselines, ratio-EWMA, the plain network and the meta-learned forecaster. Writes bench/results/chunks.json.",
  flags: {
    data: { type: 'string', arg: 'DIR', help: 'chunk dataset (default: $EDGEPLAY_DATA/chunks; bench/coding-meta for our encodes)' },
    split: { type: 'string', default: 'dev', arg: 'NAME', help: 'split of index.csv' },
    model: { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: 'the meta-learned forecaster' },
    plain: { type: 'string', default: 'models/chunk-size-plain', arg: 'DIR', help: 'the same network without meta-learning' },
    out: { type: 'string', default: 'bench/results/chunks.json', arg: 'FILE', help: 'results file' },
    bounds: {
      type: 'boolean',
      help: "also hindsight bounds of the learned forecasters at h=1: corrected by the next chunk's common change, its lowest-rung size, or a per-stream level",
    },
  },
} as const;

await runCli(cli, async (v) => {
  await benchChunks({
    data: v.data,
    split: v.split,
    model: v.model,
    plain: v.plain,
    out: v.out,
    bounds: v.bounds,
    command: commandLine(cli.name),
  });
});
