/** `npm run bench:abr-guard -- [options]` (--help lists them): the command line of benchAbrGuard (../abr-guard.ts). */
import { commandLine, listOf, num, oneOf, runCli } from '../../src/train/cli/args.js';
import { benchAbrGuard } from '../abr-guard.js';
import { InputError } from '../../src/train/errors.js';

const cli = {
  name: 'bench:abr-guard',
  summary:
    "The DRL's stall guard over a grid (reserve × throughput factor), and with --abandon-gains the controller's abandonment\nrule over a grid (least gain × margin × first look), against the DRL as trained and hls.js' rate rule, in the player\nsimulator (stage E) on a trace split. Selection split: train. Writes bench/results/abr-guard.json.",
  flags: {
    split: { type: 'string', default: 'train', arg: 'train|test', help: 'trace split (select on train; test is reported only)' },
    reserves: { type: 'string', default: '2,3,4,5,6', arg: 'LIST', help: 'reserves to try, s' },
    factors: { type: 'string', default: '0.6,0.7,0.8,0.9,1', arg: 'LIST', help: 'throughput factors to try' },
    chunks: { type: 'string', default: '30', arg: 'N', help: 'fragments per run' },
    'no-guards': { type: 'boolean', help: 'skip the buffer-guard grid' },
    'abandon-gains': { type: 'string', arg: 'LIST', help: 'abandonment: least stall saved to abandon, s (runs the abandonment grid)' },
    'abandon-margins': { type: 'string', arg: 'LIST', help: 'abandonment: buffer kept to spare, s (default 1; with --abandon-gains)' },
    'abandon-loads': {
      type: 'string',
      arg: 'LIST',
      help: 'abandonment: loading time before the first look, s (default 1; with --abandon-gains)',
    },
    refetch: {
      type: 'string',
      default: 'measured',
      arg: 'measured|none',
      help: "hls.js' re-fetch after a switch (none: createStreamController)",
    },
    model: { type: 'string', default: 'models/abr-drl', arg: 'DIR', help: 'the DRL model' },
    out: {
      type: 'string',
      arg: 'FILE',
      help: 'results file (default bench/results/abr-guard.json for train, abr-guard-test.json for test)',
    },
  },
} as const;

await runCli(cli, async (v) => {
  if (!v['abandon-gains'] && (v['abandon-margins'] !== undefined || v['abandon-loads'] !== undefined))
    throw new InputError('--abandon-margins and --abandon-loads need --abandon-gains (the abandonment grid runs only with it)');
  await benchAbrGuard({
    split: listOf('split', v.split, ['train', 'test'] as const)[0],
    reserves: listOf('reserves', v.reserves).map((x) => num('reserves', x, { min: 0 })),
    factors: listOf('factors', v.factors).map((x) => {
      const f = num('factors', x);
      if (!(f > 0 && f <= 1)) throw new InputError(`--factors: each factor must be in (0, 1], got ${x}`);
      return f;
    }),
    chunks: num('chunks', v.chunks, { integer: true, min: 2 }),
    guards: !v['no-guards'],
    abandon: v['abandon-gains']
      ? {
          gains: listOf('abandon-gains', v['abandon-gains']).map((x) => num('abandon-gains', x, { min: 0.01 })),
          margins: listOf('abandon-margins', v['abandon-margins'] ?? '1').map((x) => num('abandon-margins', x, { min: 0 })),
          loads: listOf('abandon-loads', v['abandon-loads'] ?? '1').map((x) => num('abandon-loads', x, { min: 0 })),
        }
      : null,
    refetch: oneOf('refetch', v.refetch, ['measured', 'none'] as const),
    model: v.model,
    out: v.out,
    command: commandLine(cli.name),
  });
});
