/** Random, URL-safe identifiers. Works in browsers (secure or not), workers and Node >= 20. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

export function randomId(length = 21): string {
  const bytes = new Uint8Array(length);
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] & 63];
  return out;
}

export const ID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
const ID_RE = new RegExp(ID_PATTERN);
export const isId = (s: unknown): s is string => typeof s === 'string' && ID_RE.test(s);

/** FNV-1a 32-bit hash mapped to [0, 1): stable sampling decisions from an id. */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}
