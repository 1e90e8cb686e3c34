/** `npm run bench:part-sizes -- [options]` (--help lists them): the command line of benchPartSizes (../part-sizes.ts). */
import { parseSizeRisk } from '../../src/abr/size-risk.js';
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { InputError } from '../../src/train/errors.js';
import { DEFAULT_FRAMES } from '../../src/train/part-size.js';
import { PART_BASELINES, benchPartSizes } from '../part-sizes.js';

const cli = {
  name: 'bench:part-sizes',
  summary:
    'Deciding one LL-HLS part later: h=1 chunk-size MAPE with the first k parts known (aitrans_live videos of the split, part bytes\nfrom the challenge frame traces) and the live simulator (DRL, a second DRL with --late-drl, the baselines) deciding at the edge or after the first part.\nWrites bench/results/part-sizes.json.',
  flags: {
    data: { type: 'string', arg: 'DIR', help: 'shared chunk dataset (default: $EDGEPLAY_DATA/chunks)' },
    frames: { type: 'string', default: DEFAULT_FRAMES, arg: 'DIR', help: "the challenge's dataset/video_trace" },
    split: {
      type: 'string',
      default: 'dev',
      arg: 'NAME',
      help: 'split of the chunk dataset (train or dev; test with --encodes and --no-live or --live-encodes: only our encodes have one)',
    },
    encodes: {
      type: 'string',
      arg: 'DIR',
      help: 'our encodes with part bytes (bench/coding-meta): their videos of the split join the MAPE part',
    },
    traces: { type: 'string', arg: 'DIR', help: 'throughput traces (default: $EDGEPLAY_DATA/abr/traces/test)' },
    model: { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: 'the base forecaster' },
    'part-model': { type: 'string', default: 'models/part-size', arg: 'DIR', help: 'the part-conditioned coefficients' },
    drl: { type: 'string', default: 'models/live-abr-drl', arg: 'DIR', help: 'the live DRL actor' },
    'late-drl': { type: 'string', arg: 'DIR', help: 'a second live DRL actor, rows drl-late (e.g. models/live-abr-drl-late)' },
    baselines: { type: 'string', default: PART_BASELINES.join(','), arg: 'LIST', help: 'baseline policies of the live part' },
    'decide-after': { type: 'string', default: '1', arg: 'LIST', help: 'late decision points: after K parts, e.g. 1,2 (1 must be in)' },
    risk: {
      type: 'string',
      default: '',
      arg: 'LIST',
      help: 'risk-aware sizes, e.g. q80,x1.1: rows predicted+head+SPEC (error quantile qNN or fixed factor xM; src/abr/size-risk.ts)',
    },
    'no-live': { type: 'boolean', help: 'MAPE only' },
    'live-encodes': {
      type: 'boolean',
      help: 'the live part plays the encodes of --encodes of the split instead of the aitrans_live streams (also with --split test)',
    },
    'no-mape': { type: 'boolean', help: 'live simulation only' },
    'session-s': { type: 'string', default: '120', arg: 'S', help: 'media seconds per live session' },
    out: { type: 'string', default: 'bench/results/part-sizes.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchPartSizes({
    data: v.data,
    frames: v.frames,
    split: v.split,
    encodes: v.encodes,
    traces: v.traces,
    model: v.model,
    partModel: v['part-model'],
    drl: v.drl,
    lateDrl: v['late-drl'],
    decideAfter: listOf('decide-after', v['decide-after']).map((k) => num('decide-after', k, { integer: true, min: 1 })),
    baselines: listOf('baselines', v.baselines, PART_BASELINES),
    risks: listOf('risk', v.risk).map((r) => {
      try {
        parseSizeRisk(r);
        return r;
      } catch (e) {
        throw new InputError(`--risk: ${(e as Error).message}`);
      }
    }),
    noLive: v['no-live'],
    liveEncodes: v['live-encodes'],
    noMape: v['no-mape'],
    sessionS: num('session-s', v['session-s'], { min: 2 }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
