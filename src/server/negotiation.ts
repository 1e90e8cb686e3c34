/**
 * The negotiation service behind the routes of routes/negotiation.ts (ELCast's viewer assignment carried by
 * HLS Content Steering): sessions, the decision (edge or CDN, which version) through an assignment policy
 * of src/assign/edge, leases in the assignment store, and the steering manifest with its CMSD hints.
 * No HTTP here: the plugin validates, rate-limits and answers; this decides.
 */
import { randomFillSync } from 'node:crypto';
import { options, VERSIONS, type AssignmentPolicyName, type ViewerRequest } from '../assign/edge/model.js';
import { BASELINE_POLICIES, type AssignmentPolicy } from '../assign/edge/policy.js';
import type { DrlAssignment } from '../assign/edge/drl.js';
import { DEFAULT_WEIGHTS, type PreferenceWeights } from '../core/preference.js';
import type { NegotiateAnswer, NegotiateRequest, PathwayClone, SteeringManifest, VariantRef } from '../core/schemas/negotiate.js';
import type { AssignmentStore } from './edges.js';
import type { TokenService } from './tokens.js';

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
  /** where warnings go (default: console.warn) */
  warn?: (message: string) => void;
}

export interface Session {
  id: string;
  channel: string;
  weights: PreferenceWeights;
  variants: VariantRef[];
  req: ViewerRequest;
  target: string;
  version: number;
  expires: number;
  /** the pathway the last manifest put first (null before the first manifest) */
  advertised: string | null;
}

/** What a steering request brings: the pathway the player is on and its throughput estimate (bit/s). */
export interface SteeringInput {
  pathway?: string;
  throughputBps?: number;
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
  readonly sessions = new Map<string, Session>();
  private readonly ranker: AssignmentPolicy;
  private readonly edgeIds: string[];
  private readonly leaseMs: number;
  private readonly ttl: number;
  private readonly warn: (message: string) => void;
  private readonly gc: ReturnType<typeof setInterval>;

  /** @throws Error when the policy is unknown, or 'drl' without its weights */
  constructor(private readonly o: NegotiatorOptions) {
    this.policy = o.policy ?? 'online-heu';
    if (this.policy === 'drl' && !o.drl) throw new Error("negotiation policy 'drl' needs the trained weights (drl option)");
    const ranker = this.policy === 'drl' ? o.drl! : BASELINE_POLICIES[this.policy];
    if (!ranker) throw new Error(`unknown negotiation policy ${this.policy}`);
    this.ranker = ranker;
    this.edgeIds = o.store.edges().map((e) => e.id);
    this.leaseMs = o.leaseMs ?? 60000;
    this.ttl = o.steeringTtlS ?? 10;
    this.warn = o.warn ?? ((m) => console.warn(m));
    // sessions live as long as their lease (renewed by steering reloads); dropped in the background
    this.gc = setInterval(() => {
      const now = Date.now();
      for (const [k, v] of this.sessions) if (v.expires < now) this.sessions.delete(k);
    }, 5000);
    this.gc.unref();
  }

  close(): void {
    clearInterval(this.gc);
  }

  private edgeUrl(id: string): string | null {
    return this.o.store.edges().find((e) => e.id === id)?.url ?? null;
  }

  /** A new session for a validated request (weights already checked to sum to 10), decided and stored. */
  async negotiate(b: NegotiateRequest): Promise<NegotiateAnswer> {
    const rtt = b.rtt_ms ?? {};
    const edges = this.o.store.edges();
    const s: Session = {
      id: sessionId(16),
      channel: b.channel,
      weights: b.weights ?? { ...DEFAULT_WEIGHTS },
      variants: b.variants ?? [],
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
      expires: Date.now() + this.leaseMs,
      advertised: null,
    };
    await this.decideSafe(s);
    this.sessions.set(s.id, s);
    return this.answer(s);
  }

  /**
   * The steering manifest for a known session (null: unknown or expired session): reads where the player is
   * and how fast it receives, re-decides, renews the lease. `cmsd` is the CMSD-Dynamic header value.
   */
  async steer(id: string, input: SteeringInput): Promise<{ manifest: SteeringManifest; cmsd: string } | null> {
    const s = this.sessions.get(id);
    if (!s) return null;
    const thr = input.throughputBps != null ? input.throughputBps / 1e6 : undefined; // bit/s → Mb/s
    // the player left the edge an earlier manifest sent it to (hls.js penalises a failing pathway and moves
    // on): treat that edge as unusable for this session. Before any manifest it is simply still on 'cdn'.
    if (input.pathway && s.advertised && s.advertised !== 'cdn' && s.target === s.advertised && input.pathway !== s.advertised) {
      await this.o.store.release(s.id).catch(() => false);
      s.req.edgeLatencyS = Object.fromEntries(Object.entries(s.req.edgeLatencyS).filter(([k]) => k !== s.target));
      s.target = 'cdn';
    }
    await this.decideSafe(s, thr);
    s.expires = Date.now() + this.leaseMs;
    if (s.target !== 'cdn') await this.o.store.renew(s.id, this.leaseMs).catch(() => false);
    const clones: PathwayClone[] =
      s.target === 'cdn'
        ? []
        : [
            {
              'BASE-ID': 'cdn',
              ID: s.target,
              'URI-REPLACEMENT': {
                'PER-VARIANT-URIS': Object.fromEntries(
                  s.variants.map((v) => {
                    const u = new URL(v.uri);
                    return [v.id, `${this.edgeUrl(s.target)}${u.pathname}${u.search}`];
                  }),
                ),
              },
            },
          ];
    s.advertised = s.target;
    const snap = (await this.o.store.snapshot().catch(() => [])).find((e) => e.id === s.target);
    const duress = snap ? snap.usedMbps > 0.9 * snap.capMbps || snap.usedVcpu > 0.9 * snap.capVcpu : false;
    const cmsd = [
      `"${s.target}"`,
      `mb=${Math.round(VERSIONS[s.version].mbps * 1000)}`,
      `etp=${Math.round(s.req.bandwidthMbps * 1000)}`,
      ...(duress ? ['du'] : []),
    ].join(';');
    const manifest: SteeringManifest = {
      VERSION: 1,
      TTL: this.ttl,
      'RELOAD-URI': `/v1/steering/${s.id}?token=${encodeURIComponent(this.o.tokens.issue(s.id))}`,
      'PATHWAY-PRIORITY': s.target === 'cdn' ? ['cdn'] : [s.target, 'cdn'],
      ...(clones.length ? { 'PATHWAY-CLONES': clones } : {}),
    };
    return { manifest, cmsd };
  }

  /** Release the session's lease and forget it; whether a lease was held. */
  async leave(id: string): Promise<boolean> {
    const released = await this.o.store.release(id).catch(() => false);
    this.sessions.delete(id);
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
    return {
      session: s.id,
      token,
      assignment: {
        target: s.target,
        pathway: s.target === 'cdn' ? 'cdn' : s.target,
        version: VERSIONS[s.version].name,
        bitrate_cap_mbps: VERSIONS[s.version].mbps,
        edge_url: s.target === 'cdn' ? null : this.edgeUrl(s.target),
      },
      steering_uri: `/v1/steering/${s.id}?token=${encodeURIComponent(token)}`,
      weights: s.weights,
      policy: this.policy,
    };
  }
}
