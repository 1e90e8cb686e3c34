/**
 * The assignment benchmark (`npm run bench:edge`, entry in cli/edge.ts): policies in the viewer
 * arrival/departure simulator (src/sim/edge/sim.ts): cloud-cdn, online-heu, cost-only, and drl
 * (models/edge-drl/<setting>.json, `npm run train:edge`); seeds 1–3, which training never sees (it trains on
 * 1000+ and selects on 501–503). Prints and writes bench/results/edge.json: rows {edge_setting, policy,
 * penalty_mean, normalized_to_cloud_cdn, vs_online_heu_pct, edge_share}, plus the CDF of the overall
 * penalty for the mid setting.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DrlAssignment } from '../src/assign/edge/drl.js';
import { dataRoot, loadTraceDir } from '../src/sim/abr/load.js';
import { EDGE_SIM_DEFAULTS, POLICIES, runEdgeSim, type EdgeSimParams } from '../src/sim/edge/sim.js';
import type { EdgeSetting } from '../src/assign/edge/model.js';

export interface EdgeBenchOptions {
  /** settings to run (default fat, mid, thin) */
  settings?: EdgeSetting[];
  /** seeds per setting (default 3) */
  seeds?: number;
  /** first seed (default 1; training never sees 1–3 nor 601+) */
  firstSeed?: number;
  /** directory of the DRL weights <setting>.json (default models/edge-drl) */
  drlDir?: string;
  /** results file (default bench/results/edge.json); null writes none */
  out?: string | null;
  /** viewer bandwidths (Mb/s); default: the means of the FCC training traces, or the simulator's lognormal without data */
  bandwidths?: number[];
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface EdgeBenchRow {
  edge_setting: EdgeSetting;
  policy: string;
  penalty_mean: number;
  normalized_to_cloud_cdn: number;
  vs_online_heu_pct: number;
  edge_share: number;
}

export interface EdgeBenchResult {
  command: string;
  rows: EdgeBenchRow[];
  mid_cdf_quantiles: number[];
  /** per policy, the overall penalty at mid_cdf_quantiles (mid setting; empty when mid was not run) */
  mid_cdf: Record<string, number[]>;
}

const QUANTILES = [0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 0.99];

/** Runs the benchmark, prints its table and writes the results file; see the file's comment. */
export function benchEdge(o: EdgeBenchOptions = {}): EdgeBenchResult {
  const log = o.log ?? ((s: string) => console.log(s));
  const settings = o.settings ?? ['fat', 'mid', 'thin'];
  const seeds = o.seeds ?? 3;
  // held-out checks of candidate policies: other seeds (training never sees 1–3 nor 601+), another weights
  // directory, and a results file of their own so bench/results/edge.json stays the published run
  const firstSeed = o.firstSeed ?? 1;
  const drlDir = o.drlDir ?? join('models', 'edge-drl');
  const outFile = o.out === undefined ? 'bench/results/edge.json' : o.out;
  const trainDir = join(dataRoot(), 'abr', 'traces', 'train');
  // viewer bandwidth: the mean of each FCC trace of the shared training traces
  const bandwidths =
    o.bandwidths ??
    (existsSync(trainDir)
      ? loadTraceDir(trainDir)
          .filter((t) => t.name.startsWith('trace_'))
          .map((t) => Array.from(t.bw).reduce((a: number, b: number) => a + b, 0) / t.bw.length)
      : undefined);
  log(
    `bench:edge — ${seeds} seeds per setting from seed ${firstSeed}, DRL weights from ${drlDir}, ${EDGE_SIM_DEFAULTS.edges} edge, ${EDGE_SIM_DEFAULTS.arrivalsPerS} arrivals/s, ${EDGE_SIM_DEFAULTS.durationS / 3600} h; viewer bandwidth from ${bandwidths ? (o.bandwidths ? `${bandwidths.length} given values` : `${bandwidths.length} FCC traces (${trainDir})`) : 'a lognormal (no data)'}`,
  );
  const rows: EdgeBenchRow[] = [];
  let cdf: Record<string, number[]> = {};
  for (const setting of settings) {
    const res: Record<string, { mean: number; share: number; all: number[] }> = {};
    const policies = { ...POLICIES };
    const drlFile = join(drlDir, `${setting}.json`);
    if (existsSync(drlFile)) {
      const drl = new DrlAssignment(JSON.parse(readFileSync(drlFile, 'utf8')));
      policies.drl = drl;
    } else log(`(no ${drlFile}: run npm run train:edge -- --setting ${setting})`);
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
      log(
        `${setting.padEnd(5)} ${name.padEnd(11)} penalty ${r.mean.toFixed(3)}  vs cloud-cdn ${row.normalized_to_cloud_cdn.toFixed(3)}  vs online-heu ${row.vs_online_heu_pct.toFixed(1).padStart(6)}%  on an edge ${(r.share * 100).toFixed(0)}%`,
      );
    }
    if (setting === 'mid') {
      cdf = Object.fromEntries(
        Object.entries(res).map(([k, r]) => {
          const s = [...r.all].sort((a, b) => a - b);
          return [k, QUANTILES.map((q) => s[Math.min(s.length - 1, Math.floor(q * s.length))])];
        }),
      );
      log('mid: overall penalty at quantiles 10/25/50/60/75/90/99 %');
      for (const [k, v] of Object.entries(cdf)) log(`  ${k.padEnd(11)} ${v.map((x) => x.toFixed(2).padStart(6)).join(' ')}`);
    }
  }
  const result: EdgeBenchResult = {
    command: o.command ?? 'benchEdge (library call)',
    rows,
    mid_cdf_quantiles: QUANTILES,
    mid_cdf: cdf,
  };
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1));
    log(`wrote ${outFile}`);
  }
  return result;
}
