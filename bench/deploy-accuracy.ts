/**
 * The ABR policy's and the preference profiler's variants on their dev benchmarks, for `npm run bench:deploy`
 * (bench/deploy.ts): each variant (model × data variant, loaded by the worker's own loader, plain-JS forward pass)
 * against the model's full version on the same held-out data the trainers keep out of fitting and distillation.
 *   ABR      the held-out split of the Pensieve training traces (every 7th by sorted name, from the 4th: `i % 7 === 3`,
 *            as train:abr and train:variants hold it out) in the Pensieve simulator (src/sim/abr/run.ts): mean QoE_lin
 *            per chunk (chunks 1..47); rel_accuracy = the variant's QoE over the full policy's (higher is better)
 *   profile  the validation eighth of the simulated population's training period (as train:profile and
 *            train:variants hold it out): the MAE of I, D and N each over its training mean (norm.yScale), averaged
 *            over the three (train:profile's yardstick); rel_accuracy = the full model's over the variant's
 * Never the test splits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOTAL_CHUNKS, type AbrObservation } from '../src/core/abr.js';
import type { DeployModel } from '../src/deploy/catalog.js';
import { REQUEST_FEATURES } from '../src/profile/features.js';
import type { ProfileNorm } from '../src/profile/model.js';
import { dataRoot, heldOutSplit, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import { mean, runPolicy } from '../src/sim/abr/run.js';
import { simulatePopulation } from '../src/sim/viewers/population.js';
import { buildRequests, splitByTime } from '../src/sim/viewers/requests.js';
import { InputError } from '../src/train/errors.js';
import type { LoadedVariant } from '../src/worker/variants.js';
import type { AccuracyRow } from './deploy.js';

type Load = (model: DeployModel, variant: string) => Promise<LoadedVariant>;

/**
 * ABR variants' QoE on the held-out training traces. @throws InputError without $EDGEPLAY_DATA/abr (traces/train,
 * video)
 */
export async function accuracyAbr(ids: string[], load: Load, abrDir = join(dataRoot(), 'abr')): Promise<AccuracyRow[]> {
  if (!existsSync(join(abrDir, 'traces', 'train'))) throw new InputError(`ABR training traces not found under ${abrDir}/traces/train`);
  const held = heldOutSplit(loadTraceDir(join(abrDir, 'traces', 'train'))).dev;
  const sizes = loadVideoSizes(join(abrDir, 'video'));
  const out: AccuracyRow[] = [];
  let full = NaN;
  for (const id of ids) {
    const v = await load('abr-drl', id);
    const policy = { name: `drl/${id}`, decide: (obs: AbrObservation) => v.run({ kind: 'abr', obs }) as number };
    const qoe = mean(runPolicy(policy, held, sizes).map((r) => r.qoeSum)) / (TOTAL_CHUNKS - 1);
    v.dispose();
    if (id === 'full') full = qoe;
    out.push({
      model: 'abr-drl',
      variant: id,
      metric: `QoE_lin/chunk, ${held.length} held-out traces`,
      value: +qoe.toFixed(4),
      rel_accuracy: +(qoe / full).toFixed(4),
    });
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
