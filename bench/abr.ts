/**
 * The ABR benchmark (`npm run bench:abr`, entry in cli/abr.ts): runs each policy over every trace of a
 * directory in the Pensieve test environment and prints QoE_lin (sum over chunks 1..47 per trace, averaged
 * over traces; per-chunk = sum / 47), its components and the share of the offline optimum. Writes
 * bench/results/abr.json. Defaults: the shared test traces and video sizes ($EDGEPLAY_DATA/abr).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { CHUNK_S, TOTAL_CHUNKS, VIDEO_BIT_RATE_KBPS, type AbrPolicy } from '../src/core/abr.js';
import { Bola, BufferBased, RateBased, RobustMpc } from '../src/abr/baselines.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import { optimalForTrace } from '../src/sim/abr/optimal.js';
import { DrlPolicy } from '../src/abr/drl.js';
import { RatioEwmaPredictor, WithPredictedSizes } from '../src/abr/chunk-size.js';
import { ForecasterSizes } from '../src/abr/size-forecast.js';
import { LearnedSizeForecaster } from '../src/abr/size-model.js';
import { loadSizeNet } from '../src/sim/abr/chunks.js';
import { mean, runPolicy, type TraceResult } from '../src/sim/abr/run.js';
import { InputError } from '../src/train/errors.js';
import { dataRelative } from '../src/train/cli/args.js';
import { syntheticTrace } from '../src/sim/abr/synth.js';
import { meanCi } from './stats.js';

/** The policies bench:abr knows, in its default order. */
export const ABR_POLICIES = ['bb', 'rb', 'bola', 'robustmpc', 'drl', 'drl-predicted', 'drl-meta', 'optimal'] as const;
export type AbrBenchPolicy = (typeof ABR_POLICIES)[number];

export interface AbrBenchOptions {
  /** trace directory (default $EDGEPLAY_DATA/abr/traces/test) */
  traces?: string;
  /**
   * evaluate on generated traces instead of a directory: `family:count` of src/sim/abr/synth.ts, the
   * families training never draws (`walk-hi`, `markov-hi`; indexes 0..count-1). Overrides `traces`.
   */
  synthetic?: { family: SyntheticEvalFamily; count: number };
  /** video size directory (default $EDGEPLAY_DATA/abr/video) */
  video?: string;
  /** policies to run (default all of ABR_POLICIES) */
  policies?: AbrBenchPolicy[];
  /** the DRL model directory (default models/abr-drl) */
  model?: string;
  /** the meta-learned chunk-size forecaster `drl-meta` predicts with (default models/chunk-size, size-model.ts) */
  sizeModel?: string;
  /** buffer bucket of the offline optimum, ms (default 100) */
  bucketMs?: number;
  /** skip the optimum's refinement check (the same DP at half the bucket) */
  noRefine?: boolean;
  /** results file (default bench/results/abr.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results and printed above the table */
  command?: string;
  log?: (s: string) => void;
}

/** The synthetic families bench:abr may evaluate on (never used by training). */
export const SYNTHETIC_EVAL_FAMILIES = ['walk-hi', 'markov-hi'] as const;
export type SyntheticEvalFamily = (typeof SYNTHETIC_EVAL_FAMILIES)[number];

/** Paired difference of two policies' per-trace QoE_lin per chunk with its 95 % t-interval (same traces). */
export interface AbrPairedDiff {
  policy: string;
  baseline: string;
  diff_chunk_mean: number;
  ci_low: number;
  ci_high: number;
  traces: number;
}

/** A predicted-size DRL's mean QoE_lin per chunk against the same DRL on the true sizes, % (issue 15: within 2 %). */
export interface AbrSizeGap {
  policy: string;
  vs: 'drl';
  pct: number;
}

export interface AbrBenchRow {
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

export interface AbrBenchResult {
  command: string;
  traces_dir: string;
  video_dir: string;
  rows: AbrBenchRow[];
  /** every DRL row against robustmpc when both ran, paired by trace */
  paired?: AbrPairedDiff[];
  /** drl-predicted and drl-meta against drl, when they ran beside it */
  size_gap?: AbrSizeGap[];
  optimal_refinement?: {
    bucket_ms: number;
    qoe_sum_mean: number;
    finer_bucket_ms: number;
    finer_qoe_sum_mean: number;
    relative_change: number;
  };
}

/** Runs the benchmark, prints its table and writes the results file. Throws InputError when data or the model is missing. */
export async function benchAbr(o: AbrBenchOptions = {}): Promise<AbrBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const abr = join(dataRoot(), 'abr');
  const synth = o.synthetic;
  if (synth && (!(SYNTHETIC_EVAL_FAMILIES as readonly string[]).includes(synth.family) || !(synth.count >= 1)))
    throw new InputError(`--synthetic wants FAMILY:COUNT with FAMILY one of ${SYNTHETIC_EVAL_FAMILIES.join(', ')} and COUNT >= 1`);
  const tracesDir = synth ? `synthetic ${synth.family} 0..${synth.count - 1}` : resolve(o.traces ?? join(abr, 'traces', 'test'));
  const videoDir = resolve(o.video ?? join(abr, 'video'));
  if ((!synth && !existsSync(tracesDir)) || !existsSync(videoDir))
    throw new InputError(`bench:abr needs traces (${tracesDir}) and video sizes (${videoDir}); set EDGEPLAY_DATA or pass --traces/--video`);
  const modelDir = resolve(o.model ?? 'models/abr-drl');
  const policies: string[] = o.policies ?? [...ABR_POLICIES];
  for (const p of policies)
    if (!(ABR_POLICIES as readonly string[]).includes(p)) throw new InputError(`unknown policy "${p}"; known: ${ABR_POLICIES.join(', ')}`);
  const bucketMs = o.bucketMs ?? 100;
  const traces = synth ? Array.from({ length: synth.count }, (_, i) => syntheticTrace(synth.family, i)) : loadTraceDir(tracesDir);
  const sizes = loadVideoSizes(videoDir);
  const chunks = TOTAL_CHUNKS - 1;

  let drlModel: TF.LayersModel | null = null;
  if (policies.includes('drl') || policies.includes('drl-predicted') || policies.includes('drl-meta')) {
    if (!existsSync(join(modelDir, 'model.json')))
      throw new InputError(`no trained model in ${modelDir}: run npm run train:abr (or drop drl from --policies)`);
    const tfmod = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    await tfmod.setBackend('wasm');
    drlModel = await (await import('../src/train/io.js')).loadModel(modelDir);
  }
  let sizeNet: ReturnType<typeof loadSizeNet> | null = null;
  if (policies.includes('drl-meta')) {
    try {
      sizeNet = loadSizeNet(resolve(o.sizeModel ?? 'models/chunk-size'));
    } catch (e) {
      throw new InputError(`drl-meta needs the chunk-size forecaster: ${(e as Error).message}`);
    }
  }
  const make = (name: string): AbrPolicy => {
    switch (name) {
      case 'drl':
        return new DrlPolicy(drlModel!);
      case 'drl-predicted':
        return new WithPredictedSizes(new DrlPolicy(drlModel!), new RatioEwmaPredictor(VIDEO_BIT_RATE_KBPS), 'drl-predicted');
      case 'drl-meta':
        return new WithPredictedSizes(
          new DrlPolicy(drlModel!),
          new ForecasterSizes(new LearnedSizeForecaster(sizeNet!), VIDEO_BIT_RATE_KBPS, CHUNK_S),
          'drl-meta',
        );
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

  const rows: AbrBenchRow[] = [];
  const perTrace = new Map<string, number[]>();
  let optimalMean: number | null = null;
  const extra: Pick<AbrBenchResult, 'optimal_refinement'> = {};

  const order = [...policies.filter((p) => p === 'optimal'), ...policies.filter((p) => p !== 'optimal')];
  for (const name of order) {
    const t0 = Date.now();
    let results: Array<Pick<TraceResult, 'qoeSum' | 'bitrateSum' | 'rebufSum' | 'smoothSum'>>;
    if (name === 'optimal') {
      results = traces.map((t, i) => {
        if (i % 20 === 0) process.stderr.write(`\roptimal: trace ${i + 1}/${traces.length}`);
        const opt = optimalForTrace(t, sizes, { bucketMs });
        const r = runPolicy({ name: 'replay', decide: (obs) => opt.qualities[obs.nextIndex] ?? 0 }, [t], sizes)[0];
        if (Math.abs(r.qoeSum - opt.qoeSum) > 1e-6) throw new Error(`optimal replay mismatch on ${t.name}`);
        return r;
      });
      process.stderr.write('\n');
      optimalMean = mean(results.map((r) => r.qoeSum));
      // refinement check: halve the bucket
      if (!o.noRefine) {
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
    perTrace.set(
      name,
      results.map((r) => r.qoeSum / chunks),
    );
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
  const command = o.command ?? 'benchAbr (library call)';
  log(
    `${command}\ntraces: ${tracesDir} (${traces.length}), video: ${videoDir}; QoE_lin, chunks 1..${chunks}; per-chunk means of bitrate (Mbps), rebuffer penalty (4.3 x s), smoothness penalty`,
  );
  log('policy          qoe_sum  qoe/chunk  bitrate  rebuffer  smooth  %optimal   time');
  for (const r of shown) {
    log(
      `${r.policy.padEnd(14)}${r.qoe_sum_mean.toFixed(4).padStart(9)}${r.qoe_chunk_mean.toFixed(4).padStart(11)}${r.bitrate_mean.toFixed(3).padStart(9)}${r.rebuffer_mean.toFixed(3).padStart(10)}${r.smooth_mean.toFixed(3).padStart(8)}${(r.pct_of_optimal === null ? '-' : r.pct_of_optimal.toFixed(1)).padStart(10)}${r.seconds.toFixed(1).padStart(7)}s`,
    );
  }
  if (extra.optimal_refinement) {
    const ref = extra.optimal_refinement;
    log(
      `optimal: buffer bucket ${ref.bucket_ms} ms -> ${ref.finer_bucket_ms} ms changes the mean by ${(100 * ref.relative_change).toFixed(3)} %`,
    );
  }
  const paired: AbrPairedDiff[] = [];
  const base = perTrace.get('robustmpc');
  for (const name of ['drl', 'drl-predicted', 'drl-meta']) {
    const q = perTrace.get(name);
    if (!base || !q || q.length < 2) continue;
    const ci = meanCi(q.map((x, i) => x - base[i]));
    paired.push({ policy: name, baseline: 'robustmpc', diff_chunk_mean: ci.mean, ci_low: ci.low, ci_high: ci.high, traces: q.length });
    log(`${name} - robustmpc, per chunk, paired by trace: ${ci.mean.toFixed(4)} [95 % CI ${ci.low.toFixed(4)}, ${ci.high.toFixed(4)}]`);
  }
  // issue 15's yardstick for the sizes: each predicted-size DRL against the same DRL on the true sizes
  const trueMean = shown.find((r) => r.policy === 'drl')?.qoe_chunk_mean;
  const sizeGap: AbrSizeGap[] = [];
  for (const r of shown)
    if ((r.policy === 'drl-predicted' || r.policy === 'drl-meta') && trueMean !== undefined) {
      const pct = 100 * (r.qoe_chunk_mean / trueMean - 1);
      sizeGap.push({ policy: r.policy, vs: 'drl', pct });
      log(`${r.policy} vs drl (true sizes): ${pct >= 0 ? '+' : ''}${pct.toFixed(2)} %`);
    }
  const result: AbrBenchResult = {
    command,
    // $EDGEPLAY_DATA-relative: records hold no machine's absolute path
    traces_dir: synth ? tracesDir : dataRelative(tracesDir),
    video_dir: dataRelative(videoDir),
    rows: shown,
    ...(paired.length ? { paired } : {}),
    ...(sizeGap.length ? { size_gap: sizeGap } : {}),
    ...extra,
  };
  const outFile = o.out === undefined ? 'bench/results/abr.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}
