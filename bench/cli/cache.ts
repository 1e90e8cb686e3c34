/** `npm run bench:cache -- [options]` (--help lists them): the command line of benchCache (../cache.ts). */
import { commandLine, oneOf, optNum, runCli } from '../../src/train/cli/args.js';
import { POLICY_NAMES } from '../../src/assign/cache/index.js';
import { InputError } from '../../src/train/errors.js';
import { benchCache } from '../cache.js';

const cli = {
  name: 'bench:cache',
  summary:
    'Edge cache policies and tuners (fixed, size-only, strategy-only, the learned agent, Belady) in the Twitch-driven\nsimulator on the held-out days 35-41; the fixed size and policy are selected on days 21-23 unless given.',
  flags: {
    agent: { type: 'string', default: 'models/cache-agent/agent.json', arg: 'FILE', help: "the agent's weights" },
    out: { type: 'string', default: 'bench/results/cache.json', arg: 'FILE', help: 'results file' },
    'size-gb': { type: 'string', arg: 'N', help: 'fixed size (with --policy: skip the selection)' },
    policy: { type: 'string', arg: POLICY_NAMES.join('|'), help: 'policy size-only keeps (with --size-gb: skip the selection)' },
    'select-only': { type: 'boolean', help: 'stop after the selection (writes cache-selection.json beside --out)' },
    frontier: { type: 'boolean', help: 'also run Belady and the selected policy at 4-128 GB: the offline ceiling against cost' },
  },
} as const;

await runCli(cli, (v) => {
  if ((v.policy === undefined) !== (v['size-gb'] === undefined)) throw new InputError('--policy and --size-gb go together');
  benchCache({
    agent: v.agent,
    out: v.out,
    sizeGb: optNum('size-gb', v['size-gb'], { min: 0 }),
    policy: v.policy === undefined ? undefined : oneOf('policy', v.policy, POLICY_NAMES),
    selectOnly: v['select-only'],
    frontier: v.frontier,
    command: commandLine(cli.name),
  });
});
