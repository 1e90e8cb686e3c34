/** Sizes on the wire. Quotas (keepalive fetch, sendBeacon, body limits) count bytes of UTF-8, not UTF-16 code units. */

/**
 * Bytes of `s` encoded as UTF-8 (what `fetch`/`sendBeacon` send for a string body), without encoding it:
 * 1 byte per code point below U+0080, 2 below U+0800, 3 for the rest of the BMP, 4 for a surrogate pair.
 * A lone surrogate counts 3 (it is sent as U+FFFD).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
