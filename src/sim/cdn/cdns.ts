/**
 * The four CDN providers of the simulators (LTS §5.1 picks 3 of 4). Each sells capacity to other customers
 * too, so what it can give our viewers follows its own daily cycle (LTS Fig. 3: the best CDN changes through
 * the day), with slow noise and incidents (a CDN losing half its capacity for an hour); its paths to our
 * viewers (peering) also congest at their own busy hour, which lowers every viewer's throughput on it
 * whatever our load (measurement studies of multi-CDN delivery, e.g. Liu et al. SIGCOMM'12 and Adhikari et
 * al. INFOCOM'12, find that the best CDN changes with time of day and place). Capacities are in
 * viewers served at full rate (src/sim/cdn/mechanistic.ts); the platform has about 40k concurrent viewers on
 * average and 60–90k at the daily peak (src/sim/cdn/traffic.ts).
 */
import { mulberry32 } from '../../core/random.js';
import { DAY_MIN } from './traffic.js';

export interface CdnProfile {
  id: string;
  /** mean capacity: viewers it serves at their full access rate */
  capacity: number;
  /** throughput factor of its paths to our viewers (peering; ≤ 1) */
  path: number;
  /** its peering links congest at the ISPs' busy hour: the path factor drops by this fraction at pathPeakHour */
  pathDip: number;
  pathPeakHour: number;
  /** connection setup added to every startup (DNS, TLS, playlist), s */
  setupS: number;
  /** other customers' load peaks at this hour (of the traffic's day) and takes this fraction of capacity at its peak */
  bgPeakHour: number;
  bgAmplitude: number;
  /** probability per day of one incident: half the capacity for INCIDENT_MIN minutes */
  incidentProb: number;
  /** standard deviation of the slow capacity noise (fraction) */
  noise: number;
}

export const INCIDENT_MIN = 60;
export const INCIDENT_FACTOR = 0.5;

/**
 * A: the big one, busy at our own peak hour; B: mid-size, busy at midday; C: small, fast, unstable (more
 * incidents); D: mid-size, slower paths.
 */
export const CDN_PROFILES: readonly CdnProfile[] = [
  {
    id: 'A',
    capacity: 22000,
    path: 0.9,
    pathDip: 0.15,
    pathPeakHour: 20,
    setupS: 0.6,
    bgPeakHour: 21,
    bgAmplitude: 0.3,
    incidentProb: 0.3,
    noise: 0.04,
  },
  {
    id: 'B',
    capacity: 16000,
    path: 1.0,
    pathDip: 0.35,
    pathPeakHour: 21,
    setupS: 0.4,
    bgPeakHour: 13,
    bgAmplitude: 0.3,
    incidentProb: 0.3,
    noise: 0.05,
  },
  {
    id: 'C',
    capacity: 9000,
    path: 1.0,
    pathDip: 0.2,
    pathPeakHour: 9,
    setupS: 0.25,
    bgPeakHour: 3,
    bgAmplitude: 0.4,
    incidentProb: 0.5,
    noise: 0.08,
  },
  {
    id: 'D',
    capacity: 13000,
    path: 0.85,
    pathDip: 0.1,
    pathPeakHour: 15,
    setupS: 0.5,
    bgPeakHour: 17,
    bgAmplitude: 0.25,
    incidentProb: 0.3,
    noise: 0.05,
  },
];

/** The 3-of-4 combinations (LTS §5.1), e.g. ['ABC', 'ABD', 'ACD', 'BCD']. */
export function cdnCombinations(n = 3, all: readonly CdnProfile[] = CDN_PROFILES): string[] {
  const out: string[] = [];
  const rec = (start: number, acc: string) => {
    if (acc.length === n) return void out.push(acc);
    for (let i = start; i < all.length; i++) rec(i + 1, acc + all[i].id);
  };
  rec(0, '');
  return out;
}
/** Profiles of a combination such as 'ABC'; throws on an unknown id or a repeated one. */
export function profilesOf(set: string, all: readonly CdnProfile[] = CDN_PROFILES): CdnProfile[] {
  const ids = set.split('');
  if (new Set(ids).size !== ids.length) throw new Error(`CDN set ${set}: repeated CDN`);
  return ids.map((id) => {
    const p = all.find((c) => c.id === id);
    if (!p) throw new Error(`CDN set ${set}: unknown CDN ${id} (known: ${all.map((c) => c.id).join('')})`);
    return p;
  });
}

export interface CapacityDay {
  /** capacity per minute, index 0 = `from` minutes before the day starts */
  cap: Float64Array;
  /** path factor per minute (same indexing) */
  path: Float64Array;
  from: number;
  /** incident start minute of the day, or −1 */
  incident: number;
}

/**
 * One CDN's capacity over a day (and `warmup` minutes before it): capacity × (1 − amplitude·bg(hour)) ×
 * (1 + AR(1) noise), bg = (1 + cos(2π(hour − peak)/24))/2, halved during an incident; and its path factor
 * path × (1 − pathDip·bg'(hour)) with bg' peaking at pathPeakHour. Deterministic in (profile, day, seed).
 */
export function capacityDay(p: CdnProfile, day: number, seed: number, warmup: number): CapacityDay {
  const idNum = p.id.charCodeAt(0);
  const rng = mulberry32((seed * 1000003 + day * 7919 + idNum * 104729) >>> 0);
  const n = warmup + DAY_MIN;
  const cap = new Float64Array(n);
  const path = new Float64Array(n);
  let ar = 0;
  const rho = Math.exp(-1 / 30);
  const sd = p.noise * Math.sqrt(1 - rho * rho);
  // warm the noise up
  for (let i = 0; i < 60; i++) ar = rho * ar + sd * gauss(rng);
  const incident = rng() < p.incidentProb ? Math.floor(rng() * (DAY_MIN - INCIDENT_MIN)) : -1;
  for (let i = 0; i < n; i++) {
    const m = i - warmup;
    const hour = (((m / 60) % 24) + 24) % 24;
    const bg = (1 + Math.cos((2 * Math.PI * (hour - p.bgPeakHour)) / 24)) / 2;
    ar = rho * ar + sd * gauss(rng);
    let c = p.capacity * (1 - p.bgAmplitude * bg) * (1 + ar);
    if (incident >= 0 && m >= incident && m < incident + INCIDENT_MIN) c *= INCIDENT_FACTOR;
    cap[i] = Math.max(1, c);
    path[i] = p.path * (1 - (p.pathDip * (1 + Math.cos((2 * Math.PI * (hour - p.pathPeakHour)) / 24))) / 2);
  }
  return { cap, path, from: warmup, incident };
}

function gauss(rng: () => number): number {
  const u = Math.max(1e-12, rng());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
