/**
 * The DRL's selection benchmark on training data (`npm run bench:abr-dev`, entry in cli/abr-dev.ts): QoE_lin per chunk
 * (chunks 1..47, the Pensieve simulator in test semantics) of DRL models and ensembles on the sets a model may be chosen
 * on — the 127 Pensieve *training* traces and a fast synthetic dev set (`markov-fast` and `step-fast`, indexes
 * FROM..FROM+N−1, src/sim/abr/synth.ts; with FROM at or above a run's `--synthetic-mix` count PPO never played
 * them) — each with true and with predicted next sizes, beside robustMPC, and the pooled mean train:abr's
 * `--select training-synth` maximises. The test traces and the held-out families (walk-hi, markov-hi) are never read.
 * Writes bench/results/abr-dev.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TOTAL_CHUNKS, VIDEO_BIT_RATE_KBPS, type AbrPolicy } from '../src/core/abr.js';
import { RobustMpc } from '../src/abr/baselines.js';
import { DrlPolicy, FastActor, ensembleForward } from '../src/abr/drl.js';
import { RatioEwmaPredictor, WithPredictedSizes } from '../src/abr/chunk-size.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import { mean, runPolicy } from '../src/sim/abr/run.js';
import type { SimTrace } from '../src/sim/abr/env.js';
import { syntheticTrace, type SyntheticTrainFamily } from '../src/sim/abr/synth.js';
import { InputError } from '../src/train/errors.js';
import { dataRelative, repoRelative } from '../src/train/cli/args.js';

/** What `benchAbrDev` scores and where: models or ensembles, the fast dev traces, the data and the results file. */
export interface AbrDevOptions {
  /** models to score: a directory, or several joined by '+' (an ensemble, `ensembleForward`) */
  models: string[];
  /** first index of the fast dev traces of each family (default 30) */
  devFrom?: number;
  /** fast dev traces per family (default 15) */
  devCount?: number;
  /** the fast dev families (default markov-fast, step-fast) */
  devFamilies?: SyntheticTrainFamily[];
  /** Pensieve data directory with traces/train and video/ (default $EDGEPLAY_DATA/abr) */
  dataDir?: string;
  /** results file (default bench/results/abr-dev.json); null writes none */
  out?: string | null;
  command?: string;
  log?: (s: string) => void;
}

/** One policy's QoE_lin per chunk (chunks 1..47) on the selection sets, with true and with predicted next sizes. */
export interface AbrDevRow {
  policy: string;
  training: number;
  training_predicted: number;
  fast_dev: number;
  fast_dev_predicted: number;
  /** mean over the union of the training traces and the fast dev traces (true sizes) */
  pooled: number;
}

/** Runs the selection benchmark, prints its table and writes the results file. Throws InputError when data or a model is missing. */
export async function benchAbrDev(o: AbrDevOptions): Promise<{ command: string; rows: AbrDevRow[] }> {
  const log = o.log ?? ((s: string) => console.log(s));
  const abr = o.dataDir ?? join(dataRoot(), 'abr');
  const from = o.devFrom ?? 30;
  const count = o.devCount ?? 15;
  if (!(Number.isInteger(from) && from >= 0 && Number.isInteger(count) && count >= 1))
    throw new InputError(`dev traces: FROM >= 0 and N >= 1 (integers), got ${from}, ${count}`);
  const fams = o.devFamilies ?? ['markov-fast', 'step-fast'];
  const dev = fams.flatMap((f) => Array.from({ length: count }, (_, i) => syntheticTrace(f, from + i)));
  if (!o.models.length) throw new InputError('bench:abr-dev needs at least one model');
  for (const spec of o.models)
    if (spec.split('+').some((d) => !d.trim()))
      throw new InputError(`--models: "${spec}" has an empty member (A+B is the ensemble of two model directories)`);
  // every directory before any work (a missing one was found only after the baseline and the models before it ran)
  for (const dir of new Set(o.models.flatMap((spec) => spec.split('+'))))
    if (!existsSync(join(resolve(dir), 'model.json'))) throw new InputError(`--models: no DRL model in ${dir} (no model.json)`);
  let train: SimTrace[];
  let sizes: number[][];
  try {
    train = loadTraceDir(join(abr, 'traces', 'train'));
    sizes = loadVideoSizes(join(abr, 'video'));
  } catch {
    throw new InputError(`bench:abr-dev needs the Pensieve training traces and video sizes under ${abr} (set EDGEPLAY_DATA)`);
  }
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const { loadModel } = await import('../src/train/io.js');
  const C = TOTAL_CHUNKS - 1;
  const score = (p: AbrPolicy, tr: SimTrace[]) => mean(runPolicy(p, tr, sizes).map((r) => r.qoeSum)) / C;
  const predicted = (p: AbrPolicy) => new WithPredictedSizes(p, new RatioEwmaPredictor(VIDEO_BIT_RATE_KBPS));
  const row = (policy: string, make: () => AbrPolicy): AbrDevRow => {
    const training = score(make(), train);
    const fastDev = score(make(), dev);
    return {
      policy,
      training,
      training_predicted: score(predicted(make()), train),
      fast_dev: fastDev,
      fast_dev_predicted: score(predicted(make()), dev),
      pooled: (train.length * training + dev.length * fastDev) / (train.length + dev.length),
    };
  };
  const command = o.command ?? 'benchAbrDev (library call)';
  log(
    `${command}\ntraining: ${train.length} Pensieve training traces; fast dev: ${fams.join(', ')} ${from}..${from + count - 1} (${dev.length}); QoE_lin per chunk, chunks 1..${C}`,
  );
  log('policy                                              training  (pred)  fast dev  (pred)   pooled');
  const show = (r: AbrDevRow) =>
    log(
      `${r.policy.padEnd(50)}${r.training.toFixed(4).padStart(10)}${r.training_predicted.toFixed(4).padStart(8)}${r.fast_dev.toFixed(4).padStart(10)}${r.fast_dev_predicted.toFixed(4).padStart(8)}${r.pooled.toFixed(4).padStart(9)}`,
    );
  const rows: AbrDevRow[] = [row('robustmpc', () => new RobustMpc(sizes))];
  show(rows[0]);
  const actors = new Map<string, FastActor>();
  for (const spec of o.models) {
    const forwards: Array<(x: Float32Array) => ArrayLike<number>> = [];
    for (const dir of spec.split('+')) {
      const d = resolve(dir);
      if (!actors.has(d)) {
        try {
          actors.set(d, new FastActor(await loadModel(d)));
        } catch {
          throw new InputError(`no DRL model in ${dir}`);
        }
      }
      const a = actors.get(d)!;
      forwards.push((x: Float32Array) => a.forward(x));
    }
    const name = spec
      .split('+')
      .map((d) => repoRelative(resolve(d)))
      .join('+');
    // each policy gets its own ensemble (its output buffer is per forward)
    const r = row(name, () => new DrlPolicy(null as never, name, forwards.length === 1 ? forwards[0] : ensembleForward(forwards)));
    rows.push(r);
    show(r);
  }
  const outFile = o.out === undefined ? 'bench/results/abr-dev.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(
      outFile,
      JSON.stringify(
        { command, training_dir: dataRelative(join(abr, 'traces', 'train')), dev: { families: fams, from, count }, rows },
        null,
        2,
      ) + '\n',
    );
  }
  return { command, rows };
}
