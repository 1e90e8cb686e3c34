/** `npm run train:variants -- [options]` (--help lists them): the command line of trainVariants (../variants.ts). */
import { commandLine, InputError, listOf, num, runCli } from './args.js';
import { trainVariants } from '../variants.js';

const MODELS = ['abr-drl-player', 'abr-drl', 'viewport', 'viewport-prior', 'profile'] as const;

const cli = {
  name: 'train:variants',
  summary:
    'Builds the deployment variants of the shipped models: int8 (per-tensor scale) and fp16 weights, magnitude pruning +\nfine-tuning, and a distilled narrower network, fitted to the full model on training data only. Writes\nOUT/<model>/<variant>/ and OUT/variants.json.',
  flags: {
    models: { type: 'string', default: MODELS.join(','), arg: 'LIST', help: 'models to build variants of' },
    sparsity: { type: 'string', default: '0.75', arg: 'X', help: 'share of each kernel pruned' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, shuffles and sampling' },
    samples: { type: 'string', default: '160000', arg: 'N', help: 'training inputs for fine-tuning and distillation' },
    'epoch-scale': { type: 'string', default: '1', arg: 'X', help: 'scale every epoch count (shorter runs on a busy machine)' },
    'models-dir': { type: 'string', default: 'models', arg: 'DIR', help: 'the shipped models' },
    out: { type: 'string', default: 'models/variants', arg: 'DIR', help: 'output root' },
    'viewport-data': { type: 'string', arg: 'DIR', help: 'viewport data (default: $EDGEPLAY_DATA/viewport)' },
    'abr-data': { type: 'string', arg: 'DIR', help: 'ABR data (default: $EDGEPLAY_DATA/abr)' },
    'hls-sizes': {
      type: 'string',
      default: '.cache/streams/vod',
      arg: 'DIR',
      help: 'abr-drl-player: segment sizes of the stream the hls.js-semantics simulator plays (half its fitting states)',
    },
  },
} as const;

await runCli(cli, async (v) => {
  const sparsity = num('sparsity', v.sparsity, { min: 0 });
  if (sparsity >= 1) throw new InputError(`--sparsity: the share of each kernel pruned must be below 1, got "${v.sparsity}"`);
  await trainVariants({
    models: listOf('models', v.models, MODELS),
    sparsity,
    seed: num('seed', v.seed, { integer: true }),
    samples: num('samples', v.samples, { integer: true, min: 1000 }),
    epochScale: num('epoch-scale', v['epoch-scale'], { min: 0.01 }),
    modelsDir: v['models-dir'],
    out: v.out,
    viewportData: v['viewport-data'],
    abrData: v['abr-data'],
    hlsSizes: v['hls-sizes'],
    command: commandLine(cli.name),
  });
});
