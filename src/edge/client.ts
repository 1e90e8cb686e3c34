/**
 * Edge negotiation on the client (ELCast over HLS Content Steering):
 *  1. probe the candidate edges and the CDN (small timed requests, best of two);
 *  2. POST /v1/negotiate with the viewer's preference weights (from the profiler, else defaults), the RTTs,
 *     a bandwidth estimate when one is known, and the playlist's variants and renditions (none for a media
 *     playlist: the controller then assigns the CDN);
 *  3. hand the answer to hls.js (`steeringConfig`): a playlist loader adds `#EXT-X-CONTENT-STEERING` and, for
 *     an edge, the edge pathway as the initial one, so playback starts on the edge; hls.js' own Content
 *     Steering reloads the manifest and moves back to the CDN pathway by itself when the edge fails; the
 *     negotiated variant cap (CMSD `mb`) holds as `hls.autoLevelCapping` while on the edge.
 * Any failure (controller down, slow, garbage) resolves to `null`: play from the CDN at once.
 */
import type Hls from 'hls.js';
import type { HlsConfig, LoaderCallbacks, LoaderConfiguration, LoaderContext, PlaylistLoaderContext } from 'hls.js';
import { DEFAULT_WEIGHTS, validWeights, type PreferenceWeights } from '../core/preference.js';
import type { Assignment, Device, NegotiateAnswer, NegotiateRequest, PathwayClone, RenditionRef, VariantRef } from '../core/protocol.js';
import { checkName } from '../core/schemas/common.js';
/** The largest bandwidth estimate the controller accepts, Mb/s (its schema's maximum): beyond it the figure is surely bit/s. */
const MAX_BANDWIDTH_MBPS = 100000;

export interface EdgeCandidate {
  id: string;
  /** a small resource on the edge to time (e.g. `${edge}/probe`) */
  probeUrl: string;
}

export interface NegotiationOptions {
  /** controller base URL */
  controller: string;
  /** 1–128 of `[A-Za-z0-9_.:-]` (the controller refuses any other; an `Edgeplay`'s `viewerId` always is one) */
  viewerId: string;
  /** 1–128 of `[A-Za-z0-9_.:-]`, e.g. 'news' or 'bbc-one' (the controller refuses any other) */
  channel: string;
  /** the multivariant playlist on the CDN */
  src: string;
  edges?: EdgeCandidate[];
  /** a small resource on the CDN to time */
  cdnProbeUrl?: string;
  /** preference weights, or a function giving them (e.g. `() => profiler.weights(channel)`) */
  weights?: PreferenceWeights | (() => Promise<PreferenceWeights>);
  /**
   * the viewer's bandwidth estimate, Mb/s, or a function giving it (e.g. `() => hls.bandwidthEstimate / 1e6`
   * from an earlier view). Without one (or when it gives nothing usable: not a number in (0, 100000] Mb/s — a figure in
   * bit/s such as `hls.bandwidthEstimate` itself is ignored with a console warning) the browser's Network Information
   * estimate `navigator.connection.downlink` is sent where the browser has it (Chromium: Mb/s, rounded, at
   * most 10); else none, and the controller assumes 10 Mb/s.
   */
  bandwidthMbps?: number | (() => number | undefined | Promise<number | undefined>);
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

/** An attribute of an HLS tag line (quoted or not), or undefined. */
function attr(line: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|[:,])${name}=("([^"]*)"|[^,]*)`).exec(line);
  return m ? (m[2] ?? m[1]) : undefined;
}

/** Set a quoted attribute of a tag line (replaced where present, appended otherwise). */
function setAttr(line: string, name: string, value: string): string {
  const re = new RegExp(`(^|[:,])${name}=("[^"]*"|[^,]*)`);
  return re.test(line) ? line.replace(re, `$1${name}="${value}"`) : `${line},${name}="${value}"`;
}

const int = (s: string | undefined) => (s && /^\d{1,12}$/.test(s) ? Number(s) : undefined);

/** The line holding the URI of the EXT-X-STREAM-INF at `i` (the next non-blank, non-tag line), or -1. */
function uriLineOf(lines: string[], i: number): number {
  let j = i + 1;
  while (j < lines.length && (!lines[j].trim() || lines[j].startsWith('#'))) j++;
  return j < lines.length ? j : -1;
}

/**
 * The variants of a multivariant playlist as the steering loader labels them (STABLE-VARIANT-ID, else v0, v1, …
 * in order), with their absolute URIs and declared BANDWIDTH / AVERAGE-BANDWIDTH (bit/s). Empty for a media playlist.
 */
export function playlistVariants(text: string, base: string): VariantRef[] {
  const out: VariantRef[] = [];
  const lines = text.split(/\r?\n/);
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF')) continue;
    const id = attr(lines[i], 'STABLE-VARIANT-ID') ?? `v${n}`;
    n++;
    const j = uriLineOf(lines, i);
    if (j < 0) continue;
    const bandwidth = int(attr(lines[i], 'BANDWIDTH'));
    const average = int(attr(lines[i], 'AVERAGE-BANDWIDTH'));
    out.push({
      id,
      uri: new URL(lines[j].trim(), base).href,
      ...(bandwidth ? { bandwidth } : {}),
      ...(average ? { average_bandwidth: average } : {}),
    });
  }
  return out;
}

/** The renditions with their own playlist (EXT-X-MEDIA with URI) as the steering loader labels them (STABLE-RENDITION-ID, else r0, r1, …). */
export function playlistRenditions(text: string, base: string): RenditionRef[] {
  const out: RenditionRef[] = [];
  let n = 0;
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('#EXT-X-MEDIA:')) continue;
    const uri = attr(line, 'URI');
    if (uri === undefined) continue;
    out.push({ id: attr(line, 'STABLE-RENDITION-ID') ?? `r${n}`, uri: new URL(uri, base).href });
    n++;
  }
  return out;
}

/**
 * Add Content Steering to a multivariant playlist that does not carry it: the tag (SERVER-URI, and the
 * pathway to start on), PATHWAY-ID / STABLE-VARIANT-ID on the variants and STABLE-RENDITION-ID on the
 * renditions with a URI — the labels the controller's PER-VARIANT-URIS / PER-RENDITION-URIS use. A media
 * playlist (no EXT-X-STREAM-INF) or one with its own steering is returned unchanged.
 */
export function injectSteering(text: string, serverUri: string, pathwayId = 'cdn'): string {
  if (/#EXT-X-CONTENT-STEERING/.test(text) || !/#EXT-X-STREAM-INF/.test(text)) return text;
  let n = 0;
  let r = 0;
  const lines = text.split(/\r?\n/).map((l) => {
    if (l.startsWith('#EXT-X-MEDIA:') && attr(l, 'URI') !== undefined) {
      const labelled = /STABLE-RENDITION-ID=/.test(l) ? l : `${l},STABLE-RENDITION-ID="r${r}"`;
      r++;
      return labelled;
    }
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
 * Start playback on an edge pathway: add the clone's pathway to a playlist `injectSteering` labelled (every
 * variant of BASE-ID copied with PATHWAY-ID = the clone's ID and its PER-VARIANT-URIS URI; every rendition of
 * the groups those variants use copied into a `<group>_clone_<ID>` group — hls.js' own naming for clones — with
 * its PER-RENDITION-URIS URI) and make it the initial pathway of the steering tag. hls.js filters the parsed
 * levels to the initial pathway and only learns clones from the steering manifest, after the first level
 * playlist: a pathway named here is used from the first request on.
 * Returns null when the clone does not move every URI of that pathway to the edge (a variant or rendition
 * missing from it, or mapped to a different path): then no edge may be claimed.
 */
export function startOnPathway(text: string, clone: PathwayClone, base: string): string | null {
  const lines = text.split(/\r?\n/);
  const id = clone.ID;
  const baseId = clone['BASE-ID'];
  const repl = clone['URI-REPLACEMENT'];
  const moves = (edgeUri: string | undefined, uri: string) => {
    if (!edgeUri) return false;
    const u = new URL(uri, base);
    return new URL(edgeUri).href.endsWith(`${u.pathname}${u.search}`);
  };
  const groups = { AUDIO: new Set<string>(), SUBTITLES: new Set<string>() };
  const variants: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.startsWith('#EXT-X-STREAM-INF:') || attr(l, 'PATHWAY-ID') !== baseId) continue;
    const j = uriLineOf(lines, i);
    const to = repl['PER-VARIANT-URIS']?.[attr(l, 'STABLE-VARIANT-ID') ?? ''];
    if (j < 0 || !moves(to, lines[j].trim())) return null;
    let copy = setAttr(l, 'PATHWAY-ID', id);
    for (const kind of ['AUDIO', 'SUBTITLES'] as const) {
      const g = attr(l, kind);
      if (g === undefined) continue;
      groups[kind].add(g);
      copy = setAttr(copy, kind, `${g}_clone_${id}`);
    }
    variants.push(copy, to!);
  }
  if (!variants.length) return null;
  const media: string[] = [];
  for (const l of lines) {
    if (!l.startsWith('#EXT-X-MEDIA:')) continue;
    const type = attr(l, 'TYPE');
    const g = attr(l, 'GROUP-ID');
    if ((type !== 'AUDIO' && type !== 'SUBTITLES') || g === undefined || !groups[type].has(g)) continue;
    let copy = setAttr(l, 'GROUP-ID', `${g}_clone_${id}`);
    const uri = attr(l, 'URI');
    if (uri !== undefined) {
      const to = repl['PER-RENDITION-URIS']?.[attr(l, 'STABLE-RENDITION-ID') ?? ''];
      if (!moves(to, uri)) return null;
      copy = setAttr(copy, 'URI', to!);
    }
    media.push(copy);
  }
  const out = lines.map((l) => (l.startsWith('#EXT-X-CONTENT-STEERING:') ? setAttr(l, 'PATHWAY-ID', id) : l));
  while (out.length && !out[out.length - 1].trim()) out.pop();
  return [...out, ...media, ...variants, ''].join('\n');
}

/** The bandwidth estimate negotiate() sends: the app's, else the browser's (Network Information API `downlink`, Mb/s). */
async function bandwidthEstimate(o: NegotiationOptions): Promise<number | undefined> {
  try {
    const app = typeof o.bandwidthMbps === 'function' ? await o.bandwidthMbps() : o.bandwidthMbps;
    // the controller refuses a negotiation whose estimate is beyond its maximum: that would cost the edge, not the figure
    if (app != null && app > MAX_BANDWIDTH_MBPS) console.warn(`[edgeplay] bandwidthMbps ${app} > ${MAX_BANDWIDTH_MBPS}: bit/s? ignored`);
    else if (app != null && app > 0 && Number.isFinite(app)) return app;
  } catch {
    /* fall through to the browser's */
  }
  const downlink = (globalThis.navigator as (Navigator & { connection?: { downlink?: number } }) | undefined)?.connection?.downlink;
  return typeof downlink === 'number' && downlink > 0 && Number.isFinite(downlink) ? downlink : undefined;
}

/**
 * Negotiate an assignment. Resolves null on any failure — the caller plays from the CDN.
 * @throws TypeError (rejects at once, before any request) when `viewerId` or `channel` is not 1–128 of `[A-Za-z0-9_.:-]`: the
 *   controller would answer every such negotiation 400, a null each time
 */
export async function negotiate(o: NegotiationOptions): Promise<Negotiation | null> {
  for (const k of ['viewerId', 'channel'] as const) checkName('edgeplay.negotiate', k, o[k]);
  const deadline = o.timeoutMs ?? 1500;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), deadline);
  try {
    const work = (async () => {
      const [master, rtts, weights, bandwidthMbps] = await Promise.all([
        fetch(o.src, { signal: ac.signal })
          .then(async (r) => ({ text: r.ok ? await r.text() : '', url: r.url || o.src }))
          .catch(() => ({ text: '', url: o.src })),
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
        bandwidthEstimate(o),
      ]);
      // no variants (a media playlist, or the fetch failed): the controller assigns the CDN — an edge pathway
      // could not carry this playlist
      const variants = playlistVariants(master.text, master.url);
      const renditions = variants.length ? playlistRenditions(master.text, master.url) : [];
      const body: NegotiateRequest = {
        viewer_id: o.viewerId,
        channel: o.channel,
        weights,
        rtt_ms: rtts,
        ...(bandwidthMbps ? { bandwidth_mbps: bandwidthMbps } : {}),
        ...(o.device ? { device: o.device } : {}),
        variants,
        ...(renditions.length ? { renditions } : {}),
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

type LoaderClass = new (c: HlsConfig) => {
  load(context: LoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>): void;
};
type CapLevelControllerClass = NonNullable<HlsConfig['capLevelController']>;

/** hls.js' loader context type of a steering manifest request (LoaderContextType.STEERING_MANIFEST). */
const STEERING_CONTEXT = 'steering-manifest';

/**
 * The first item of a CMSD-Dynamic header (CTA-5006; our controller sends one): its pathway and `mb`
 * (kbit/s), if any. A minimal reader for the one shape we send, so the core bundle carries no
 * structured-field parser; the tests decode the same header with @svta/cml-cmsd.
 */
export function readCmsdMaxBitrate(header: string | null | undefined): { pathway: string; mbKbps: number | null } | null {
  const m = header ? /^\s*"([^"\\]*)"([^,]*)/.exec(header) : null;
  if (!m) return null;
  const mb = /;\s*mb=(\d+)(?=;|\s*$)/.exec(m[2]);
  return { pathway: m[1], mbKbps: mb ? Number(mb[1]) : null };
}

/** The highest level index whose declared BANDWIDTH is at or below `mbKbps` (levels sorted by bitrate, as hls.js keeps them); 0 when none is. */
export function levelCapIndex(levels: ReadonlyArray<{ bitrate: number }>, mbKbps: number): number {
  let cap = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i].bitrate <= mbKbps * 1000) cap = i;
  return cap;
}

/**
 * What the loaders and the cap controller of one hls.js instance share: the instance, the variant cap per
 * pathway (from the negotiation, then from each steering response's CMSD `mb`), whether hls.js has measured
 * its throughput yet, and the cap currently applied.
 */
class SteeringState {
  hls: Hls | null = null;
  /** mb (kbit/s) by pathway; a pathway absent or null is not capped */
  readonly caps = new Map<string, number | null>();
  /** hls.js has sampled a main fragment: its bandwidth estimate is a measurement, not abrEwmaDefaultEstimate */
  measured = false;
  /** the autoLevelCapping this state set (-1: none) */
  private applied = -1;

  constructor(private readonly Ctor: typeof Hls) {}

  bind(hls: Hls): void {
    this.hls = hls;
    const E = this.Ctor.Events;
    hls.on(E.MANIFEST_LOADING, () => {
      this.applied = -1; // loadSource resets hls.autoLevelCapping
    });
    hls.on(E.MANIFEST_PARSED, () => this.apply());
    hls.on(E.LEVELS_UPDATED, () => this.apply());
    hls.on(E.FRAG_BUFFERED, (_e, d) => {
      // hls.js' AbrController samples its estimator on this event for main, non-init fragments
      if (d.frag.type === 'main' && d.frag.sn !== 'initSegment') this.measured = true;
    });
  }

  /** The cap index for the pathway hls.js plays from now (-1: not capped). */
  capIndex(): number {
    const levels = this.hls?.levels;
    if (!levels?.length) return -1;
    const mb = this.caps.get(levels[0].pathwayId);
    return mb == null ? -1 : levelCapIndex(levels, mb);
  }

  /** `limit` lowered to the negotiated cap (for CapLevelController.getMaxLevel, i.e. capLevelToPlayerSize). */
  limit(level: number): number {
    const cap = this.capIndex();
    return cap < 0 ? level : Math.min(level, cap);
  }

  /**
   * Install the cap of the current pathway as hls.autoLevelCapping (hls.js' ABR, and edgeplay's, never pick
   * above it); lift it when the pathway has none. A stricter cap the app or capLevelToPlayerSize set is kept.
   */
  apply(): void {
    const hls = this.hls;
    if (!hls?.levels?.length) return;
    const cap = this.capIndex();
    const current = hls.autoLevelCapping;
    if (cap < 0) {
      if (this.applied >= 0 && current === this.applied) hls.autoLevelCapping = -1;
    } else if (current < 0 || current === this.applied || current > cap) hls.autoLevelCapping = cap;
    this.applied = cap;
  }

  /** Read a steering response: the cap its CMSD-Dynamic header gives the pathway it names. */
  readResponse(details: unknown): void {
    const d = details as { getResponseHeader?: (n: string) => string | null; headers?: { get(n: string): string | null } } | null;
    let header: string | null = null;
    try {
      header = typeof d?.getResponseHeader === 'function' ? d.getResponseHeader('CMSD-Dynamic') : (d?.headers?.get('CMSD-Dynamic') ?? null);
    } catch {
      header = null;
    }
    const c = readCmsdMaxBitrate(header);
    if (c) this.caps.set(c.pathway, c.mbKbps);
  }
}

/**
 * hls.js config for a negotiation (with `null`, the app's config unchanged). It adds:
 * - a playlist loader that puts `#EXT-X-CONTENT-STEERING` into the multivariant playlist (`injectSteering`)
 *   and, when an edge was assigned, the edge pathway with every variant and rendition on the edge as the
 *   initial pathway (`startOnPathway`), so the first level playlist and segment already come from the edge;
 *   likewise a CDN viewer's assigned CDN pathway (several CDNs: the answer's clone of that CDN).
 *   When the playlist cannot be carried by the edge (a media playlist, its own steering, a variant the clone
 *   does not move) the negotiation is given up: `neg.leave()` releases the lease, `neg.assignment` says 'cdn'
 *   and the playlist plays from the CDN as it is (no steering tag: the session is gone);
 * - a loader that leaves `_HLS_throughput` out of steering requests until hls.js has measured a fragment (its
 *   estimate is `abrEwmaDefaultEstimate` before) and reads each steering response's CMSD-Dynamic `mb`;
 * - a cap-level controller (subclass of the app's) that holds `hls.autoLevelCapping` at the negotiated cap —
 *   the highest variant at or below `mb` — while hls.js plays from the capped pathway, follows each steering
 *   response, and lifts it on another pathway (the CDN after a failover).
 * Use one config per Hls instance.
 */
export function steeringConfig<T extends Partial<HlsConfig>>(
  HlsCtor: typeof Hls,
  neg: Negotiation | null,
  config?: T,
): T & Partial<HlsConfig> {
  const base = (config ?? {}) as T & Partial<HlsConfig>;
  if (!neg) return base;
  const defaults = (HlsCtor as unknown as { DefaultConfig: HlsConfig }).DefaultConfig;
  const PlaylistBase = (base.pLoader ?? base.loader ?? defaults.loader) as unknown as LoaderClass;
  const AnyBase = (base.loader ?? defaults.loader) as unknown as LoaderClass;
  const CapBase = (base.capLevelController ?? defaults.capLevelController) as CapLevelControllerClass;
  const state = new SteeringState(HlsCtor);
  const a = neg.assignment;
  if (a.target !== 'cdn' && a.max_variant_bps != null) state.caps.set(a.pathway, Math.ceil(a.max_variant_bps / 1000));
  const uri = neg.steeringUri;

  /** give the edge up: the lease back, the assignment says what serves the viewer */
  const fallBack = () => {
    if (neg.assignment.target === 'cdn') return;
    neg.assignment = { ...neg.assignment, target: 'cdn', pathway: 'cdn', edge_url: null, clone: undefined, max_variant_bps: null };
    state.caps.clear();
    void neg.leave();
  };
  const rewrite = (text: string, url: string): string => {
    const steered = injectSteering(text, uri);
    if (steered === text) {
      fallBack(); // a media playlist, or a playlist with its own steering: no edge pathway can be added
      return text;
    }
    const clone = neg.assignment.clone;
    if (!clone) return steered;
    if (neg.assignment.target === 'cdn') {
      // the assigned CDN's pathway (several CDNs): start there; a clone that does not move every URI → the playlist's own
      const onCdn = startOnPathway(steered, clone, url);
      if (onCdn) return onCdn;
      neg.assignment = { ...neg.assignment, pathway: 'cdn', clone: undefined };
      return steered;
    }
    const onEdge = startOnPathway(steered, clone, url);
    if (onEdge) return onEdge;
    fallBack(); // the session is left: no steering manifest to ask for
    return text;
  };

  class SteeringPlaylistLoader extends PlaylistBase {
    override load(context: PlaylistLoaderContext, cfg: LoaderConfiguration, callbacks: LoaderCallbacks<PlaylistLoaderContext>): void {
      if (context.type !== 'manifest') return super.load(context, cfg, callbacks as LoaderCallbacks<LoaderContext>);
      const onSuccess = callbacks.onSuccess;
      super.load(context, cfg, {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => {
          if (typeof response.data === 'string') response.data = rewrite(response.data, response.url || context.url);
          onSuccess(response, stats, ctx as PlaylistLoaderContext, details);
        },
      } as LoaderCallbacks<LoaderContext>);
    }
  }
  class SteeringManifestLoader extends AnyBase {
    override load(context: LoaderContext, cfg: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>): void {
      if ((context as { type?: string }).type !== STEERING_CONTEXT) return super.load(context, cfg, callbacks);
      if (!state.measured) {
        const u = new URL(context.url);
        u.searchParams.delete('_HLS_throughput');
        context.url = u.href;
      }
      const onSuccess = callbacks.onSuccess;
      super.load(context, cfg, {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => {
          state.readResponse(details);
          onSuccess(response, stats, ctx, details);
          state.apply(); // a new cap on the same pathway (a pathway change already applied it)
        },
      });
    }
  }
  class SteeringCapLevelController extends CapBase {
    constructor(hls: Hls) {
      super(hls);
      state.bind(hls);
    }
    override getMaxLevel(capLevelIndex: number): number {
      return state.limit(super.getMaxLevel(capLevelIndex));
    }
  }
  return {
    ...base,
    pLoader: SteeringPlaylistLoader as unknown as HlsConfig['pLoader'],
    loader: SteeringManifestLoader as unknown as HlsConfig['loader'],
    capLevelController: SteeringCapLevelController as unknown as CapLevelControllerClass,
  };
}
