/** `npm run train:cache -- [options]` (--help lists them): the command line of trainCache (../cache.ts). */
import { commandLine, num, oneOf, runCli } from './args.js';
import { trainCache } from '../cache.js';

const cli = {
  name: 'train:cache',
  summary:
    'Trains the edge-cache agent (size step x replacement policy) with PPO in the Twitch-driven cache simulator: episodes\non days 0-19, checkpoints selected greedily on days 21-23. Writes OUT/agent.json (plain weights).',
  flags: {
    iters: { type: 'string', default: '40', arg: 'N', help: 'PPO iterations' },
    episodes: { type: 'string', default: '2', arg: 'N', help: 'episodes (one simulated day each) per iteration' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of initialisation, episodes, sampling and shuffles' },
    lr: { type: 'string', default: '3e-4', arg: 'X', help: 'learning rate (Adam)' },
    gamma: { type: 'string', default: '0.95', arg: 'X', help: 'discount per 10-minute decision' },
    lambda: { type: 'string', default: '0.9', arg: 'X', help: 'GAE lambda' },
    entropy: { type: 'string', default: '0.01', arg: 'X', help: 'entropy bonus' },
    reward: {
      type: 'string',
      default: 'bytes',
      arg: 'bytes|hits',
      help: 'interval reward: origin bill saved net of rent, or hit rate net of rent',
    },
    'rent-weight': { type: 'string', default: '1', arg: 'W', help: 'weight of the rent in the reward (below 1: buy hit rate with rent)' },
    hidden: { type: 'string', default: '32', arg: 'N', help: 'actor and critic width' },
    'eval-every': { type: 'string', default: '5', arg: 'N', help: 'iterations between validations' },
    'keep-bias': { type: 'string', default: '0', arg: 'X', help: 'initial actor bias towards "keep the size, LRU"' },
    'imitate-size-gb': {
      type: 'string',
      arg: 'N',
      help: 'imitation warm start: a rule walking the size to N GB (choose N on validation days)',
    },
    'imitate-policy': { type: 'string', default: 'lru', arg: 'P', help: "the imitated rule's replacement policy" },
    'imitate-episodes': { type: 'string', default: '8', arg: 'N', help: 'one-day episodes of the rule to imitate' },
    'imitate-epochs': { type: 'string', default: '20', arg: 'N', help: 'passes over the imitation data' },
    'imitate-rounds': { type: 'string', default: '3', arg: 'N', help: 'DAgger rounds after the first (the actor drives, the rule labels)' },
    out: { type: 'string', default: 'models/cache-agent', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  // the imitation flags checked also without --imitate-size-gb (a bad value was ignored and the training ran)
  const imitate = {
    policy: v['imitate-policy'],
    episodes: num('imitate-episodes', v['imitate-episodes'], { integer: true, min: 1 }),
    epochs: num('imitate-epochs', v['imitate-epochs'], { integer: true, min: 1 }),
    rounds: num('imitate-rounds', v['imitate-rounds'], { integer: true, min: 0 }),
  };
  await trainCache({
    iters: num('iters', v.iters, { integer: true, min: 0 }),
    episodes: num('episodes', v.episodes, { integer: true, min: 1 }),
    seed: num('seed', v.seed, { integer: true }),
    lr: num('lr', v.lr, { min: 0 }),
    gamma: num('gamma', v.gamma, { min: 0 }),
    lambda: num('lambda', v.lambda, { min: 0 }),
    entropy: num('entropy', v.entropy),
    reward: oneOf('reward', v.reward, ['bytes', 'hits'] as const),
    rentWeight: num('rent-weight', v['rent-weight'], { min: 0 }),
    hidden: num('hidden', v.hidden, { integer: true, min: 1 }),
    evalEvery: num('eval-every', v['eval-every'], { integer: true, min: 1 }),
    keepBias: num('keep-bias', v['keep-bias']),
    ...(v['imitate-size-gb'] !== undefined
      ? { imitate: { ...imitate, sizeGb: num('imitate-size-gb', v['imitate-size-gb'], { min: 0 }) } }
      : {}),
    out: v.out,
    command: commandLine(cli.name),
  });
});
