/**
 * Node-side loading for the CDN simulators: the Twitch traffic and the ABR responses of the shared traces
 * (`$EDGEPLAY_DATA/abr/traces/{train,test}`, built once and cached under `.cache/cdn-sim`). Three trace sets,
 * never sharing a trace (session 11): training days use the response measured on the training traces less
 * every 7th (`traceSet('train')`), dev days the one measured on those held-out every-7th training traces
 * (`traceSet('dev')`, the same held-out split train:abr selects on), test days the one measured on the test
 * traces (held-out viewers' networks on held-out days). Before session 11 dev days used the training traces'
 * response, so selection never saw viewers' networks the training days had not.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataRoot, heldOutSplit, loadTraceDir, loadVideoSizes } from '../abr/load.js';
import { cachedAbrResponse, traceClasses, type ResponseMix } from './abr-response.js';
import { profilesOf } from './cdns.js';
import { MechanisticSim, type MechanisticRandomisation } from './mechanistic.js';
import { PiecewiseSim } from './piecewise.js';
import { daySplit, Traffic, type DaySplit } from './traffic.js';
import type { SimTrace } from '../abr/env.js';
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
/** the trace sets of the CDN simulators: one per day split */
export type TraceSet = DaySplit;

/**
 * The traces of one trace set, sorted by name: 'train' = `abr/traces/train` without every 7th (from the 4th),
 * 'dev' = those held-out every-7th training traces (`heldOutSplit`, train:abr's split), 'test' = `abr/traces/test`. The three are disjoint; the
 * test directory is read only for 'test'. Throws on an unknown set or a missing directory.
 */
export function traceSet(set: TraceSet, root = dataRoot()): SimTrace[] {
  if (set === 'test') return loadTraceDir(join(root, 'abr', 'traces', 'test'));
  if (set !== 'train' && set !== 'dev') throw new Error(`traceSet: unknown trace set ${JSON.stringify(set)} (train|dev|test)`);
  const all = loadTraceDir(join(root, 'abr', 'traces', 'train'));
  const out = heldOutSplit(all)[set];
  if (!out.length) throw new Error(`traceSet: no ${set} traces among the ${all.length} training traces`);
  return out;
}

const responses = new Map<string, ResponseMix>();
/** The ABR response of one trace set (traceSet), per class of traces, from the cache or built (minutes, progress printed). */
export function loadResponse(set: TraceSet, root = dataRoot(), log: (s: string) => void = console.log): ResponseMix {
  const key = `${root}|${set}`;
  const hit = responses.get(key);
  if (hit) return hit;
  const traces = traceSet(set, root);
  const videoSizes = loadVideoSizes(join(root, 'abr', 'video'));
  const groups = traceClasses(traces, TRACE_CLASSES);
  const mix: ResponseMix = {
    classes: groups.map((g, c) =>
      cachedAbrResponse(CACHE_DIR, {
        label: `${set === 'train' ? 'trainfit' : set}-c${c}`,
        traces: g,
        videoSizes,
        sessions: SESSIONS_PER_CLASS,
        seed: 1 + c,
        progress: (d, n) => log(`[cdn-sim] ABR response of the ${set} traces, class ${c + 1}/${groups.length}: ${d}/${n} viewer sessions`),
      }),
    ),
    weights: groups.map((g) => g.length / traces.length),
  };
  responses.set(key, mix);
  return mix;
}

/** the trace set whose response a day is simulated with: its own split's (training, dev or test traces) */
export function traceSetForDay(day: number): TraceSet {
  return daySplit(day);
}

/** the response a day is simulated with: the training traces' on training days, the held-out dev traces' on dev days, the test traces' on test days */
export function responseForDay(day: number, root = dataRoot()): ResponseMix {
  return loadResponse(traceSetForDay(day), root);
}

/**
 * A piecewise or mechanistic simulator for a CDN set such as 'ABC' (the learned one: learned.ts);
 * `randomise`: the mechanistic training days' domain randomisation (mechanistic.ts), an Error for the piecewise one.
 */
export function makeSim(
  kind: 'piecewise' | 'mechanistic',
  set: string,
  traffic: Traffic,
  seed = 1,
  root = dataRoot(),
  randomise?: MechanisticRandomisation,
): CdnSim {
  const prof = profilesOf(set);
  if (randomise && kind !== 'mechanistic') throw new Error(`makeSim: randomisation is for the mechanistic simulator, not ${kind}`);
  return kind === 'piecewise'
    ? new PiecewiseSim(traffic, prof, seed)
    : new MechanisticSim(traffic, prof, (d) => responseForDay(d, root), seed, randomise);
}
