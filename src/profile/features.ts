/**
 * ELCast's profiler inputs for one request, from a viewer's own history (on the device) and the channel's
 * aggregates (from the controller): the device's feature contract, which the simulator's `buildRequests`
 * (src/sim/viewers/requests.ts) and the trainer follow. Same layout and meaning as `buildRequests`
 * (checked equal by test/node/profile.spec.ts).
 */
import { interactionRate } from '../core/preference.js';

export const K_RECORDS = 8;
/** I_u,h ×k, T_u,h ×k, then I_u,all, I_all,h, T_u,all, T_all,h, N_u */
export const REQUEST_FEATURES = 2 * K_RECORDS + 5;

/** Requests as rows: the features above and the three targets (the simulator and the Twitch loader build it). */
export interface RequestData {
  x: Float32Array; // n × REQUEST_FEATURES, raw units (normalisation is the model's job)
  y: Float32Array; // n × 3: I (#/h), D (h), N (#)
  t: Float64Array; // request time (s)
  user: Int32Array;
  n: number;
}

export interface WatchRecord {
  channel: string;
  /** visit (session) id */
  visit: string;
  /** epoch ms the watch started */
  at: number;
  /** watch duration, hours */
  hours: number;
  /** chat messages sent during the watch */
  msgs: number;
}

export interface ChannelAggregates {
  I_all: number | null;
  T_all: number | null;
}

/**
 * @param history the viewer's finished watches, oldest first
 * @param currentVisit the visit of this request (its watches so far are history but it is not finished)
 */
export function requestFeatures(
  history: WatchRecord[],
  channel: string,
  agg: ChannelAggregates,
  currentVisit: string | null,
  out = new Float32Array(REQUEST_FEATURES),
): Float32Array {
  out.fill(0);
  const onCh = history.filter((w) => w.channel === channel);
  for (let j = 0; j < K_RECORDS; j++) {
    const rec = onCh[onCh.length - K_RECORDS + j];
    if (!rec) continue;
    out[j] = interactionRate(rec.msgs, rec.hours);
    out[K_RECORDS + j] = rec.hours;
  }
  if (history.length) {
    let sI = 0,
      sT = 0;
    for (const w of history) {
      sI += interactionRate(w.msgs, w.hours);
      sT += w.hours;
    }
    out[2 * K_RECORDS] = sI / history.length;
    out[2 * K_RECORDS + 2] = sT / history.length;
  }
  out[2 * K_RECORDS + 1] = agg.I_all ?? 0;
  out[2 * K_RECORDS + 3] = agg.T_all ?? 0;
  // N_u: channels watched (watches) per finished visit
  const visits = new Map<string, number>();
  for (const w of history) if (w.visit !== currentVisit) visits.set(w.visit, (visits.get(w.visit) ?? 0) + 1);
  if (visits.size) out[2 * K_RECORDS + 4] = [...visits.values()].reduce((a, n) => a + n, 0) / visits.size;
  return out;
}
