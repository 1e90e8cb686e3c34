/** `npm run train:edge -- [options]` (--help lists them): the command line of trainEdge (../edge.ts). */
import { FEATURE_SETS, IN_F } from '../../assign/edge/drl.js';
import { commandLine, num, oneOf, optNum, runCli } from './args.js';
import { EDGE_SETTINGS, type EdgeSetting } from '../../assign/edge/model.js';
import { trainEdge } from '../edge.js';

const SETTINGS = Object.keys(EDGE_SETTINGS) as EdgeSetting[];

const cli = {
  name: 'train:edge',
  summary:
    'Trains the DRL viewer-assignment policy: imitation of online-heu, then PPO in the arrival/departure simulator on training\nseeds (1000+), selected on seeds 501-503. Writes OUT/<setting>.json (plain weights).',
  flags: {
    setting: { type: 'string', default: 'fat', arg: SETTINGS.join('|'), help: 'edge setting' },
    iters: { type: 'string', default: '150', arg: 'N', help: 'PPO iterations (one 1 h episode each)' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, sampling and shuffles' },
    lr: { type: 'string', default: '3e-4', arg: 'X', help: 'learning rate (imitation and PPO)' },
    out: { type: 'string', default: 'models/edge-drl', arg: 'DIR', help: 'output directory' },
    gamma: { type: 'string', default: '0.995', arg: 'X', help: 'discount per arrival; above 0.995 the episode end bootstraps' },
    init: { type: 'string', arg: 'FILE', help: "resume from a saved scorer (skips imitation; keeps the file's --hidden and --features)" },
    'reward-scale': { type: 'string', arg: 'X', help: "rewards' scale for the critic (default: (1 - gamma) / 0.005)" },
    'fresh-critic': { type: 'boolean', help: 'ignore the critic saved in --init' },
    'critic-warmup': { type: 'string', arg: 'N', help: 'PPO iterations that fit only the critic first (default: 20 with --init, else 0)' },
    hidden: { type: 'string', default: '32', arg: 'N', help: 'scorer and critic width' },
    features: {
      type: 'string',
      default: String(IN_F),
      arg: FEATURE_SETS.join('|'),
      help: "inputs per slot (20 adds each option's gain over the CDN)",
    },
    lambda: { type: 'string', default: '0.95', arg: 'X', help: 'GAE lambda' },
    entropy: { type: 'string', default: '0.01', arg: 'X', help: 'entropy bonus' },
  },
} as const;

await runCli(cli, async (v) => {
  await trainEdge({
    setting: oneOf('setting', v.setting, SETTINGS),
    iters: num('iters', v.iters, { integer: true, min: 0 }),
    seed: num('seed', v.seed, { integer: true }),
    lr: num('lr', v.lr, { min: 0 }),
    out: v.out,
    gamma: num('gamma', v.gamma, { min: 0 }),
    init: v.init,
    rewardScale: optNum('reward-scale', v['reward-scale']),
    freshCritic: v['fresh-critic'],
    criticWarmup: optNum('critic-warmup', v['critic-warmup'], { integer: true, min: 0 }),
    hidden: num('hidden', v.hidden, { integer: true, min: 1 }),
    features: Number(oneOf('features', v.features, FEATURE_SETS.map(String))),
    lambda: num('lambda', v.lambda, { min: 0 }),
    entropy: num('entropy', v.entropy),
    command: commandLine(cli.name),
  });
});
