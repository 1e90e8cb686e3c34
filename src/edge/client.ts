/**
 * Edge negotiation on the client (ELCast over HLS Content Steering):
 *  1. probe the candidate edges and the CDN (small timed requests, best of two);
 *  2. POST /v1/negotiate with the viewer's preference weights (from the profiler, else defaults), the RTTs,
 *     a bandwidth estimate and the playlist's variants;
 *  3. hand the answer's steering URI to hls.js: a playlist loader adds `#EXT-X-CONTENT-STEERING` (and
 *     PATHWAY-ID / STABLE-VARIANT-ID on the variants) to the multivariant playlist, so hls.js' own Content
 *     Steering loads the manifest, clones the edge pathway and fetches segments from it — and moves back to
 *     the CDN pathway by itself when the edge fails.
 * Any failure (controller down, slow, garbage) resolves to `null`: play from the CDN at once.
 */
import type Hls from 'hls.js';
import type { HlsConfig, LoaderCallbacks, LoaderConfiguration, LoaderContext, PlaylistLoaderContext } from 'hls.js';
import { DEFAULT_WEIGHTS, validWeights, type PreferenceWeights } from '../core/preference.js';
import type { Assignment, Device, NegotiateAnswer, NegotiateRequest, VariantRef } from '../core/protocol.js';

export interface EdgeCandidate {
  id: string;
  /** a small resource on the edge to time (e.g. `${edge}/probe`) */
  probeUrl: string;
}

export interface NegotiationOptions {
  /** controller base URL */
  controller: string;
  viewerId: string;
  channel: string;
  /** the multivariant playlist on the CDN */
  src: string;
  edges?: EdgeCandidate[];
  /** a small resource on the CDN to time */
  cdnProbeUrl?: string;
  /** preference weights, or a function giving them (e.g. `() => profiler.weights(channel)`) */
  weights?: PreferenceWeights | (() => Promise<PreferenceWeights>);
  bandwidthMbps?: number;
  device?: Device;
  /** the whole negotiation's deadline, ms (default 1500) */
  timeoutMs?: number;
}

export interface Negotiation {
  session: string;
  token: string;
  assignment: Assignment;
  /** absolute steering URI */
  steeringUri: string;
  weights: PreferenceWeights;
  rttMs: Record<string, number>;
  /** release the lease (call when playback of this channel ends) */
  leave(): Promise<void>;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** RTT in ms (best of `tries`), or null when the target does not answer within the deadline. */
export async function probe(url: string, timeoutMs = 800, tries = 2): Promise<number | null> {
  let best: number | null = null;
  for (let i = 0; i < tries; i++) {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), timeoutMs);
    const t0 = now();
    try {
      const r = await fetch(url, { cache: 'no-store', signal: ac.signal });
      await r.arrayBuffer();
      if (r.ok) best = Math.min(best ?? Infinity, now() - t0);
    } catch {
      /* unreachable: no RTT */
    } finally {
      clearTimeout(t);
    }
  }
  return best;
}

/** The variants of a multivariant playlist as the steering loader will label them (v0, v1, … in order). */
export function playlistVariants(text: string, base: string): VariantRef[] {
  const out: VariantRef[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF')) continue;
    const stable = /STABLE-VARIANT-ID="([^"]+)"/.exec(lines[i])?.[1];
    let j = i + 1;
    while (j < lines.length && (!lines[j].trim() || lines[j].startsWith('#'))) j++;
    if (j < lines.length) out.push({ id: stable ?? `v${out.length}`, uri: new URL(lines[j].trim(), base).href });
  }
  return out;
}

/** Add Content Steering to a multivariant playlist that does not carry it. */
export function injectSteering(text: string, serverUri: string, pathwayId = 'cdn'): string {
  if (/#EXT-X-CONTENT-STEERING/.test(text) || !/#EXT-X-STREAM-INF/.test(text)) return text;
  let n = 0;
  const lines = text.split(/\r?\n/).map((l) => {
    if (!l.startsWith('#EXT-X-STREAM-INF:')) return l;
    let attrs = l;
    if (!/PATHWAY-ID=/.test(attrs)) attrs += `,PATHWAY-ID="${pathwayId}"`;
    if (!/STABLE-VARIANT-ID=/.test(attrs)) attrs += `,STABLE-VARIANT-ID="v${n}"`;
    n++;
    return attrs;
  });
  const at = lines.findIndex((l) => l.startsWith('#EXTM3U'));
  lines.splice(at + 1, 0, `#EXT-X-CONTENT-STEERING:SERVER-URI="${serverUri}",PATHWAY-ID="${pathwayId}"`);
  return lines.join('\n');
}

/**
 * Negotiate an assignment. Resolves null on any failure — the caller plays from the CDN.
 */
export async function negotiate(o: NegotiationOptions): Promise<Negotiation | null> {
  const deadline = o.timeoutMs ?? 1500;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), deadline);
  try {
    const work = (async () => {
      const [masterText, rtts, weights] = await Promise.all([
        fetch(o.src, { signal: ac.signal })
          .then((r) => (r.ok ? r.text() : ''))
          .catch(() => ''),
        (async () => {
          const per = Math.max(200, Math.floor(deadline / 3));
          const entries = await Promise.all([
            ...(o.cdnProbeUrl ? [probe(o.cdnProbeUrl, per).then((v) => ['cdn', v] as const)] : []),
            ...(o.edges ?? []).map((e) => probe(e.probeUrl, per).then((v) => [e.id, v] as const)),
          ]);
          return Object.fromEntries(entries.filter((e) => e[1] != null).map(([k, v]) => [k, Math.round(v! * 10) / 10])) as Record<
            string,
            number
          >;
        })(),
        (async () => {
          try {
            const w = typeof o.weights === 'function' ? await o.weights() : o.weights;
            return w && validWeights(w) ? w : { ...DEFAULT_WEIGHTS };
          } catch {
            return { ...DEFAULT_WEIGHTS };
          }
        })(),
      ]);
      const variants = masterText ? playlistVariants(masterText, o.src) : [];
      const body: NegotiateRequest = {
        viewer_id: o.viewerId,
        channel: o.channel,
        weights,
        rtt_ms: rtts,
        ...(o.bandwidthMbps ? { bandwidth_mbps: o.bandwidthMbps } : {}),
        ...(o.device ? { device: o.device } : {}),
        variants,
      };
      const r = await fetch(`${o.controller}/v1/negotiate`, {
        method: 'POST',
        signal: ac.signal,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok) return null;
      const a = (await r.json()) as Partial<NegotiateAnswer> | null;
      if (!a || typeof a.session !== 'string' || typeof a.steering_uri !== 'string' || typeof a.token !== 'string' || !a.assignment)
        return null;
      const steeringUri = new URL(a.steering_uri, o.controller).href;
      const { session, token } = a;
      const neg: Negotiation = {
        // the weights the controller decided with (ours, unless it had to substitute defaults)
        session,
        token,
        assignment: a.assignment,
        steeringUri,
        weights: validWeights(a.weights) ? a.weights : weights,
        rttMs: rtts,
        async leave() {
          try {
            await fetch(`${o.controller}/v1/sessions/${encodeURIComponent(session)}/leave?token=${encodeURIComponent(token)}`, {
              method: 'POST',
              keepalive: true,
            });
          } catch {
            /* the lease expires anyway */
          }
        },
      };
      return neg;
    })();
    return await work;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * hls.js config with Content Steering for a negotiation: a playlist loader that injects the steering tag
 * into the multivariant playlist. With `null` (no negotiation) the config is returned unchanged.
 */
export function steeringConfig<T extends Partial<HlsConfig>>(
  HlsCtor: typeof Hls,
  neg: Negotiation | null,
  config?: T,
): T & Partial<HlsConfig> {
  const base = (config ?? {}) as T & Partial<HlsConfig>;
  if (!neg) return base;
  const Default = (base.pLoader ??
    (base.loader as unknown) ??
    (HlsCtor as unknown as { DefaultConfig: HlsConfig }).DefaultConfig.loader) as unknown as new (c: HlsConfig) => {
    load(context: LoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>): void;
  };
  const uri = neg.steeringUri;
  class SteeringPlaylistLoader extends Default {
    override load(context: PlaylistLoaderContext, cfg: LoaderConfiguration, callbacks: LoaderCallbacks<PlaylistLoaderContext>): void {
      if (context.type !== 'manifest') return super.load(context, cfg, callbacks as LoaderCallbacks<LoaderContext>);
      const onSuccess = callbacks.onSuccess;
      super.load(context, cfg, {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => {
          if (typeof response.data === 'string') response.data = injectSteering(response.data, uri);
          onSuccess(response, stats, ctx as PlaylistLoaderContext, details);
        },
      } as LoaderCallbacks<LoaderContext>);
    }
  }
  return { ...base, pLoader: SteeringPlaylistLoader as unknown as HlsConfig['pLoader'] };
}
