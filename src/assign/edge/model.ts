/**
 * ELCast's viewer assignment model (edge or CDN, and which version), shared by the edge controller and
 * the assignment simulator. Parameters from the paper's evaluation section:
 *   versions 1440p/1080p/720p/480p/360p/240p at 4.3/2.85/1.85/1.2/0.75/0.3 Mb/s;
 *   transcoding from the top version to the lower five: 3.3/1.42/0.82/0.51/0.41 vCPU, 0.27/0.19/0.16/0.13/0.11 s;
 *   latency end–CDN 0.1–0.7 s, end–edge and edge–CDN 0.02–0.1 s;
 *   edges: fat 800 Mb/s + 64 vCPU, mid 400 + 36, thin 200 + 16; reward weights a = b = 0.5.
 * What the paper leaves open is chosen here and documented: an edge pulls a channel's top version from
 * the CDN once and transcodes each lower version once (shared by all its viewers of that channel); the
 * terms of the personalised penalty P_u = a1·Ls + a2·Lw + a3·B are
 *   Ls  streaming latency (s): end–CDN, or end–edge + edge–CDN + the version's transcoding time;
 *   Lw  channel-switching latency (s): two round trips on the serving path, plus the edge–CDN fetch when
 *       the edge does not carry the channel yet;
 *   B   bitrate mismatch: the share of the wanted bitrate not delivered, (want − served)/want, where want is
 *       the highest version the viewer's bandwidth sustains;
 * and the costs, normalised to [0, 1]: C_B bandwidth (CDN egress of a viewer served by the CDN, or the
 * edge's new pull of a channel, over the top bitrate) and C_T transcoding (new vCPU over the top version's).
 */
import type { PreferenceWeights } from '../../core/preference.js';

export const VERSIONS = [
  { name: '1440p', mbps: 4.3, vcpu: 0, transcodeS: 0 },
  { name: '1080p', mbps: 2.85, vcpu: 3.3, transcodeS: 0.27 },
  { name: '720p', mbps: 1.85, vcpu: 1.42, transcodeS: 0.19 },
  { name: '480p', mbps: 1.2, vcpu: 0.82, transcodeS: 0.16 },
  { name: '360p', mbps: 0.75, vcpu: 0.51, transcodeS: 0.13 },
  { name: '240p', mbps: 0.3, vcpu: 0.41, transcodeS: 0.11 },
] as const;

export const EDGE_SETTINGS = {
  fat: { mbps: 800, vcpu: 64 },
  mid: { mbps: 400, vcpu: 36 },
  thin: { mbps: 200, vcpu: 16 },
} as const;
export type EdgeSetting = keyof typeof EDGE_SETTINGS;

export const REWARD_A = 0.5;
export const REWARD_B = 0.5;

/** An edge as the assignment sees it: capacity, what is in use, what it carries. */
export interface EdgeState {
  id: string;
  capMbps: number;
  capVcpu: number;
  usedMbps: number;
  usedVcpu: number;
  /** channel → versions (indices) served there; the presence of the channel means its top version is pulled */
  channels: Map<string, { has(version: number): boolean }>;
}

export interface ViewerRequest {
  channel: string;
  weights: PreferenceWeights;
  /** the viewer's downstream bandwidth, Mb/s (from probes or CMCD) */
  bandwidthMbps: number;
  /** measured latency (s, one way) to the CDN and to each edge */
  cdnLatencyS: number;
  edgeLatencyS: Record<string, number>;
  /** edge ↔ CDN latency (s) per edge */
  edgeCdnLatencyS: Record<string, number>;
}

export interface Option {
  target: 'cdn' | string;
  version: number;
  Ls: number;
  Lw: number;
  B: number;
  penalty: number;
  costT: number;
  costB: number;
  reward: number;
  /** resources this option takes at the edge */
  addMbps: number;
  addVcpu: number;
}

/** What serving one more viewer of a channel at `version` takes from an edge (Mb/s, vCPU). */
export interface EdgeDemand {
  /** the top version pulled from the CDN when the edge does not carry the channel yet, Mb/s */
  pullMbps: number;
  /** everything the edge adds: the viewer's version plus the pull, Mb/s */
  addMbps: number;
  /** a new transcode of `version` (none for the top version or one already running), vCPU */
  addVcpu: number;
}

/**
 * The per-edge cost of one viewer — the one place it is written in TypeScript (the Redis store's Lua
 * script mirrors it: src/server/redis-store.ts). `carried` is what the edge already serves of the channel
 * (undefined: not carried). ELCast's sharing rule: one pull per channel, one transcode per (channel, version).
 */
export function edgeDemand(carried: { has(version: number): boolean } | undefined, version: number): EdgeDemand {
  const pullMbps = carried ? 0 : VERSIONS[0].mbps;
  const addVcpu = version === 0 || carried?.has(version) ? 0 : VERSIONS[version].vcpu;
  return { pullMbps, addMbps: VERSIONS[version].mbps + pullMbps, addVcpu };
}

/**
 * Whether `edge` can take `d`. The ledger allows `tolerance` for the float drift of its running sums; the
 * options offered to a policy are checked strictly (tolerance 0), so any offered option can be reserved.
 */
export function fits(edge: Pick<EdgeState, 'usedMbps' | 'usedVcpu' | 'capMbps' | 'capVcpu'>, d: EdgeDemand, tolerance = 0): boolean {
  return edge.usedMbps + d.addMbps <= edge.capMbps + tolerance && edge.usedVcpu + d.addVcpu <= edge.capVcpu + tolerance;
}

/** the highest version the bandwidth sustains (with 20 % headroom), else the lowest */
export function wantedVersion(bandwidthMbps: number): number {
  for (let v = 0; v < VERSIONS.length; v++) if (VERSIONS[v].mbps * 1.2 <= bandwidthMbps) return v;
  return VERSIONS.length - 1;
}

function terms(w: PreferenceWeights, Ls: number, Lw: number, want: number, served: number) {
  const B = Math.max(0, VERSIONS[want].mbps - VERSIONS[served].mbps) / VERSIONS[want].mbps;
  return { B, penalty: w.a1 * Ls + w.a2 * Lw + w.a3 * B };
}

/** Every feasible way to serve this request: the CDN at the wanted version, or an edge at any version ≤ wanted quality that fits. */
export function options(req: ViewerRequest, edges: EdgeState[]): Option[] {
  const want = wantedVersion(req.bandwidthMbps);
  const out: Option[] = [];
  {
    const Ls = req.cdnLatencyS;
    const Lw = 2 * req.cdnLatencyS;
    const t = terms(req.weights, Ls, Lw, want, want);
    const costB = VERSIONS[want].mbps / VERSIONS[0].mbps;
    out.push({
      target: 'cdn',
      version: want,
      Ls,
      Lw,
      ...t,
      costT: 0,
      costB,
      reward: -REWARD_A * t.penalty - REWARD_B * costB,
      addMbps: 0,
      addVcpu: 0,
    });
  }
  for (const e of edges) {
    const le = req.edgeLatencyS[e.id];
    const lc = req.edgeCdnLatencyS[e.id];
    if (!(le >= 0) || !(lc >= 0)) continue;
    const carried = e.channels.get(req.channel);
    for (let v = want; v < VERSIONS.length; v++) {
      const d = edgeDemand(carried, v);
      if (!fits(e, d)) continue;
      const Ls = le + lc + VERSIONS[v].transcodeS;
      const Lw = 2 * le + (carried ? 0 : lc);
      const t = terms(req.weights, Ls, Lw, want, v);
      const costB = d.pullMbps / VERSIONS[0].mbps;
      const costT = d.addVcpu / VERSIONS[1].vcpu;
      out.push({
        target: e.id,
        version: v,
        Ls,
        Lw,
        ...t,
        costT,
        costB,
        reward: -REWARD_A * t.penalty - REWARD_B * (costT + costB),
        addMbps: d.addMbps,
        addVcpu: d.addVcpu,
      });
    }
  }
  return out;
}

export type AssignmentPolicyName = 'cloud-cdn' | 'online-heu';

/** cloud-cdn: always the CDN; online-heu: the feasible option with the highest reward (least penalty + cost). */
export function choose(policy: AssignmentPolicyName, opts: Option[]): Option {
  if (policy === 'cloud-cdn') return opts[0];
  let best = opts[0];
  for (const o of opts) if (o.reward > best.reward) best = o;
  return best;
}
