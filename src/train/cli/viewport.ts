/** `npm run train:viewport -- [options]` (--help lists them): the command line of trainViewport (../viewport.ts). */
import { commandLine, num, oneOf, runCli } from './args.js';
import { trainViewport } from '../viewport.js';

const cli = {
  name: 'train:viewport',
  summary:
    'Trains the learned viewport predictors (position only, and with the attention prior) on the train split of the viewport\ndata, selecting the epoch on the dev split. Writes OUT_DIR/viewport and OUT_DIR/viewport-prior.',
  flags: {
    only: { type: 'string', arg: 'position|prior', help: 'train one of the two models (default: both)' },
    epochs: { type: 'string', default: '12', arg: 'N', help: 'epochs' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, shuffles, mirroring, prior subsets' },
    batch: { type: 'string', default: '512', arg: 'N', help: 'minibatch' },
    lr: { type: 'string', default: '1e-3', arg: 'X', help: 'learning rate (cosine schedule)' },
    hidden: { type: 'string', default: '128', arg: 'N', help: 'hidden width' },
    'prior-viewers': { type: 'string', default: '25', arg: 'N', help: 'training priors use 3..N of the other viewers' },
    data: { type: 'string', arg: 'DIR', help: 'viewport data directory (default: $EDGEPLAY_DATA/viewport)' },
    'out-dir': { type: 'string', default: 'models', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  await trainViewport({
    only: v.only === undefined ? undefined : oneOf('only', v.only, ['position', 'prior']),
    epochs: num('epochs', v.epochs, { integer: true, min: 1 }),
    seed: num('seed', v.seed, { integer: true }),
    batch: num('batch', v.batch, { integer: true, min: 1 }),
    lr: num('lr', v.lr, { min: 0 }),
    hidden: num('hidden', v.hidden, { integer: true, min: 1 }),
    priorViewers: num('prior-viewers', v['prior-viewers'], { integer: true, min: 3 }),
    data: v.data,
    outDir: v['out-dir'],
    command: commandLine(cli.name),
  });
});
