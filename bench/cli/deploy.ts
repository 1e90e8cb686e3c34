/** `npm run bench:deploy -- [options]` (--help lists them): the command line of benchDeploy (../deploy.ts). */
import { DEPLOY_MODELS } from '../../src/deploy/catalog.js';
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { benchDeploy } from '../deploy.js';

const BACKENDS = ['js', 'cpu', 'wasm', 'webgl'] as const;

const cli = {
  name: 'bench:deploy',
  summary:
    "The shipped models' deployment variants (model × data compression): accuracy relative to the full model on each\nmodel's dev benchmark (Node), bytes, latency per backend in Chromium — in the worker at throttle 1, on the page under\nDevTools CPU throttling; the selector's pick per device class. Writes bench/results/deploy.json and\nmodels/variants/profile.json.",
  flags: {
    models: { type: 'string', default: 'models', arg: 'DIR', help: 'the models directory (with variants/)' },
    only: { type: 'string', default: DEPLOY_MODELS.join(','), arg: 'LIST', help: 'the models to profile' },
    data: { type: 'string', arg: 'DIR', help: 'viewport data (default: $EDGEPLAY_DATA/viewport)' },
    backends: { type: 'string', default: BACKENDS.join(','), arg: 'LIST', help: 'backends to time (each where it loads)' },
    throttles: { type: 'string', default: '1,4,20', arg: 'LIST', help: "the page's DevTools CPU throttling rates" },
    calls: { type: 'string', default: '200', arg: 'N', help: 'timed calls per row at throttle 1' },
    budgets: { type: 'string', default: '1,5,20', arg: 'LIST', help: "the selector's p95 budgets per viewport call, ms" },
    floor: { type: 'string', default: '0.97', arg: 'X', help: "the selector's accuracy floor (relative to the full model)" },
    out: { type: 'string', default: 'bench/results/deploy.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchDeploy({
    modelsDir: v.models,
    models: listOf('only', v.only, DEPLOY_MODELS),
    data: v.data,
    backends: listOf('backends', v.backends, BACKENDS),
    throttles: v.throttles.split(',').map((x, i) => num(`throttles[${i}]`, x, { min: 1 })),
    calls: num('calls', v.calls, { integer: true, min: 10 }),
    budgetsMs: v.budgets.split(',').map((x, i) => num(`budgets[${i}]`, x, { min: 0 })),
    floor: num('floor', v.floor, { min: 0 }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
