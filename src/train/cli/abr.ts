/** `npm run train:abr -- [options]` (--help lists them): the command line of trainAbr (../abr.ts). */
import { commandLine, num, oneOf, optNum, runCli } from './args.js';
import { trainAbr } from '../abr.js';
import { loadVideoSizes } from '../../sim/abr/load.js';
import { DEFAULT_ABANDON } from '../../abr/abandon.js';
import type { SyntheticTrainFamily } from '../../sim/abr/synth.js';
import { InputError } from '../errors.js';

const cli = {
  name: 'train:abr',
  summary:
    'Trains the DRL bitrate policy on the Pensieve training traces ($EDGEPLAY_DATA/abr): imitation of an expert, optional DAgger,\nthen PPO in the noisy training environment; selects on the training traces; writes OUT/{model.json,weights.bin,train.json}.',
  flags: {
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, start points, environments, sampling, shuffles' },
    starts: { type: 'string', default: '6', arg: 'N', help: 'imitation start points per training trace' },
    'bc-epochs': { type: 'string', default: '60', arg: 'N', help: 'imitation epochs' },
    'ppo-iters': { type: 'string', default: '1200', arg: 'N', help: 'PPO iterations' },
    'ppo-lr': { type: 'string', default: '3e-5', arg: 'X', help: 'PPO learning rate' },
    out: { type: 'string', default: 'models/abr-drl', arg: 'DIR', help: 'output directory' },
    'bucket-ms': { type: 'string', default: '200', arg: 'N', help: "buffer bucket of the offline optimum ('--expert optimal')" },
    init: { type: 'string', arg: 'DIR', help: 'resume PPO from a saved model (skips imitation)' },
    expert: {
      type: 'string',
      default: 'mpc',
      arg: 'mpc|optimal',
      help: 'imitation expert: RobustMPC (fixed look-ahead) or the offline optimum',
    },
    dagger: { type: 'string', default: '0', arg: 'N', help: 'DAgger rounds with the offline optimum as the teacher' },
    'dagger-bucket-ms': { type: 'string', default: '500', arg: 'N', help: "the teacher's buffer bucket" },
    'dagger-epochs': { type: 'string', default: '8', arg: 'N', help: 'fit epochs per DAgger round' },
    'dagger-lr': { type: 'string', default: '3e-4', arg: 'X', help: 'DAgger learning rate' },
    'dagger-beta': {
      type: 'string',
      arg: 'X',
      help: "round r executes the teacher's action with probability X^r (default: 0.5, or 0 with --init)",
    },
    'dagger-loss': {
      type: 'string',
      default: 'ce',
      arg: 'ce|regret',
      help: "imitate the optimum's level, or minimise the expected hindsight regret",
    },
    'dagger-starts': { type: 'string', arg: 'N', help: 'DAgger start points per trace (default: --starts)' },
    'dagger-teacher': {
      type: 'string',
      default: 'optimal',
      arg: 'optimal|horizon',
      help: "DAgger teacher: the offline optimum, or Comyco's instant solver on the true next throughputs",
    },
    'dagger-horizon': { type: 'string', default: '5', arg: 'N', help: "the instant solver's horizon (chunks)" },
    'hls-mix': {
      type: 'string',
      default: '0',
      arg: 'X',
      help: 'share of PPO environments in the hls.js-semantics simulator, in [0, 1] (needs --hls-sizes)',
    },
    'hls-sizes': {
      type: 'string',
      arg: 'DIR',
      help: "segment sizes for the hls-mode simulator (video_size_q files; our stream's: .cache/streams/vod)",
    },
    'hls-refetch': {
      type: 'string',
      default: 'up',
      arg: 'up|measured|none',
      help: "which switches re-fetch the fragment just buffered in the hls mode: 'none' is monitor()'s player (createStreamController)",
    },
    'hls-abandon': {
      type: 'string',
      default: 'off',
      arg: 'off|default',
      help: "the controller's abandonment in the hls mode: 'default' is monitor()'s DEFAULT_ABANDON",
    },
    'eval-every': { type: 'string', default: '25', arg: 'N', help: 'PPO iterations between selection evaluations' },
    select: {
      type: 'string',
      default: 'training',
      arg: 'training|dev|dev-hls|training-synth',
      help: 'selection set: every training trace, the held-out dev split (both simulators when --hls-mix > 0), that split in the hls mode only, or every training trace pooled with the --synthetic-mix selection traces',
    },
    synthetic: { type: 'string', default: '0', arg: 'N', help: 'synthetic Markov traces (0.2–20 Mb/s) added to the training traces' },
    'synthetic-mix': {
      type: 'string',
      arg: 'FAMILY:N,…',
      help: 'more synthetic families in the PPO pool (markov-fast, step-fast); with --select training-synth the next N/2 of each select',
    },
    rollout: { type: 'string', default: '192', arg: 'N', help: 'PPO steps per environment (16 environments) per iteration' },
    entropy: { type: 'string', default: '0.001', arg: 'X', help: 'entropy bonus' },
    'value-warmup': { type: 'string', default: '30', arg: 'N', help: 'PPO iterations that fit only the critic first' },
    'target-kl': { type: 'string', default: '0.01', arg: 'X', help: "stop an iteration's epochs when the approximate KL exceeds 1.5 X" },
  },
} as const;

/** `FAMILY:N,FAMILY:N` → the syntheticMix option; InputError when malformed (the trainer checks the families). */
function parseMix(v: string | undefined): Array<{ family: SyntheticTrainFamily; count: number }> | undefined {
  if (v === undefined || v === '') return undefined;
  return v.split(',').map((part) => {
    const m = /^([a-z-]+):(\d+)$/.exec(part.trim());
    if (!m) throw new InputError(`--synthetic-mix wants FAMILY:N[,FAMILY:N…] (e.g. markov-fast:40,step-fast:40), got "${part}"`);
    return { family: m[1] as SyntheticTrainFamily, count: Number(m[2]) };
  });
}

await runCli(cli, async (v) => {
  const int = { integer: true, min: 0 };
  await trainAbr({
    seed: num('seed', v.seed, { integer: true }),
    starts: num('starts', v.starts, { integer: true, min: 1 }),
    bcEpochs: num('bc-epochs', v['bc-epochs'], int),
    ppoIters: num('ppo-iters', v['ppo-iters'], int),
    ppoLr: num('ppo-lr', v['ppo-lr'], { min: 0 }),
    out: v.out,
    bucketMs: num('bucket-ms', v['bucket-ms'], { min: 1 }),
    init: v.init,
    expert: oneOf('expert', v.expert, ['mpc', 'optimal']),
    dagger: num('dagger', v.dagger, int),
    daggerBucketMs: num('dagger-bucket-ms', v['dagger-bucket-ms'], { min: 1 }),
    daggerEpochs: num('dagger-epochs', v['dagger-epochs'], int),
    daggerLr: num('dagger-lr', v['dagger-lr'], { min: 0 }),
    daggerBeta: optNum('dagger-beta', v['dagger-beta'], { min: 0 }),
    daggerLoss: oneOf('dagger-loss', v['dagger-loss'], ['ce', 'regret']),
    daggerStarts: optNum('dagger-starts', v['dagger-starts'], { integer: true, min: 1 }),
    daggerTeacher: oneOf('dagger-teacher', v['dagger-teacher'], ['optimal', 'horizon']),
    daggerHorizon: num('dagger-horizon', v['dagger-horizon'], { integer: true, min: 1 }),
    hlsMix: num('hls-mix', v['hls-mix'], { min: 0, max: 1 }),
    hlsSizes: v['hls-sizes'] ? loadVideoSizes(v['hls-sizes']) : undefined,
    hlsRefetch: oneOf('hls-refetch', v['hls-refetch'], ['up', 'measured', 'none']),
    hlsAbandon: oneOf('hls-abandon', v['hls-abandon'], ['off', 'default']) === 'default' ? DEFAULT_ABANDON : null,
    synthetic: num('synthetic', v.synthetic, int),
    evalEvery: num('eval-every', v['eval-every'], { integer: true, min: 1 }),
    syntheticMix: parseMix(v['synthetic-mix']),
    select: oneOf('select', v.select, ['training', 'dev', 'dev-hls', 'training-synth']),
    rollout: num('rollout', v.rollout, { integer: true, min: 1 }),
    entropy: num('entropy', v.entropy),
    valueWarmup: num('value-warmup', v['value-warmup'], int),
    targetKl: num('target-kl', v['target-kl'], { min: 0 }),
    command: commandLine(cli.name),
  });
});
