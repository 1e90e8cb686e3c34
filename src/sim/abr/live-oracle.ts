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

import { LiveSession, TrueSizes, type LiveOptions, type LiveVideo } from './live.js';
import { PACKET_PAYLOAD_PORTION, type SimTrace } from './env.js';

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

/**
 * The throughput a causal planner assumes (`causalWorld`), Mb/s on the trace's scale: the harmonic mean of the last
 * 5 transfer throughputs the session measured (LiveObservation.throughputs, bytes/ms, as RobustMPC's estimate
 * before its error discount), divided by the link's payload share (the simulator's links deliver 0.95 of the trace
 * rate), times `safety` (≤ 1 plans on a slower link). 0.5 Mb/s before any chunk was measured. Throws on a `safety`
 * that is not finite and > 0.
 */
export function causalThroughputMbps(throughputs: readonly number[], safety = 1): number {
  if (!(Number.isFinite(safety) && safety > 0)) throw new Error(`causalThroughputMbps: safety ${safety} is not finite and > 0`);
  let inv = 0;
  let m = 0;
  for (let i = Math.max(0, throughputs.length - 5); i < throughputs.length; i++)
    if (throughputs[i] > 0) {
      inv += 1 / throughputs[i];
      m++;
    }
  if (!m) return 0.5 * safety;
  return ((m / inv) * 8 * safety) / 1000 / PACKET_PAYLOAD_PORTION;
}

/**
 * The world of a **causal** expert (session 13, issue 14): a copy of `session` at its decision point in which the
 * link delivers the session's own throughput estimate from now on (`causalThroughputMbps` of what it measured, times
 * `safety`) and the next chunks weigh what the session's policy is told (its observation's `sizes`, the size source's
 * forecast), not their true bytes. Everything the copy holds is what the player can know (buffer, latency, playback
 * rate and its controller, the clock, the last rung), so a planner on it — `rungValues(causalWorld(s), …)` — makes
 * decisions a student can read from its own state, unlike the oracle's. `session` is not stepped. Throws as
 * `LiveSession.imagined`, and on a finished session.
 */
export function causalWorld(session: LiveSession, safety = 1): LiveSession {
  if (session.done) throw new Error('causalWorld: the session is finished');
  const now = session.clone();
  now.awaitDecisionPoint();
  const ob = now.observation();
  return now.imagined(ob.sizes, causalThroughputMbps(ob.throughputs, safety));
}

/**
 * Every rung's value at one decision of a live session (session 13: the oracle as a per-rung score, AggreVaTe-style,
 * not as a label): for each rung q of the ladder, the session's total live QoE (kbit, as LiveSessionResult.qoe.total)
 * after playing q now and then the best continuation a beam search (`beam` states per rung) finds over the following
 * `horizon` − 1 chunks — the cost-to-go of q under a planner that knows what `session` lets it know (the trace and the
 * true bytes for a real session: the clairvoyant `oracle-hN`; the session's own estimate and forecast for a
 * `causalWorld` copy). The best rung's value minus another's is that rung's regret. Returns one number per rung
 * (index = rung); values are comparable within one call only. `session` is not stepped. Throws as `oracleDecision`.
 */
export function rungValues(session: LiveSession, horizon = 5, beam = 2): number[] {
  if (!(Number.isInteger(beam) && beam >= 1)) throw new Error(`rungValues: beam ${beam} is not an integer >= 1`);
  if (!(Number.isInteger(horizon) && horizon >= 1)) throw new Error(`rungValues: horizon ${horizon} is not an integer >= 1`);
  if (session.done) throw new Error('rungValues: the session is finished');
  if (session.opts.noise) throw new Error('rungValues: a session with training noise cannot be searched');
  const root = session.clone();
  root.awaitDecisionPoint();
  return session.video.ladderKbps.map((_, q) => {
    const c = root.clone();
    c.step(q);
    return horizon > 1 && !c.done ? beamSearch(c, horizon - 1, beam).total : c.result.qoe.total;
  });
}

/**
 * Every rung's value under a **causal continuation** (session 13, issue 14): for each rung q, the session's total live
 * QoE (kbit) after playing q now and then letting `policy` decide the following `horizon` − 1 chunks on its own
 * observations — on the session's real trace and true bytes, so the rungs are compared on the same future (common
 * random numbers), but nothing after q is chosen with hindsight. With the learner's own policy this is its Q-function
 * truncated at `horizon` chunks (Monte Carlo, exact for the sampled future): argmax_q is one step of policy
 * improvement, and best − value a regret free of the hindsight bias of `rungValues` on a real session (whose
 * continuation knows the future throughput and so makes risky rungs look cheap). `policy` must be stateless between
 * decisions (e.g. LiveDrlPolicy); its rate controller is not used (the session's copy keeps its own). Returns one number
 * per rung; `session` is not stepped. Throws on a finished or noisy session, a horizon that is not an integer ≥ 1.
 */
export function rolloutValues(session: LiveSession, policy: LivePolicy, horizon = 10): number[] {
  if (!(Number.isInteger(horizon) && horizon >= 1)) throw new Error(`rolloutValues: horizon ${horizon} is not an integer >= 1`);
  if (session.done) throw new Error('rolloutValues: the session is finished');
  if (session.opts.noise) throw new Error('rolloutValues: a session with training noise cannot be searched');
  const root = session.clone();
  root.awaitDecisionPoint();
  return session.video.ladderKbps.map((_, q) => {
    const c = root.clone();
    c.step(q);
    for (let i = 1; i < horizon && !c.done; i++) {
      c.awaitDecisionPoint();
      c.step(policy.decide(c.observation()));
    }
    return c.result.qoe.total;
  });
}
