/**
 * `npm run train:profile -- [--epochs 30] [--seed 1] [--out models/profile]`
 *
 * Trains ELCast's QoE-preference model on a simulated viewer population (src/sim/viewers, calibrated to
 * the Twitch data; the simulation is seeded and needs no dataset). Requests in the first 80 % of the time
 * are for training (the last eighth of those selects the epoch), the last 20 % are the test set of
 * `npm run bench:profile`, never read here. Loss: L1 on targets scaled by their training means (MAE is the
 * paper's yardstick). Writes model.json, weights.bin, norm.json, train.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { simulatePopulation } from '../sim/viewers/population.js';
import { buildRequests, splitByTime } from '../sim/viewers/requests.js';
import { fitProfileCnn } from './profile-fit.js';
import { saveModel } from './io.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const EPOCHS = Number(arg('epochs', '30'));
const SEED = Number(arg('seed', '1'));
const OUT = resolve(arg('out', 'models/profile'));
const t0 = Date.now();
const log = (s: string) => console.log(`[train:profile +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);

await tf.setBackend('wasm');
await tf.ready();
const pop = simulatePopulation();
const data = buildRequests(pop.watches);
const { train } = splitByTime(data);
const vcut = Math.floor(train.length * 0.875); // validation: the last eighth (by time) of the training period
const fitRows = train.slice(0, vcut),
  valRows = train.slice(vcut);
log(
  `${pop.watches.length} watches by ${pop.params.viewers} simulated viewers; ${fitRows.length} fit / ${valRows.length} validation requests (test: the last 20 %, untouched)`,
);
const r = await fitProfileCnn(tf, data, fitRows, valRows, { epochs: EPOCHS, seed: SEED, log });
mkdirSync(OUT, { recursive: true });
await saveModel(r.model, OUT);
writeFileSync(join(OUT, 'norm.json'), JSON.stringify(r.norm));
writeFileSync(
  join(OUT, 'train.json'),
  JSON.stringify(
    {
      command: `npm run train:profile -- ${process.argv.slice(2).join(' ')}`.trim(),
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
