/**
 * An offline near-optimal live ABR policy (issue 14): a **ceiling**, not a deployable policy. It answers "how much
 * QoE above the baselines is there to win in the live simulator at all?", for the target of ≥ 10 % above the best
 * baseline.
 *
 * What it knows: everything the simulator knows — the whole throughput trace from the session's cursor on (so the
 * future throughput exactly), the true bytes of every future chunk at every rung, and the simulator's own dynamics
 * (src/sim/abr/live.ts: the live edge, part publication, the request RTT, playback-rate catch-up by the same
 * rate controller the policy declares, rebuffering and latency). It plans by running copies of the real session
 * (LiveSession.clone), so its model error is zero.
 *
 * Search: a beam search over the rung of every chunk of the session (horizon: the whole session, not N chunks),
 * scored by the session's own live QoE (core/live-qoe.ts: bitrate − switches − rebuffering − latency − playback
 * rate change, the LoL+ evaluator weights). After each chunk the children of every kept state (one per rung) are
 * grouped by the rung just played; each group keeps at most `beam` states, best cumulative QoE first, skipping any
 * state another kept one dominates (QoE ≥, buffer ≥, latency ≤). The best final state's rungs are the plan. Not exact
 * even with an unlimited beam: the dominance test ignores the wall clock (the position on the trace), the playback rate
 * and the rate controller's state, so a pruned state can have a better future; a near-optimum, and the spec checks that
 * it finds the exhaustive optimum on small cases.
 *
 * Receding-horizon variant (`horizon` N > 0, policy name `oracle-hN`): the same search over the next N chunks only,
 * re-run at every decision, the first rung played — what a perfect N-chunk forecast of throughput and sizes is worth
 * to an MPC-style planner, myopic beyond N. It is at most the full-session plan's QoE up to the beam's slack.
 *
 * Cost: (chunks − 1) × R × (≤ R · beam) simulated chunk downloads per session (R rungs), e.g. 59 × 6 × 48 ≈ 17 k for
 * 120 s of 2-s chunks on 6 rungs at beam 8, each a full simulation of the chunk (parts, 0.1-s rate ticks); about
 * 1 s per 120-s session of a 9-rung ladder on one core. The receding variant costs about N times that per decision.
 *
 * The first chunk is played at `firstQuality` as by every policy under runLiveSession; the plan covers the rest.
 * Pure TypeScript, no I/O.
 */
import { LolpRateController, type LiveObservation, type LivePolicy, type RateController } from '../../abr/live.js';
import type { SimTrace } from './env.js';
import { LiveSession, TrueSizes, type LiveOptions, type LiveVideo } from './live.js';

export interface LiveOraclePlan {
  /** rungs of chunks startChunk + 1 .. startChunk + chunks − 1 (the first chunk is at firstQuality) */
  plan: number[];
  /** the session's total live QoE (kbit) the plan reaches, as LiveSessionResult.qoe.total */
  qoeTotal: number;
  /** simulated chunk downloads the search cost */
  expanded: number;
}

interface Node {
  s: LiveSession;
  q: number;
  parent: Node | null;
}

/**
 * Beam search from `root` (a session just before a decision) over the rungs of the next `depth` chunks (all that are
 * left when `depth` is larger), scored by the cumulative live QoE; `root` is not stepped. Returns the best leaf's
 * rungs, its session's total QoE and the downloads simulated.
 */
function beamSearch(root: LiveSession, depth: number, beam: number): { rungs: number[]; total: number; expanded: number } {
  const R = root.video.ladderKbps.length;
  let expanded = 0;
  let front: Node[] = [{ s: root.clone(), q: -1, parent: null }];
  for (let d = 0; d < depth && !front[0].s.done; d++) {
    const groups: Node[][] = Array.from({ length: R }, () => []);
    for (const n of front) {
      n.s.awaitDecisionPoint();
      for (let q = 0; q < R; q++) {
        const c = n.s.clone();
        c.step(q);
        expanded++;
        groups[q].push({ s: c, q, parent: n });
      }
    }
    front = [];
    for (const g of groups) {
      g.sort((a, b) => b.s.result.qoe.total - a.s.result.qoe.total);
      const kept: Node[] = [];
      for (const n of g) {
        if (kept.length >= beam) break;
        const dominated = kept.some(
          (k) => k.s.result.qoe.total >= n.s.result.qoe.total - 1e-9 && k.s.buf >= n.s.buf - 1e-9 && k.s.latency <= n.s.latency + 1e-9,
        );
        if (!dominated) kept.push(n);
      }
      front.push(...kept);
    }
  }
  let best = front[0];
  for (const n of front) if (n.s.result.qoe.total > best.s.result.qoe.total) best = n;
  const rungs: number[] = [];
  for (let n: Node | null = best; n && n.parent; n = n.parent) rungs.push(n.q);
  rungs.reverse();
  return { rungs, total: best.s.result.qoe.total, expanded };
}

/**
 * Plans a live session offline (see the file comment). `beam` ≥ 1: states kept per rung after each chunk.
 * `horizon`: 0 (default) searches the whole session at once; N > 0 is the receding-horizon variant — at every
 * decision a beam search over the next N chunks only (cumulative QoE of those N, no terminal value, as MPC), the
 * first rung is played on the real session, and the search repeats: perfect knowledge of the next N chunks' sizes
 * and of the throughput while they download, but myopic beyond them. `rate` builds the playback-rate controller the
 * policy will run with (default LoL+'s, as the DRL and RobustMPC). Throws on a session `opts` with training noise
 * (the plan would not replay), a bad beam or horizon.
 */
export function planLiveOracle(
  video: LiveVideo,
  trace: SimTrace,
  opts: LiveOptions,
  beam = 8,
  rate: () => RateController = () => new LolpRateController(),
  horizon = 0,
): LiveOraclePlan {
  if (!(Number.isInteger(beam) && beam >= 1)) throw new Error(`planLiveOracle: beam ${beam} is not an integer >= 1`);
  if (!(Number.isInteger(horizon) && horizon >= 0)) throw new Error(`planLiveOracle: horizon ${horizon} is not an integer >= 0`);
  if (opts.noise) throw new Error('planLiveOracle: a session with noise cannot be planned offline');
  const root = new LiveSession(video, trace, new TrueSizes(video), { ...opts, keepLog: false }, rate());
  root.step(opts.firstQuality ?? 0);
  if (horizon === 0) {
    const r = beamSearch(root, Infinity, beam);
    return { plan: r.rungs, qoeTotal: r.total, expanded: 1 + r.expanded };
  }
  const plan: number[] = [];
  let expanded = 1;
  while (!root.done) {
    root.awaitDecisionPoint();
    const r = beamSearch(root, horizon, beam);
    expanded += r.expanded + 1;
    root.step(r.rungs[0]);
    plan.push(r.rungs[0]);
  }
  return { plan, qoeTotal: root.result.qoe.total, expanded };
}

/**
 * The receding-horizon oracle's decision at one state of a live session (the expert that labels the states a learned
 * policy visits, Comyco-style imitation, train:live-abr `distillExpert: 'oracle-hN'`): a beam search over the next
 * `horizon` chunks from a copy of `session` (at its decision point, perfect knowledge of the future throughput and
 * of the true bytes, as planLiveOracle's `oracle-hN`), returning the first rung of the best sequence (0-based).
 * `session` is not stepped (its decision point is awaited on the copy). The download bytes are the video's true
 * sizes whatever size source the session tells its policy, so the label does not depend on it. Throws on a finished
 * session, a session with training noise (`opts.noise`), a bad horizon (integer ≥ 1) or beam (integer ≥ 1), or a stateful
 * (RiskSizes) source.
 */
export function oracleDecision(session: LiveSession, horizon = 5, beam = 2): number {
  if (!(Number.isInteger(beam) && beam >= 1)) throw new Error(`oracleDecision: beam ${beam} is not an integer >= 1`);
  if (!(Number.isInteger(horizon) && horizon >= 1)) throw new Error(`oracleDecision: horizon ${horizon} is not an integer >= 1`);
  if (session.done) throw new Error('oracleDecision: the session is finished');
  // a clone shares the session's noise closure (and its random stream): searching would move the session's own noise
  if (session.opts.noise) throw new Error('oracleDecision: a session with training noise cannot be searched');
  return beamSearch(session, horizon, beam).rungs[0];
}

/**
 * The oracle behind the live policy interface (name `oracle`, or `oracle-hN` with a receding horizon of N chunks):
 * built for one session (video, trace, options), it plans on its first
 * decision (planLiveOracle) and then plays the plan, so runLiveSession with TrueSizes reproduces `planned.qoeTotal`
 * exactly. Its decide() throws when asked about a chunk outside the planned session (another session or video).
 * Benchmarks report it as a ceiling, never as a baseline or a selection.
 */
export class LiveOraclePolicy implements LivePolicy {
  readonly name: string;
  planned: LiveOraclePlan | null = null;
  constructor(
    private video: LiveVideo,
    private trace: SimTrace,
    private opts: LiveOptions,
    private beam = 8,
    private horizon = 0,
  ) {
    this.name = horizon ? `oracle-h${horizon}` : 'oracle';
  }
  rateController(): RateController {
    return new LolpRateController();
  }
  decide(o: LiveObservation): number {
    this.planned ??= planLiveOracle(this.video, this.trace, this.opts, this.beam, () => this.rateController(), this.horizon);
    const i = o.nextIndex - this.opts.startChunk - 1;
    if (!(i >= 0 && i < this.planned.plan.length))
      throw new Error(
        `LiveOraclePolicy: chunk ${o.nextIndex} is outside the planned session ${this.video.name} from ${this.opts.startChunk}`,
      );
    return this.planned.plan[i];
  }
}
