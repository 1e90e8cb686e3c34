/**
 * The edge-cache benchmark (`npm run bench:cache`, entry in cli/cache.ts): the edge cache in the
 * Twitch-driven simulator (src/sim/cache; edge-intelligence-immersive-media, "Edge Caching for Multimedia
 * Content"). Selection on the validation days (CACHE_SPLIT.validation): the best fixed policy at 16 GB
 * (size-only keeps it) and the best fixed size for that policy among 4–64 GB (strategy-only and the fixed rows
 * keep it), by mean reward. Then, on the held-out test days (CACHE_SPLIT.test, after a warm-up day): every
 * fixed policy at that size, size-only, strategy-only, the learned agent, and Belady (offline bound) at the
 * fixed size and at the agent's mean size. Writes rows {policy, hit_rate, byte_hit_rate, origin_gb,
 * mean_size_gb, cost} (cost: rent + origin egress in $, CACHE_ECONOMICS) and the comparisons with the issue's
 * targets. `selectOnly` stops after the selection (writes cache-selection.json beside the results file); its
 * choice can then be passed as `policy` + `sizeGb`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  AgentTuner,
  CACHE_ECONOMICS,
  FixedTuner,
  POLICY_NAMES,
  SizeRuleTuner,
  StrategyRuleTuner,
  type CacheTuner,
} from '../src/assign/cache/index.js';
import { dataRoot } from '../src/sim/abr/load.js';
import { buildDemand, nextUse, type Demand, type Requests } from '../src/sim/cache/demand.js';
import { CACHE_SIM_DEFAULTS, runCacheSim, type CacheSimResult } from '../src/sim/cache/sim.js';
import { CACHE_SPLIT, spanSeconds } from '../src/sim/cache/split.js';
import { loadTwitchRows } from '../src/sim/viewers/stats.js';
import { InputError } from '../src/train/errors.js';

export interface CacheBenchOptions {
  /** the agent's weights (default models/cache-agent/agent.json; absent: the agent row is left out) */
  agent?: string;
  /** results file (default bench/results/cache.json); null writes none */
  out?: string | null;
  /** fixed size of the fixed rows and strategy-only, GB (with `policy`: skips the selection) */
  sizeGb?: number;
  /** policy of size-only (with `sizeGb`: skips the selection) */
  policy?: string;
  /** stop after the selection on the validation days (writes cache-selection.json beside `out`) */
  selectOnly?: boolean;
  /**
   * also run Belady and the selected policy at fixed sizes FRONTIER_GB on the test days: the offline ceiling of
   * hit rate against cost, to see whether any size reaches the issue's margins at no higher cost than the rules
   */
  frontier?: boolean;
  /** the demand (default: buildDemand of $EDGEPLAY_DATA/live's Twitch sample) */
  demand?: Demand;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface CacheBenchRow {
  policy: string;
  hit_rate: number;
  byte_hit_rate: number;
  origin_gb: number;
  mean_size_gb: number;
  cost: number;
}

export interface CacheBenchComparisons {
  agent_vs_size_only_hit_pct: number;
  agent_vs_strategy_only_hit_pct: number;
  agent_cost_vs_size_only_pct: number;
  agent_cost_vs_strategy_only_pct: number;
  targets_met: { hit_20pct_above_size_only: boolean; hit_3pct_above_strategy_only: boolean };
  belady_gap_hit_points: number | null;
  belady_fixed_gap_hit_points: number;
}

/** Sizes of the frontier runs, GB. */
export const FRONTIER_GB = [4, 8, 16, 24, 32, 48, 64, 128] as const;

/** One point of the frontier: a fixed size under one replacement policy on the test days. */
export interface FrontierPoint {
  policy: string;
  size_gb: number;
  hit_rate: number;
  cost: number;
}

export interface CacheBenchResult {
  command: string;
  selected: { policy: string; size_gb: number; validation_rewards: Record<string, number> };
  /** empty with selectOnly */
  rows: CacheBenchRow[];
  policy_share: Record<string, Record<string, number>>;
  comparisons: CacheBenchComparisons | null;
  /**
   * with `frontier`: every point, and the best hit rate any of them reaches at a cost ≤ size-only's and ≤
   * strategy-only's, as a % above each rule's hit rate (compare with the targets +20 % and +3 %)
   */
  frontier?: { points: FrontierPoint[]; best_vs_size_only_hit_pct: number; best_vs_strategy_only_hit_pct: number };
}

/**
 * Runs the benchmark, prints its table and writes the results file; see the file's comment. Throws
 * InputError when the Twitch sample is missing (and no `demand` is given), on an unknown policy or a bad size.
 */
export function benchCache(o: CacheBenchOptions = {}): CacheBenchResult {
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[bench:cache +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  const command = o.command ?? 'benchCache()';
  const agentPath = o.agent ?? join('models', 'cache-agent', 'agent.json');
  const out = o.out === undefined ? join('bench', 'results', 'cache.json') : o.out;
  if (o.policy !== undefined && !(POLICY_NAMES as readonly string[]).includes(o.policy))
    throw new InputError(`policy: one of ${POLICY_NAMES.join(', ')}, got "${o.policy}"`);
  if (o.sizeGb !== undefined && !(o.sizeGb > 0)) throw new InputError(`size-gb: must be > 0, got ${o.sizeGb}`);
  let demand = o.demand;
  if (!demand) {
    const dir = join(dataRoot(), 'live');
    if (!existsSync(join(dir, 'twitch100k_sample_train.csv')))
      throw new InputError(`bench:cache needs the Twitch sample: ${dir}/twitch100k_sample_train.csv (set EDGEPLAY_DATA)`);
    demand = buildDemand(loadTwitchRows(dir));
  }
  const sim = (req: Requests, tuner: CacheTuner, gb: number, policy: string, measureFrom: number, next?: Float64Array) =>
    runCacheSim(req, tuner, { ...CACHE_SIM_DEFAULTS, econ: CACHE_ECONOMICS, capacityBytes: gb * 1e9, policy, measureFrom, next });

  // 1. selection on the validation days
  let bestPolicy = o.policy ?? '';
  let bestGb = o.sizeGb ?? NaN;
  const selection: Record<string, number> = {};
  if (!bestPolicy || Number.isNaN(bestGb)) {
    const v = spanSeconds(CACHE_SPLIT.validation);
    const req = demand.requests(v.start, v.end);
    log(`selection on validation days ${CACHE_SPLIT.validation.from}–${CACHE_SPLIT.validation.to - 1}: ${req.n} requests`);
    let best = -Infinity;
    for (const p of POLICY_NAMES) {
      const r = sim(req, new FixedTuner(16e9, p), 16, p, v.measureFrom);
      selection[`${p}@16gb`] = r.meanReward;
      log(`  ${p} 16 GB: reward ${r.meanReward.toFixed(4)}, hit ${(r.hitRate * 100).toFixed(2)} %`);
      if (r.meanReward > best) [best, bestPolicy] = [r.meanReward, p];
    }
    best = selection[`${bestPolicy}@16gb`];
    bestGb = 16;
    for (const gb of [4, 8, 32, 64]) {
      const r = sim(req, new FixedTuner(gb * 1e9, bestPolicy), gb, bestPolicy, v.measureFrom);
      selection[`${bestPolicy}@${gb}gb`] = r.meanReward;
      log(`  ${bestPolicy} ${gb} GB: reward ${r.meanReward.toFixed(4)}, hit ${(r.hitRate * 100).toFixed(2)} %`);
      if (r.meanReward > best) [best, bestGb] = [r.meanReward, gb];
    }
  }
  log(`selected: policy ${bestPolicy} (size-only keeps it), size ${bestGb} GB (strategy-only and the fixed rows keep it)`);
  const selected = { policy: bestPolicy, size_gb: bestGb, validation_rewards: selection };
  if (o.selectOnly) {
    if (out) {
      const f = join(dirname(out), 'cache-selection.json');
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, JSON.stringify({ command, split: CACHE_SPLIT, ...selected }, null, 1) + '\n');
      log(`wrote ${f}; the test rows: npm run bench:cache -- --policy ${bestPolicy} --size-gb ${bestGb}`);
    }
    return { command, selected, rows: [], policy_share: {}, comparisons: null };
  }

  // 2. held-out test days
  const ts = spanSeconds(CACHE_SPLIT.test);
  const req = demand.requests(ts.start, ts.end);
  log(`test days ${CACHE_SPLIT.test.from}–${CACHE_SPLIT.test.to - 1} (warm-up day ${CACHE_SPLIT.test.warmDay}): ${req.n} requests`);
  const results: Array<{ name: string; r: CacheSimResult }> = [];
  const run = (name: string, tuner: CacheTuner, gb: number, policy: string, next?: Float64Array) => {
    const r = sim(req, tuner, gb, policy, ts.measureFrom, next);
    results.push({ name, r });
    log(
      `  ${name}: hit ${(r.hitRate * 100).toFixed(2)} %, byte-hit ${(r.byteHitRate * 100).toFixed(2)} %, size ${r.meanSizeGB.toFixed(1)} GB, cost $${r.cost.toFixed(1)}`,
    );
    return r;
  };
  for (const p of POLICY_NAMES) run(`fixed-${p}`, new FixedTuner(bestGb * 1e9, p), bestGb, p);
  const sizeOnly = run('size-only', new SizeRuleTuner(bestPolicy), bestGb, bestPolicy);
  const strategyOnly = run('strategy-only', new StrategyRuleTuner(bestGb * 1e9), bestGb, bestPolicy);
  let agent: CacheSimResult | null = null;
  let agentMeta: unknown = null;
  if (existsSync(agentPath)) {
    const file = JSON.parse(readFileSync(agentPath, 'utf8'));
    agentMeta = file.meta ?? null;
    agent = run('agent', new AgentTuner(file), bestGb, bestPolicy);
  } else log(`no ${agentPath}: run npm run train:cache (the agent row is left out)`);
  const next = nextUse(req);
  const belady = run('belady (fixed size)', new FixedTuner(bestGb * 1e9, 'belady'), bestGb, 'belady', next);
  const beladyAgent = agent
    ? run(`belady (agent's mean size)`, new FixedTuner(agent.meanSizeGB * 1e9, 'belady'), agent.meanSizeGB, 'belady', next)
    : null;

  const rows: CacheBenchRow[] = results.map(({ name, r }) => ({
    policy: name,
    hit_rate: r.hitRate,
    byte_hit_rate: r.byteHitRate,
    origin_gb: r.originGB,
    mean_size_gb: r.meanSizeGB,
    cost: r.cost,
  }));
  const pct = (x: number, y: number) => ((x / y - 1) * 100).toFixed(1);
  print(`\n| policy | hit rate | byte hit rate | origin GB | mean size GB | cost $ | policies used |`);
  print(`|---|---:|---:|---:|---:|---:|---|`);
  for (const { name, r } of results)
    print(
      `| ${name} | ${(r.hitRate * 100).toFixed(2)} % | ${(r.byteHitRate * 100).toFixed(2)} % | ${r.originGB.toFixed(0)} | ${r.meanSizeGB.toFixed(1)} | ${r.cost.toFixed(1)} | ${Object.entries(
        r.policyShare,
      )
        .map(([k, v]) => `${k} ${(v * 100).toFixed(0)} %`)
        .join(', ')} |`,
    );
  const comparisons: CacheBenchComparisons | null = agent
    ? {
        agent_vs_size_only_hit_pct: +pct(agent.hitRate, sizeOnly.hitRate),
        agent_vs_strategy_only_hit_pct: +pct(agent.hitRate, strategyOnly.hitRate),
        agent_cost_vs_size_only_pct: +pct(agent.cost, sizeOnly.cost),
        agent_cost_vs_strategy_only_pct: +pct(agent.cost, strategyOnly.cost),
        targets_met: {
          hit_20pct_above_size_only: agent.hitRate >= 1.2 * sizeOnly.hitRate && agent.cost <= sizeOnly.cost,
          hit_3pct_above_strategy_only: agent.hitRate >= 1.03 * strategyOnly.hitRate && agent.cost <= strategyOnly.cost,
        },
        belady_gap_hit_points: beladyAgent ? (beladyAgent.hitRate - agent.hitRate) * 100 : null,
        belady_fixed_gap_hit_points: (belady.hitRate - agent.hitRate) * 100,
      }
    : null;
  if (comparisons) {
    print(
      `\nagent vs size-only: hit ${comparisons.agent_vs_size_only_hit_pct} % (target ≥ +20 %), cost ${comparisons.agent_cost_vs_size_only_pct} %; vs strategy-only: hit ${comparisons.agent_vs_strategy_only_hit_pct} % (target ≥ +3 %), cost ${comparisons.agent_cost_vs_strategy_only_pct} %`,
    );
    print(
      `gap to Belady: ${comparisons.belady_gap_hit_points?.toFixed(2)} hit-rate points at the agent's mean size, ${comparisons.belady_fixed_gap_hit_points.toFixed(2)} at ${bestGb} GB`,
    );
  }
  let frontier: CacheBenchResult['frontier'];
  if (o.frontier) {
    log(`frontier: belady and ${bestPolicy} at ${FRONTIER_GB.join(', ')} GB`);
    const points: FrontierPoint[] = [];
    for (const gb of FRONTIER_GB)
      for (const p of [bestPolicy, 'belady']) {
        const r = sim(req, new FixedTuner(gb * 1e9, p), gb, p, ts.measureFrom, p === 'belady' ? next : undefined);
        points.push({ policy: p, size_gb: gb, hit_rate: r.hitRate, cost: r.cost });
        log(`  ${p} ${gb} GB: hit ${(r.hitRate * 100).toFixed(2)} %, cost $${r.cost.toFixed(1)}`);
      }
    const bestWithin = (cost: number) => Math.max(...points.filter((q) => q.cost <= cost).map((q) => q.hit_rate), 0);
    frontier = {
      points,
      best_vs_size_only_hit_pct: +pct(bestWithin(sizeOnly.cost), sizeOnly.hitRate),
      best_vs_strategy_only_hit_pct: +pct(bestWithin(strategyOnly.cost), strategyOnly.hitRate),
    };
    print(`\n| size GB | ${bestPolicy} hit | ${bestPolicy} cost $ | belady hit | belady cost $ |`);
    print(`|---:|---:|---:|---:|---:|`);
    for (const gb of FRONTIER_GB) {
      const [a, b] = [bestPolicy, 'belady'].map((p) => points.find((q) => q.policy === p && q.size_gb === gb)!);
      print(
        `| ${gb} | ${(a.hit_rate * 100).toFixed(2)} % | ${a.cost.toFixed(1)} | ${(b.hit_rate * 100).toFixed(2)} % | ${b.cost.toFixed(1)} |`,
      );
    }
    print(
      `\nbest fixed size (offline replacement included) at no higher cost: ${frontier.best_vs_size_only_hit_pct} % above size-only (target +20 %), ${frontier.best_vs_strategy_only_hit_pct} % above strategy-only (target +3 %)`,
    );
  }
  const policy_share = Object.fromEntries(results.map(({ name, r }) => [name, r.policyShare]));
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          command,
          split: CACHE_SPLIT,
          economics: CACHE_ECONOMICS,
          demand: demand.params,
          selected,
          rows,
          policy_share,
          comparisons,
          ...(frontier ? { frontier } : {}),
          agent: agentMeta,
        },
        null,
        1,
      ) + '\n',
    );
    log(`wrote ${out}`);
  }
  return { command, selected, rows, policy_share, comparisons, ...(frontier ? { frontier } : {}) };
}
