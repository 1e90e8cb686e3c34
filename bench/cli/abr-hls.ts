/** `npm run bench:abr-hls -- [options]` (--help lists them): the command line of benchAbrHls (../abr-hls.ts). */
import { commandLine, listOf, num, oneOf, runCli } from '../../src/train/cli/args.js';
import { DEFAULT_ABANDON } from '../../src/abr/abandon.js';
import { benchAbrHls } from '../abr-hls.js';

const cli = {
  name: 'bench:abr-hls',
  summary:
    'ABR policies (and DRL model variants side by side) in the hls.js-semantics simulator on our VOD stream: QoE_lin per chunk with\n95 % intervals over traces and the paired difference to robustMPC. Writes bench/results/abr-hls.json.',
  flags: {
    traces: { type: 'string', arg: 'DIR', help: 'trace directory (default: $EDGEPLAY_DATA/abr/traces/test)' },
    policies: {
      type: 'string',
      default: 'rb,bb,bola,robustmpc,drl',
      arg: 'LIST',
      help: 'bb, rb, bola, robustmpc, drl (models/abr-drl), drl:NAME (models/NAME, e.g. the candidate drl:abr-drl-player), drl:DIR (a path)',
    },
    chunks: { type: 'string', default: '30', arg: 'N', help: 'fragments per session (our stream has 48)' },
    refetch: {
      type: 'string',
      default: 'up',
      arg: 'up|measured|none',
      help: "which switches re-fetch the fragment just buffered: 'none' is monitor()'s player (createStreamController)",
    },
    abandon: { type: 'string', default: 'off', arg: 'off|default', help: "the controller's abandonment: 'default' is monitor()'s" },
    'size-predictor': {
      type: 'string',
      default: 'ratio',
      arg: 'ratio|meta',
      help: "the next-fragment sizes the policies see: the player's ratio EWMA, or the meta-learned forecaster (--size-model)",
    },
    'size-model': { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: "the forecaster 'meta' reads" },
    out: { type: 'string', default: 'bench/results/abr-hls.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchAbrHls({
    traces: v.traces,
    policies: listOf('policies', v.policies),
    chunks: num('chunks', v.chunks, { integer: true, min: 2 }),
    refetch: oneOf('refetch', v.refetch, ['up', 'measured', 'none']),
    abandonRule: oneOf('abandon', v.abandon, ['off', 'default']) === 'default' ? DEFAULT_ABANDON : null,
    sizePredictor: oneOf('size-predictor', v['size-predictor'], ['ratio', 'meta']),
    sizeModel: v['size-model'],
    out: v.out,
    command: commandLine(cli.name),
  });
});
