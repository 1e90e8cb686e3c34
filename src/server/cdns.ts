/**
 * Multi-CDN viewer scheduling in the controller (LTS, ../shared/papers/lts-multi-cdn-drl.txt §3–4): every
 * step (1 min by default) the share of *new* viewers each CDN gets is decided by a policy of
 * src/assign/cdn from every CDN's last k steps of workload and QoE, which the controller measures from the
 * telemetry it ingests. The negotiation (negotiation.ts) gives each new viewer that is not placed on an edge
 * a CDN by the current shares (`pick`) and orders the CDN pathways of its steering manifest.
 *
 * Measurement, per CDN per step (LTS §4.1, §4.3 definitions; the step a measurement falls in is
 * ⌊ingest time / stepMs⌋):
 * - workload: viewer-seconds watched on the CDN in the step / the step's seconds (mean concurrent viewers);
 *   a view's watch time is the time between its consecutive events on that CDN, each gap capped at 30 s;
 * - SLatency: mean `startup_ms` / 1000 of the views that started on the CDN in the step;
 * - BufRatio: stall seconds (`rebuffer_end.duration_ms`) per 100 s watched; BufFreq: stalls
 *   (`rebuffer_start`, a continued stall not counted again) per 100 s watched.
 * The CDN an event belongs to: its `pathway` field when the SDK reports the serving pathway, else the view's
 * last reported pathway, else the CDN the negotiation gave the batch's edge session (`sessionCdn`). A step
 * where a CDN had no viewer keeps that CDN's last measured QoE (mdp.ts: a CDN at 0 % can be raised again).
 *
 * Failures (a CDN that is down or unreachable produces failovers and errors, not QoE: hls.js moves to the next
 * pathway, often with no stall at all). Per CDN per step the scheduler counts three signals the controller
 * already has: failed requests (`requests` events' `failures` on that CDN's pathway), views whose serving
 * pathway moved off that CDN to another of ours (telemetry), and steering requests whose `_HLS_pathway` shows a
 * viewer left the CDN its manifest put first (`left`, from the negotiation service). Each counts the same
 * incidents from another side, so the step's failure incidents are the largest of the three. An incident is
 * charged as a stall of FAILURE_STALL_S in at least FAILURE_WATCH_S of viewing on that CDN (BufRatio and
 * BufFreq over max(watched s, incidents × FAILURE_WATCH_S)): a dead CDN that served nobody scores
 * 100 · 4 / 10 = 40 % BufRatio and 10 stalls per 100 s, by far the worst, and keeps that QoE while nobody
 * watches it; one failed request among hundreds of healthy viewer-minutes adds little. Every policy reads the
 * same observation, so each moves new viewers off the CDN by its own rule (the LTS actions take their points
 * from the worst CDN of the last step). `requests` events only count failures: they name the pathway of
 * a host's requests, not where the view plays.
 *
 * Several controller processes (`redis`): each adds its measurements to a per-step Redis hash, and one of
 * them, the leader, holds a lease key (SET NX PX, one step long, renewed at every step boundary by its holder
 * only); the leader reads the step that just ended, runs the policy, and writes the shares and the history;
 * every process reads them at each step boundary. The incumbent tries first at a boundary, the others a
 * little later (`followerDelayMs`), so a live leader keeps the lease and a dead one is replaced at the next
 * boundary after its lease ran out (within one step). Without Redis this process is the leader.
 * A policy or Redis failure never fails a viewer: the shares in force stay, and `pick` keeps answering.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import { EqualSplit, UcbShares } from '../assign/cdn/baselines.js';
import type { CdnSharePolicy, CdnStepObservation } from '../assign/cdn/index.js';
import { LtsPolicy, ltsModelFromFiles, type LtsManifest } from '../assign/cdn/lts.js';
import { FastLtsPolicy, type TreeModel } from '../assign/cdn/tree.js';
import { CdnHistory, equalPoints, fromPoints, K_STEPS, TOTAL_POINTS, toPoints } from '../assign/cdn/mdp.js';
import type { TelemetryBatch } from '../core/schemas/telemetry.js';

/** One CDN pathway: its id (the Content Steering pathway id) and base URL (scheme, host, port). */
export interface CdnConfig {
  id: string;
  url: string;
}

/** What the scheduler measured for one step, and the shares it decided for the next. */
export interface CdnStepReport {
  /** step index: ⌊epoch ms / stepMs⌋ of the step measured */
  step: number;
  workload: number[];
  slatency: number[];
  bufratio: number[];
  buffreq: number[];
  /** failure incidents per CDN (already folded into bufratio / buffreq as stalls) */
  failures: number[];
  /** shares (fractions) in force during the step */
  shares: number[];
  /** shares decided for the next step */
  next: number[];
}

export interface CdnSchedulerOptions {
  cdns: CdnConfig[];
  /** the policy deciding each step (default: the equal split, which never moves) */
  policy?: CdnSharePolicy;
  /** step length, ms (default 60 000: LTS's 1 min) */
  stepMs?: number;
  /** shared state for several controller processes; without it this process decides alone */
  redis?: Redis;
  /** key prefix in Redis (default 'edgeplay:cdn:') */
  prefix?: string;
  /** this process' id in the lease (default: random) */
  id?: string;
  /** how much later than the incumbent leader the others try for the lease at a boundary (default min(500, stepMs / 5) ms) */
  followerDelayMs?: number;
  /** history kept for `GET /v1/cdns` (steps, default 60) */
  keep?: number;
  /** epoch ms now (default Date.now): which step a measurement falls in */
  clock?: () => number;
  /** no timer: the owner calls `tick(step)` (tests, simulations) */
  manual?: boolean;
  warn?: (message: string) => void;
}

const WATCH_GAP_CAP_MS = 30000;
/**
 * One failure incident on a CDN (a failed request, a viewer who left its pathway) counts as a stall of this
 * many seconds: about one fragment, what the viewer would have stalled had its buffer not covered the failover
 * (hls.js' own retry and pathway-switch time is of that order).
 */
export const FAILURE_STALL_S = 4;
/** ... in at least this many seconds watched on that CDN per incident (the BufRatio / BufFreq denominator's floor) */
export const FAILURE_WATCH_S = 10;
/**
 * fields of a step's counters, per CDN: `req_fail` failed requests, `left` views whose serving pathway moved off
 * the CDN (telemetry), `steer_left` viewers whose steering request showed they left it
 */
const FIELDS = ['watch_s', 'joins', 'startup_s', 'stall_s', 'stalls', 'req_fail', 'left', 'steer_left'] as const;
type Counters = Record<(typeof FIELDS)[number], number>;
const zero = (): Counters => ({ watch_s: 0, joins: 0, startup_s: 0, stall_s: 0, stalls: 0, req_fail: 0, left: 0, steer_left: 0 });

/** Validate `--cdns`: a JSON array of at least two {id, url} with distinct ids and http(s) URLs. @throws Error naming what is wrong */
export function parseCdns(json: string): CdnConfig[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`--cdns must be JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length < 2) throw new Error('--cdns must be a JSON array of at least two {"id", "url"}');
  const ids = new Set<string>();
  return v.map((c, i) => {
    if (!c || typeof c !== 'object') throw new Error(`--cdns[${i}] must be an object {"id", "url"}`);
    const { id, url } = c as Record<string, unknown>;
    if (typeof id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error(`--cdns[${i}].id must be 1–64 of A–Z a–z 0–9 . _ -`);
    if (id === 'cdn') throw new Error(`--cdns[${i}].id: 'cdn' is the multivariant playlist's own pathway`);
    if (ids.has(id)) throw new Error(`--cdns[${i}].id '${id}' is repeated`);
    ids.add(id);
    let u: URL;
    try {
      u = new URL(String(url));
    } catch {
      throw new Error(`--cdns[${i}].url must be an absolute http(s) URL (got '${String(url)}')`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--cdns[${i}].url must be http(s) (got '${String(url)}')`);
    return { id, url: u.origin };
  });
}

/** steps a CDN found down gets no new viewers (the circuit breaker's open time; failureGuard) */
export const DOWN_HOLD_STEPS = 5;
/** then, until a step measures it serving viewers again without being down, at most this share (points): probe viewers */
export const PROBE_POINTS = 5;

/**
 * The scheduler's circuit breaker over any policy's shares (points summing to 100). A CDN is *down* in a step
 * when it had failure incidents and they outweigh its viewing (incidents × FAILURE_WATCH_S ≥ seconds watched on
 * it: fewer than 10 good seconds per failure) — a dead or unreachable CDN, not one failed request among many
 * viewers. For DOWN_HOLD_STEPS steps from its last down step it gets 0 points (the points go to the others in
 * proportion to the policy's shares; if every CDN is down the policy's shares stand); after that, until a step
 * measures it serving viewers without being down, at most PROBE_POINTS, so a few new viewers probe it (a probe
 * that fails over again is a new down step). Why over the policy: a learned policy reads a dead CDN's zero
 * workload as spare capacity (fed such steps, the served LTS tree of models/cdn-lts/mechanistic-ABC.json raised a
 * dead CDN from 4 % back to 74 % in 7 steps, 10 points a step), and a policy's observation is only what the CDN served. Stateless over the shared step history (workload,
 * failures), so a new leader applies it alike. `history`: the steps measured, oldest first, the current one last;
 * `stepS`: the step length (s). Returns new points (the input is not changed).
 */
export function failureGuard(
  points: readonly number[],
  history: ReadonlyArray<{ step: number; workload: ArrayLike<number>; failures?: ArrayLike<number> }>,
  stepS: number,
  step: number,
): number[] {
  const m = points.length;
  const cap = new Array<number>(m).fill(TOTAL_POINTS);
  for (let i = 0; i < m; i++)
    for (let h = history.length - 1; h >= 0; h--) {
      const r = history[h];
      const f = r.failures?.[i] ?? 0;
      const watched = r.workload[i] * stepS;
      if (f > 0 && f * FAILURE_WATCH_S >= watched) {
        cap[i] = step - r.step < DOWN_HOLD_STEPS ? 0 : PROBE_POINTS;
        break;
      }
      if (watched > 0) break; // served viewers without being down since: healthy
    }
  if (cap.every((c) => c === 0) || cap.every((c) => c === TOTAL_POINTS)) return points.slice();
  const out = points.map((p, i) => Math.min(p, cap[i]));
  const spare = TOTAL_POINTS - out.reduce((x, y) => x + y, 0);
  // the points taken go to the CDNs under no cap (else to all not down) in proportion to their shares, largest remainder
  const free = out.map((_, i) => i).filter((i) => cap[i] === TOTAL_POINTS);
  const pool = free.length ? free : out.map((_, i) => i).filter((i) => cap[i] > 0);
  const weights = pool.map((i) => out[i]);
  const add = toPoints(weights, spare); // all zero: the equal split
  pool.forEach((i, k) => (out[i] += add[k]));
  return out;
}

/**
 * A policy trained for other CDN ids (a model's 'A','B','C') serving the controller's CDNs by position: the
 * controller's i-th CDN plays the model's i-th. @throws Error when the counts differ.
 */
export function byPosition(policy: CdnSharePolicy, modelCdns: string[], cdns: string[]): CdnSharePolicy {
  if (modelCdns.length !== cdns.length)
    throw new Error(`the CDN policy '${policy.name}' was trained for ${modelCdns.length} CDNs, --cdns has ${cdns.length}`);
  return {
    name: policy.name,
    reset: policy.reset?.bind(policy),
    step: (obs: CdnStepObservation) => policy.step({ ...obs, cdns: modelCdns.slice() }),
  };
}

export const CDN_POLICIES = ['lts', 'equal', 'd-ucb'] as const;
export type CdnPolicyName = (typeof CDN_POLICIES)[number];

/**
 * The controller's share policy for `cdns`: 'lts' — the trained policy of `model` (models/cdn-lts/<sim>-<set>.json;
 * its Fast-LTS tree when the training chose to serve it), the controller's CDNs in the model's order by position;
 * 'equal' — the static equal split; 'd-ucb' — Discounted UCB with the constants tuned on the mechanistic
 * simulator (c 1, ρ 1, γ 0.95: models/cdn-lts/baselines-mechanistic.json). @throws Error when the model
 * cannot be read or was trained for another number of CDNs.
 */
export function loadCdnPolicy(name: CdnPolicyName, cdns: string[], model?: string): CdnSharePolicy {
  if (name === 'equal') return new EqualSplit();
  if (name === 'd-ucb') return new UcbShares({ c: 1, rho: 1, gamma: 0.95 }, 'd-ucb');
  if (name !== 'lts') throw new Error(`unknown CDN policy '${String(name)}' (${CDN_POLICIES.join(', ')})`);
  if (!model) throw new Error("the CDN policy 'lts' needs its model (--cdn-model models/cdn-lts/<sim>-<set>.json)");
  let man: LtsManifest & { fastLts?: { tree: TreeModel; served: boolean } | null };
  let bin: Uint8Array;
  try {
    man = JSON.parse(readFileSync(model, 'utf8'));
    bin = new Uint8Array(readFileSync(join(dirname(model), man.weights)));
  } catch (e) {
    throw new Error(`--cdn-model ${model}: ${(e as Error).message}`);
  }
  // the network is read (and its inputs and weights checked) even when its tree is served
  let net: ReturnType<typeof ltsModelFromFiles>;
  try {
    net = ltsModelFromFiles(man, bin);
  } catch (e) {
    throw new Error(`--cdn-model ${model}: ${(e as Error).message}`);
  }
  const policy: CdnSharePolicy = man.fastLts?.served
    ? new FastLtsPolicy({
        format: 'edgeplay-cdn-fastlts/1',
        cdns: man.cdns,
        k: man.k,
        workloadScale: man.workloadScale,
        inputs: man.inputs,
        tree: man.fastLts.tree,
      })
    : new LtsPolicy(net);
  return byPosition(policy, man.cdns, cdns);
}

export class CdnScheduler {
  readonly cdns: CdnConfig[];
  readonly stepMs: number;
  readonly id: string;
  private readonly ids: string[];
  private readonly policy: CdnSharePolicy;
  private readonly prefix: string;
  private readonly keep: number;
  private readonly followerDelayMs: number;
  private readonly warn: (m: string) => void;
  /** current shares in points (sum 100) */
  private points: number[];
  /** smooth weighted round-robin credit per CDN (pick) */
  private credit: number[];
  /** local counters by step index (memory mode, and what this process still has to flush) */
  private local = new Map<number, Counters[]>();
  /** per view: the CDN its last event was on and when */
  private views = new Map<string, { cdn: number; t: number }>();
  private history: CdnStepReport[] = [];
  private lastQoe: { slatency: number; bufratio: number; buffreq: number }[];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private leaderNow = false;
  /** steps this process decided (as leader) */
  decided = 0;

  /** @throws Error for fewer than two CDNs or a bad step length */
  constructor(private readonly o: CdnSchedulerOptions) {
    if (o.cdns.length < 2) throw new Error('CdnScheduler: at least two CDNs');
    this.cdns = o.cdns;
    this.ids = o.cdns.map((c) => c.id);
    this.stepMs = o.stepMs ?? 60000;
    if (!(this.stepMs >= 50)) throw new Error(`CdnScheduler: stepMs ${this.stepMs} must be ≥ 50`);
    this.policy = o.policy ?? { name: 'equal', step: (obs) => fromPoints(equalPoints(obs.cdns.length)) };
    this.prefix = o.prefix ?? 'edgeplay:cdn:';
    this.keep = o.keep ?? 60;
    this.id = o.id ?? Math.random().toString(36).slice(2, 10);
    this.followerDelayMs = o.followerDelayMs ?? Math.min(500, this.stepMs / 5);
    this.warn = o.warn ?? ((m) => console.warn(m));
    this.points = equalPoints(this.cdns.length);
    this.credit = this.cdns.map(() => 0);
    this.lastQoe = this.cdns.map(() => ({ slatency: 0, bufratio: 0, buffreq: 0 }));
  }

  get policyName(): string {
    return this.policy.name;
  }
  /** whether this process decided the last step */
  get leader(): boolean {
    return this.leaderNow;
  }
  /** the shares of new viewers in force (fractions, in `cdns` order) */
  shares(): number[] {
    return fromPoints(this.points);
  }
  /** index of a CDN id (−1: not one of ours) */
  indexOf(id: string): number {
    return this.ids.indexOf(id);
  }
  /** the steps measured so far, oldest first (at most `keep`) */
  steps(): CdnStepReport[] {
    return this.history.slice();
  }

  /**
   * The CDN for a new viewer: smooth weighted round-robin over the shares (each pick adds every CDN's share to
   * its credit and takes the largest credit, which then pays 100), so any run of picks follows the shares
   * within one viewer per CDN. Never throws.
   */
  pick(): CdnConfig {
    let best = -1;
    for (let i = 0; i < this.credit.length; i++) {
      this.credit[i] += this.points[i];
      // a CDN at 0 % gets nobody, whatever credit it kept from before (a CDN found down: failureGuard)
      if (this.points[i] === 0) this.credit[i] = Math.min(this.credit[i], 0);
      else if (best < 0 || this.credit[i] > this.credit[best]) best = i;
    }
    if (best < 0) best = 0;
    this.credit[best] -= TOTAL_POINTS;
    return this.cdns[best];
  }

  /**
   * CDN ids in the order a steering manifest lists them for a viewer on `first`: that CDN, then the others
   * by decreasing share (failover), those in `avoid` (pathways the viewer already left) last.
   */
  order(first: string | null, avoid: ReadonlySet<string> = new Set()): string[] {
    const rest = this.cdns
      .map((c, i) => ({ id: c.id, p: this.points[i], i }))
      .filter((c) => c.id !== first)
      .sort((a, b) => Number(avoid.has(a.id)) - Number(avoid.has(b.id)) || b.p - a.p || a.i - b.i)
      .map((c) => c.id);
    return first && this.ids.includes(first) ? [first, ...rest] : rest;
  }

  /**
   * Add what a telemetry batch says to the current step's counters. `sessionCdn`: the CDN the batch's edge
   * session was given, if any. Never throws (a Redis failure is warned and the measurement dropped).
   */
  observe(batch: TelemetryBatch, sessionCdn?: string | null): void {
    const c = this.counters();
    const fallback = sessionCdn ? this.indexOf(sessionCdn) : -1;
    for (const e of batch.events) {
      const d = e.data ?? {};
      if (e.type === 'requests') {
        // a host's requests: its failures count against the CDN of their pathway (not where the view plays)
        const f = typeof d.failures === 'number' && d.failures > 0 ? Math.min(d.failures, 1000) : 0;
        const at = typeof d.pathway === 'string' ? this.indexOf(d.pathway) : -1;
        const i = at >= 0 ? at : typeof d.cdn === 'string' ? this.indexOf(d.cdn) : -1;
        if (f && i >= 0) c[i].req_fail += f;
        continue;
      }
      const p = typeof d.pathway === 'string' ? this.indexOf(d.pathway) : -1;
      const prev = this.views.get(e.view_id);
      const cdn = p >= 0 ? p : prev ? prev.cdn : fallback;
      if (cdn < 0) continue;
      const t = e.t;
      // the serving pathway moved from one of our CDNs to another: the view left that CDN (a failover)
      if (prev && p >= 0 && prev.cdn !== p && t >= prev.t) c[prev.cdn].left++;
      if (prev && prev.cdn === cdn && t > prev.t) c[cdn].watch_s += Math.min(t - prev.t, WATCH_GAP_CAP_MS) / 1000;
      if (e.type === 'viewend') this.views.delete(e.view_id);
      else if (!prev || t >= prev.t) this.views.set(e.view_id, { cdn, t });
      if (e.type === 'startup' && typeof d.startup_ms === 'number' && d.startup_ms >= 0) {
        c[cdn].joins++;
        c[cdn].startup_s += d.startup_ms / 1000;
      } else if (e.type === 'rebuffer_start' && d.continued !== true) c[cdn].stalls++;
      else if (e.type === 'rebuffer_end' && typeof d.duration_ms === 'number' && d.duration_ms >= 0) c[cdn].stall_s += d.duration_ms / 1000;
    }
    if (this.views.size > 200000) this.views.clear(); // bound memory against runaway view ids
    this.flush();
  }

  /**
   * A viewer left CDN `id`: its steering request's `_HLS_pathway` shows it on another pathway than the CDN its
   * last manifest put first (hls.js penalised that pathway). Counted as a failure incident of `id` in the
   * current step (the negotiation service calls this). Unknown ids are ignored; never throws.
   */
  left(id: string): void {
    const i = this.indexOf(id);
    if (i < 0) return;
    this.counters()[i].steer_left++;
    this.flush();
  }

  /** the current step's local counters */
  private counters(): Counters[] {
    const step = Math.floor(this.now() / this.stepMs);
    let c = this.local.get(step);
    if (!c) this.local.set(step, (c = this.cdns.map(zero)));
    return c;
  }

  /** with Redis: add the local counters to the shared per-step hashes and forget them (a failure is warned, the measurement lost) */
  private flush(): void {
    if (!this.o.redis) return;
    for (const [step, c] of this.local) {
      const key = `${this.prefix}m:${step}`;
      const pipe = this.o.redis.multi();
      c.forEach((x, i) => {
        for (const f of FIELDS) if (x[f]) pipe.hincrbyfloat(key, `${this.ids[i]}|${f}`, x[f]);
      });
      pipe.pexpire(key, this.stepMs * 10);
      pipe.exec().catch((err) => this.warn(`cdn scheduler: measurements not shared (${(err as Error).message})`));
    }
    this.local.clear();
  }

  private now(): number {
    return this.o.clock ? this.o.clock() : Date.now();
  }

  /** Start stepping at every boundary of stepMs (unref'd timers; nothing with `manual`). */
  start(): void {
    if (this.timer || this.o.manual) return;
    const arm = () => {
      const now = Date.now();
      const next = (Math.floor(now / this.stepMs) + 1) * this.stepMs;
      const delay = next - now + (this.leaderNow || !this.o.redis ? 0 : this.followerDelayMs);
      this.timer = setTimeout(() => {
        this.tick(Math.floor(next / this.stepMs) - 1)
          .catch((e) => this.warn(`cdn scheduler step failed, shares unchanged: ${(e as Error).message}`))
          .finally(() => {
            if (this.timer) arm();
          });
      }, delay);
      this.timer.unref?.();
    };
    this.timer = setTimeout(() => {}, 0);
    arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * End step `step` (default: the step before now): the leader measures it and decides the next shares;
   * everyone adopts the shared shares. Returns the report when this process decided.
   */
  async tick(step = Math.floor(this.now() / this.stepMs) - 1): Promise<CdnStepReport | null> {
    const r = this.o.redis;
    if (!r) {
      this.leaderNow = true;
      const c = this.local.get(step) ?? this.cdns.map(zero);
      for (const k of this.local.keys()) if (k <= step) this.local.delete(k);
      return this.decide(step, c);
    }
    const lease = `${this.prefix}leader`;
    // renew if ours, else take it if free; one step long
    const got = (await r.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end " +
        "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0",
      1,
      lease,
      this.id,
      String(this.stepMs),
    )) as number;
    this.leaderNow = got === 1;
    let report: CdnStepReport | null = null;
    if (this.leaderNow) {
      // one decision per step even if leadership changes hands mid-step
      const fresh = await r.set(`${this.prefix}decided:${step}`, this.id, 'PX', this.stepMs * 10, 'NX');
      if (fresh) {
        const hist = await r.lrange(`${this.prefix}history`, -this.keep, -1);
        this.history = hist.map((h) => JSON.parse(h) as CdnStepReport);
        // a new leader carries on from the shared history: the last measured QoE per CDN
        const lastRep = this.history[this.history.length - 1];
        if (lastRep)
          this.lastQoe = this.cdns.map((_, i) => ({
            slatency: lastRep.slatency[i],
            bufratio: lastRep.bufratio[i],
            buffreq: lastRep.buffreq[i],
          }));
        const sharedShares = await r.get(`${this.prefix}shares`);
        if (sharedShares) this.adopt(JSON.parse(sharedShares).points);
        const h = await r.hgetall(`${this.prefix}m:${step}`);
        const c = this.cdns.map((_, i) => {
          const x = zero();
          for (const f of FIELDS) x[f] = Number(h[`${this.ids[i]}|${f}`] ?? 0);
          return x;
        });
        report = this.decide(step, c);
        await r
          .multi()
          .set(`${this.prefix}shares`, JSON.stringify({ step, points: this.points, by: this.id }))
          .rpush(`${this.prefix}history`, JSON.stringify(report))
          .ltrim(`${this.prefix}history`, -this.keep, -1)
          .exec();
        return report;
      }
    }
    const [s, hist] = await Promise.all([r.get(`${this.prefix}shares`), r.lrange(`${this.prefix}history`, -this.keep, -1)]);
    if (s) this.adopt(JSON.parse(s).points);
    this.history = hist.map((h) => JSON.parse(h) as CdnStepReport);
    return report;
  }

  private adopt(points: unknown): void {
    if (Array.isArray(points) && points.length === this.cdns.length && points.every((p) => Number.isInteger(p) && p >= 0))
      if (points.reduce((a: number, b: number) => a + b, 0) === TOTAL_POINTS) this.points = points as number[];
  }

  /** measure one step from its counters, run the policy over the last k steps, take its shares */
  private decide(step: number, c: Counters[]): CdnStepReport {
    const stepS = this.stepMs / 1000;
    const failures = c.map((x) => Math.max(x.req_fail, x.left, x.steer_left));
    const q = c.map((x, i) => {
      const last = this.lastQoe[i];
      // failure incidents as stalls (the header: a dead CDN produces failovers, not QoE)
      const f = failures[i];
      const watch = Math.max(x.watch_s, f * FAILURE_WATCH_S);
      const cur = {
        slatency: x.joins > 0 ? x.startup_s / x.joins : last.slatency,
        bufratio: watch > 0 ? (100 * (x.stall_s + f * FAILURE_STALL_S)) / watch : last.bufratio,
        buffreq: watch > 0 ? (100 * (x.stalls + f)) / watch : last.buffreq,
      };
      this.lastQoe[i] = cur;
      return cur;
    });
    const rec = {
      workload: c.map((x) => x.watch_s / stepS),
      slatency: q.map((x) => x.slatency),
      bufratio: q.map((x) => x.bufratio),
      buffreq: q.map((x) => x.buffreq),
      shares: this.shares(),
    };
    const hist = new CdnHistory(this.ids, K_STEPS);
    for (const h of this.history.slice(-(K_STEPS - 1))) hist.push(h);
    hist.push(rec);
    let next = this.points;
    try {
      // the coming step's minute of the day (UTC), for models that read the time of day (lts.ts LtsInputs)
      const s = this.policy.step({ ...hist.observation(), minuteOfDay: (((step + 1) * this.stepMs) / 60000) % 1440 });
      if (s.length === this.cdns.length && s.every((x) => Number.isFinite(x) && x >= 0)) next = toPoints(s);
      else this.warn(`cdn policy '${this.policy.name}' returned ${JSON.stringify(s)}: shares unchanged`);
    } catch (e) {
      this.warn(`cdn policy '${this.policy.name}' failed, shares unchanged: ${(e as Error).message}`);
    }
    const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
    this.points = failureGuard(next, [...this.history, { step, workload: rec.workload, failures }], stepS, step);
    this.decided++;
    const report: CdnStepReport = {
      step,
      workload: rec.workload.map(r4),
      slatency: rec.slatency.map(r4),
      bufratio: rec.bufratio.map(r4),
      buffreq: rec.buffreq.map(r4),
      failures,
      shares: rec.shares,
      next: this.shares(),
    };
    this.history.push(report);
    if (this.history.length > this.keep) this.history.shift();
    return report;
  }
}
