/**
 * The negotiation service behind the routes of routes/negotiation.ts (ELCast's viewer assignment carried by
 * HLS Content Steering): sessions, the decision (edge or CDN, which version) through an assignment policy
 * of src/assign/edge, leases in the assignment store, and the steering manifest with its CMSD hints.
 * No HTTP here: the plugin validates, rate-limits and answers; this decides.
 * Stateless: a session lives in the assignment store (memory, or Redis for a fleet), read at the start of each
 * steering reload and written back before the manifest is answered, so any controller process answers any
 * reload or leave and a restarted process carries on where it stopped. A store that cannot be reached is a
 * StoreUnavailableError (503), never a 404 for a session that may well be alive.
 */
import { randomFillSync } from 'node:crypto';
import { encodeCmsdDynamic, type CmsdDynamicParams } from '@svta/cml-cmsd';
import { SfItem } from '@svta/cml-structured-field-values';
import { options, VERSIONS, type AssignmentPolicyName } from '../assign/edge/model.js';
import { BASELINE_POLICIES, type AssignmentPolicy } from '../assign/edge/policy.js';
import type { DrlAssignment } from '../assign/edge/drl.js';
import { DEFAULT_WEIGHTS } from '../core/preference.js';
import type {
  NegotiateAnswer,
  NegotiateRequest,
  PathwayClone,
  SteeringManifest,
  SteeringQuery,
  VariantRef,
} from '../core/schemas/negotiate.js';
import type { CdnScheduler } from './cdns.js';
import type { AssignmentStore, Session } from './edges.js';
import type { TokenService } from './tokens.js';

export type { Session };

export interface NegotiatorOptions {
  store: AssignmentStore;
  tokens: TokenService;
  /** 'online-heu' (default), 'cloud-cdn', or 'drl' (needs `drl`) */
  policy?: AssignmentPolicyName | 'drl';
  /** the trained DRL assignment policy (models/edge-drl/<setting>.json) */
  drl?: DrlAssignment;
  /** lease length, ms (default 60 s; every steering reload renews it) */
  leaseMs?: number;
  /** steering manifest TTL, s (default 10) */
  steeringTtlS?: number;
  /**
   * how long a session outlives its last steering reload, ms (default 2 × leaseMs): longer than a lease, so a
   * viewer whose reloads were held up (an outage of the controller or its store) is re-decided on its return
   * — its lapsed lease taken again or the viewer moved to the CDN — rather than told its session is gone
   */
  sessionTtlMs?: number;
  /** where warnings go (default: console.warn) */
  warn?: (message: string) => void;
  /**
   * several CDN pathways (`--cdns`): a viewer not on an edge gets one by the scheduler's shares, and every
   * steering manifest lists the CDN pathways (clones of 'cdn', the playlist's own) in failover order
   */
  cdns?: CdnScheduler;
}

/** What a steering request brings: the pathway the player is on and its throughput estimate (bit/s). */
export interface SteeringInput {
  pathway?: string;
  throughputBps?: number;
}

const lastValue = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * Read the query hls.js puts on a steering request (HLS Content Steering, RFC 8216bis §7.2), the way hls.js
 * 1.7 sends it: `_HLS_pathway` the pathway it plays from; `_HLS_throughput` its estimate in bit/s written as
 * `'' + (estimate | 0)`, which wraps negative above 2^31 bit/s — such a value means "at least 2^31 bit/s" and
 * is read as `value + 2^32` (the least estimate that wraps to it). Anything unusable (not an integer, zero,
 * beyond 10^12, a pathway over 128 characters) is left out, never an error. A repeated parameter counts by
 * its last value, as URLSearchParams.set leaves one.
 */
export function readSteeringQuery(q: Pick<SteeringQuery, '_HLS_pathway' | '_HLS_throughput'>): SteeringInput {
  const out: SteeringInput = {};
  const p = lastValue(q._HLS_pathway);
  if (typeof p === 'string' && p.length > 0 && p.length <= 128) out.pathway = p;
  const t = lastValue(q._HLS_throughput);
  if (typeof t === 'string' && /^-?\d{1,13}$/.test(t)) {
    const n = Number(t);
    const bps = n < 0 && n >= -(2 ** 31) ? n + 2 ** 32 : n;
    if (bps > 0 && bps <= 1e12) out.throughputBps = bps;
  }
  return out;
}

/**
 * The cap of an edge version in the session's own ladder: the variant with the highest average bitrate
 * (AVERAGE-BANDWIDTH, else BANDWIDTH) at or below the version's bitrate — else the lowest variant — and
 * its BANDWIDTH in bit/s, which is what the player compares (hls.js' level.bitrate). Null when no variant
 * declares a bitrate. CTA-5006 `mb` is this value in kbit/s.
 */
export function variantCapBps(variants: VariantRef[], versionMbps: number): number | null {
  const known = variants.filter((v) => v.bandwidth != null) as Array<VariantRef & { bandwidth: number }>;
  if (!known.length) return null;
  const avg = (v: VariantRef & { bandwidth: number }) => v.average_bandwidth ?? v.bandwidth;
  const fit = known.filter((v) => avg(v) <= versionMbps * 1e6);
  const pick = fit.length
    ? fit.reduce((a, b) => (avg(b) > avg(a) || (avg(b) === avg(a) && b.bandwidth > a.bandwidth) ? b : a))
    : known.reduce((a, b) => (avg(b) < avg(a) ? b : a));
  return pick.bandwidth;
}

// session ids from a pooled random buffer (one syscall per 256 ids instead of one per id)
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
function sessionId(len = 16): string {
  if (poolAt + len > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  let out = '';
  for (let i = 0; i < len; i++) out += ALPHABET[POOL[poolAt++] & 63];
  return out;
}

export class Negotiator {
  readonly policy: AssignmentPolicyName | 'drl';
  private readonly ranker: AssignmentPolicy;
  private readonly edgeIds: string[];
  private readonly leaseMs: number;
  private readonly sessionTtlMs: number;
  private readonly ttl: number;
  private readonly warn: (message: string) => void;

  /** @throws Error when the policy is unknown, or 'drl' without its weights */
  constructor(private readonly o: NegotiatorOptions) {
    this.policy = o.policy ?? 'online-heu';
    if (this.policy === 'drl' && !o.drl) throw new Error("negotiation policy 'drl' needs the trained weights (drl option)");
    const ranker = this.policy === 'drl' ? o.drl! : BASELINE_POLICIES[this.policy];
    if (!ranker) throw new Error(`unknown negotiation policy ${this.policy}`);
    this.ranker = ranker;
    this.edgeIds = o.store.edges().map((e) => e.id);
    this.leaseMs = o.leaseMs ?? 60000;
    this.sessionTtlMs = Math.max(o.sessionTtlMs ?? 2 * this.leaseMs, this.leaseMs);
    this.ttl = o.steeringTtlS ?? 10;
    this.warn = o.warn ?? ((m) => console.warn(m));
  }

  /** Nothing held per process (sessions live in the store); kept for the plugin's onClose. */
  close(): void {}

  private edgeUrl(id: string): string | null {
    return this.o.store.edges().find((e) => e.id === id)?.url ?? null;
  }

  /**
   * A new session for a validated request (weights already checked to sum to 10), decided and stored.
   * @throws StoreUnavailableError when the session cannot be stored (the viewer plays from the CDN)
   */
  async negotiate(b: NegotiateRequest): Promise<NegotiateAnswer> {
    const rtt = b.rtt_ms ?? {};
    const edges = this.o.store.edges();
    const s: Session = {
      id: sessionId(16),
      channel: b.channel,
      weights: b.weights ?? { ...DEFAULT_WEIGHTS },
      variants: b.variants ?? [],
      renditions: b.renditions ?? [],
      steerable: (b.variants ?? []).length > 0,
      req: {
        channel: b.channel,
        weights: b.weights ?? { ...DEFAULT_WEIGHTS },
        bandwidthMbps: b.bandwidth_mbps ?? 10,
        // one-way latency = RTT / 2; unmeasured paths take the paper's midpoints
        cdnLatencyS: rtt.cdn != null ? rtt.cdn / 2000 : 0.4,
        edgeLatencyS: Object.fromEntries(edges.filter((e) => rtt[e.id] != null).map((e) => [e.id, rtt[e.id] / 2000])),
        edgeCdnLatencyS: Object.fromEntries(edges.map((e) => [e.id, e.cdnLatencyS ?? 0.05])),
      },
      target: 'cdn',
      version: 0,
      expires: 0,
      advertised: null,
      steered: 0,
      measuredMbps: null,
      cdn: null,
      leftCdns: [],
      advertisedCdn: null,
    };
    await this.decideSafe(s);
    this.chooseCdn(s);
    s.expires = Date.now() + this.sessionTtlMs;
    await this.o.store.putSession(s);
    return this.answer(s);
  }

  /**
   * The steering manifest for a known session (null: unknown or expired session): reads where the player is
   * and how fast it receives, re-decides, renews the lease. `cmsd` is the CMSD-Dynamic header value
   * (CTA-5006): the serving pathway with `mb` (kbit/s rounded up, so the capped variant's BANDWIDTH is ≤ mb × 1000:
   * the variant cap on an edge), `etp` (kbit/s, the
   * player's last measured throughput, only once one arrived) and `du` (the edge is over 90 % of a capacity).
   * The session is read from the store and written back before the manifest is returned.
   * @throws StoreUnavailableError when the store cannot be read or written (503: hls.js retries after the TTL)
   */
  async steer(id: string, input: SteeringInput): Promise<{ manifest: SteeringManifest; cmsd: string } | null> {
    const s = await this.o.store.getSession(id);
    if (!s) return null;
    // hls.js' first steering request is made as the multivariant playlist loads, before any fragment: its
    // _HLS_throughput is the configured default estimate (abrEwmaDefaultEstimate), not a measurement — it
    // neither re-decides nor becomes etp. (edgeplay's client leaves the parameter out until hls.js measured.)
    const measured = s.steered > 0 && input.throughputBps != null ? input.throughputBps / 1e6 : undefined; // bit/s → Mb/s
    s.steered++;
    if (measured) s.measuredMbps = measured;
    const cdns = this.o.cdns;
    // the player left the edge an earlier manifest sent it to (hls.js penalises a failing pathway and moves
    // on): treat that edge as unusable for this session. Before any manifest it is simply still on 'cdn'.
    if (input.pathway && s.advertised && s.advertised !== 'cdn' && s.target === s.advertised && input.pathway !== s.advertised) {
      await this.o.store.release(s.id).catch(() => false);
      s.req.edgeLatencyS = Object.fromEntries(Object.entries(s.req.edgeLatencyS).filter(([k]) => k !== s.target));
      s.target = 'cdn';
      if (cdns && cdns.indexOf(input.pathway) >= 0) s.cdn = input.pathway; // it stays on the CDN it failed over to
    }
    // with several CDNs: the viewer is on another pathway than the CDN the last manifest put first (hls.js
    // penalised it and failed over to the next CDN): that CDN goes last for this session, and the CDN it is on
    // leads. ('cdn', the playlist's own pathway, is where a player is before it applied a first manifest.)
    if (cdns && input.pathway && s.advertisedCdn && s.target === 'cdn' && s.advertised === 'cdn')
      if (input.pathway !== s.advertisedCdn && cdns.indexOf(input.pathway) >= 0) {
        if (!s.leftCdns.includes(s.advertisedCdn)) s.leftCdns.push(s.advertisedCdn);
        cdns.left(s.advertisedCdn); // a failure incident of that CDN for the scheduler (a dead CDN produces no QoE)
        s.leftCdns = s.leftCdns.filter((c) => c !== input.pathway);
        s.cdn = input.pathway;
      }
    await this.decideSafe(s, measured);
    this.chooseCdn(s);
    s.expires = Date.now() + this.sessionTtlMs;
    if (s.target !== 'cdn') await this.o.store.renew(s.id, this.leaseMs).catch(() => false);
    const clone = this.clone(s);
    s.advertised = s.target;
    const snap = (await this.o.store.snapshot().catch(() => [])).find((e) => e.id === s.target);
    await this.o.store.putSession(s);
    const duress = snap ? snap.usedMbps > 0.9 * snap.capMbps || snap.usedVcpu > 0.9 * snap.capVcpu : false;
    const cap = this.capBps(s);
    const params: CmsdDynamicParams = {
      ...(cap != null ? { mb: Math.ceil(cap / 1000) } : {}),
      ...(s.measuredMbps != null ? { etp: Math.round(s.measuredMbps * 1000) } : {}),
      ...(duress ? { du: true } : {}),
    };
    const serving = s.target === 'cdn' && s.cdn ? s.cdn : s.target;
    const cmsd = encodeCmsdDynamic([new SfItem(serving, params)]);
    const cdnOrder = cdns ? [...cdns.order(s.cdn, new Set(s.leftCdns)), 'cdn'] : ['cdn'];
    s.advertisedCdn = cdns ? cdnOrder[0] : null;
    const clones = [...(clone ? [clone] : []), ...(cdns ? this.cdnClones(s) : [])];
    const manifest: SteeringManifest = {
      VERSION: 1,
      TTL: this.ttl,
      'RELOAD-URI': `/v1/steering/${s.id}?token=${encodeURIComponent(this.o.tokens.issue(s.id))}`,
      'PATHWAY-PRIORITY': s.target === 'cdn' ? cdnOrder : [s.target, ...cdnOrder],
      ...(clones.length ? { 'PATHWAY-CLONES': clones } : {}),
    };
    return { manifest, cmsd };
  }

  /** The edge pathway of a session: the CDN pathway with every variant and rendition URI on the edge (null on the CDN). */
  private clone(s: Session): PathwayClone | null {
    if (s.target === 'cdn') return null;
    const base = this.edgeUrl(s.target);
    const onEdge = (uri: string) => {
      const u = new URL(uri);
      return `${base}${u.pathname}${u.search}`;
    };
    return {
      'BASE-ID': 'cdn',
      ID: s.target,
      'URI-REPLACEMENT': {
        'PER-VARIANT-URIS': Object.fromEntries(s.variants.map((v) => [v.id, onEdge(v.uri)])),
        ...(s.renditions.length ? { 'PER-RENDITION-URIS': Object.fromEntries(s.renditions.map((r) => [r.id, onEdge(r.uri)])) } : {}),
      },
    };
  }

  /**
   * With several CDNs, the viewer's CDN when it is not on an edge: kept while it has one, else the next by
   * the scheduler's shares (a CDN the viewer left is skipped while another remains). An edge viewer holds none.
   */
  private chooseCdn(s: Session): void {
    const cdns = this.o.cdns;
    if (!cdns || s.target !== 'cdn' || s.cdn) return;
    for (let i = 0; i < cdns.cdns.length; i++) {
      const c = cdns.pick().id;
      if (!s.leftCdns.includes(c)) {
        s.cdn = c;
        return;
      }
    }
    s.cdn = cdns.order(null, new Set(s.leftCdns))[0];
  }

  /** The CDN pathways as clones of 'cdn' (the playlist's own URIs) on each CDN's host: every variant and rendition URI moved. */
  private cdnClones(s: Session): PathwayClone[] {
    return this.o.cdns!.cdns.map((c) => {
      const on = (uri: string) => {
        const u = new URL(uri);
        return `${c.url}${u.pathname}${u.search}`;
      };
      return {
        'BASE-ID': 'cdn',
        ID: c.id,
        'URI-REPLACEMENT': s.variants.length
          ? {
              'PER-VARIANT-URIS': Object.fromEntries(s.variants.map((v) => [v.id, on(v.uri)])),
              ...(s.renditions.length ? { 'PER-RENDITION-URIS': Object.fromEntries(s.renditions.map((r) => [r.id, on(r.uri)])) } : {}),
            }
          : { HOST: new URL(c.url).host },
      };
    });
  }

  /**
   * The CDN a session's viewer is on (null: unknown session, an edge viewer, no --cdns, or a store that cannot
   * be reached — the scheduler then counts the batch by the pathways its events name).
   */
  async cdnOf(session: string): Promise<string | null> {
    if (!this.o.cdns) return null;
    const s = await this.o.store.getSession(session).catch(() => null);
    return s && s.target === 'cdn' ? s.cdn : null;
  }

  /** The variant cap (bit/s) of the session's version on its edge; null on the CDN or without variant bitrates. */
  private capBps(s: Session): number | null {
    return s.target === 'cdn' ? null : variantCapBps(s.variants, VERSIONS[s.version].mbps);
  }

  /**
   * Release the session's lease and forget the session; whether a lease was held.
   * @throws StoreUnavailableError when the store cannot be reached (the lease then expires by itself)
   */
  async leave(id: string): Promise<boolean> {
    const released = await this.o.store.release(id);
    await this.o.store.dropSession(id);
    return released;
  }

  /** decide, and if the store fails (Redis down), serve from the CDN rather than fail the viewer */
  private async decideSafe(s: Session, throughputMbps?: number) {
    try {
      return await this.decide(s, throughputMbps);
    } catch (e) {
      this.warn(`assignment store failed, serving ${s.id} from the CDN: ${(e as Error)?.message}`);
      s.target = 'cdn';
      return null;
    }
  }

  private async decide(s: Session, throughputMbps?: number) {
    const store = this.o.store;
    if (throughputMbps && throughputMbps > 0) s.req.bandwidthMbps = throughputMbps;
    if (!s.steerable) {
      // nothing an edge pathway could carry: the CDN, holding no lease
      const cdn = options(s.req, [])[0];
      await store.release(s.id);
      s.target = 'cdn';
      s.version = cdn.version;
      return cdn;
    }
    const lease = s.target === 'cdn' ? null : await store.lease(s.id); // a new or CDN session holds none
    const snap = await store.snapshot();
    const view = snap.map((e) => {
      // our own current lease is capacity we already hold: let the decision see it as free
      if (!lease || lease.edge !== e.id) return e;
      return { ...e, usedMbps: e.usedMbps - VERSIONS[lease.version].mbps };
    });
    const opts = options(s.req, view);
    // best first; a reservation can still lose a race against another controller process: try the next
    const ranked = [...this.ranker.rank(s.req, opts, view, this.edgeIds).map((k) => opts[k]), opts[0]];
    for (const best of ranked) {
      if (best.target === 'cdn') {
        await store.release(s.id);
        s.target = 'cdn';
        s.version = best.version;
        return best;
      }
      const r = await store.reserve(s.id, best.target, s.channel, best.version, this.leaseMs);
      if (r.ok) {
        s.target = best.target;
        s.version = best.version;
        return best;
      }
    }
    await store.release(s.id);
    s.target = 'cdn';
    s.version = opts[0].version;
    return opts[0];
  }

  private answer(s: Session): NegotiateAnswer {
    const token = this.o.tokens.issue(s.id);
    // a CDN viewer starts on its CDN's pathway (the clone of 'cdn' on that CDN) when the variants are known
    const cdnClone = s.target === 'cdn' && s.cdn && s.variants.length ? (this.cdnClones(s).find((c) => c.ID === s.cdn) ?? null) : null;
    const clone = this.clone(s) ?? cdnClone;
    return {
      session: s.id,
      token,
      assignment: {
        target: s.target,
        pathway: s.target === 'cdn' ? (cdnClone ? cdnClone.ID : 'cdn') : s.target,
        ...(s.cdn ? { cdn: s.cdn } : {}),
        version: VERSIONS[s.version].name,
        bitrate_cap_mbps: VERSIONS[s.version].mbps,
        edge_url: s.target === 'cdn' ? null : this.edgeUrl(s.target),
        ...(clone ? { clone } : {}),
        max_variant_bps: this.capBps(s),
      },
      steering_uri: `/v1/steering/${s.id}?token=${encodeURIComponent(token)}`,
      weights: s.weights,
      policy: this.policy,
    };
  }
}
