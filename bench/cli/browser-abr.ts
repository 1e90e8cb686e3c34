/** `npm run bench:browser-abr -- [options]` (--help lists them): the command line of benchBrowserAbr (../browser-abr.ts). */
import { commandLine, listOf, num, oneOf, runCli } from '../../src/train/cli/args.js';
import { benchBrowserAbr } from '../browser-abr.js';

const cli = {
  name: 'bench:browser-abr',
  summary:
    "Our VOD ladder played in headless Chromium through trace-shaped sessions with hls.js' default ABR and edgeplay's policies on\nevery trace: QoE_lin from real playback with 95 % intervals over traces, paired differences to hls.js and robustMPC,\nstalls, switches, decision latency. Resumable (rerun the same command to continue). Needs npm run build.\nWrites bench/results/browser-abr.json as it goes.",
  flags: {
    traces: {
      type: 'string',
      arg: 'LIST',
      help: 'throughput traces (default: two per family of the Pensieve test set, at the 1/3 and 2/3 ranks of mean throughput, plus synth_walk-hi_0 and synth_markov-hi_0)',
    },
    policies: {
      type: 'string',
      default: 'hls,robustmpc,bola,drl',
      arg: 'LIST',
      help: 'policies (hls = hls.js default ABR; also bb, and drl:NAME = the DRL with models/NAME)',
    },
    limit: { type: 'string', default: '30', arg: 'N', help: 'VOD segments per run (4 s each)' },
    repeats: { type: 'string', default: '1', arg: 'N', help: 'runs per trace and policy' },
    parallel: { type: 'string', default: '1', arg: 'N', help: 'Chromium sessions at a time' },
    model: { type: 'string', default: '/models/abr-drl/model.json', arg: 'PATH', help: 'the DRL model as the page loads it' },
    answer: {
      type: 'string',
      default: 'slot',
      arg: 'slot|message',
      help: 'DRL answers read from a SharedArrayBuffer slot (cross-origin isolated page) or over messages',
    },
    transmux: { type: 'string', default: 'worker', arg: 'worker|inline', help: 'hls.js transmuxing in its worker or inline' },
    out: { type: 'string', default: 'bench/results/browser-abr.json', arg: 'FILE', help: 'results file (resumed from when it matches)' },
    fresh: { type: 'boolean', help: 'ignore the runs already in the results file' },
    'max-lag': {
      type: 'string',
      default: '0.03',
      arg: 'F',
      help: 'reject (and run again) a run whose playback fell behind the wall clock by more than this share of its time, unreported as a stall (a starved Chromium plays slowly)',
    },
  },
} as const;

await runCli(cli, async (v) => {
  await benchBrowserAbr({
    traces: v.traces ? listOf('traces', v.traces) : undefined,
    policies: listOf('policies', v.policies),
    limit: num('limit', v.limit, { integer: true, min: 2 }),
    repeats: num('repeats', v.repeats, { integer: true, min: 1 }),
    parallel: num('parallel', v.parallel, { integer: true, min: 1 }),
    model: v.model,
    answer: oneOf('answer', v.answer, ['slot', 'message']),
    transmux: oneOf('transmux', v.transmux, ['worker', 'inline']),
    out: v.out,
    fresh: v.fresh,
    maxLag: num('max-lag', v['max-lag'], { min: 0.001 }),
    command: commandLine(cli.name),
  });
});
