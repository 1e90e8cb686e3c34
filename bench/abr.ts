/**
 * `npm run bench:abr -- [--traces DIR] [--video DIR] [--policies LIST] [--bucket-ms N]`
 * Runs each policy over every trace of DIR in the Pensieve test environment and prints QoE_lin
 * (sum over chunks 1..47 per trace, averaged over traces; per-chunk = sum / 47), its components and the
 * share of the offline optimum. Writes bench/results/abr.json.
 * Defaults: the shared test traces and video sizes ($EDGEPLAY_DATA/abr).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TOTAL_CHUNKS, VIDEO_BIT_RATE_KBPS, type AbrPolicy } from '../src/core/abr.js';
import { Bola, BufferBased, RateBased, RobustMpc } from '../src/abr/baselines.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import { optimalForTrace } from '../src/sim/abr/optimal.js';
import { DrlPolicy } from '../src/abr/drl.js';
import { RatioEwmaPredictor, WithPredictedSizes } from '../src/abr/chunk-size.js';
import { mean, runPolicy, type TraceResult } from '../src/sim/abr/run.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const abr = join(dataRoot(), 'abr');
const tracesDir = resolve(arg('traces') ?? join(abr, 'traces', 'test'));
const videoDir = resolve(arg('video') ?? join(abr, 'video'));
if (!existsSync(tracesDir) || !existsSync(videoDir)) {
  console.error(`bench:abr needs traces (${tracesDir}) and video sizes (${videoDir}); set EDGEPLAY_DATA or pass --traces/--video`);
  process.exit(2);
}
const ALL = ['bb', 'rb', 'bola', 'robustmpc', 'drl', 'drl-predicted', 'optimal'];
const modelDir = resolve(arg('model') ?? 'models/abr-drl');
const policies = (arg('policies') ?? ALL.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const p of policies)
  if (!ALL.includes(p)) {
    console.error(`unknown policy "${p}"; known: ${ALL.join(', ')}`);
    process.exit(2);
  }
const bucketMs = Number(arg('bucket-ms') ?? 100);
const traces = loadTraceDir(tracesDir);
const sizes = loadVideoSizes(videoDir);
const chunks = TOTAL_CHUNKS - 1;

let drlModel: import('@tensorflow/tfjs').LayersModel | null = null;
let tfmod: typeof import('@tensorflow/tfjs') | null = null;
if (policies.includes('drl') || policies.includes('drl-predicted')) {
  if (!existsSync(join(modelDir, 'model.json'))) {
    console.error(`no trained model in ${modelDir}: run npm run train:abr (or drop drl from --policies)`);
    process.exit(2);
  }
  tfmod = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tfmod.setBackend('wasm');
  drlModel = await (await import('../src/train/io.js')).loadModel(modelDir);
}
const make = (name: string): AbrPolicy => {
  switch (name) {
    case 'drl':
      return new DrlPolicy(drlModel!);
    case 'drl-predicted':
      return new WithPredictedSizes(new DrlPolicy(drlModel!), new RatioEwmaPredictor(VIDEO_BIT_RATE_KBPS), 'drl-predicted');
    case 'bb':
      return new BufferBased();
    case 'rb':
      return new RateBased();
    case 'bola':
      return new Bola();
    case 'robustmpc':
      return new RobustMpc(sizes);
    default:
      throw new Error(name);
  }
};

interface Row {
  policy: string;
  traces: number;
  qoe_sum_mean: number;
  qoe_chunk_mean: number;
  bitrate_mean: number;
  rebuffer_mean: number;
  smooth_mean: number;
  pct_of_optimal: number | null;
  seconds: number;
}
const rows: Row[] = [];
let optimalMean: number | null = null;
const extra: Record<string, unknown> = {};

const order = [...policies.filter((p) => p === 'optimal'), ...policies.filter((p) => p !== 'optimal')];
for (const name of order) {
  const t0 = Date.now();
  let results: Array<Pick<TraceResult, 'qoeSum' | 'bitrateSum' | 'rebufSum' | 'smoothSum'>>;
  if (name === 'optimal') {
    results = traces.map((t, i) => {
      if (i % 20 === 0) process.stderr.write(`\roptimal: trace ${i + 1}/${traces.length}`);
      const o = optimalForTrace(t, sizes, { bucketMs });
      const r = runPolicy({ name: 'replay', decide: (obs) => o.qualities[obs.nextIndex] ?? 0 }, [t], sizes)[0];
      if (Math.abs(r.qoeSum - o.qoeSum) > 1e-6) throw new Error(`optimal replay mismatch on ${t.name}`);
      return r;
    });
    process.stderr.write('\n');
    optimalMean = mean(results.map((r) => r.qoeSum));
    // refinement check: halve the bucket
    if (!process.argv.includes('--no-refine')) {
      const fine = mean(traces.map((t) => optimalForTrace(t, sizes, { bucketMs: bucketMs / 2 }).qoeSum));
      extra.optimal_refinement = {
        bucket_ms: bucketMs,
        qoe_sum_mean: optimalMean,
        finer_bucket_ms: bucketMs / 2,
        finer_qoe_sum_mean: fine,
        relative_change: (fine - optimalMean) / Math.abs(optimalMean),
      };
    }
  } else {
    results = runPolicy(make(name), traces, sizes);
  }
  const q = mean(results.map((r) => r.qoeSum));
  rows.push({
    policy: name,
    traces: traces.length,
    qoe_sum_mean: q,
    qoe_chunk_mean: q / chunks,
    bitrate_mean: mean(results.map((r) => r.bitrateSum)) / chunks,
    rebuffer_mean: mean(results.map((r) => r.rebufSum)) / chunks,
    smooth_mean: mean(results.map((r) => r.smoothSum)) / chunks,
    pct_of_optimal: null,
    seconds: (Date.now() - t0) / 1000,
  });
}
for (const r of rows) r.pct_of_optimal = optimalMean ? (100 * r.qoe_sum_mean) / optimalMean : null;
const shown = [...rows].sort((a, b) => policies.indexOf(a.policy) - policies.indexOf(b.policy));
const command = `npm run bench:abr -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(
  `${command}\ntraces: ${tracesDir} (${traces.length}), video: ${videoDir}; QoE_lin, chunks 1..${chunks}; per-chunk means of bitrate (Mbps), rebuffer penalty (4.3 x s), smoothness penalty`,
);
console.log('policy        qoe_sum  qoe/chunk  bitrate  rebuffer  smooth  %optimal   time');
for (const r of shown) {
  console.log(
    `${r.policy.padEnd(12)}${r.qoe_sum_mean.toFixed(4).padStart(9)}${r.qoe_chunk_mean.toFixed(4).padStart(11)}${r.bitrate_mean.toFixed(3).padStart(9)}${r.rebuffer_mean.toFixed(3).padStart(10)}${r.smooth_mean.toFixed(3).padStart(8)}${(r.pct_of_optimal === null ? '-' : r.pct_of_optimal.toFixed(1)).padStart(10)}${r.seconds.toFixed(1).padStart(7)}s`,
  );
}
if (extra.optimal_refinement) {
  const o = extra.optimal_refinement as { bucket_ms: number; finer_bucket_ms: number; relative_change: number };
  console.log(
    `optimal: buffer bucket ${o.bucket_ms} ms -> ${o.finer_bucket_ms} ms changes the mean by ${(100 * o.relative_change).toFixed(3)} %`,
  );
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/abr.json',
  JSON.stringify({ command, traces_dir: tracesDir, video_dir: videoDir, rows: shown, ...extra }, null, 2) + '\n',
);
