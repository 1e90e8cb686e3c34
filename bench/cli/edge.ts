/** `npm run bench:edge -- [options]` (--help lists them): the command line of benchEdge (../edge.ts). */
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { EDGE_SETTINGS, type EdgeSetting } from '../../src/assign/edge/model.js';

const SETTINGS = Object.keys(EDGE_SETTINGS) as EdgeSetting[];
import { benchEdge } from '../edge.js';

const cli = {
  name: 'bench:edge',
  summary:
    'Assignment policies (cloud-cdn, online-heu, cost-only, drl) in the viewer arrival/departure simulator; prints the table\nand writes the results file (rows per setting and policy, the CDF of the overall penalty for mid).',
  flags: {
    settings: { type: 'string', default: 'fat,mid,thin', arg: 'LIST', help: 'edge settings' },
    seeds: { type: 'string', default: '3', arg: 'N', help: 'seeds per setting (2 h of arrivals each)' },
    'first-seed': { type: 'string', default: '1', arg: 'N', help: 'first seed (training never sees 1-3 nor 601+)' },
    'drl-dir': { type: 'string', default: 'models/edge-drl', arg: 'DIR', help: 'directory of the DRL weights <setting>.json' },
    out: { type: 'string', default: 'bench/results/edge.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, (v) => {
  benchEdge({
    settings: listOf('settings', v.settings, SETTINGS),
    seeds: num('seeds', v.seeds, { integer: true, min: 1 }),
    firstSeed: num('first-seed', v['first-seed'], { integer: true }),
    drlDir: v['drl-dir'],
    out: v.out,
    command: commandLine(cli.name),
  });
});
