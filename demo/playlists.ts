/**
 * Playlist rewriting for the dev server and the loopback edges: the query of a shaped session carried to
 * every URI, the first N segments of a VOD playlist, a subset of a multivariant playlist's variants.
 */
/** Append shaping parameters to every URI of a playlist (variant URIs, segment URIs, URI="..." attributes). */
export function rewritePlaylist(text: string, params: string): string {
  const add = (u: string) => (/^[a-z]+:/i.test(u) ? u : u + (u.includes('?') ? '&' : '?') + params);
  return text
    .split('\n')
    .map((line) => {
      const l = line.trim();
      if (!l) return line;
      if (l.startsWith('#')) return line.replace(/URI="([^"]+)"/g, (_, u: string) => `URI="${add(u)}"`);
      return add(l);
    })
    .join('\n');
}

/** Keep the first `n` segments of a VOD media playlist (short streams for tests: `?limit=N`). */
export function limitPlaylist(text: string, n: number): string {
  if (!text.includes('#EXTINF')) return text; // master playlist
  const out: string[] = [];
  let segs = 0;
  let pendingInf = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF')) {
      if (segs >= n) continue;
      pendingInf = true;
      out.push(line);
    } else if (line.trim() && !line.startsWith('#')) {
      if (pendingInf) {
        out.push(line);
        segs++;
        pendingInf = false;
      }
    } else out.push(line);
  }
  return out.join('\n');
}

/** Keep only the variants at these indices (0 = first EXT-X-STREAM-INF) of a multivariant playlist: `?variants=0,2,5`. */
export function filterVariants(text: string, keep: number[]): string {
  if (!text.includes('#EXT-X-STREAM-INF')) return text; // a media playlist
  const out: string[] = [];
  let idx = -1;
  let dropNextUri = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-STREAM-INF')) {
      idx++;
      dropNextUri = !keep.includes(idx);
      if (!dropNextUri) out.push(line);
    } else if (line.trim() && !line.startsWith('#')) {
      if (!dropNextUri) out.push(line);
      dropNextUri = false;
    } else out.push(line);
  }
  return out.join('\n');
}

/** A playlist request's rewriting query, checked: `limit` (≥ 1 segments) and `variants` (variant indices). */
export interface PlaylistQuery {
  /** keep the first N segments of a VOD media playlist */
  limit?: number;
  /** keep these variants (0 = first EXT-X-STREAM-INF) of a multivariant playlist */
  variants?: number[];
}

/**
 * Read `?limit=N` and `?variants=i,j,…` of a playlist request. An absent or empty parameter is no rewriting.
 * @returns the query, or `{ error }` saying which parameter is wrong and what it must be (the servers answer 400):
 *   a malformed value is never ignored silently — a test asking for a short stream must not get the whole one.
 */
export function playlistQuery(params: URLSearchParams): PlaylistQuery | { error: string } {
  const q: PlaylistQuery = {};
  const limit = params.get('limit');
  if (limit) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1) return { error: `limit must be a whole number of segments ≥ 1, got "${limit}"` };
    q.limit = Number(limit);
  }
  const variants = params.get('variants');
  if (variants) {
    if (!/^\d+(,\d+)*$/.test(variants))
      return { error: `variants must be variant indices separated by commas (e.g. 0,2,5), got "${variants}"` };
    q.variants = variants.split(',').map(Number);
  }
  return q;
}
