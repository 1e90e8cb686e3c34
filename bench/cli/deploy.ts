/** `npm run bench:deploy -- [options]` (--help lists them): the command line of benchDeploy (../deploy.ts). */
import { DATA_VARIANTS, DEPLOY_MODELS } from '../../src/deploy/catalog.js';
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { benchDeploy, reselectDeploy } from '../deploy.js';

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
    warmup: { type: 'string', default: '30', arg: 'N', help: 'warm-up calls per row at throttle 1' },
    samples: { type: 'string', arg: 'N', help: 'samples per throttled row (default 30 at 4×, 20 at 20×)' },
    'data-variants': { type: 'string', arg: 'LIST', help: 'profile only these data variants (default all)' },
    budgets: { type: 'string', default: '1,5,20', arg: 'LIST', help: "the selector's p95 budgets per viewport call, ms" },
    floor: { type: 'string', default: '0.97', arg: 'X', help: "the selector's accuracy floor (relative to the task's best full model)" },
    out: { type: 'string', default: 'bench/results/deploy.json', arg: 'FILE', help: 'results file' },
    merge: {
      type: 'boolean',
      help: "with --only a subset: keep the other models' rows, dev scores and probes from the earlier run in --out (both files)",
    },
    reselect: {
      type: 'boolean',
      help: "measure nothing: the selector's picks again on the rows and dev scores in --out (rewrites its picks and profile.json)",
    },
  },
} as const;

await runCli(cli, async (v) => {
  if (v.reselect) {
    reselectDeploy({
      modelsDir: v.models,
      out: v.out,
      budgetsMs: v.budgets.split(',').map((x, i) => num(`budgets[${i}]`, x, { min: 0 })),
      floor: num('floor', v.floor, { min: 0 }),
      command: commandLine(cli.name),
    });
    return;
  }
  await benchDeploy({
    modelsDir: v.models,
    models: listOf('only', v.only, DEPLOY_MODELS),
    data: v.data,
    backends: listOf('backends', v.backends, BACKENDS),
    throttles: v.throttles.split(',').map((x, i) => num(`throttles[${i}]`, x, { min: 1 })),
    calls: num('calls', v.calls, { integer: true, min: 10 }),
    warmup: num('warmup', v.warmup, { integer: true, min: 0 }),
    samples: v.samples === undefined ? undefined : num('samples', v.samples, { integer: true, min: 3 }),
    dataVariants: v['data-variants'] === undefined ? undefined : listOf('data-variants', v['data-variants'], DATA_VARIANTS),
    budgetsMs: v.budgets.split(',').map((x, i) => num(`budgets[${i}]`, x, { min: 0 })),
    floor: num('floor', v.floor, { min: 0 }),
    out: v.out,
    merge: v.merge,
    command: commandLine(cli.name),
  });
});
