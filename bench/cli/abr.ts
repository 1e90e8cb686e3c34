/** `npm run bench:abr -- [options]` (--help lists them): the command line of benchAbr (../abr.ts). */
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { ABR_POLICIES, benchAbr, SYNTHETIC_EVAL_FAMILIES, type SyntheticEvalFamily } from '../abr.js';
import { InputError } from '../../src/train/errors.js';

/** `FAMILY:N` → the synthetic option of benchAbr; InputError when malformed. */
function parseSynthetic(v: string | undefined): { family: SyntheticEvalFamily; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^([a-z-]+):(\d+)$/.exec(v);
  if (!m) throw new InputError(`--synthetic wants FAMILY:N (e.g. walk-hi:40), got "${v}"`);
  return { family: m[1] as SyntheticEvalFamily, count: Number(m[2]) };
}

const cli = {
  name: 'bench:abr',
  summary:
    'ABR policies over every trace of a directory in the Pensieve test environment: QoE_lin (chunks 1..47), its components\nand the share of the offline optimum. Writes bench/results/abr.json.',
  flags: {
    traces: { type: 'string', arg: 'DIR', help: 'trace directory (default: $EDGEPLAY_DATA/abr/traces/test)' },
    synthetic: {
      type: 'string',
      arg: 'FAMILY:N',
      help: `evaluate on N generated traces of a family training never draws (${SYNTHETIC_EVAL_FAMILIES.join(', ')}) instead of --traces`,
    },
    out: { type: 'string', default: 'bench/results/abr.json', arg: 'FILE', help: 'results file' },
    video: { type: 'string', arg: 'DIR', help: 'video size directory (default: $EDGEPLAY_DATA/abr/video)' },
    policies: { type: 'string', default: ABR_POLICIES.join(','), arg: 'LIST', help: 'policies' },
    model: { type: 'string', default: 'models/abr-drl', arg: 'DIR', help: 'the DRL model' },
    'size-model': {
      type: 'string',
      default: 'models/chunk-size',
      arg: 'DIR',
      help: 'the meta-learned chunk-size forecaster drl-meta predicts with (models/chunk-size/MODEL.md)',
    },
    'bucket-ms': { type: 'string', default: '100', arg: 'N', help: "the offline optimum's buffer bucket" },
    'no-refine': { type: 'boolean', help: "skip the optimum's check at half the bucket" },
  },
} as const;

await runCli(cli, async (v) => {
  await benchAbr({
    traces: v.traces,
    synthetic: parseSynthetic(v.synthetic),
    out: v.out,
    video: v.video,
    policies: listOf('policies', v.policies, ABR_POLICIES),
    model: v.model,
    sizeModel: v['size-model'],
    bucketMs: num('bucket-ms', v['bucket-ms'], { min: 1 }),
    noRefine: v['no-refine'],
    command: commandLine(cli.name),
  });
});
