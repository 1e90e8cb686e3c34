/**
 * The ABR policy's and the preference profiler's variants on their dev benchmarks, for `npm run bench:deploy`
 * (bench/deploy.ts): each variant (model × data variant, loaded by the worker's own loader, plain-JS forward pass)
 * against the model's full version on the same held-out data the trainers keep out of fitting and distillation.
 *   ABR      abr-drl-player (monitor()'s DRL, the ABR task's model): its own dev selection benchmark (`train:abr
 *            --select dev-hls`, models/abr-drl-player/MODEL.md) — the hls.js-semantics simulator with the player's
 *            semantics (no re-fetch after a switch, `DEFAULT_ABANDON`; src/sim/abr/hls-vod.ts), 30 fragments of our VOD
 *            stream's sizes (.cache/streams/vod), on the held-out split of the Pensieve training traces plus the 20
 *            synthetic markov-train traces 80–99 its training never drew: mean QoE_lin per chunk.
 *            abr-drl (the Pensieve-simulator DRL): the held-out split (every 7th by sorted name, from the 4th:
 *            `i % 7 === 3`, as train:abr and train:variants hold it out) in the Pensieve simulator
 *            (src/sim/abr/run.ts): mean QoE_lin per chunk (chunks 1..47).
 *            rel_accuracy = the variant's QoE over the full policy's (higher is better)
 *   profile  the validation eighth of the simulated population's training period (as train:profile and
 *            train:variants hold it out): the MAE of I, D and N each over its training mean (norm.yScale), averaged
 *            over the three (train:profile's yardstick); rel_accuracy = the full model's over the variant's
 * Never the test splits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ABANDON } from '../src/abr/abandon.js';
import { TOTAL_CHUNKS, type AbrObservation, type AbrPolicy } from '../src/core/abr.js';
import type { DeployModel } from '../src/deploy/catalog.js';
import { REQUEST_FEATURES } from '../src/profile/features.js';
import type { ProfileNorm } from '../src/profile/model.js';
import { dataRoot, heldOutSplit, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import { runHlsVod } from '../src/sim/abr/hls-vod.js';
import { mean, runPolicy } from '../src/sim/abr/run.js';
import { syntheticTrace } from '../src/sim/abr/synth.js';
import { simulatePopulation } from '../src/sim/viewers/population.js';
import { buildRequests, splitByTime } from '../src/sim/viewers/requests.js';
import { InputError } from '../src/train/errors.js';
import type { LoadedVariant } from '../src/worker/variants.js';
import type { AccuracyRow } from './deploy.js';

type Load = (model: DeployModel, variant: string) => Promise<LoadedVariant>;

/**
 * ABR variants' QoE on their model's dev benchmark (see the file's comment): abr-drl-player in the player simulator
 * (held-out split + markov-train 80–99, 30 fragments of `hlsSizesDir`), abr-drl in the Pensieve simulator (held-out
 * split). @throws InputError without $EDGEPLAY_DATA/abr (traces/train, video), or for abr-drl-player without
 * `hlsSizesDir`/video_size_0
 */
export async function accuracyAbr(
  ids: string[],
  load: Load,
  abrDir = join(dataRoot(), 'abr'),
  model: 'abr-drl' | 'abr-drl-player' = 'abr-drl',
  hlsSizesDir = '.cache/streams/vod',
): Promise<AccuracyRow[]> {
  if (!existsSync(join(abrDir, 'traces', 'train'))) throw new InputError(`ABR training traces not found under ${abrDir}/traces/train`);
  const held = heldOutSplit(loadTraceDir(join(abrDir, 'traces', 'train'))).dev;
  let score: (p: AbrPolicy) => number;
  let metric: string;
  if (model === 'abr-drl-player') {
    if (!existsSync(join(hlsSizesDir, 'video_size_0')))
      throw new InputError(
        `abr-drl-player's dev benchmark needs the VOD stream's segment sizes: ${hlsSizesDir}/video_size_0 (npm run streams)`,
      );
    const hlsSizes = loadVideoSizes(hlsSizesDir);
    // train:abr's dev-hls selection set: the held-out split and the synthetic traces after its 80 training ones
    const dev = [...held, ...Array.from({ length: 20 }, (_, i) => syntheticTrace('markov-train', 80 + i))];
    score = (p) =>
      mean(dev.map((t) => runHlsVod(p, t, { sizes: hlsSizes, chunks: 30, refetch: 'none', abandonRule: DEFAULT_ABANDON }).qoeChunk));
    metric = `QoE_lin/chunk, player simulator (no re-fetch, DEFAULT_ABANDON), ${dev.length} dev traces × 30 fragments`;
  } else {
    const sizes = loadVideoSizes(join(abrDir, 'video'));
    score = (p) => mean(runPolicy(p, held, sizes).map((r) => r.qoeSum)) / (TOTAL_CHUNKS - 1);
    metric = `QoE_lin/chunk, ${held.length} held-out traces`;
  }
  const out: AccuracyRow[] = [];
  let full = NaN;
  for (const id of ids) {
    const v = await load(model, id);
    const policy = { name: `drl/${id}`, decide: (obs: AbrObservation) => v.run({ kind: 'abr', obs }) as number };
    const qoe = score(policy);
    v.dispose();
    if (id === 'full') full = qoe;
    out.push({ model, variant: id, metric, value: +qoe.toFixed(4), rel_accuracy: +(qoe / full).toFixed(4) });
  }
  return out;
}

/** Profile variants' scaled MAE on the validation eighth of the simulated population's training period. */
export async function accuracyProfile(ids: string[], modelsDir: string, load: Load): Promise<AccuracyRow[]> {
  const data = buildRequests(simulatePopulation().watches);
  const { train } = splitByTime(data);
  const val = train.slice(Math.floor(train.length * 0.875));
  const norm = JSON.parse(readFileSync(join(modelsDir, 'profile', 'norm.json'), 'utf8')) as ProfileNorm;
  const out: AccuracyRow[] = [];
  let full = NaN;
  for (const id of ids) {
    const v = await load('profile', id);
    const err = [0, 0, 0];
    for (const r of val) {
      const y = v.run({ kind: 'profile', x: data.x.slice(r * REQUEST_FEATURES, (r + 1) * REQUEST_FEATURES) }) as ArrayLike<number>;
      for (let k = 0; k < 3; k++) err[k] += Math.abs(y[k] - data.y[r * 3 + k]);
    }
    v.dispose();
    const mae = err.reduce((a, e, k) => a + e / val.length / norm.yScale[k], 0) / 3;
    if (id === 'full') full = mae;
    out.push({
      model: 'profile',
      variant: id,
      metric: `MAE/mean of I,D,N, ${val.length} validation requests`,
      value: +mae.toFixed(4),
      rel_accuracy: +(full / mae).toFixed(4),
    });
  }
  return out;
}
