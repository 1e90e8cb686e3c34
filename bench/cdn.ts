/**
 * `npm run bench:cdn -- [--sim piecewise|mechanistic|learned|all] [--days test|dev|train|d1,d2,…] [--cdns 3]
 *   [--sets ABC,…] [--models models/cdn-lts] [--learned-dir models/cdn-sim] [--out bench/results/cdn.json] [--retune]
 *   [--policies equal,wrr,ucb1,d-ucb,lts,fast-lts,lts-learned,greedy-lts-actions,greedy] [--mpc H1,H2,… [--mpc-blocks B]] [--bound]`
 *
 * Multi-CDN share policies (src/assign/cdn) in the CDN simulators (src/sim/cdn) on the test days (LTS §5):
 * the equal split ("original"), the best weighted round-robin, UCB1 and Discounted UCB (constants tuned on
 * training days by `npm run train:cdn`, models/cdn-lts/baselines-<sim>.json, or here with --retune), LTS
 * (models/cdn-lts/<sim>-<set>.json), Fast-LTS (its tree) and the one-step greedy optimum (the simulator's
 * oracle). In the mechanistic simulator, `lts-learned` is the policy trained in the learned simulator.
 * Every 3-of-4 CDN combination (--cdns N: every N-of-4). Prints one table per simulator and writes
 * bench/results/cdn.json: rows {sim, cdn_set, policy, qoe_mean, slatency_s, bufratio, buffreq,
 * gap_to_greedy_pct} over all test minutes, and the same over the flash-crowd minutes only (flash_rows).
 * qoe_mean is the mean reward −(SLatency + BufRatio + BufFreq) (higher is better); gap_to_greedy_pct is how
 * much worse than greedy, in % of greedy's |QoE|. `--validate` first compares the mechanistic simulator's
 * fluid model with a directly simulated panel of viewers on the training traces (stalls per viewer-minute
 * through a capacity drop). `--policies` runs only the policies named (default: all); a column whose reference
 * policy did not run (the best baseline, greedy, lts) is shown as — and written as null.
 *
 * `--mpc 5,15,30` adds the multi-step oracle (src/sim/cdn/mpc.ts: receding-horizon planning with full knowledge
 * of the next H steps) as policies `mpc-h5`, `mpc-h15`, … (slow: tens of seconds per day and set; off by default,
 * so the default run is unchanged); the summary then gives each against the best baseline beside greedy.
 * `--bound` (mechanistic only) adds `bound-uncongested`: the same days in a world where every viewer gets the best
 * CDN's path with no load (src/sim/cdn/bound.ts), an upper bound on what any scheduler can reach.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { commandLine, inputOrExit, InputError, num, oneOf, parseCliOrExit } from '../src/train/cli/args.js';
import { EqualSplit, UcbShares, WeightedRoundRobin, type UcbParams } from '../src/assign/cdn/baselines.js';
import type { CdnSharePolicy } from '../src/assign/cdn/index.js';
import { LtsPolicy, ltsModelFromFiles, type LtsManifest } from '../src/assign/cdn/lts.js';
import { FastLtsPolicy, type TreeModel } from '../src/assign/cdn/tree.js';
import { cdnCombinations, CDN_PROFILES, profilesOf } from '../src/sim/cdn/cdns.js';
import { loadResponse, loadTraffic, makeSim, missingData, responseForDay } from '../src/sim/cdn/data.js';
import { JOINER, simulatePanel, STATES, type AbrResponse } from '../src/sim/cdn/abr-response.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import type { CdnSim } from '../src/sim/cdn/env.js';
import { GreedyActionOracle, GreedyOracle } from '../src/sim/cdn/greedy.js';
import { MpcOracle } from '../src/sim/cdn/mpc.js';
import { UncongestedBoundSim } from '../src/sim/cdn/bound.js';
import { LearnedSim, loadLearnedModels } from '../src/sim/cdn/learned.js';
import { runDay, score, type DayResult, type Score } from '../src/sim/cdn/run.js';
import { daysOf, FULL_DAYS } from '../src/sim/cdn/traffic.js';
import { bestWrr, tuneUcb } from '../src/sim/cdn/tune.js';

/** the policies of the bench, in the order of its tables */
const POLICY_NAMES = ['equal', 'wrr', 'ucb1', 'd-ucb', 'lts', 'fast-lts', 'lts-learned', 'greedy-lts-actions', 'greedy'];
const cli = {
  name: 'bench:cdn',
  summary:
    'Multi-CDN share policies in the CDN simulators on the test days (LTS §5): equal split, best WRR, UCB1, Discounted UCB,\nLTS, Fast-LTS and the greedy optimum, over every N-of-4 CDN combination; one table per simulator, results in --out.',
  flags: {
    sim: { type: 'string', default: 'all', arg: 'piecewise|mechanistic|learned|all', help: 'simulators (a comma list, or all)' },
    days: { type: 'string', default: 'test', arg: 'test|dev|train|LIST', help: 'the days played: a split or day indices d1,d2,…' },
    cdns: { type: 'string', default: '3', arg: 'N', help: 'every N-of-4 CDN combination (unless --sets)' },
    sets: { type: 'string', arg: 'LIST', help: 'CDN combinations, e.g. ABC,ABD (default: every N-of-4 of --cdns)' },
    models: { type: 'string', default: 'models/cdn-lts', arg: 'DIR', help: 'LTS models and tuned baselines' },
    'learned-dir': { type: 'string', default: 'models/cdn-sim', arg: 'DIR', help: "the learned simulator's models" },
    out: { type: 'string', default: 'bench/results/cdn.json', arg: 'FILE', help: 'results file' },
    retune: { type: 'boolean', help: "tune the baselines' constants here on training days instead of loading them" },
    validate: { type: 'boolean', help: "first compare the mechanistic simulator's fluid model with a simulated panel of viewers" },
    policies: { type: 'string', arg: 'LIST', help: `only these policies (default: all of ${POLICY_NAMES.join(',')})` },
    mpc: { type: 'string', arg: 'H1,H2,…', help: 'also the multi-step oracle (mpc.ts) with these horizons (steps), as mpc-hH; slow' },
    bound: { type: 'boolean', help: "mechanistic: also the uncongested best-path world (bound.ts), an upper bound on any scheduler's QoE" },
    'mpc-blocks': { type: 'string', default: '3', arg: 'B', help: "the multi-step oracle's plan blocks (block 0 = the decision)" },
  },
} as const;
const args = parseCliOrExit(cli);
// the flags' values, checked before any work (--validate, data loading): a bad one exits 2
const { kinds, days, sets, only, horizons, mpcBlocks } = inputOrExit(cli.name, () => {
  const SIMS = ['piecewise', 'mechanistic', 'learned'] as const;
  const kinds = args.sim === 'all' ? [...SIMS] : args.sim.split(',').map((k) => oneOf('sim', k, SIMS));
  const days = ['test', 'dev', 'train'].includes(args.days)
    ? daysOf(args.days as 'test')
    : args.days.split(',').map((d) => {
        const n = Number(d);
        if (d.trim() === '' || !Number.isInteger(n) || n < 0 || n >= FULL_DAYS)
          throw new InputError(`--days: ${d} is not a day in 0..${FULL_DAYS - 1}`);
        return n;
      });
  const cdns = num('cdns', args.cdns, { integer: true, min: 1 });
  if (cdns > CDN_PROFILES.length) throw new InputError(`--cdns: must be at most ${CDN_PROFILES.length}, got "${args.cdns}"`);
  const sets = args.sets ? args.sets.split(',') : cdnCombinations(cdns);
  for (const set of sets)
    try {
      if (!profilesOf(set).length) throw new Error('an empty CDN set');
    } catch (e) {
      throw new InputError(
        `--sets: ${e instanceof Error ? e.message : e} (a combination of ${CDN_PROFILES.map((c) => c.id).join('')}, e.g. ABC)`,
      );
    }
  const only = args.policies ? args.policies.split(',').map((x) => oneOf('policies', x.trim(), POLICY_NAMES)) : POLICY_NAMES;
  // a models directory that is not there measured no LTS policy (and tuned the baselines here, slowly), exit 0
  const ltsPolicies = ['lts', 'fast-lts', 'lts-learned', 'greedy-lts-actions'];
  if ((!args.retune || only.some((p) => ltsPolicies.includes(p))) && !existsSync(resolve(args.models!)))
    throw new InputError(
      `--models: no such directory "${args.models}" (the LTS models and tuned baselines: run from the repository or pass --models DIR)`,
    );
  if (kinds.includes('learned') && !existsSync(resolve(args['learned-dir']!)))
    throw new InputError(
      `--learned-dir: no such directory "${args['learned-dir']}" (the learned simulator's models; or --sim without learned)`,
    );
  const horizons = args.mpc ? args.mpc.split(',').map((h) => num('mpc', h, { integer: true, min: 1 })) : [];
  const mpcBlocks = num('mpc-blocks', args['mpc-blocks']!, { integer: true, min: 1 });
  return {
    kinds,
    days,
    sets,
    only: [...only, ...horizons.map((h) => `mpc-h${h}`), ...(args.bound ? ['bound-uncongested'] : [])],
    horizons,
    mpcBlocks,
  };
});
const missing = missingData();
if (missing) {
  console.error(`bench:cdn: ${missing}`);
  process.exit(1);
}
if (args.validate) {
  const root = dataRoot();
  const traces = loadTraceDir(join(root, 'abr', 'traces', 'train'));
  const sizes = loadVideoSizes(join(root, 'abr', 'video'));
  const r = loadResponse('train');
  for (const low of [0.5, 0.3]) {
    const e = [1, 1, 1, low, low, low, low, low, 1, 1, 1];
    const panel = simulatePanel(traces, sizes, e, 400, 5);
    const parts = r.classes.map((c) => fluidStalls(c, e));
    const fluid = e.map((_, m) => parts.reduce((acc, p, k) => acc + r.weights[k] * p[m], 0));
    const tot = (a: ArrayLike<number>, i: number, j: number) =>
      Array.from(a)
        .slice(i, j)
        .reduce((x, y) => x + y, 0);
    console.log(
      `validate e = 1 → ${low} (minutes 3–7) → 1, stall s per viewer-minute, fluid / direct panel of 400 viewers (training traces):`,
    );
    console.log('  ' + e.map((_, m) => `${fluid[m].toFixed(2)}/${panel.stallS[m].toFixed(2)}`).join('  '));
    console.log(
      `  congested minutes: fluid ${tot(fluid, 3, 8).toFixed(2)} s, panel ${tot(panel.stallS, 3, 8).toFixed(2)} s; first congested minute ${fluid[3].toFixed(2)} vs ${panel.stallS[3].toFixed(2)}`,
    );
  }
}

/** stalls per viewer-minute of a cohort that joins in minute 0, by the fluid model (mechanistic.ts) */
function fluidStalls(r: AbrResponse, e: number[]): number[] {
  const gi = (x: number) => {
    const g = r.eGrid.findIndex((v) => Math.abs(v - x) < 1e-9);
    if (g < 0) throw new Error(`validate: e = ${x} is not on the grid`);
    return g;
  };
  let pi = new Float64Array(STATES);
  return e.map((x, m) => {
    const G = gi(x);
    if (m === 0) {
      for (let u = 0; u < STATES; u++) pi[u] = r.next[G][JOINER * STATES + u];
      return r.stallS[G][JOINER];
    }
    let st = 0;
    const nx = new Float64Array(STATES);
    for (let s = 0; s < STATES; s++) {
      st += pi[s] * r.stallS[G][s];
      for (let u = 0; u < STATES; u++) nx[u] += pi[s] * r.next[G][s * STATES + u];
    }
    pi = nx;
    return st;
  });
}

const modelDir = resolve(args.models!);
const traffic = loadTraffic();
const tuneDays = daysOf('train').filter((_, i) => i % 6 === 0);
const t0 = Date.now();
console.log(
  `bench:cdn — days ${days.join(',')} (${args.days}), CDN sets ${sets.join(',')}, simulators ${kinds.join(',')}; models from ${modelDir}`,
);

function loadLts(name: string): { lts: LtsPolicy; fast: FastLtsPolicy | null; meta: Record<string, unknown> } | null {
  const f = join(modelDir, `${name}.json`);
  if (!existsSync(f)) return null;
  const man = JSON.parse(readFileSync(f, 'utf8')) as LtsManifest & { fastLts?: { tree: TreeModel; served: boolean } | null };
  const model = ltsModelFromFiles(man, new Uint8Array(readFileSync(join(modelDir, man.weights))));
  const fast = man.fastLts
    ? new FastLtsPolicy({
        format: 'edgeplay-cdn-fastlts/1',
        cdns: man.cdns,
        k: man.k,
        workloadScale: man.workloadScale,
        inputs: man.inputs,
        tree: man.fastLts.tree,
      })
    : null;
  return { lts: new LtsPolicy(model), fast, meta: { ...(man.meta ?? {}), fastServed: man.fastLts?.served ?? null } };
}

function baselines(kind: string, set: string, sim: CdnSim): { wrr: number[]; ucb1: UcbParams; dUcb: UcbParams; source: string } {
  // the learned simulator reuses the mechanistic simulator's tuned constants (it imitates that world)
  const from = kind === 'learned' ? 'mechanistic' : kind;
  const f = join(modelDir, `baselines-${from}.json`);
  if (!args.retune && existsSync(f)) {
    const j = JSON.parse(readFileSync(f, 'utf8'));
    if (j[set]) return { ...j[set], source: f };
  }
  console.log(`  tuning the baselines for ${kind} ${set} on ${tuneDays.length} training days…`);
  return {
    wrr: bestWrr(sim, tuneDays).value,
    ucb1: tuneUcb(sim, tuneDays, false).value,
    dUcb: tuneUcb(sim, tuneDays, true).value,
    source: 'tuned here',
  };
}

/** CPU time (process.cpuUsage, ms) of each decision of the wrapped policies, by name */
const cpu: Record<string, number[]> = {};
function cpuTimed(p: CdnSharePolicy): CdnSharePolicy {
  const t = (cpu[p.name] ??= []);
  return {
    name: p.name,
    reset: p.reset?.bind(p),
    step: (o) => {
      const c0 = process.cpuUsage();
      const r = p.step(o);
      const c = process.cpuUsage(c0);
      t.push((c.user + c.system) / 1000);
      return r;
    },
  };
}
/** per set: LTS and the one-step greedy oracle against the best baseline, Fast-LTS against LTS (%, + = better) */
const summary: Array<{
  sim: string;
  cdn_set: string;
  best: string | null;
  lts_vs_best: number | null;
  greedy_vs_best: number | null;
  /** the greedy oracle within LTS's actions (≤ 10 points a step) against the best baseline, and its gap to greedy */
  greedy_actions_vs_best: number | null;
  greedy_actions_gap_pct: number | null;
  fast_vs_lts: number | null;
  /** the multi-step oracles (--mpc) against the best baseline, by policy name (mpc-hH) */
  mpc_vs_best?: Record<string, number | null>;
  /** the uncongested best-path world (--bound) against the best baseline: no scheduler can beat it */
  bound_vs_best?: number | null;
}> = [];

interface Row {
  sim: string;
  cdn_set: string;
  policy: string;
  qoe_mean: number;
  slatency_s: number;
  bufratio: number;
  buffreq: number;
  gap_to_greedy_pct: number | null;
}
const rows: Row[] = [];
const flashRows: Row[] = [];
const timing: Record<string, number[]> = {};
const notes: string[] = [];
const r4 = (x: number) => Number(x.toFixed(4));

for (const kind of kinds) {
  let learned: ReturnType<typeof loadLearnedModels> | null = null;
  if (kind === 'learned') {
    try {
      learned = loadLearnedModels(resolve(args['learned-dir']!));
    } catch (e) {
      console.log(`(skipping the learned simulator: ${(e as Error).message})`);
      continue;
    }
  }
  for (const set of sets) {
    const sim: CdnSim = kind === 'learned' ? new LearnedSim(traffic, set, learned!) : makeSim(kind, set, traffic);
    const b = baselines(kind, set, sim);
    const policies: CdnSharePolicy[] = [
      new EqualSplit(),
      new WeightedRoundRobin(b.wrr),
      new UcbShares(b.ucb1, 'ucb1'),
      new UcbShares(b.dUcb, 'd-ucb'),
    ];
    const lts = loadLts(`${kind}-${set}`);
    if (lts) {
      policies.push(cpuTimed(lts.lts));
      if (lts.fast) policies.push(cpuTimed(lts.fast));
    } else notes.push(`no ${kind}-${set} model in ${modelDir} (npm run train:cdn -- --sim ${kind} --sets ${set})`);
    if (kind === 'mechanistic') {
      const ll = loadLts(`learned-${set}`);
      if (ll) policies.push(new LtsPolicy(ll.lts.model, { name: 'lts-learned' }));
    }
    policies.push(new GreedyActionOracle(sim), new GreedyOracle(sim, kind === 'learned' ? 5 : 1));
    for (const h of horizons) policies.push(new MpcOracle(sim, { horizon: h, blocks: mpcBlocks }, `mpc-h${h}`));
    const res = new Map<string, DayResult[]>();
    for (const p of policies.filter((x) => only.includes(x.name))) {
      const dr = days.map((d) => runDay(sim, p, d));
      res.set(p.name, dr);
      (timing[p.name] ??= []).push(...dr.map((x) => x.decisionMs));
    }
    if (args.bound && kind === 'mechanistic') {
      const ub = new UncongestedBoundSim(traffic, profilesOf(set), (d) => responseForDay(d));
      res.set(
        'bound-uncongested',
        days.map((d) => runDay(ub, new EqualSplit(), d)),
      );
    } else if (args.bound) notes.push(`--bound: only the mechanistic simulator has the uncongested bound (not ${kind})`);
    if (!res.size) {
      notes.push(`${kind} ${set}: none of --policies ${only.join(',')} is available`);
      continue;
    }
    const g = res.has('greedy') ? score(res.get('greedy')!) : null;
    const gf = res.has('greedy') ? score(res.get('greedy')!, true) : null;
    const mk = (name: string, s: Score, ref: Score | null): Row => ({
      sim: kind,
      cdn_set: set,
      policy: name,
      qoe_mean: r4(s.qoe),
      slatency_s: r4(s.slatency),
      bufratio: r4(s.bufratio),
      buffreq: r4(s.buffreq),
      gap_to_greedy_pct: name === 'greedy' ? 0 : ref ? r4((100 * (ref.qoe - s.qoe)) / Math.abs(ref.qoe)) : null,
    });
    const mine: Row[] = [];
    for (const [name, dr] of res) {
      mine.push(mk(name, score(dr), g));
      flashRows.push(mk(name, score(dr, true), gf));
    }
    rows.push(...mine);
    const base = mine.filter((r) => ['equal', 'wrr', 'ucb1', 'd-ucb'].includes(r.policy));
    const best = base.length ? base.reduce((a, r) => (r.qoe_mean > a.qoe_mean ? r : a)) : null;
    const q = (name: string) => mine.find((r) => r.policy === name)?.qoe_mean;
    const rel = (a: number | undefined, b: number | undefined) => (a == null || b == null ? null : r4((100 * (a - b)) / Math.abs(b)));
    summary.push({
      sim: kind,
      cdn_set: set,
      best: best?.policy ?? null,
      lts_vs_best: rel(q('lts'), best?.qoe_mean),
      greedy_vs_best: rel(q('greedy'), best?.qoe_mean),
      greedy_actions_vs_best: rel(q('greedy-lts-actions'), best?.qoe_mean),
      greedy_actions_gap_pct: mine.find((r) => r.policy === 'greedy-lts-actions')?.gap_to_greedy_pct ?? null,
      fast_vs_lts: rel(q('fast-lts'), q('lts')),
      ...(horizons.length
        ? { mpc_vs_best: Object.fromEntries(horizons.map((h) => [`mpc-h${h}`, rel(q(`mpc-h${h}`), best?.qoe_mean)])) }
        : {}),
      ...(args.bound ? { bound_vs_best: rel(q('bound-uncongested'), best?.qoe_mean) } : {}),
    });
    console.log(
      `\n${kind} ${set} (${days.length} days, ${score([...res.values()][0], true).minutes} flash-crowd minutes; baselines: ${b.source}; wrr ${b.wrr.join('/')})`,
    );
    console.log('policy        QoE      SLat(s)  BufRatio  BufFreq  vs best baseline  gap to greedy  flash-crowd QoE');
    for (const r of mine) {
      const f = flashRows.find((x) => x.sim === kind && x.cdn_set === set && x.policy === r.policy)!;
      const vs = best ? (100 * (r.qoe_mean - best.qoe_mean)) / Math.abs(best.qoe_mean) : null;
      console.log(
        `${r.policy.padEnd(12)} ${r.qoe_mean.toFixed(3).padStart(8)} ${r.slatency_s.toFixed(3).padStart(8)} ${r.bufratio.toFixed(3).padStart(9)} ${r.buffreq.toFixed(3).padStart(8)} ${(vs == null ? '—' : (vs >= 0 ? '+' : '') + vs.toFixed(2) + ' %').padStart(17)} ${(r.gap_to_greedy_pct == null ? '—' : r.gap_to_greedy_pct.toFixed(2) + ' %').padStart(14)} ${f.qoe_mean.toFixed(3).padStart(16)}`,
      );
    }
  }
}
const decision = Object.fromEntries(
  Object.entries(timing).map(([k, v]) => [k, Number((v.reduce((a, b) => a + b, 0) / v.length).toFixed(4))]),
);
console.log(
  `\nmean decision time per step (ms, this machine, load ${(await import('node:os')).loadavg()[0].toFixed(1)}): ${Object.entries(decision)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
const med = (v: number[]) =>
  v.length
    ? Number(
        v
          .slice()
          .sort((a, b) => a - b)
          [v.length >> 1].toFixed(4),
      )
    : null;
const cpuMedian = Object.fromEntries(
  Object.entries(cpu)
    .filter(([, v]) => v.length) // a policy left out by --policies made no decision
    .map(([k, v]) => [k, med(v)]),
);
console.log(
  `median CPU time per decision (ms, process.cpuUsage; µs resolution): ${Object.entries(cpuMedian)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
const pct = (x: number | null) => (x == null ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(2)} %`);
console.log(
  '\nsim          set  best baseline  lts vs best  greedy (ceiling) vs best  greedy in LTS actions vs best (gap to greedy)  fast-lts vs lts',
);
for (const r of summary)
  console.log(
    `${r.sim.padEnd(12)} ${r.cdn_set}  ${(r.best ?? '—').padEnd(13)}  ${pct(r.lts_vs_best).padStart(11)}  ${pct(r.greedy_vs_best).padStart(24)}  ${`${pct(r.greedy_actions_vs_best)} (${r.greedy_actions_gap_pct?.toFixed(2) ?? '—'} %)`.padStart(45)}  ${pct(r.fast_vs_lts).padStart(15)}`,
  );
if (horizons.length || args.bound) {
  console.log(
    '\nceilings against the best baseline: the one-step greedy oracle, the multi-step oracle (full knowledge of the next H steps), the uncongested bound:',
  );
  console.log(
    `sim          set  greedy (H = 1)  ${horizons.map((h) => `mpc-h${h}`.padStart(10)).join('  ')}${args.bound ? '  bound-uncongested' : ''}`,
  );
  for (const r of summary)
    console.log(
      `${r.sim.padEnd(12)} ${r.cdn_set}  ${pct(r.greedy_vs_best).padStart(14)}  ${horizons.map((h) => pct(r.mpc_vs_best?.[`mpc-h${h}`] ?? null).padStart(10)).join('  ')}${args.bound ? pct(r.bound_vs_best ?? null).padStart(19) : ''}`,
    );
}
for (const n of notes) console.log(`note: ${n}`);
mkdirSync(dirname(resolve(args.out!)), { recursive: true });
writeFileSync(
  resolve(args.out!),
  JSON.stringify(
    // the command line, repo-relative, so the file says what printed it
    {
      command: commandLine('bench:cdn'),
      days,
      ...(horizons.length ? { mpc: { horizons, blocks: mpcBlocks } } : {}),
      ...(args.bound ? { bound: 'bound-uncongested: src/sim/cdn/bound.ts UncongestedBoundSim under the equal split' } : {}),
      rows,
      flash_rows: flashRows,
      decision_ms: decision,
      decision_cpu_median_ms: cpuMedian,
      summary,
    },
    null,
    1,
  ),
);
console.log(`wrote ${args.out} (${Math.round((Date.now() - t0) / 1000)} s)`);
