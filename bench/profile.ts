/**
 * The profiling benchmark (`npm run bench:profile`, entry in cli/profile.ts):
 * 1. Calibration: the simulated viewer population (src/sim/viewers) against the measured statistics of the
 *    Twitch data in DIR (default $EDGEPLAY_DATA/live) and ELCast's measurements.
 * 2. Profiling on the simulated population, last 20 % of time held back (the trainer never reads it):
 *    mean, decision tree, random forest (trained here on the first 80 %) and the CNN (models/profile),
 *    all on the same inputs; RMSE and MAE for I (messages/h), D (h), N (channels per visit).
 * 3. Real data: on the Twitch sample's dev users, channels per visit predicted from their earlier visits
 *    (models trained here on the other users; the CNN with the same architecture, N target only).
 * Writes bench/results/profile.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { dataRoot } from '../src/sim/abr/load.js';
import { simulatePopulation } from '../src/sim/viewers/population.js';
import {
  loadTwitchChat,
  loadTwitchRows,
  paperStats,
  pollObserve,
  rowStats,
  simulatedChatStats,
  twitchChatStats,
} from '../src/sim/viewers/stats.js';
import { buildRequests, splitByTime } from '../src/sim/viewers/requests.js';
import { REQUEST_FEATURES, type RequestData } from '../src/profile/features.js';
import { twitchVisitRequests } from '../src/sim/viewers/twitch-requests.js';
import { Binner, RandomForest, RegressionTree } from '../src/profile/forest.js';
import { predictProfile, type ProfileNorm } from '../src/profile/model.js';
import { fitProfileCnn } from '../src/train/profile-fit.js';
import { loadModel } from '../src/train/io.js';

export interface ProfileBenchOptions {
  /** the Twitch sample's directory (default $EDGEPLAY_DATA/live); parts 1 and 3 use it when present */
  data?: string;
  /** the trained CNN (default models/profile) */
  model?: string;
  /** results file (default bench/results/profile.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface ProfileBenchRow {
  dataset: string;
  model: string;
  target: string;
  rmse: number;
  mae: number;
}

export interface ProfileBenchResult {
  command: string;
  calibration: Array<{ statistic: string; measured: string; simulated: number; source: string }>;
  rows: ProfileBenchRow[];
  seconds: number;
}

/** Runs the benchmark (calibration, simulated profiling, the Twitch sample), prints its tables, writes the results file. */
export async function benchProfile(o: ProfileBenchOptions = {}): Promise<ProfileBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const warn = o.log ?? ((s: string) => console.warn(s));
  const dir = resolve(o.data ?? join(dataRoot(), 'live'));
  const modelDir = resolve(o.model ?? 'models/profile');
  const haveData = existsSync(join(dir, 'twitch100k_sample_train.csv'));
  const t0 = Date.now();
  await tf.setBackend('wasm');
  await tf.ready();
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '–');

  // ---- 1. calibration ----
  const pop = simulatePopulation();
  const sim = rowStats(pollObserve(pop.watches));
  const real = haveData ? rowStats(loadTwitchRows(dir)) : null;
  const realChat = haveData ? twitchChatStats(loadTwitchChat(dir)) : null;
  const simChat = simulatedChatStats(pop);
  const paper = paperStats(pop);
  const calibration: Array<{ statistic: string; measured: string; simulated: number; source: string }> = [];
  const addCal = (statistic: string, measured: string, simulated: number, source: string) =>
    calibration.push({ statistic, measured, simulated, source });
  const keys: Array<[keyof typeof sim, string]> = [
    ['zipf_slope_all', 'streamer popularity: rank-frequency log-log slope, all'],
    ['zipf_slope_top100', '… top 100'],
    ['zipf_slope_top1000', '… top 1000'],
    ['median_rows_per_user', 'median observed interactions per user (43 days)'],
    ['consecutive_different', 'consecutive interactions with a different streamer'],
    ['daily_peak_trough', 'daily cycle: peak / trough hour'],
    ['channels_per_visit_mean', 'channels per (polled) visit, mean'],
    ['visits_single_channel', 'visits with a single channel'],
  ];
  for (const [k, label] of keys) addCal(label, real ? f(real[k]) : 'n/a (no data)', sim[k], 'Twitch sample, polled every 10 min');
  if (realChat) {
    const vals = Object.values(realChat);
    addCal(
      'chatters sending > 10 msgs in 2 h',
      vals.map((c) => f(c.share_over_10, 2)).join(' / '),
      simChat.share_over_10,
      'Twitch chat log (3 channels)',
    );
    addCal(
      'median msgs per chatter in 2 h',
      vals.map((c) => String(c.median_msgs)).join(' / '),
      simChat.median_msgs,
      'Twitch chat log (3 channels)',
    );
  }
  addCal('viewers who never chat', '0.87', paper.never_chat, 'ELCast measurement');
  addCal('viewers with > 10 msgs per session', '> 0.05', paper.over_10_msgs_per_session, 'ELCast measurement');
  addCal('viewers watching a channel ~1 min (mean ≤ 2 min)', '~0.40', paper.watch_about_a_minute, 'ELCast measurement');
  log(
    `1. viewer population (${pop.params.viewers} viewers, ${pop.params.channels} channels, ${pop.params.days} days, ${pop.watches.length} watches) vs measured`,
  );
  log(`${'statistic'.padEnd(52)} ${'measured'.padStart(20)} ${'simulated'.padStart(10)}  source`);
  for (const c of calibration) log(`${c.statistic.padEnd(52)} ${c.measured.padStart(20)} ${f(c.simulated).padStart(10)}  ${c.source}`);

  // ---- 2. profiling on the simulated population ----
  const rows: ProfileBenchRow[] = [];
  function baselines(d: RequestData, trainRows: number[], testRows: number[], dataset: string, targets: number[], seed: number) {
    const binner = new Binner(d.x, d.n, REQUEST_FEATURES, trainRows, 32);
    const xb = binner.binAll(d.x, d.n, REQUEST_FEATURES);
    const tr = Int32Array.from(trainRows);
    const out: Record<string, Float32Array> = {
      mean: new Float32Array(d.n * 3),
      'decision-tree': new Float32Array(d.n * 3),
      'random-forest': new Float32Array(d.n * 3),
    };
    for (const k of targets) {
      const y = Float64Array.from({ length: d.n }, (_, i) => d.y[i * 3 + k]);
      let m = 0;
      for (const r of trainRows) m += y[r];
      m /= trainRows.length;
      const dt = new RegressionTree(binner, REQUEST_FEATURES).fit(xb, y, tr, { maxDepth: 10, minLeaf: 20, seed });
      const rf = new RandomForest(binner, REQUEST_FEATURES).fit(xb, y, trainRows, {
        trees: 50,
        maxDepth: 12,
        minLeaf: 5,
        sampleSize: Math.min(trainRows.length, 100000),
        seed,
      });
      for (const r of testRows) {
        out.mean[r * 3 + k] = m;
        out['decision-tree'][r * 3 + k] = dt.predictRow(d.x, r * REQUEST_FEATURES);
        out['random-forest'][r * 3 + k] = rf.predictRow(d.x, r * REQUEST_FEATURES);
      }
    }
    void dataset;
    return out;
  }
  function score(d: RequestData, testRows: number[], pred: Float32Array, k: number, predRowIndexed = true): { rmse: number; mae: number } {
    let a = 0,
      s = 0;
    testRows.forEach((r, i) => {
      const e = pred[(predRowIndexed ? r : i) * 3 + k] - d.y[r * 3 + k];
      a += Math.abs(e);
      s += e * e;
    });
    return { rmse: Math.sqrt(s / testRows.length), mae: a / testRows.length };
  }
  const TARGETS = ['I', 'D', 'N'];
  const data = buildRequests(pop.watches);
  const { train, test } = splitByTime(data);
  const base = baselines(data, train, test, 'simulated', [0, 1, 2], 1);
  for (const [model, pred] of Object.entries(base))
    for (let k = 0; k < 3; k++) rows.push({ dataset: 'simulated', model, target: TARGETS[k], ...score(data, test, pred, k) });
  if (existsSync(join(modelDir, 'model.json'))) {
    const model = await loadModel(modelDir);
    const norm = JSON.parse(readFileSync(join(modelDir, 'norm.json'), 'utf8')) as ProfileNorm;
    const p = predictProfile(tf, model, norm, data.x, test);
    for (let k = 0; k < 3; k++) rows.push({ dataset: 'simulated', model: 'cnn', target: TARGETS[k], ...score(data, test, p, k, false) });
  } else warn(`(no model in ${modelDir}: run npm run train:profile)`);
  // the floor: the conditional median given the simulator's latent traits (what no model can beat on MAE
  // for D and N, whose randomness given the traits is irreducible)
  {
    const sorted = [...pop.watches].sort((a, b) => a.start - b.start);
    const oracle = new Float32Array(data.n * 3);
    // N per *request* is size-biased: a visit of n channels makes n requests, so P(n) ∝ n·(1−q)·q^(n−1)
    const medN = (e: number) => {
      const q = e / (1 + e),
        mean = 1 + e;
      let c = 0;
      for (let n = 1; ; n++) {
        c += (n * (1 - q) * q ** (n - 1)) / mean;
        if (c >= 0.5) return n;
      }
    };
    for (const r of test) {
      const tr = pop.traits[sorted[r].user];
      oracle[r * 3 + 1] = Math.min(6, Math.max(5 / 3600, tr.watchMedianS / 3600));
      oracle[r * 3 + 2] = medN(tr.extraChannels);
    }
    for (const k of [1, 2])
      rows.push({ dataset: 'simulated', model: 'oracle (latent traits)', target: TARGETS[k], ...score(data, test, oracle, k) });
  }
  const table = (dataset: string, targets: string[]) => {
    const rf = (t: string) => rows.find((r) => r.dataset === dataset && r.model === 'random-forest' && r.target === t)!;
    for (const t of targets)
      for (const r of rows.filter((x) => x.dataset === dataset && x.target === t)) {
        if (r.model.startsWith('oracle')) {
          log(
            `${t.padEnd(3)} ${r.model.padEnd(14)} ${'–'.padStart(9)} ${f(r.mae, 4).padStart(9)} ${`${(((r.mae - rf(t).mae) / rf(t).mae) * 100).toFixed(1)}%`.padStart(10)}  (floor: the true median given the hidden traits)`,
          );
          continue;
        }
        const vs = r.model === 'random-forest' ? '' : `${(((r.mae - rf(t).mae) / rf(t).mae) * 100).toFixed(1)}%`;
        log(`${t.padEnd(3)} ${r.model.padEnd(14)} ${f(r.rmse, 4).padStart(9)} ${f(r.mae, 4).padStart(9)} ${vs.padStart(10)}`);
      }
  };
  log(`\n2. profiling, simulated population: ${train.length} training requests (first 80 % of time), ${test.length} test (last 20 %)`);
  log(`tgt model               rmse       mae  mae vs RF   (I: messages/h, D: hours, N: channels per visit)`);
  table('simulated', TARGETS);

  // ---- 3. the Twitch sample: channels per visit of dev users from their earlier visits ----
  if (haveData) {
    const tw = twitchVisitRequests(loadTwitchRows(dir));
    const trainRows: number[] = [],
      devRows: number[] = [];
    for (let i = 0; i < tw.n; i++) (tw.dev[i] ? devRows : trainRows).push(i);
    const tb = baselines(tw, trainRows, devRows, 'twitch', [2], 1);
    for (const [model, pred] of Object.entries(tb))
      rows.push({ dataset: 'twitch-dev-users', model, target: 'N', ...score(tw, devRows, pred, 2) });
    const vcut = Math.floor(trainRows.length * 0.875);
    const cnn = await fitProfileCnn(tf, tw, trainRows.slice(0, vcut), trainRows.slice(vcut), {
      epochs: 20,
      seed: 1,
      targetWeights: [0, 0, 1],
    });
    const p = predictProfile(tf, cnn.model, cnn.norm, tw.x, devRows);
    rows.push({ dataset: 'twitch-dev-users', model: 'cnn', target: 'N', ...score(tw, devRows, p, 2, false) });
    log(
      `\n3. Twitch sample, channels per visit of ${new Set(Array.from(devRows, (r) => tw.user[r])).size} dev users (${devRows.length} visits) from their earlier visits; models fit on the other users (${trainRows.length} visits)`,
    );
    log(`tgt model               rmse       mae  mae vs RF`);
    table('twitch-dev-users', ['N']);
  } else log(`\n3. skipped: Twitch sample not found in ${dir}`);

  const command = o.command ?? 'benchProfile (library call)';
  const seconds = Math.round((Date.now() - t0) / 1000);
  const result: ProfileBenchResult = { command, calibration, rows, seconds };
  const outFile = o.out === undefined ? 'bench/results/profile.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1));
  }
  log(`\nwrote ${outFile ?? 'nothing'} (${seconds} s)`);
  return result;
}
