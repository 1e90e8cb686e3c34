/**
 * Shared fixtures of the live-ABR specs (live-abr.spec.ts, live-oracle.spec.ts): hand-built traces and a synthetic VBR
 * live stream.
 */
import { stepTrace } from '../../src/core/trace.js';
import { mulberry32 } from '../../src/core/random.js';
import type { LiveVideo } from '../../src/sim/abr/live.js';
import type { SimTrace } from '../../src/sim/abr/env.js';

/** a step trace (`[seconds, Mb/s]` pieces, core/trace.ts `stepTrace`) in the simulators' shape */
export const sim = (name: string, steps: Array<[number, number]>): SimTrace => {
  const t = stepTrace(name, steps);
  return { name, time: t.times, bw: t.mbps };
};

/** a VBR-ish live stream: 3 rungs (300/750/1200 kb/s), 2 s chunks, `n` chunks whose sizes vary ±40 % around nominal (seeded) */
export function syntheticLiveVideo(n: number, seed: number): LiveVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200];
  const sizes = Array.from({ length: n }, () => {
    const c = 0.6 + 0.8 * rng();
    return ladderKbps.map((k) => Math.round((c * k * 1000 * 2) / 8));
  });
  return { name: `synthetic${seed}`, ladderKbps, chunkS: 2, sizes };
}

/** the specs' hand-built links: a fast one (20 Mb/s), a varying one (2.5 → 0.5 → 1.2 → 0.2 → 4 Mb/s) and a starved one (0.15 Mb/s) */
export const handTraces = (): SimTrace[] => [
  sim('fast', [[600, 20]]),
  sim('varying', [
    [15, 2.5],
    [10, 0.5],
    [20, 1.2],
    [10, 0.2],
    [25, 4],
  ]),
  sim('starved', [[600, 0.15]]),
];
