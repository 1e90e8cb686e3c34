/**
 * CMCD (CTA-5004) through hls.js' own CMCD support: the SDK switches it on with its ids so that CDN logs
 * join the telemetry. hls.js sends the keys; we only provide the session and content ids.
 */
import type Hls from 'hls.js';
import type { HlsConfig } from 'hls.js';

/** `config` plus CMCD switched on with `sessionId` (and `contentId` when given), keeping the app's CMCD options. */
export function cmcdConfig<T extends Partial<HlsConfig>>(
  config: T | undefined,
  sessionId: string,
  contentId?: string,
): T & Partial<HlsConfig> {
  const cmcd = { ...(config?.cmcd ?? {}), sessionId, ...(contentId ? { contentId } : {}) };
  return { ...(config ?? ({} as T)), cmcd };
}

/**
 * Point an Hls instance's CMCD at these ids (for the manifests it loads from now on). Returns false when
 * CMCD is off on that instance (it was not built with `hlsConfig()`).
 */
export function applyCmcd(hls: Hls, sessionId: string, contentId?: string): boolean {
  const cmcd = (hls.config as Partial<HlsConfig>).cmcd;
  if (!cmcd) return false;
  cmcd.sessionId = sessionId;
  if (contentId) cmcd.contentId = contentId;
  return true;
}
