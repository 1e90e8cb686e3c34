/**
 * `npm run bench:edge -- [--settings fat,mid,thin] [--seeds 3]`
 * Assignment policies in the viewer arrival/departure simulator (src/sim/edge/sim.ts): cloud-cdn,
 * online-heu, cost-only, and drl (models/edge-drl/<setting>.json, `npm run train:edge`); seeds 1–3, which
 * training never sees (it trains on 1000+ and selects on 501–503). Prints and writes bench/results/edge.json:
 * rows {edge_setting, policy, penalty_mean, normalized_to_cloud_cdn, edge_share}, plus the CDF of the
 * overall penalty for the mid setting.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DrlAssignment } from '../src/assign/edge/drl.js';
import { dirname, join } from 'node:path';
import { dataRoot, loadTraceDir } from '../src/sim/abr/load.js';
import { EDGE_SIM_DEFAULTS, POLICIES, runEdgeSim, type EdgeSimParams } from '../src/sim/edge/sim.js';
import type { EdgeSetting } from '../src/assign/edge/model.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const settings = arg('settings', 'fat,mid,thin').split(',') as EdgeSetting[];
const seeds = Number(arg('seeds', '3'));
// held-out checks of candidate policies: other seeds (training never sees 1–3 nor 601+), another weights
// directory, and a results file of their own so bench/results/edge.json stays the published run
const firstSeed = Number(arg('first-seed', '1'));
const drlDir = arg('drl-dir', join('models', 'edge-drl'));
const outFile = arg('out', 'bench/results/edge.json');
const trainDir = join(dataRoot(), 'abr', 'traces', 'train');
// viewer bandwidth: the mean of each FCC trace of the shared training traces
const bandwidths = existsSync(trainDir)
  ? loadTraceDir(trainDir)
      .filter((t) => t.name.startsWith('trace_'))
      .map((t) => Array.from(t.bw).reduce((a: number, b: number) => a + b, 0) / t.bw.length)
  : undefined;
console.log(
  `bench:edge — ${seeds} seeds per setting from seed ${firstSeed}, DRL weights from ${drlDir}, ${EDGE_SIM_DEFAULTS.edges} edge, ${EDGE_SIM_DEFAULTS.arrivalsPerS} arrivals/s, ${EDGE_SIM_DEFAULTS.durationS / 3600} h; viewer bandwidth from ${bandwidths ? `${bandwidths.length} FCC traces (${trainDir})` : 'a lognormal (no data)'}`,
);
const rows: Array<Record<string, unknown>> = [];
let cdf: Record<string, number[]> = {};
for (const setting of settings) {
  const res: Record<string, { mean: number; share: number; all: number[] }> = {};
  const policies = { ...POLICIES };
  const drlFile = join(drlDir, `${setting}.json`);
  if (existsSync(drlFile)) {
    const drl = new DrlAssignment(JSON.parse(readFileSync(drlFile, 'utf8')));
    policies.drl = drl;
  } else console.log(`(no ${drlFile}: run npm run train:edge -- --setting ${setting})`);
  for (const [name, pol] of Object.entries(policies)) {
    let sum = 0,
      n = 0,
      share = 0;
    const all: number[] = [];
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const p: EdgeSimParams = { ...EDGE_SIM_DEFAULTS, setting, seed, bandwidths };
      const r = runEdgeSim(p, pol);
      sum += r.mean * r.penalties.length;
      n += r.penalties.length;
      share += r.edgeShare / seeds;
      all.push(...r.penalties);
    }
    res[name] = { mean: sum / n, share, all };
  }
  for (const [name, r] of Object.entries(res)) {
    const row = {
      edge_setting: setting,
      policy: name,
      penalty_mean: r.mean,
      normalized_to_cloud_cdn: r.mean / res['cloud-cdn'].mean,
      vs_online_heu_pct: ((r.mean - res['online-heu'].mean) / res['online-heu'].mean) * 100,
      edge_share: r.share,
    };
    rows.push(row);
    console.log(
      `${setting.padEnd(5)} ${name.padEnd(11)} penalty ${r.mean.toFixed(3)}  vs cloud-cdn ${row.normalized_to_cloud_cdn.toFixed(3)}  vs online-heu ${row.vs_online_heu_pct.toFixed(1).padStart(6)}%  on an edge ${(r.share * 100).toFixed(0)}%`,
    );
  }
  if (setting === 'mid') {
    cdf = Object.fromEntries(
      Object.entries(res).map(([k, r]) => {
        const s = [...r.all].sort((a, b) => a - b);
        return [k, [0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 0.99].map((q) => s[Math.min(s.length - 1, Math.floor(q * s.length))])];
      }),
    );
    console.log('mid: overall penalty at quantiles 10/25/50/60/75/90/99 %');
    for (const [k, v] of Object.entries(cdf)) console.log(`  ${k.padEnd(11)} ${v.map((x) => x.toFixed(2).padStart(6)).join(' ')}`);
  }
}
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    {
      command: `npm run bench:edge -- ${process.argv.slice(2).join(' ')}`.trim(),
      rows,
      mid_cdf_quantiles: [0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 0.99],
      mid_cdf: cdf,
    },
    null,
    1,
  ),
);
console.log(`wrote ${outFile}`);
