/**
 * Trains ELCast's QoE-preference model (`npm run train:profile`, entry in cli/profile.ts) on a simulated
 * viewer population (src/sim/viewers, calibrated to the Twitch data; the simulation is seeded and needs no
 * dataset). Requests in the first 80 % of the time are for training (the last eighth of those selects the
 * epoch), the last 20 % are the test set of `npm run bench:profile`, never read here. Loss: L1 on targets
 * scaled by their training means (MAE is the paper's yardstick). Writes model.json, weights.bin, norm.json,
 * train.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { simulatePopulation, type PopulationParams } from '../sim/viewers/population.js';
import { buildRequests, splitByTime } from '../sim/viewers/requests.js';
import { fitProfileCnn, type FitResult } from './profile-fit.js';
import { saveModel } from './io.js';

/** What `npm run train:profile` flags set (same defaults), plus library-only inputs. */
export interface TrainProfileOptions {
  /** epochs (cosine learning-rate schedule over them) (default 30) */
  epochs?: number;
  /** seeds initialisation and shuffles (default 1) */
  seed?: number;
  /** output directory (default models/profile) */
  out?: string;
  // ---- library-only ----
  /** overrides of the simulated population (default: POPULATION_DEFAULTS, the calibrated one) */
  population?: Partial<PopulationParams>;
  /** minibatch (default 1024) */
  batch?: number;
  /** the command line recorded in train.json */
  command?: string;
  log?: (s: string) => void;
}

export interface TrainProfileResult extends FitResult {
  out: string;
}

/**
 * The profile trainer; see the file's comment. Selects tfjs' wasm backend (the one the committed models were
 * trained on); seeded, so a run repeats bit for bit.
 */
export async function trainProfile(o: TrainProfileOptions = {}): Promise<TrainProfileResult> {
  const EPOCHS = o.epochs ?? 30;
  const SEED = o.seed ?? 1;
  const OUT = resolve(o.out ?? 'models/profile');
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:profile +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);

  await tf.setBackend('wasm');
  await tf.ready();
  const pop = simulatePopulation(o.population);
  const data = buildRequests(pop.watches);
  const { train } = splitByTime(data);
  const vcut = Math.floor(train.length * 0.875); // validation: the last eighth (by time) of the training period
  const fitRows = train.slice(0, vcut),
    valRows = train.slice(vcut);
  log(
    `${pop.watches.length} watches by ${pop.params.viewers} simulated viewers; ${fitRows.length} fit / ${valRows.length} validation requests (test: the last 20 %, untouched)`,
  );
  const r = await fitProfileCnn(tf, data, fitRows, valRows, { epochs: EPOCHS, seed: SEED, log, ...(o.batch ? { batch: o.batch } : {}) });
  mkdirSync(OUT, { recursive: true });
  await saveModel(r.model, OUT);
  writeFileSync(join(OUT, 'norm.json'), JSON.stringify(r.norm));
  writeFileSync(
    join(OUT, 'train.json'),
    JSON.stringify(
      {
        command: o.command ?? 'trainProfile (library call)',
        seed: SEED,
        epochs: EPOCHS,
        params: r.model.countParams(),
        population: pop.params,
        fit_requests: fitRows.length,
        validation_requests: valRows.length,
        selected_epoch: r.epoch,
        validation_mae: r.valMae,
        history: r.history,
        seconds: Math.round((Date.now() - t0) / 1000),
      },
      null,
      1,
    ),
  );
  log(`wrote ${OUT} (epoch ${r.epoch}, ${r.model.countParams()} parameters)`);
  return { ...r, out: OUT };
}
