/** `npm run train:chunks -- [options]` (--help lists them): the command line of trainChunkSize (../chunks.ts). */
import { commandLine, num, oneOf, runCli } from './args.js';
import { trainChunkSize } from '../chunks.js';

const cli = {
  name: 'train:chunks',
  summary:
    'Trains the live chunk-size forecaster (src/abr/size-model.ts) on the train videos of $EDGEPLAY_DATA/chunks and of our encodes\n(bench/coding-meta), selected on their dev videos; --inner-steps 0 trains the same network without meta-learning.\nWrites OUT/{model.json, weights.bin, head.json, train.json}.',
  flags: {
    'inner-steps': { type: 'string', default: '2', arg: 'N', help: 'Meta-SGD steps of the head per forecast (0: no meta-learning)' },
    window: { type: 'string', default: '10', arg: 'N', help: 'support window, origins' },
    iters: { type: 'string', default: '3000', arg: 'N', help: 'batches' },
    batch: { type: 'string', default: '32', arg: 'N', help: 'episodes per batch (a multiple of 8)' },
    lr: { type: 'string', default: '1e-3', arg: 'X', help: 'Adam learning rate' },
    hidden: { type: 'string', default: '64', arg: 'N', help: 'width of the two hidden layers' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation and sampling' },
    'eval-every': { type: 'string', default: '250', arg: 'N', help: 'batches between dev evaluations' },
    loss: { type: 'string', default: 'ape', arg: 'ape|logl1', help: 'query loss' },
    'inner-loss': { type: 'string', default: 'l2', arg: 'l2|ape', help: 'inner (adaptation) loss' },
    'encodes-share': { type: 'string', default: '0.1', arg: 'X', help: 'share of the blocks from our encodes' },
    data: { type: 'string', arg: 'DIR', help: 'shared chunk dataset (default: $EDGEPLAY_DATA/chunks)' },
    encodes: { type: 'string', default: 'bench/coding-meta', arg: 'DIR', help: 'our encodes with coding meta (skipped when absent)' },
    out: { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  await trainChunkSize({
    innerSteps: num('inner-steps', v['inner-steps'], { integer: true, min: 0 }),
    window: num('window', v.window, { integer: true, min: 1 }),
    iters: num('iters', v.iters, { integer: true, min: 1 }),
    batch: num('batch', v.batch, { integer: true, min: 8 }),
    lr: num('lr', v.lr, { min: 0 }),
    hidden: num('hidden', v.hidden, { integer: true, min: 1 }),
    seed: num('seed', v.seed, { integer: true }),
    evalEvery: num('eval-every', v['eval-every'], { integer: true, min: 1 }),
    loss: oneOf('loss', v.loss, ['ape', 'logl1'] as const),
    innerLoss: oneOf('inner-loss', v['inner-loss'], ['l2', 'ape'] as const),
    encodesShare: num('encodes-share', v['encodes-share'], { min: 0 }),
    data: v.data,
    encodes: v.encodes,
    out: v.out,
    command: commandLine(cli.name),
  });
});
