/** `npm run bench:live-abr -- [options]` (--help lists them): the command line of benchLiveAbr (../live-abr.ts). */
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { LIVE_ORACLES, LIVE_POLICIES, LIVE_SIZES, benchLiveAbr } from '../live-abr.js';

const cli = {
  name: 'bench:live-abr',
  summary:
    'Low-latency live ABR in the live simulator (LL-HLS parts, target latency, catch-up by playback rate): every policy with true,\nmean-of-past, predicted and (hls.js, LoL+) declared sizes, one 120 s session per test trace x dev video; QoE of the dash.js LoL+\nevaluator per second of media. Writes bench/results/live-abr.json.',
  flags: {
    traces: { type: 'string', arg: 'DIR', help: 'trace directory (default: $EDGEPLAY_DATA/abr/traces/test)' },
    data: { type: 'string', arg: 'DIR', help: 'chunk dataset (default: $EDGEPLAY_DATA/chunks; bench/coding-meta for our encodes)' },
    split: { type: 'string', default: 'dev', arg: 'NAME', help: "videos' split" },
    policies: {
      type: 'string',
      default: LIVE_POLICIES.join(','),
      arg: 'LIST',
      help: `policies; optional ceilings (full knowledge of trace and sizes, true sizes only, never a baseline): ${LIVE_ORACLES.join(', ')}`,
    },
    'oracle-beam': { type: 'string', default: '8', arg: 'N', help: "states per rung and chunk of the 'oracle' beam search" },
    'oracle-horizon-beam': { type: 'string', default: '2', arg: 'N', help: "the same for the receding 'oracle-hN'" },
    sizes: { type: 'string', default: LIVE_SIZES.join(','), arg: 'LIST', help: 'size sources' },
    model: { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: 'the chunk-size forecaster' },
    drl: { type: 'string', default: 'models/live-abr-drl', arg: 'DIR', help: 'the DRL actor' },
    'target-latency': { type: 'string', default: '3', arg: 'S', help: 'target latency, seconds' },
    'session-s': { type: 'string', default: '120', arg: 'S', help: 'media per session, seconds' },
    out: { type: 'string', default: 'bench/results/live-abr.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchLiveAbr({
    traces: v.traces,
    data: v.data,
    split: v.split,
    policies: listOf('policies', v.policies, [...LIVE_POLICIES, ...LIVE_ORACLES]),
    oracleBeam: num('oracle-beam', v['oracle-beam'], { min: 1, integer: true }),
    oracleHorizonBeam: num('oracle-horizon-beam', v['oracle-horizon-beam'], { min: 1, integer: true }),
    sizes: listOf('sizes', v.sizes, LIVE_SIZES),
    model: v.model,
    drl: v.drl,
    targetLatencyS: num('target-latency', v['target-latency'], { min: 0.5 }),
    sessionS: num('session-s', v['session-s'], { min: 10 }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
