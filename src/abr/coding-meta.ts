/**
 * The coding-meta carrier of the live ladder (issue 14): each finished chunk's bytes and x264 coding meta
 * at every rung, published in every rung's media playlist as one `EXT-X-DATERANGE` per chunk (RFC 8216bis
 * §4.4.5.1, client attributes `X-…`):
 *
 *   #EXT-X-DATERANGE:ID="cm-42",CLASS="com.edgeplay.coding-meta",START-DATE="…",DURATION=2.000,
 *     X-SN="42",X-BYTES="74000,181000,296000",X-QP="28.1,27.0,26.4",X-FRAMES="48,48,48",X-I="1,1,1",X-P="47,47,47",
 *     X-B="0,0,0",X-I-BYTES="…",X-P-BYTES="…",X-B-BYTES="…",X-TAIL-BYTES="…",X-SCENE="0.0123"
 *
 * Why a DATERANGE rather than a sidecar: it arrives with the playlist refresh the player makes anyway (no
 * extra request, nothing to keep in sync), it is anchored to its segment by START-DATE = the segment's
 * PROGRAM-DATE-TIME, every rung's playlist carries every rung's meta (a live player only refreshes the
 * playlist of the rung it plays), and players that do not know the class ignore it (hls.js parses it into
 * `LevelDetails.dateRanges`). Pure TypeScript (the dev server writes it, the ABR controller reads it).
 */
import type { ChunkMeta } from './size-forecast.js';

export const CODING_META_CLASS = 'com.edgeplay.coding-meta';

const FIELDS: Array<[string, keyof ChunkMeta]> = [
  ['X-BYTES', 'bytes'],
  ['X-FRAMES', 'frames'],
  ['X-QP', 'qpMean'],
  ['X-I', 'iCount'],
  ['X-P', 'pCount'],
  ['X-B', 'bCount'],
  ['X-I-BYTES', 'iBytes'],
  ['X-P-BYTES', 'pBytes'],
  ['X-B-BYTES', 'bBytes'],
  ['X-TAIL-BYTES', 'tailBytes'],
];

/**
 * The `EXT-X-DATERANGE` line of chunk `sn` (media sequence number) starting at `startDate` (its
 * PROGRAM-DATE-TIME) lasting `durationS`, with `meta[rung]` for every rung (ascending). Throws on an empty
 * ladder.
 */
export function formatCodingMeta(sn: number, startDate: string, durationS: number, meta: readonly ChunkMeta[]): string {
  if (!meta.length) throw new Error('coding meta: no rungs');
  const attrs = [
    `ID="cm-${sn}"`,
    `CLASS="${CODING_META_CLASS}"`,
    `START-DATE="${startDate}"`,
    `DURATION=${durationS.toFixed(3)}`,
    `X-SN="${sn}"`,
  ];
  for (const [key, f] of FIELDS)
    attrs.push(`${key}="${meta.map((m) => (f === 'qpMean' ? m[f].toFixed(2) : String(Math.round(m[f])))).join(',')}"`);
  attrs.push(`X-SCENE="${Math.max(...meta.map((m) => m.scene)).toFixed(4)}"`);
  return `#EXT-X-DATERANGE:${attrs.join(',')}`;
}

/**
 * The chunk number and per-rung meta of one parsed DATERANGE's attributes (hls.js' `DateRange.attr`, or
 * any record of attribute name → unquoted value). Null when the class is not ours or an attribute is
 * missing or malformed, or the rung count differs from `rungs` (a carrier for another ladder).
 */
export function parseCodingMeta(attr: Readonly<Record<string, unknown>>, rungs: number): { sn: number; meta: ChunkMeta[] } | null {
  if (attr.CLASS !== CODING_META_CLASS) return null;
  const sn = Number(attr['X-SN']);
  if (!Number.isInteger(sn) || sn < 0) return null;
  const cols: number[][] = [];
  for (const [key] of FIELDS) {
    const v = attr[key];
    if (typeof v !== 'string') return null;
    const xs = v.split(',').map(Number);
    if (xs.length !== rungs || !xs.every((x) => Number.isFinite(x) && x >= 0)) return null;
    cols.push(xs);
  }
  const scene = Number(attr['X-SCENE']);
  if (!Number.isFinite(scene)) return null;
  const meta: ChunkMeta[] = [];
  for (let r = 0; r < rungs; r++) {
    const m = { scene } as ChunkMeta;
    FIELDS.forEach(([, f], i) => ((m as unknown as Record<string, number>)[f] = cols[i][r]));
    meta.push(m);
  }
  return { sn, meta };
}
