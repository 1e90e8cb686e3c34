/** `npm run train:cdn -- [options]` (--help lists them): the command line of trainCdn (../cdn.ts). */
import { commandLine, InputError, listOf, num, oneOf, runCli } from './args.js';
import { CDN_SIMS, trainCdn } from '../cdn.js';
import { cdnCombinations } from '../../sim/cdn/cdns.js';
import type { MechanisticRandomisation } from '../../sim/cdn/mechanistic.js';

const cli = {
  name: 'train:cdn',
  summary:
    'Trains the LTS multi-CDN share policy per CDN set in a CDN simulator: imitation of the greedy-tracking expert, then\nPPO (the shared src/train/ppo.ts) on training days, selected on dev days; Fast-LTS tree; baselines tuned on training\ndays. Writes OUT/<sim>-<set>.{json,bin} and OUT/baselines-<sim>.json.',
  flags: {
    sim: { type: 'string', default: 'mechanistic', arg: CDN_SIMS.join('|'), help: 'simulator trained in' },
    sets: { type: 'string', default: 'ABC,ABD,ACD,BCD', arg: 'LIST', help: 'CDN combinations' },
    iters: { type: 'string', default: '8', arg: 'N', help: 'PPO iterations after the critic warm-up' },
    'days-per-iter': { type: 'string', default: '3', arg: 'N', help: 'training days (episodes) per PPO iteration' },
    'imitation-days': { type: 'string', default: '15', arg: 'N', help: 'training days of the imitation warm start' },
    'imitation-epochs': { type: 'string', default: '5', arg: 'N', help: 'epochs of each imitation fit' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, days, sampling and shuffles' },
    out: { type: 'string', default: 'models/cdn-lts', arg: 'DIR', help: 'output directory' },
    'learned-dir': { type: 'string', default: 'models/cdn-sim', arg: 'DIR', help: "the learned simulator's models" },
    'lr-actor': { type: 'string', default: '1e-4', arg: 'X', help: 'Adam learning rate of the PPO update' },
    'lr-critic': { type: 'string', default: '1e-3', arg: 'X', help: 'Adam learning rate of the critic-only passes' },
    'ppo-epochs': { type: 'string', default: '2', arg: 'N', help: 'PPO epochs per iteration' },
    'critic-epochs': { type: 'string', default: '1', arg: 'N', help: 'critic-only epochs after each PPO update' },
    minibatch: { type: 'string', default: '256', arg: 'N', help: 'PPO minibatch' },
    entropy: { type: 'string', default: '0.005', arg: 'X', help: 'entropy bonus' },
    'target-kl': { type: 'string', default: '0.02', arg: 'X', help: 'KL target of the early stop' },
    'eval-every': { type: 'string', default: '4', arg: 'N', help: 'PPO iterations between dev evaluations' },
    stride: { type: 'string', default: '3', arg: 'N', help: 'imitation uses every N-th minute of a day' },
    init: { type: 'string', arg: 'FILE', help: 'start the actor from this model (<sim>-<set>.json) and skip the imitation' },
    dagger: {
      type: 'string',
      default: '0',
      arg: 'N',
      help: "DAgger rounds towards the greedy oracle over LTS's actions after the init/imitation, before PPO (0: none)",
    },
    'dagger-days': { type: 'string', default: '3', arg: 'N', help: 'training days rolled in per DAgger round' },
    'dagger-epochs': { type: 'string', default: '2', arg: 'N', help: 'epochs on the aggregate after each DAgger round' },
    'dagger-beta': { type: 'string', default: '0.5', arg: 'X', help: "the expert's share of the roll-in in round 1" },
    'dagger-decay': { type: 'string', default: '0.5', arg: 'X', help: 'β of round i = beta · decay^(i−1)' },
    'dagger-tau': { type: 'string', default: '0.05', arg: 'X', help: 'soft-label temperature (cost units; 0: uniform over the cheapest)' },
    'dagger-loss': {
      type: 'string',
      default: 'ce',
      arg: 'ce|ce+regret',
      help: "the DAgger fits' loss: cross-entropy to the soft labels, or that plus the expected next-step regret under the policy",
    },
    'dagger-average': {
      type: 'string',
      default: '0',
      arg: 'N',
      help: "also score the mean of the last N DAgger rounds' networks on dev (0: not tried)",
    },
    'lr-dagger': { type: 'string', default: '1e-4', arg: 'X', help: 'Adam learning rate of the DAgger fits' },
    'time-of-day': {
      type: 'string',
      arg: 'N',
      help: "time-of-day harmonics (sin/cos) the network reads beside the history (default: the init's, else 0, the paper's state)",
    },
    'no-tree': { type: 'boolean', help: 'skip Fast-LTS' },
    'tree-only': { type: 'boolean', help: "only distil Fast-LTS (DAgger) from each set's saved network into its manifest" },
    'tree-depths': { type: 'string', default: '8,10,12,14,16', arg: 'LIST', help: 'Fast-LTS depths tried (the dev-best is kept)' },
    'tree-rounds': { type: 'string', default: '4', arg: 'N', help: 'DAgger rounds of the Fast-LTS distillation' },
    'tree-days': { type: 'string', default: '8', arg: 'N', help: 'training days rolled out per distillation round' },
    'no-baselines': { type: 'boolean', help: "skip the baselines' tuning" },
    'tune-every': { type: 'string', default: '6', arg: 'N', help: 'the baselines are tuned on every N-th training day' },
    'only-baselines': { type: 'boolean', help: 'only tune the baselines' },
    'randomise-weights': {
      type: 'string',
      default: '0',
      arg: 'SIGMA',
      help: "mechanistic: the training days' viewer-class weights times exp(SIGMA·N(0,1)), renormalised, drawn anew each reset (0: none)",
    },
    'randomise-scale': {
      type: 'string',
      default: '1,1',
      arg: 'LO,HI',
      help: "mechanistic: the training days' throughput scale, log-uniform in [LO, HI] each reset (1,1: none)",
    },
  },
} as const;

/** a flag's value in [0, 1]; InputError otherwise */
function fraction(flag: string, value: string): number {
  const x = num(flag, value, { min: 0 });
  if (x > 1) throw new InputError(`--${flag}: must be at most 1, got "${value}"`);
  return x;
}

/** --randomise-weights and --randomise-scale as a randomisation, or undefined when both are off; InputError on bad values */
function randomisation(sigmaText: string, scaleText: string): MechanisticRandomisation | undefined {
  const weightsSigma = num('randomise-weights', sigmaText, { min: 0 });
  const parts = listOf('randomise-scale', scaleText);
  if (parts.length !== 2) throw new InputError(`--randomise-scale: expected LO,HI, got "${scaleText}"`);
  const [lo, hi] = parts.map((x) => num('randomise-scale', x, { min: 0 }));
  if (!(lo > 0) || hi < lo) throw new InputError(`--randomise-scale: expected 0 < LO ≤ HI, got "${scaleText}"`);
  return weightsSigma === 0 && lo === 1 && hi === 1 ? undefined : { weightsSigma, scale: [lo, hi] };
}

await runCli(cli, async (v) => {
  // the DAgger flags checked also without --dagger (a bad value was ignored and the training ran)
  const daggerRounds = num('dagger', v.dagger, { integer: true, min: 0 });
  const dagger = {
    rounds: daggerRounds,
    days: num('dagger-days', v['dagger-days'], { integer: true, min: 1 }),
    epochs: num('dagger-epochs', v['dagger-epochs'], { integer: true, min: 1 }),
    beta0: fraction('dagger-beta', v['dagger-beta']),
    betaDecay: fraction('dagger-decay', v['dagger-decay']),
    stride: num('stride', v.stride, { integer: true, min: 1 }),
    tau: num('dagger-tau', v['dagger-tau'], { min: 0 }),
    loss: oneOf('dagger-loss', v['dagger-loss'], ['ce', 'ce+regret'] as const),
    minibatch: num('minibatch', v.minibatch, { integer: true, min: 1 }),
    average: num('dagger-average', v['dagger-average'], { integer: true, min: 0 }),
  };
  await trainCdn({
    randomise: randomisation(v['randomise-weights'], v['randomise-scale']),
    sim: oneOf('sim', v.sim, CDN_SIMS),
    sets: listOf('sets', v.sets, cdnCombinations()),
    iters: num('iters', v.iters, { integer: true, min: 0 }),
    daysPerIter: num('days-per-iter', v['days-per-iter'], { integer: true, min: 1 }),
    imitationDays: num('imitation-days', v['imitation-days'], { integer: true, min: 1 }),
    imitationEpochs: num('imitation-epochs', v['imitation-epochs'], { integer: true, min: 0 }),
    seed: num('seed', v.seed, { integer: true }),
    out: v.out,
    learnedDir: v['learned-dir'],
    lrActor: num('lr-actor', v['lr-actor'], { min: 0 }),
    lrCritic: num('lr-critic', v['lr-critic'], { min: 0 }),
    ppoEpochs: num('ppo-epochs', v['ppo-epochs'], { integer: true, min: 1 }),
    criticEpochs: num('critic-epochs', v['critic-epochs'], { integer: true, min: 0 }),
    minibatch: num('minibatch', v.minibatch, { integer: true, min: 1 }),
    entropy: num('entropy', v.entropy),
    targetKl: num('target-kl', v['target-kl'], { min: 0 }),
    evalEvery: num('eval-every', v['eval-every'], { integer: true, min: 1 }),
    stride: num('stride', v.stride, { integer: true, min: 1 }),
    init: v.init,
    dagger: daggerRounds > 0 ? dagger : undefined,
    lrDagger: num('lr-dagger', v['lr-dagger'], { min: 0 }),
    timeOfDay: v['time-of-day'] === undefined ? undefined : num('time-of-day', v['time-of-day'], { integer: true, min: 0 }),
    tree: !v['no-tree'],
    treeOnly: !!v['tree-only'],
    tuneEvery: num('tune-every', v['tune-every'], { integer: true, min: 1 }),
    treeDepths: listOf('tree-depths', v['tree-depths']).map((d) => num('tree-depths', d, { integer: true, min: 1 })),
    treeRounds: num('tree-rounds', v['tree-rounds'], { integer: true, min: 0 }),
    treeDays: num('tree-days', v['tree-days'], { integer: true, min: 1 }),
    baselines: v['only-baselines'] ? 'only' : v['no-baselines'] ? 'no' : 'also',
    command: commandLine(cli.name),
  });
});
