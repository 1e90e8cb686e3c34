/** `npm run train:live-abr -- [options]` (--help lists them): the command line of trainLiveAbr (../live-abr.ts). */
import { commandLine, num, oneOf, runCli } from './args.js';
import { trainLiveAbr } from '../live-abr.js';
import { DEFAULT_FRAMES } from '../part-size.js';

const cli = {
  name: 'train:live-abr',
  summary:
    "Trains the latency-aware DRL live policy in the live simulator with the chunk-size forecaster's predictions in its state:\nimitation of live RobustMPC, then PPO (src/train/ppo.ts) on training videos x training traces; selected on every 7th training\ntrace x dev videos. Writes OUT/{model.json, weights.bin, train.json}.",
  flags: {
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, sessions, sampling and shuffles' },
    iters: { type: 'string', default: '300', arg: 'N', help: 'PPO iterations' },
    'bc-sessions': { type: 'string', default: '400', arg: 'N', help: 'imitation sessions of live RobustMPC (0: none)' },
    'bc-epochs': { type: 'string', default: '10', arg: 'N', help: 'imitation epochs' },
    'ppo-lr': { type: 'string', default: '3e-5', arg: 'X', help: 'PPO learning rate' },
    rollout: { type: 'string', default: '48', arg: 'N', help: 'chunks per session per PPO iteration' },
    envs: { type: 'string', default: '16', arg: 'N', help: 'parallel sessions' },
    entropy: { type: 'string', default: '0.005', arg: 'X', help: 'entropy bonus' },
    'value-warmup': { type: 'string', default: '20', arg: 'N', help: 'critic-only PPO iterations first' },
    'eval-every': { type: 'string', default: '20', arg: 'N', help: 'PPO iterations between validations' },
    'session-s': { type: 'string', default: '120', arg: 'S', help: 'media per session, seconds' },
    'target-latency': { type: 'string', default: '3', arg: 'S', help: 'target latency, seconds' },
    sizes: { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: 'the chunk-size forecaster' },
    encodes: { type: 'string', default: 'bench/coding-meta', arg: 'DIR', help: 'our encodes (skipped when absent)' },
    'decide-after-parts': {
      type: 'string',
      default: '0',
      arg: 'K',
      help: 'decide each chunk after its first K LL-HLS parts are published (0: at the live edge)',
    },
    'part-model': {
      type: 'string',
      arg: 'DIR',
      help: 'part-size coefficients (models/part-size): forecasts corrected by the first parts on videos with part bytes (needs K >= 1)',
    },
    frames: { type: 'string', default: DEFAULT_FRAMES, arg: 'DIR', help: "the challenge's dataset/video_trace (part bytes)" },
    'part-share': { type: 'string', default: '0.5', arg: 'X', help: 'share of training sessions on videos with part bytes' },
    'privileged-critic': {
      type: 'boolean',
      help: "asymmetric actor-critic: the training-only critic also sees the next chunk's true size over the told one, per rung",
    },
    'encode-parts': {
      type: 'boolean',
      help: 'with --part-model: the train encodes of --encodes join the training videos with part bytes (validation unchanged)',
    },
    'dev-encode-parts': {
      type: 'boolean',
      help: 'with --part-model: the dev encodes of --encodes are validated with their part bytes and join the part score (session 11)',
    },
    select: { type: 'string', default: 'all', arg: 'WHICH', help: 'selection on all validation sessions or on the part-video ones (part)' },
    risk: {
      type: 'string',
      arg: 'SPEC',
      help: "risk-aware sizes in the state: qNN (the forecaster's NN % error quantile on the session) or xM (fixed factor)",
    },
    init: { type: 'string', arg: 'DIR', help: 'warm start from this actor (and its critic/ when present)' },
    'distill-rounds': {
      type: 'string',
      default: '0',
      arg: 'N',
      help: 'with --init: DAgger rounds of distilling the init actor given true sizes into the actor on predicted sizes, before PPO',
    },
    'distill-sessions': { type: 'string', default: '100', arg: 'N', help: 'training sessions played per distillation round' },
    'distill-epochs': { type: 'string', default: '3', arg: 'N', help: 'epochs per distillation round over the data so far' },
    'distill-lr': { type: 'string', default: '1e-4', arg: 'X', help: 'distillation learning rate (Adam)' },
    'distill-expert': {
      type: 'string',
      default: 'teacher',
      arg: 'E',
      help: 'the distillation expert: teacher (the init actor given true sizes) or oracle-hN (the receding-horizon offline oracle, Comyco-style)',
    },
    'distill-beam': { type: 'string', default: '2', arg: 'N', help: "with --distill-expert oracle-hN: the oracle's beam" },
    'tune-bb': { type: 'boolean', help: "print the live BB's reservoir / cushion grid on training sessions" },
    out: { type: 'string', default: 'models/live-abr-drl', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  await trainLiveAbr({
    seed: num('seed', v.seed, { integer: true }),
    iters: num('iters', v.iters, { integer: true, min: 0 }),
    distillRounds: num('distill-rounds', v['distill-rounds'], { integer: true, min: 0 }),
    distillSessions: num('distill-sessions', v['distill-sessions'], { integer: true, min: 1 }),
    distillEpochs: num('distill-epochs', v['distill-epochs'], { integer: true, min: 1 }),
    distillLr: num('distill-lr', v['distill-lr'], { min: 0 }),
    distillExpert: v['distill-expert'],
    distillBeam: num('distill-beam', v['distill-beam'], { integer: true, min: 1 }),
    bcSessions: num('bc-sessions', v['bc-sessions'], { integer: true, min: 0 }),
    bcEpochs: num('bc-epochs', v['bc-epochs'], { integer: true, min: 0 }),
    ppoLr: num('ppo-lr', v['ppo-lr'], { min: 0 }),
    rollout: num('rollout', v.rollout, { integer: true, min: 1 }),
    envs: num('envs', v.envs, { integer: true, min: 1 }),
    entropy: num('entropy', v.entropy, { min: 0 }),
    valueWarmup: num('value-warmup', v['value-warmup'], { integer: true, min: 0 }),
    evalEvery: num('eval-every', v['eval-every'], { integer: true, min: 1 }),
    sessionS: num('session-s', v['session-s'], { min: 10 }),
    targetLatencyS: num('target-latency', v['target-latency'], { min: 0.5 }),
    sizes: v.sizes,
    encodes: v.encodes,
    decideAfterParts: num('decide-after-parts', v['decide-after-parts'], { integer: true, min: 0 }),
    partModel: v['part-model'] ?? null,
    frames: v.frames,
    partShare: num('part-share', v['part-share'], { min: 0 }),
    encodeParts: v['encode-parts'],
    devEncodeParts: v['dev-encode-parts'],
    privilegedCritic: v['privileged-critic'],
    init: v.init ?? null,
    risk: v.risk ?? null,
    select: oneOf('select', v.select, ['all', 'part'] as const),
    tuneBb: v['tune-bb'],
    out: v.out,
    command: commandLine(cli.name),
  });
});
