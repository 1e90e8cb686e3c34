/**
 * Assignment policies behind one interface, shared by the controller (src/server/negotiate.ts) and the
 * simulator (src/sim/edge/sim.ts): a policy ranks the feasible options of one viewer request (from
 * `options()`, the CDN option first) and the caller takes the best one it can still reserve.
 * ELCast §5 baselines: cloud-cdn (everyone on the CDN) and online-heu (the feasible option with the highest
 * one-step reward); cost-only (least transcoding + bandwidth cost) is the greedy learner's cost-only
 * counterpart; the trained DRL policy is `DrlAssignment` (drl.ts).
 */
import type { EdgeState, Option, ViewerRequest } from './model.js';

export interface AssignmentPolicy {
  readonly name: string;
  /**
   * Indices into `opts`, best first (never empty: index 0, the CDN option, is always feasible).
   * @param edgeIds every configured edge in a fixed order (the DRL policy's slot layout)
   */
  rank(req: ViewerRequest, opts: Option[], edges: EdgeState[], edgeIds: string[]): number[];
}

/** indices of `opts` ordered by `key` descending; ties keep the options' order (the first best wins) */
function orderBy(opts: Option[], key: (o: Option) => number): number[] {
  return opts.map((_, i) => i).sort((a, b) => key(opts[b]) - key(opts[a]) || a - b);
}

export const CLOUD_CDN: AssignmentPolicy = { name: 'cloud-cdn', rank: () => [0] };

export const ONLINE_HEU: AssignmentPolicy = { name: 'online-heu', rank: (_req, opts) => orderBy(opts, (o) => o.reward) };

export const COST_ONLY: AssignmentPolicy = { name: 'cost-only', rank: (_req, opts) => orderBy(opts, (o) => -(o.costT + o.costB)) };

/** the built-in (untrained) policies by name */
export const BASELINE_POLICIES: Record<string, AssignmentPolicy> = {
  'cloud-cdn': CLOUD_CDN,
  'online-heu': ONLINE_HEU,
  'cost-only': COST_ONLY,
};
