/**
 * The edge-cache policies and tuners (src/assign/cache): capacity and bookkeeping invariants of ByteCache
 * under every policy, each policy's eviction order, Belady's bound, the learning window's adaptation, the
 * fused action space and the agent's decision.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  agentReward,
  AgentTuner,
  intervalReward,
  applyAction,
  ByteCache,
  CACHE_ECONOMICS,
  decodeAction,
  encodeState,
  LearningWindow,
  N_ACTIONS,
  POLICY_NAMES,
  SIZE_STEPS,
  SizeRuleTuner,
  STATE_SIZE,
  StrategyRuleTuner,
  TunedCache,
  FixedTuner,
  type CacheAgentFile,
  type IntervalStats,
  type TunerObservation,
} from '../../src/assign/cache/index.js';
import { mulberry32 } from '../../src/core/random.js';

/** a random stream over `objects` keys with Zipf-ish popularity; sizes fixed per key */
function stream(seed: number, n: number, objects: number, unit = false) {
  const rng = mulberry32(seed);
  const size = Array.from({ length: objects }, () => (unit ? 1 : 1 + Math.floor(rng() * 20)));
  const keys: number[] = [];
  for (let i = 0; i < n; i++) keys.push(Math.min(objects - 1, Math.floor(objects * rng() ** 2.5)));
  const next = new Float64Array(n).fill(Infinity);
  const seen = new Map<number, number>();
  for (let i = n - 1; i >= 0; i--) {
    next[i] = seen.get(keys[i]) ?? Infinity;
    seen.set(keys[i], i);
  }
  return { keys, size, next };
}

function hits(policy: string, cap: number, s: ReturnType<typeof stream>): number {
  const c = new ByteCache<number>(cap, policy);
  let h = 0;
  s.keys.forEach((k, i) => {
    if (c.request(k, s.size[k], i, { next: s.next[i] })) h++;
  });
  return h;
}

describe('edge cache: ByteCache and replacement policies', () => {
  for (const policy of [...POLICY_NAMES, 'belady']) {
    it(`${policy}: never exceeds capacity, counts bytes exactly, hits only what it holds`, () => {
      const s = stream(3, 3000, 200);
      const cap = 150;
      const c = new ByteCache<number>(cap, policy);
      const held = new Set<number>();
      const evicted: number[] = [];
      const c2 = new ByteCache<number>(cap, policy, (k) => evicted.push(k));
      s.keys.forEach((k, i) => {
        const had = c.has(k, i);
        const hit = c.request(k, s.size[k], i, { next: s.next[i] });
        expect(hit).toBe(had);
        expect(c.used).toBeLessThanOrEqual(cap);
        c2.request(k, s.size[k], i, { next: s.next[i] });
        if (i % 250 === 0) {
          let sum = 0;
          held.clear();
          for (const key of c.keys()) {
            sum += c.entry(key)!.bytes;
            held.add(key);
          }
          expect(sum).toBe(c.used);
        }
      });
      expect(c.counters.requests).toBe(s.keys.length);
      expect(c.counters.evictions).toBeGreaterThan(0);
      expect(evicted.length).toBe(c2.counters.evictions);
      // shrinking evicts at once
      c.resize(40);
      expect(c.used).toBeLessThanOrEqual(40);
      c.resize(0);
      expect(c.used).toBe(0);
      expect(c.count).toBe(0);
    });
  }

  it('lru evicts the least recently used', () => {
    const c = new ByteCache<string>(3, 'lru');
    for (const k of ['a', 'b', 'c', 'a']) c.request(k, 1, 0);
    c.request('d', 1, 1);
    expect([...c.keys()].sort()).toEqual(['a', 'c', 'd']);
  });

  it('lfu evicts the least frequently used, the least recent among equals, and ages', () => {
    const c = new ByteCache<string>(3, 'lfu');
    for (const k of ['a', 'a', 'a', 'b', 'c']) c.request(k, 1, 0);
    c.request('d', 1, 1); // b and c have one access each; b is older
    expect([...c.keys()].sort()).toEqual(['a', 'c', 'd']);
    // aging: after enough evictions the inflation passes a's old count and a new object can displace it
    for (let i = 0; i < 10; i++) c.request(`n${i}`, 1, 2 + i);
    expect(c.has('a', 20)).toBeFalse();
  });

  it('gdsf prefers to evict large objects at equal frequency', () => {
    const c = new ByteCache<string>(30, 'gdsf');
    c.request('big', 20, 0);
    c.request('s1', 5, 1);
    c.request('s2', 5, 2);
    c.request('s3', 5, 3); // needs 5 bytes: the big object goes, though it is not the least recent
    expect(c.has('big', 4)).toBeFalse();
    expect(['s1', 's2', 's3'].every((k) => c.has(k, 4))).toBeTrue();
  });

  it('belady (unit sizes: the optimum) hits at least as often as every online policy', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const s = stream(seed, 2000, 100, true);
      const b = hits('belady', 10, s);
      for (const p of POLICY_NAMES) expect(b).toBeGreaterThanOrEqual(hits(p, 10, s));
    }
  });

  it('belady refuses without the offline hint', () => {
    const c = new ByteCache<string>(10, 'belady');
    expect(() => c.request('a', 1, 0)).toThrowError(/next-use hint/);
  });

  it('switching policy keeps the contents and their byte count', () => {
    const c = new ByteCache<number>(100, 'lru');
    const s = stream(5, 500, 80);
    s.keys.forEach((k, i) => c.request(k, s.size[k], i));
    const before = [...c.keys()].sort((a, b) => a - b);
    const used = c.used;
    for (const p of ['lfu', 'gdsf', 'lru']) {
      c.setPolicy(p);
      expect(c.policy).toBe(p);
      expect([...c.keys()].sort((a, b) => a - b)).toEqual(before);
      expect(c.used).toBe(used);
    }
    c.request(10_000, 50, 1000); // the adopted order still yields victims
    expect(c.used).toBeLessThanOrEqual(100);
  });

  it('expired entries are misses and leave', () => {
    const c = new ByteCache<string>(100, 'lru');
    c.insert('p.m3u8', 10, 0, undefined, 1);
    expect(c.lookup('p.m3u8', 10, 0.5)).toBeTrue();
    expect(c.lookup('p.m3u8', 10, 1.5)).toBeFalse();
    expect(c.used).toBe(0);
  });

  it('rejects bad sizes and unknown policies', () => {
    expect(() => new ByteCache(-1, 'lru')).toThrowError(/capacity/);
    expect(() => new ByteCache(10, 'fifo')).toThrowError(/unknown replacement policy/);
    expect(new ByteCache(10, 'lru').insert('x', 11, 0)).toBeFalse();
  });
});

describe('edge cache: learning window', () => {
  it('shortens its half-life when popularity moves and lengthens it while it stays', () => {
    const w = new LearningWindow<number>({ intervalS: 600, minHalfLifeS: 600, maxHalfLifeS: 86400 });
    const rng = mulberry32(9);
    let t = 0;
    const interval = (groups: number[]) => {
      for (let i = 0; i < 500; i++) {
        const g = groups[Math.floor(rng() ** 2 * groups.length)];
        w.observe(g * 1000 + Math.floor(rng() * 50), g, 1e6, false, (t += 1));
      }
      t += 100;
      return w.close(t);
    };
    const stable = Array.from({ length: 20 }, (_, i) => i);
    let s!: IntervalStats;
    for (let k = 0; k < 30; k++) s = interval(stable);
    const calm = s.halfLifeS;
    expect(calm).toBeGreaterThan(w.opts.minHalfLifeS);
    const shifted = Array.from({ length: 20 }, (_, i) => 100 + i);
    const d = interval(shifted);
    expect(d.drift).toBeGreaterThan(0.8);
    expect(d.newGroupShare).toBe(1);
    expect(d.halfLifeS).toBeLessThan(calm);
    expect(s.reuse.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});

describe('edge cache: tuners and the agent', () => {
  const stats = (over: Partial<IntervalStats> = {}): IntervalStats => ({
    spanS: 600,
    requests: 1000,
    bytes: 1e10,
    hits: 400,
    bytesHit: 4e9,
    reqRate: 1000 / 600,
    byteRate: 1e10 / 600,
    windowReqRate: 1000 / 600,
    reuse: [0.3, 0.1, 0.05, 0.05, 0.5],
    top10Share: 0.4,
    newGroupShare: 0.1,
    drift: 0.2,
    halfLifeS: 3600,
    ...over,
  });
  const obs = (over: Partial<TunerObservation> = {}): TunerObservation => ({
    stats: stats(),
    capacityBytes: 16e9,
    usedBytes: 15e9,
    policy: 'lru',
    evictionIdleS: 1200,
    econ: CACHE_ECONOMICS,
    reward: 0.4,
    ...over,
  });

  it('fuses size steps and policies into one action space', () => {
    expect(N_ACTIONS).toBe(SIZE_STEPS.length * POLICY_NAMES.length);
    const seen = new Set<string>();
    for (let a = 0; a < N_ACTIONS; a++) {
      const { step, policy } = decodeAction(a);
      seen.add(`${step}/${policy}`);
      const d = applyAction(a, 16e9);
      expect(d.capacityBytes).toBeCloseTo(16e9 * step, -3);
      expect(d.policy).toBe(policy);
    }
    expect(seen.size).toBe(N_ACTIONS);
    expect(applyAction(0, 0.3e9).capacityBytes).toBe(0.25e9); // clamped to the bounds
    expect(() => decodeAction(N_ACTIONS)).toThrowError(/out of range/);
  });

  it('the agent takes the action its network rates highest', () => {
    const target = 11;
    const H = 4;
    const file: CacheAgentFile = {
      in: STATE_SIZE,
      hidden: [H],
      out: N_ACTIONS,
      layers: [
        { w: new Array(STATE_SIZE * H).fill(0), b: new Array(H).fill(1) },
        { w: new Array(H * N_ACTIONS).fill(0).map((_, i) => (i % N_ACTIONS === target ? 1 : 0)), b: new Array(N_ACTIONS).fill(0) },
      ],
    };
    const agent = new AgentTuner(file);
    const d = agent.decide(obs());
    expect(agent.lastAction).toBe(target);
    expect(d).toEqual(applyAction(target, 16e9));
    expect(() => new AgentTuner({ ...file, in: 3 })).toThrowError(/do not match/);
  });

  it('encodes a bounded state of the documented size', () => {
    const x = encodeState(obs());
    expect(x.length).toBe(STATE_SIZE);
    for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(2);
    // the policy one-hot follows the policy
    const y = encodeState(obs({ policy: 'gdsf' }));
    expect(Array.from(x).join()).not.toBe(Array.from(y).join());
  });

  it('the trained agent (models/cache-agent) loads and decides within bounds', () => {
    const f = 'models/cache-agent/agent.json';
    if (!existsSync(f)) return pending('no models/cache-agent/agent.json: npm run train:cache');
    const agent = new AgentTuner(JSON.parse(readFileSync(f, 'utf8')));
    const d = agent.decide(obs());
    expect(POLICY_NAMES as readonly string[]).toContain(d.policy);
    expect(d.capacityBytes).toBeGreaterThanOrEqual(0.25e9);
    expect(d.capacityBytes).toBeLessThanOrEqual(1024e9);
  });

  it('size-only turns back when the reward falls; strategy-only switches policy when the hit rate drops', () => {
    const s = new SizeRuleTuner('lru');
    const up = s.decide(obs({ reward: 0.4 }));
    expect(up.capacityBytes).toBeGreaterThan(16e9);
    const down = s.decide(obs({ reward: 0.3, capacityBytes: up.capacityBytes }));
    expect(down.capacityBytes).toBeLessThan(up.capacityBytes);
    expect(down.policy).toBe('lru');
    const r = new StrategyRuleTuner(16e9, 0.1, 1);
    for (let i = 0; i < 5; i++) expect(r.decide(obs()).policy).toBe('lru');
    const sw = r.decide(obs({ stats: stats({ hits: 200 }) }));
    expect(sw.policy).toBe('lfu');
    expect(sw.capacityBytes).toBe(16e9);
  });

  it('TunedCache bills rent and egress and applies each decision', () => {
    const tc = new TunedCache<number>(new FixedTuner(5e9, 'gdsf'), { capacityBytes: 10e9, policy: 'lru', econ: CACHE_ECONOMICS });
    for (let i = 0; i < 100; i++) tc.request(i % 10, i % 10, 1e8, i);
    const r = tc.endInterval(600);
    expect(r.stats.requests).toBe(100);
    expect(r.stats.hits).toBe(90);
    expect(r.rent).toBeCloseTo(10 * (600 / 3600) * CACHE_ECONOMICS.rentPerGBHour, 9);
    expect(r.egress).toBeCloseTo(10 * 0.1 * CACHE_ECONOMICS.egressPerGB, 9);
    expect(tc.cache.capacity).toBe(5e9);
    expect(tc.cache.policy).toBe('gdsf');
  });

  it("weighs the rent by rentWeight, and a trained agent observes the reward of its own file's objective", () => {
    const s = stats();
    const full = intervalReward(CACHE_ECONOMICS, s, 16e9, 'bytes');
    const half = intervalReward(CACHE_ECONOMICS, s, 16e9, 'bytes', 0.5);
    const rentTerm = (16 * (600 / 3600) * CACHE_ECONOMICS.rentPerGBHour) / (10 * CACHE_ECONOMICS.egressPerGB);
    expect(full).toBeCloseTo(0.4 - rentTerm, 9);
    expect(half).toBeCloseTo(0.4 - rentTerm / 2, 9);
    expect(intervalReward(CACHE_ECONOMICS, s, 16e9, 'hits', 0)).toBeCloseTo(0.4, 9);
    const H = 2;
    const file: CacheAgentFile = {
      in: STATE_SIZE,
      hidden: [H],
      out: N_ACTIONS,
      layers: [
        { w: new Array(STATE_SIZE * H).fill(0), b: new Array(H).fill(0) },
        { w: new Array(H * N_ACTIONS).fill(0), b: new Array(N_ACTIONS).fill(0) },
      ],
    };
    expect(agentReward(file)).toEqual({ kind: 'bytes', rentWeight: 1 }); // files from before the option
    const agent = new AgentTuner({ ...file, meta: { reward: 'bytes', rent_weight: 0.5 } });
    expect(agent.reward).toEqual({ kind: 'bytes', rentWeight: 0.5 });
    expect(() => new AgentTuner({ ...file, meta: { rent_weight: -1 } })).toThrowError(/rent_weight/);
    // the TunedCache's own setting (weight 1) yields to the agent's objective
    const tc = new TunedCache<number>(agent, { capacityBytes: 10e9, policy: 'lru', econ: CACHE_ECONOMICS, rentWeight: 1 });
    const plain = new TunedCache<number>(new FixedTuner(10e9, 'lru'), {
      capacityBytes: 10e9,
      policy: 'lru',
      econ: CACHE_ECONOMICS,
      rentWeight: 1,
    });
    for (const c of [tc, plain]) for (let i = 0; i < 100; i++) c.request(i % 10, i % 10, 1e8, i);
    const [ra, rp] = [tc.endInterval(600), plain.endInterval(600)];
    const rent = (10 * (600 / 3600) * CACHE_ECONOMICS.rentPerGBHour) / (10 * CACHE_ECONOMICS.egressPerGB);
    expect(rp.reward).toBeCloseTo(0.9 - rent, 9);
    expect(ra.reward).toBeCloseTo(0.9 - rent / 2, 9);
  });
});
