/**
 * The viewer's device class, as the controller groups views (`DEVICES` of the wire protocol): a small user-agent
 * heuristic (headsets and TVs first, since their browsers also say "Android" or "Mobile"); the app can pass its
 * own in `attach(…, { device })`.
 */
import type { Device } from '../core/protocol.js';

/** 'headset' | 'tv' | 'mobile' | 'desktop' from a user-agent string (default: this browser's); 'other' without one. */
export function deviceClass(ua: string | undefined = typeof navigator !== 'undefined' ? navigator.userAgent : undefined): Device {
  if (!ua) return 'other';
  if (/OculusBrowser|Quest|Pico|Wolvic|VisionOS/i.test(ua)) return 'headset';
  if (/SmartTV|SMART-TV|Tizen|Web0S|WebOS|HbbTV|CrKey|Roku|BRAVIA|Android TV|GoogleTV|AFT[A-Z]/i.test(ua)) return 'tv';
  if (/Mobi|Android|iPhone|iPad|iPod/i.test(ua)) return 'mobile';
  return 'desktop';
}
