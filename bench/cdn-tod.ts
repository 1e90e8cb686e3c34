/**
 * `npm run bench:cdn-tod -- [--model FILE] [--expert models/cdn-lts/piecewise-ABC.json] [--train-days 12]
 *   [--out bench/results/cdn-piecewise-tod-dev.json]`
 *
 * Does the time of day help the LTS network in the piecewise simulator (issue 12; lts.ts LtsInputs)? Dev days
 * only (the days that select; never the test days), CDN set ABC, two checks:
 * 1. `--model` (a network that reads the time of day, e.g. `npm run train:cdn -- … --time-of-day 1 --out DIR`):
 *    its dev QoE as trained, with the minute it is given shifted by 6 h and by 12 h, and with its time-of-day
 *    weights set to 0 (the rms of those rows of the hidden layer's weights beside the others'). A network that
 *    uses the time of day loses QoE when the minute is wrong.
 * 2. Is the time of day informative about the expert's choice at all? The `--expert` network (default the served
 *    one) is rolled out on `--train-days` training days and on the dev days; every second minute is labelled with
 *    the one-step greedy oracle's cheapest LTS action (sim/cdn/greedy.ts, the DAgger expert). CART trees (depth 8,
 *    12, 16) are fitted on the training days' states from the history alone and from the history plus sin/cos of
 *    the minute, and scored on the dev days' states: the share where the tree picks one of the oracle's cheapest
 *    actions and its mean regret (next-step cost above the cheapest, reward points).
 * 3. `--compare A.json,B.json,…`: each network's QoE on the dev days and on all training days (a paired
 *    comparison on five times as many days as the dev split; still no test day); for a network that reads the
 *    time of day also with its time-of-day weights set to 0.
 * Prints them and writes `--out` with the command line that printed it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { commandLine, InputError, inputOrExit, listOf, num, parseCliOrExit, repoRelative } from '../src/train/cli/args.js';
import type { CdnSharePolicy } from '../src/assign/cdn/index.js';
import { encodeObservation, inputWidth, ltsModelFromFiles, LtsPolicy, type LtsManifest, type LtsModel } from '../src/assign/cdn/lts.js';
import { applyAction, K_STEPS, lastScores, toPoints } from '../src/assign/cdn/mdp.js';
import { fitTree, treePredict } from '../src/assign/cdn/tree.js';
import { loadTraffic, makeSim, missingData } from '../src/sim/cdn/data.js';
import { actionCosts, greedyAction } from '../src/sim/cdn/greedy.js';
import { meanReward } from '../src/sim/cdn/run.js';
import { DAY_MIN, daysOf } from '../src/sim/cdn/traffic.js';

const cli = {
  name: 'bench:cdn-tod',
  summary:
    'Does the time of day help the LTS network in the piecewise simulator (issue 12)? Dev days only, CDN set ABC: --model\nwith its minute shifted and its time-of-day weights removed; CART trees with and without the minute against the\ngreedy oracle; --compare networks on the dev and training days.',
  flags: {
    model: { type: 'string', arg: 'FILE', help: 'a network that reads the time of day (train:cdn --time-of-day 1)' },
    expert: {
      type: 'string',
      default: join('models', 'cdn-lts', 'piecewise-ABC.json'),
      arg: 'FILE',
      help: 'the network the trees imitate',
    },
    'train-days': { type: 'string', default: '12', arg: 'N', help: 'training days the trees are fitted on (≥ 1)' },
    compare: { type: 'string', default: '', arg: 'LIST', help: 'networks A.json,B.json,… compared on the dev and training days' },
    'skip-trees': { type: 'boolean', help: 'skip check 2 (the CART trees)' },
    out: { type: 'string', default: join('bench', 'results', 'cdn-piecewise-tod-dev.json'), arg: 'FILE', help: 'results file' },
  },
} as const;
const args = parseCliOrExit(cli);
// the flags' values, checked before any work (data loading, rollouts): a bad one exits 2 naming it
const { nTrain } = inputOrExit(cli.name, () => {
  const files = [
    ...(args.model ? [['model', args.model]] : []),
    ['expert', args.expert],
    ...listOf('compare', args.compare).map((f) => ['compare', f]),
  ];
  for (const [flag, file] of files) if (!existsSync(file)) throw new InputError(`--${flag}: no such file "${file}"`);
  return { nTrain: num('train-days', args['train-days'], { integer: true, min: 1 }) };
});
const missing = missingData();
if (missing) {
  console.error(`bench:cdn-tod: ${missing}`);
  process.exit(1);
}

/**
 * a model file as recorded: repo-relative inside the checkout, else its directory's and its own name (a
 * `train:cdn --out DIR` outside the checkout; the records name no absolute path)
 */
function label(file: string): string {
  const r = repoRelative(resolve(file));
  return isAbsolute(r) ? `${basename(dirname(r))}/${basename(r)} (outside the checkout)` : r;
}
function load(file: string): LtsModel {
  const man = JSON.parse(readFileSync(file, 'utf8')) as LtsManifest;
  if (man.cdns.join('') !== 'ABC') throw new Error(`${file}: a model of ${man.cdns.join('')}, this check is for ABC`);
  return ltsModelFromFiles(man, new Uint8Array(readFileSync(join(dirname(file), man.weights))));
}
const sim = makeSim('piecewise', 'ABC', loadTraffic(), 1);
const dev = daysOf('dev');
const r4 = (x: number) => Number(x.toFixed(4));
const out: Record<string, unknown> = { command: commandLine('bench:cdn-tod'), sim: 'piecewise', cdn_set: 'ABC', dev_days: dev };

// 1. the time-of-day network, as trained and with its minute wrong or its time-of-day weights removed
if (args.model) {
  const model = load(args.model);
  const E = 2 * (model.inputs?.timeOfDay ?? 0);
  if (!E) throw new Error(`--model ${args.model}: the network does not read the time of day (no "inputs" in its file)`);
  const H = model.actor.b1.length;
  const w1 = model.actor.w1;
  const rows = w1.length / H;
  const rms = (r0: number, r1: number) => {
    let s = 0;
    for (let i = r0 * H; i < r1 * H; i++) s += w1[i] * w1[i];
    return Math.sqrt(s / ((r1 - r0) * H));
  };
  const shifted = (p: CdnSharePolicy, by: number): CdnSharePolicy => ({
    name: p.name,
    step: (o) => p.step({ ...o, minuteOfDay: (o.minuteOfDay ?? 0) + by }),
  });
  const pol = new LtsPolicy(model);
  const zero = Float32Array.from(w1);
  zero.fill(0, (rows - E) * H);
  const ablation = {
    model: label(args.model),
    inputs: model.inputs,
    w1_rms_history_rows: r4(rms(0, rows - E)),
    w1_rms_time_rows: r4(rms(rows - E, rows)),
    dev_qoe: r4(meanReward(sim, pol, dev)),
    dev_qoe_minute_plus_6h: r4(meanReward(sim, shifted(pol, 360), dev)),
    dev_qoe_minute_plus_12h: r4(meanReward(sim, shifted(pol, 720), dev)),
    dev_qoe_time_weights_zero: r4(meanReward(sim, new LtsPolicy({ ...model, actor: { ...model.actor, w1: zero } }), dev)),
  };
  console.log(`1. ${args.model} (${JSON.stringify(model.inputs)}) on the dev days ${dev.join(',')}:`);
  console.log(
    `   rms of the hidden layer's weights: history rows ${ablation.w1_rms_history_rows}, time-of-day rows ${ablation.w1_rms_time_rows}`,
  );
  console.log(
    `   dev QoE as trained ${ablation.dev_qoe}; minute +6 h ${ablation.dev_qoe_minute_plus_6h}; minute +12 h ${ablation.dev_qoe_minute_plus_12h}; time-of-day weights 0 ${ablation.dev_qoe_time_weights_zero}`,
  );
  out.ablation = ablation;
}

/** the model with its time-of-day rows of the hidden layer's weights set to 0 (the function of the history alone) */
function timeZeroed(model: LtsModel): LtsModel {
  const E = 2 * (model.inputs?.timeOfDay ?? 0);
  const w1 = Float32Array.from(model.actor.w1);
  w1.fill(0, w1.length - E * model.actor.b1.length);
  return { ...model, actor: { ...model.actor, w1 } };
}

// 3. networks side by side on the dev days and on every training day
if (args.compare) {
  const all = daysOf('train');
  const cmp: Array<{ model: string; variant: string; dev_qoe: number; train_qoe: number }> = [];
  console.log(`3. dev days (${dev.length}) and training days (${all.length}):`);
  for (const file of args.compare.split(',')) {
    const model = load(file);
    const variants: Array<[string, LtsModel]> = [['as trained', model]];
    if (model.inputs?.timeOfDay) variants.push(['time-of-day weights 0', timeZeroed(model)]);
    for (const [variant, mdl] of variants) {
      const pol = new LtsPolicy(mdl);
      const row = { model: label(file), variant, dev_qoe: r4(meanReward(sim, pol, dev)), train_qoe: r4(meanReward(sim, pol, all)) };
      cmp.push(row);
      console.log(`   ${file} (${variant}): dev QoE ${row.dev_qoe.toFixed(4)}, training days ${row.train_qoe.toFixed(4)}`);
    }
  }
  out.compare = cmp;
}

// 2. the oracle's choice from the history alone vs the history and the time of day
const expert = new LtsPolicy(load(args.expert));
const inputs = { timeOfDay: 1 };
const W = inputWidth(3, K_STEPS, inputs);
const A = 10;
function collect(days: number[]): { x: Float32Array; y: Int32Array; costs: Float64Array } {
  const n = days.length * Math.ceil(DAY_MIN / 2);
  const x = new Float32Array(n * W),
    y = new Int32Array(n),
    costs = new Float64Array(n * A);
  const c = new Float64Array(A);
  let k = 0;
  for (const d of days) {
    sim.reset(d);
    for (let t = 0; t < DAY_MIN; t++) {
      const o = sim.observation();
      if (t % 2 === 0) {
        encodeObservation(o, expert.model.workloadScale, K_STEPS, x.subarray(k * W, (k + 1) * W), inputs);
        actionCosts(sim, o, c);
        y[k] = greedyAction(c);
        costs.set(c, k * A);
        k++;
      }
      sim.step(applyAction(toPoints(o.shares), expert.act(o), lastScores(o)));
    }
  }
  return { x, y, costs };
}
const trainDays = daysOf('train').slice(0, nTrain);
const skipTrees = args['skip-trees'];
const tr = skipTrees ? null : collect(trainDays);
const dv = skipTrees ? null : collect(dev);
/** the first `w` features of every row */
const cut = (x: Float32Array, w: number) => {
  const n = x.length / W;
  const o = new Float32Array(n * w);
  for (let i = 0; i < n; i++) o.set(x.subarray(i * W, i * W + w), i * w);
  return o;
};
const rows: Array<{ depth: number; features: string; nodes: number; dev_cheapest_pct: number; dev_regret: number }> = [];
if (tr && dv) {
  console.log(
    `2. the oracle's cheapest LTS action predicted by a tree, fitted on ${tr.y.length} states of training days ${trainDays.join(',')}, scored on ${dv.y.length} dev states:`,
  );
  for (const depth of [8, 12, 16])
    for (const features of ['history', 'history+time-of-day(1)']) {
      const w = features === 'history' ? W - 2 : W;
      const t = fitTree(cut(tr.x, w), w, tr.y, A, { maxDepth: depth, minLeaf: 10 });
      const dx = cut(dv.x, w);
      let hit = 0,
        regret = 0;
      for (let i = 0; i < dv.y.length; i++) {
        const a = treePredict(t, dx.subarray(i * w, (i + 1) * w));
        const cmin = dv.costs[i * A + dv.y[i]];
        const ca = dv.costs[i * A + a];
        if (ca <= cmin + 1e-12 * Math.max(1, Math.abs(cmin))) hit++;
        regret += ca - cmin;
      }
      const row = {
        depth,
        features,
        nodes: t.feature.length,
        dev_cheapest_pct: r4((100 * hit) / dv.y.length),
        dev_regret: r4(regret / dv.y.length),
      };
      rows.push(row);
      console.log(
        `   depth ≤ ${depth}, ${features.padEnd(22)} ${String(row.nodes).padStart(5)} nodes: a cheapest action on ${row.dev_cheapest_pct.toFixed(1)} % of dev states, mean regret ${row.dev_regret.toFixed(4)}`,
      );
    }
  out.expert = label(args.expert);
  out.train_days = trainDays;
  out.oracle_trees = rows;
}
mkdirSync(dirname(resolve(args.out)), { recursive: true });
writeFileSync(resolve(args.out), JSON.stringify(out, null, 1));
console.log(`→ ${args.out}`);
