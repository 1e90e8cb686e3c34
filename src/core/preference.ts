/**
 * ELCast's personalised QoE preference: weights from the predicted behaviour of a viewer, and the QoE
 * penalty they weigh. One implementation, used by the on-device profiler and by the edge controller.
 *   a1 = log(1 + (I_u + 1)/(Ī + 1))   streaming latency   (I: interaction frequency, messages/hour)
 *   a2 = log(1 + N_u/N̄)               channel switching   (N: channels watched per visit)
 *   a3 = log(1 + D_u/D̄)               bitrate             (D: watch duration, hours)
 * scaled so a1 + a2 + a3 = 10. Ī, N̄, D̄ are the population medians (served by the controller).
 *   P_u = a1·Ls + a2·Lw + a3·B         (streaming latency s, switching latency s, bitrate mismatch)
 */

export interface PreferenceWeights {
  a1: number;
  a2: number;
  a3: number;
}

/**
 * Interaction frequency of one watch, messages per hour, over at least one minute: a rate measured over a
 * few seconds is noise (one message in 5 s is not 720 an hour). Used by the simulator, the device and the
 * controller alike.
 */
export function interactionRate(msgs: number, hours: number): number {
  return msgs > 0 ? msgs / Math.max(hours, 1 / 60) : 0;
}
export interface Behaviour {
  I: number;
  D: number;
  N: number;
}

/** equal weights: what a viewer without a profile gets */
export const DEFAULT_WEIGHTS: Readonly<PreferenceWeights> = Object.freeze({ a1: 10 / 3, a2: 10 / 3, a3: 10 / 3 });

function check(b: Behaviour, what: string): void {
  for (const k of ['I', 'D', 'N'] as const) {
    if (typeof b?.[k] !== 'number' || !Number.isFinite(b[k]) || b[k] < 0)
      throw new RangeError(`${what}.${k} must be a finite number ≥ 0, got ${b?.[k]}`);
  }
}

export function preferenceWeights(pred: Behaviour, medians: Behaviour): PreferenceWeights {
  check(pred, 'prediction');
  check(medians, 'medians');
  const a1 = Math.log(1 + (pred.I + 1) / (medians.I + 1));
  const a2 = medians.N > 0 ? Math.log(1 + pred.N / medians.N) : Math.LN2;
  const a3 = medians.D > 0 ? Math.log(1 + pred.D / medians.D) : Math.LN2;
  const s = a1 + a2 + a3;
  if (!(s > 0)) return { ...DEFAULT_WEIGHTS };
  return { a1: (10 * a1) / s, a2: (10 * a2) / s, a3: (10 * a3) / s };
}

/** Validate weights that arrive from outside (e.g. a negotiation request): three finite ≥ 0 summing to 10 (±0.01). */
export function validWeights(w: unknown): w is PreferenceWeights {
  const o = w as PreferenceWeights;
  if (!o || ![o.a1, o.a2, o.a3].every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) return false;
  return Math.abs(o.a1 + o.a2 + o.a3 - 10) <= 0.01;
}

export interface QoeTerms {
  /** streaming latency, seconds */
  Ls: number;
  /** channel-switching latency, seconds */
  Lw: number;
  /** bitrate mismatch (e.g. Mb/s below the requested version, or a normalised gap) */
  B: number;
}

export function qoePenalty(w: PreferenceWeights, t: QoeTerms): number {
  return w.a1 * t.Ls + w.a2 * t.Lw + w.a3 * t.B;
}
