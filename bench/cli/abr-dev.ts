/** `npm run bench:abr-dev -- [options]` (--help lists them): the command line of benchAbrDev (../abr-dev.ts). */
import { commandLine, num, runCli } from '../../src/train/cli/args.js';
import { benchAbrDev } from '../abr-dev.js';

const cli = {
  name: 'bench:abr-dev',
  summary:
    'DRL models and ensembles on the data a model may be chosen on: the Pensieve training traces and a fast synthetic dev set\n(markov-fast, step-fast), true and predicted sizes, beside robustMPC. Writes bench/results/abr-dev.json.',
  flags: {
    models: {
      type: 'string',
      default: 'models/abr-drl',
      arg: 'LIST',
      help: "comma-separated model directories; 'A+B' is an ensemble (mean log-probabilities)",
    },
    'dev-from': { type: 'string', default: '30', arg: 'N', help: 'first index of the fast dev traces of each family' },
    'dev-count': { type: 'string', default: '15', arg: 'N', help: 'fast dev traces per family' },
    out: { type: 'string', default: 'bench/results/abr-dev.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchAbrDev({
    models: v.models.split(',').filter((s) => s),
    devFrom: num('dev-from', v['dev-from'], { integer: true, min: 0 }),
    devCount: num('dev-count', v['dev-count'], { integer: true, min: 1 }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
