/**
 * CMCD (CTA-5004) through hls.js' own CMCD support: the SDK switches it on with its ids so that CDN logs
 * join the telemetry. hls.js sends the keys; we provide the ids:
 * - `sid` is CTA-5004's *playback session* — one playback of one piece of content — which is our view id
 *   (our visit id, the 30-minute `session_id`, stays in our own telemetry);
 * - `cid` is the content id, made valid for CMCD (`cmcdContentId`); the view's `viewstart` event carries the
 *   value sent (`cmcd_cid`) when it differs from the app's id.
 */
import type Hls from 'hls.js';
import type { HlsConfig } from 'hls.js';
import { unitHash } from '../core/ids.js';

/** CTA-5004: `cid` is a string of at most 64 characters. */
export const CMCD_CID_MAX = 64;

/**
 * The content id as CMCD can carry it: printable ASCII (a structured-field string) of at most 64
 * characters. Other characters are percent-encoded (UTF-8, as in a URL; '%' itself too); an id still longer
 * than 64 keeps its first 55 characters, '~' and 8 hex digits of a hash of the whole id (distinct ids stay
 * distinct with high probability). A valid id is returned as it is.
 */
export function cmcdContentId(id: string): string {
  let s = '';
  for (const ch of id) {
    const c = ch.codePointAt(0)!;
    s += c >= 0x20 && c <= 0x7e && ch !== '%' ? ch : encodeURIComponent(ch).replace(/!/g, '%21');
  }
  if (s.length <= CMCD_CID_MAX) return s;
  const head = s.slice(0, 55).replace(/%[0-9A-F]?$/, ''); // never cut an escape in two
  const hash = Math.floor(unitHash(id) * 2 ** 32)
    .toString(16)
    .padStart(8, '0');
  return `${head}~${hash}`;
}

/** `config` plus CMCD switched on with these ids, keeping the app's CMCD options. */
export function cmcdConfig<T extends Partial<HlsConfig>>(
  config: T | undefined,
  sessionId: string,
  contentId?: string,
): T & Partial<HlsConfig> {
  const cmcd = { ...(config?.cmcd ?? {}), sessionId, ...(contentId ? { contentId: cmcdContentId(contentId) } : {}) };
  return { ...(config ?? ({} as T)), cmcd };
}

/**
 * Point an Hls instance's CMCD at these ids: for the manifests it loads from now on, and — when loading has
 * already started (`hls.loadSource()` ran first) — for every later request of the current one, through
 * hls.js' CMCD reporter (hls.js 1.6/1.7 build it when the manifest starts loading and keep its ids).
 * @returns 'off' when CMCD is off on that instance (not built with `hlsConfig()`), 'late' when loading had
 *   started and this hls.js offered no way to update the ids (call attach() before loadSource()), else 'ok'
 */
export function applyCmcd(hls: Hls, sessionId: string, contentId?: string): 'ok' | 'off' | 'late' {
  const cmcd = (hls.config as Partial<HlsConfig>).cmcd;
  if (!cmcd) return 'off';
  const cid = contentId ? cmcdContentId(contentId) : undefined;
  cmcd.sessionId = sessionId;
  if (cid) cmcd.contentId = cid;
  if (!hls.url) return 'ok';
  const reporter = (hls as unknown as { cmcdController?: { reporter?: { update?: (d: Record<string, string>) => void } } }).cmcdController
    ?.reporter;
  if (typeof reporter?.update !== 'function') return 'late';
  reporter.update({ sid: sessionId, ...(cid ? { cid } : {}) });
  return 'ok';
}
