/** `npm run bench:viewport -- [options]` (--help lists them): the command line of benchViewport (../viewport.ts). */
import { commandLine, runCli } from '../../src/train/cli/args.js';
import { benchViewport } from '../viewport.js';

const cli = {
  name: 'bench:viewport',
  summary:
    "Viewport predictors by the data README's protocol on every dataset of the split, then the tile experiment (8x4 tiles,\n2 s ahead, half the all-high bandwidth). Writes bench/results/viewport.json.",
  flags: {
    data: { type: 'string', arg: 'DIR', help: 'viewport data directory (default: $EDGEPLAY_DATA/viewport)' },
    split: { type: 'string', default: 'dev', arg: 'NAME', help: 'split to evaluate' },
    models: { type: 'string', default: 'models', arg: 'DIR', help: 'directory of viewport/ and viewport-prior/' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchViewport({ data: v.data, split: v.split, models: v.models, command: commandLine(cli.name) });
});
