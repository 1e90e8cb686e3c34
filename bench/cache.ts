/**
 * `npm run bench:cache -- [--agent models/cache-agent/agent.json] [--out bench/results/cache.json]
 *   [--select-only] [--size-gb N --policy P (skip the selection on validation days)]`
 *
 * The edge cache in the Twitch-driven simulator (src/sim/cache; edge-intelligence-immersive-media, "Edge
 * Caching for Multimedia Content"). Selection on the validation days (CACHE_SPLIT.validation): the best fixed
 * policy at 16 GB (size-only keeps it) and the best fixed size for that policy among 4–64 GB (strategy-only
 * and the fixed rows keep it), by mean reward. Then, on the held-out test days (CACHE_SPLIT.test, after a
 * warm-up day): every fixed policy at that size, size-only, strategy-only, the learned agent, and Belady (offline
 * bound) at the fixed size and at the agent's mean size. Writes rows {policy, hit_rate, byte_hit_rate, origin_gb,
 * mean_size_gb, cost} (cost: rent + origin egress in $, CACHE_ECONOMICS) and the comparisons with the issue's
 * targets. `--select-only` stops after the selection (writes bench/results/cache-selection.json); its
 * choice can then be passed as `--policy P --size-gb N`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
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
import { buildDemand, nextUse } from '../src/sim/cache/demand.js';
import { CACHE_SIM_DEFAULTS, runCacheSim, type CacheSimResult } from '../src/sim/cache/sim.js';
import { CACHE_SPLIT, spanSeconds } from '../src/sim/cache/split.js';
import { loadTwitchRows } from '../src/sim/viewers/stats.js';

const { values: a } = parseArgs({
  options: {
    agent: { type: 'string', default: join('models', 'cache-agent', 'agent.json') },
    out: { type: 'string', default: join('bench', 'results', 'cache.json') },
    'size-gb': { type: 'string' },
    policy: { type: 'string' },
    'select-only': { type: 'boolean', default: false },
  },
});
const t0 = Date.now();
const log = (s: string) => console.log(`[bench:cache +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
const dir = join(dataRoot(), 'live');
if (!existsSync(join(dir, 'twitch100k_sample_train.csv'))) {
  console.log(`bench:cache needs the Twitch sample: ${dir}/twitch100k_sample_train.csv (EDGEPLAY_DATA)`);
  process.exit(1);
}
const demand = buildDemand(loadTwitchRows(dir));
const sim = (
  req: Parameters<typeof runCacheSim>[0],
  tuner: CacheTuner,
  gb: number,
  policy: string,
  measureFrom: number,
  next?: Float64Array,
) => runCacheSim(req, tuner, { ...CACHE_SIM_DEFAULTS, econ: CACHE_ECONOMICS, capacityBytes: gb * 1e9, policy, measureFrom, next });

// 1. selection on the validation days
let bestPolicy = a.policy ?? '';
let bestGb = a['size-gb'] ? Number(a['size-gb']) : NaN;
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
if (a['select-only']) {
  const f = join(dirname(a.out!), 'cache-selection.json');
  writeFileSync(
    f,
    JSON.stringify(
      {
        command: `npm run bench:cache -- ${process.argv.slice(2).join(' ')}`.trim(),
        split: CACHE_SPLIT,
        policy: bestPolicy,
        size_gb: bestGb,
        validation_rewards: selection,
      },
      null,
      1,
    ) + '\n',
  );
  log(`wrote ${f}; the test rows: npm run bench:cache -- --policy ${bestPolicy} --size-gb ${bestGb}`);
  process.exit(0);
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
if (existsSync(a.agent!)) {
  const file = JSON.parse(readFileSync(a.agent!, 'utf8'));
  agentMeta = file.meta ?? null;
  agent = run('agent', new AgentTuner(file), bestGb, bestPolicy);
} else log(`no ${a.agent}: run npm run train:cache (the agent row is left out)`);
const next = nextUse(req);
const belady = run('belady (fixed size)', new FixedTuner(bestGb * 1e9, 'belady'), bestGb, 'belady', next);
const beladyAgent = agent
  ? run(`belady (agent's mean size)`, new FixedTuner(agent.meanSizeGB * 1e9, 'belady'), agent.meanSizeGB, 'belady', next)
  : null;

const rows = results.map(({ name, r }) => ({
  policy: name,
  hit_rate: r.hitRate,
  byte_hit_rate: r.byteHitRate,
  origin_gb: r.originGB,
  mean_size_gb: r.meanSizeGB,
  cost: r.cost,
}));
const pct = (x: number, y: number) => ((x / y - 1) * 100).toFixed(1);
console.log(`\n| policy | hit rate | byte hit rate | origin GB | mean size GB | cost $ | policies used |`);
console.log(`|---|---:|---:|---:|---:|---:|---|`);
for (const { name, r } of results)
  console.log(
    `| ${name} | ${(r.hitRate * 100).toFixed(2)} % | ${(r.byteHitRate * 100).toFixed(2)} % | ${r.originGB.toFixed(0)} | ${r.meanSizeGB.toFixed(1)} | ${r.cost.toFixed(1)} | ${Object.entries(
      r.policyShare,
    )
      .map(([k, v]) => `${k} ${(v * 100).toFixed(0)} %`)
      .join(', ')} |`,
  );
const comparisons = agent
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
  console.log(
    `\nagent vs size-only: hit ${comparisons.agent_vs_size_only_hit_pct} % (target ≥ +20 %), cost ${comparisons.agent_cost_vs_size_only_pct} %; vs strategy-only: hit ${comparisons.agent_vs_strategy_only_hit_pct} % (target ≥ +3 %), cost ${comparisons.agent_cost_vs_strategy_only_pct} %`,
  );
  console.log(
    `gap to Belady: ${comparisons.belady_gap_hit_points?.toFixed(2)} hit-rate points at the agent's mean size, ${comparisons.belady_fixed_gap_hit_points.toFixed(2)} at ${bestGb} GB`,
  );
}
mkdirSync(dirname(a.out!), { recursive: true });
writeFileSync(
  a.out!,
  JSON.stringify(
    {
      command: `npm run bench:cache -- ${process.argv.slice(2).join(' ')}`.trim(),
      split: CACHE_SPLIT,
      economics: CACHE_ECONOMICS,
      demand: demand.params,
      selected: { policy: bestPolicy, size_gb: bestGb, validation_rewards: selection },
      rows,
      policy_share: Object.fromEntries(results.map(({ name, r }) => [name, r.policyShare])),
      comparisons,
      agent: agentMeta,
    },
    null,
    1,
  ) + '\n',
);
log(`wrote ${a.out}`);
