/**
 * The cache trainer (src/train/cache.ts) on a small synthetic demand (no dataset): the walk-to-target rule, and an
 * imitation warm start whose agent, validated greedily, walks the cache to the imitated size and policy and carries
 * its objective (reward kind, rent weight) in the file it writes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentReward, decodeAction, type CacheAgentFile } from '../../src/assign/cache/index.js';
import { mulberry32 } from '../../src/core/random.js';
import { buildDemand } from '../../src/sim/cache/demand.js';
import { targetAction, trainCache } from '../../src/train/cache.js';

describe('train:cache (src/train/cache.ts)', () => {
  it('the walk-to-target rule takes the size step nearest in log size, with its policy', () => {
    const act = (cap: number, target: number, p = 'lru') => decodeAction(targetAction(cap * 1e9, target * 1e9, p));
    expect(act(16, 32)).toEqual({ step: 2, policy: 'lru' });
    expect(act(16, 16, 'gdsf')).toEqual({ step: 1, policy: 'gdsf' });
    expect(act(16, 17)).toEqual({ step: 1, policy: 'lru' }); // within √1.25 of the target: keep
    expect(act(16, 20)).toEqual({ step: 1.25, policy: 'lru' });
    expect(act(16, 2)).toEqual({ step: 0.5, policy: 'lru' });
    expect(() => targetAction(16e9, 8e9, 'fifo')).toThrowError(/imitation policy/);
    expect(() => targetAction(16e9, 0, 'lru')).toThrowError(/> 0/);
  });

  it('an imitation warm start walks the validation run to the imitated size and policy; the file carries its objective', async () => {
    // 30 channels over 25 days (the training and validation days of CACHE_SPLIT), a row per channel every 30 min
    const rng = mulberry32(5);
    const rows = [];
    for (let slot = 0; slot < 25 * 144; slot += 3)
      for (let ch = 0; ch < 30; ch++) if (rng() < 1 / (1 + ch)) rows.push({ user: `${slot}-${ch}`, channel: ch, slot });
    const demand = buildDemand(rows, { scale: 2 });
    const out = mkdtempSync(join(tmpdir(), 'cache-train-'));
    try {
      const r = await trainCache({
        demand,
        iters: 0,
        rentWeight: 0.5,
        imitate: { sizeGb: 2, policy: 'lfu', episodes: 4, epochs: 60 },
        out,
        log: () => {},
      });
      expect(r.validations.map((v) => v.iteration)).toEqual([0]);
      const v = r.validations[0].result;
      // the validation starts at 16 GB, LRU: the imitated agent walks the size down towards 2 GB (an untrained
      // network wanders or stays at 16) and switches to LFU
      expect(v.policyShare.lfu).toBeGreaterThan(0.9);
      expect(v.meanSizeGB).toBeLessThan(8);
      const file = JSON.parse(readFileSync(join(out, 'agent.json'), 'utf8')) as CacheAgentFile;
      expect(agentReward(file)).toEqual({ kind: 'bytes', rentWeight: 0.5 });
      expect(r.best.iteration).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
