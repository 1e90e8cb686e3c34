/**
 * Node-side loading for the CDN simulators: the Twitch traffic and the ABR responses of the shared traces
 * (`$EDGEPLAY_DATA/abr/traces/{train,test}`, built once and cached under `.cache/cdn-sim`). Training and
 * dev days use the response measured on the training traces; test days the one measured on the test traces
 * (held-out viewers' networks on held-out days).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../abr/load.js';
import { cachedAbrResponse, traceClasses, type ResponseMix } from './abr-response.js';
import { profilesOf } from './cdns.js';
import { MechanisticSim } from './mechanistic.js';
import { PiecewiseSim } from './piecewise.js';
import { daySplit, Traffic } from './traffic.js';
import type { CdnSim } from './env.js';

export const CACHE_DIR = resolve(process.env.EDGEPLAY_CACHE ?? '.cache/cdn-sim');

/** What is missing for the CDN simulators, or null when the data are there. */
export function missingData(root = dataRoot()): string | null {
  for (const p of [
    join(root, 'live', 'twitch100k_sample_train.csv'),
    join(root, 'abr', 'traces', 'train'),
    join(root, 'abr', 'traces', 'test'),
    join(root, 'abr', 'video', 'video_size_0'),
  ])
    if (!existsSync(p)) return `${p} not found (set EDGEPLAY_DATA)`;
  return null;
}

export function loadTraffic(root = dataRoot()): Traffic {
  return Traffic.fromDir(join(root, 'live'));
}

/** viewer classes by access throughput (abr-response.ts ResponseMix) and sessions measured per class */
export const TRACE_CLASSES = 3;
export const SESSIONS_PER_CLASS = 1600;
const responses = new Map<string, ResponseMix>();
/** The ABR response of one trace set ('train' or 'test'), per class of traces, from the cache or built (minutes, progress printed). */
export function loadResponse(set: 'train' | 'test', root = dataRoot(), log: (s: string) => void = console.log): ResponseMix {
  const hit = responses.get(set);
  if (hit) return hit;
  const traces = loadTraceDir(join(root, 'abr', 'traces', set));
  const videoSizes = loadVideoSizes(join(root, 'abr', 'video'));
  const groups = traceClasses(traces, TRACE_CLASSES);
  const mix: ResponseMix = {
    classes: groups.map((g, c) =>
      cachedAbrResponse(CACHE_DIR, {
        label: `${set}-c${c}`,
        traces: g,
        videoSizes,
        sessions: SESSIONS_PER_CLASS,
        seed: 1 + c,
        progress: (d, n) => log(`[cdn-sim] ABR response of the ${set} traces, class ${c + 1}/${groups.length}: ${d}/${n} viewer sessions`),
      }),
    ),
    weights: groups.map((g) => g.length / traces.length),
  };
  responses.set(set, mix);
  return mix;
}

/** the response a day is simulated with: the training traces' on training and dev days, the test traces' on test days */
export function responseForDay(day: number, root = dataRoot()): ResponseMix {
  return loadResponse(daySplit(day) === 'test' ? 'test' : 'train', root);
}

/** A piecewise or mechanistic simulator for a CDN set such as 'ABC' (the learned one: learned.ts). */
export function makeSim(kind: 'piecewise' | 'mechanistic', set: string, traffic: Traffic, seed = 1, root = dataRoot()): CdnSim {
  const prof = profilesOf(set);
  return kind === 'piecewise'
    ? new PiecewiseSim(traffic, prof, seed)
    : new MechanisticSim(traffic, prof, (d) => responseForDay(d, root), seed);
}
