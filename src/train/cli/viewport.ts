/** `npm run train:viewport -- [options]` (--help lists them): the command line of trainViewport (../viewport.ts). */
import { InputError, commandLine, num, oneOf, runCli } from './args.js';
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
    history: { type: 'string', default: '10', arg: 'N', help: 'history samples the model reads (the edge-only large variant: 25)' },
    'prior-grid': { type: 'string', default: '24x12', arg: 'CxR', help: 'attention prior grid, columns x rows (large variant: 48x24)' },
    name: { type: 'string', arg: 'NAME', help: 'output directory name under OUT_DIR (default: viewport / viewport-prior)' },
    'init-from': {
      type: 'string',
      arg: 'DIR',
      help: 'warm start from a trained, no wider viewport model of the same kind (e.g. models/viewport-prior)',
    },
    'windows-per-epoch': { type: 'string', arg: 'N', help: 'training windows per epoch, a fresh random subset each epoch (default: all)' },
  },
} as const;

function grid(s: string): [number, number] {
  const m = /^(\d{1,3})x(\d{1,3})$/.exec(s);
  if (!m || +m[1] < 1 || +m[2] < 1) throw new InputError(`--prior-grid: expected COLSxROWS such as 24x12, got "${s}"`);
  return [+m[1], +m[2]];
}

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
    history: num('history', v.history, { integer: true, min: 1 }),
    priorGrid: grid(v['prior-grid']),
    name: v.name,
    windowsPerEpoch:
      v['windows-per-epoch'] === undefined ? undefined : num('windows-per-epoch', v['windows-per-epoch'], { integer: true, min: 1 }),
    initFrom: v['init-from'],
    command: commandLine(cli.name),
  });
});
