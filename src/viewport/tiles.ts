/**
 * From a viewport prediction to tiles: probabilities for an equirectangular tile grid and a prefetch plan
 * (which tiles at which quality) under a bandwidth budget.
 *
 * A tile is visible when any part of the viewport (a rectangular field of view around the centre, sampled
 * on a grid of directions) falls in it. The predicted centre is uncertain: the truth is modelled as the
 * prediction displaced by an isotropic angular error whose mean is `sigmaDeg` (the predictor's typical error
 * at that horizon); tile probability = the fraction of displaced viewports that touch the tile.
 */
import { fromYawPitch, rotateAxis, type Vec3 } from './geometry.js';

export interface TileGrid {
  cols: number;
  rows: number;
}
export interface Fov {
  hDeg: number;
  vDeg: number;
}
export const DEFAULT_GRID: TileGrid = { cols: 8, rows: 4 };
/** a typical headset's field of view */
export const DEFAULT_FOV: Fov = { hDeg: 100, vDeg: 90 };

export function tileOf(x: number, y: number, z: number, g: TileGrid): number {
  const yaw = Math.atan2(x, -z);
  const pitch = Math.asin(Math.max(-1, Math.min(1, y)));
  const c = Math.min(g.cols - 1, Math.floor((yaw / (2 * Math.PI) + 0.5) * g.cols));
  const r = Math.min(g.rows - 1, Math.floor((0.5 - pitch / Math.PI) * g.rows));
  return r * g.cols + c;
}

/** viewport sample directions around the forward direction (0,0,-1), as offsets in yaw/pitch degrees */
function fovOffsets(fov: Fov, n = 7): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  // edges pulled in by 0.1 % so a viewport whose edge lies exactly on a tile border does not count that tile
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) out.push([(i / (n - 1) - 0.5) * 0.999 * fov.hDeg, (j / (n - 1) - 0.5) * 0.999 * fov.vDeg]);
  return out;
}

/**
 * Directions seen by a viewport centred on c: the FOV grid is laid out in the camera's own frame
 * (yaw about the world up, then pitch) so it stays a rectangle on screen at any pitch.
 */
function viewportDirections(c: ArrayLike<number>, co: number, offsets: Array<[number, number]>): Vec3[] {
  const yaw = Math.atan2(c[co], -c[co + 2]);
  const pitch = Math.asin(Math.max(-1, Math.min(1, c[co + 1])));
  const out: Vec3[] = [];
  const tmp = [0, 0, 0];
  const cy = Math.cos(yaw),
    sy = Math.sin(yaw);
  for (const [dy, dp] of offsets) {
    // local direction (yaw dy, pitch dp around forward), pitched about the camera's right axis, then yawed
    rotateAxis(fromYawPitch(dy, dp), 0, [1, 0, 0], pitch, tmp, 0);
    out.push([tmp[0] * cy - tmp[2] * sy, tmp[1], tmp[0] * sy + tmp[2] * cy]);
  }
  return out;
}

/** Tiles touched by the viewport centred on c (a set of tile indices). */
export function visibleTiles(c: ArrayLike<number>, co = 0, g: TileGrid = DEFAULT_GRID, fov: Fov = DEFAULT_FOV): Set<number> {
  const s = new Set<number>();
  for (const d of viewportDirections(c, co, fovOffsets(fov))) s.add(tileOf(d[0], d[1], d[2], g));
  return s;
}

/** fixed displacement set (golden-angle spiral over a disk, radii matching a Rayleigh law with the given mean) */
function displacements(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [[0, 0]];
  const ga = Math.PI * (3 - Math.sqrt(5));
  // Rayleigh with mean 1: scale s = 1/sqrt(pi/2); inverse CDF r = s·sqrt(-2 ln(1-u))
  const s = 1 / Math.sqrt(Math.PI / 2);
  for (let i = 1; i < n; i++) {
    const u = (i - 0.5) / (n - 1);
    const r = s * Math.sqrt(-2 * Math.log(1 - u));
    out.push([r * Math.cos(i * ga), r * Math.sin(i * ga)]);
  }
  return out;
}
const DISP = displacements(32);

/**
 * Check a tile grid and a field of view.
 * @throws RangeError naming `where` for a grid without whole cols and rows > 0 or a field of view outside (0, 360] × (0, 180] degrees
 */
export function checkTiling(where: string, g: TileGrid, fov: Fov): void {
  if (!(Number.isInteger(g?.cols) && g.cols > 0 && Number.isInteger(g.rows) && g.rows > 0))
    throw new RangeError(`${where}: the grid needs whole cols and rows > 0, got ${JSON.stringify(g)}`);
  if (!(fov?.hDeg > 0 && fov.hDeg <= 360 && fov.vDeg > 0 && fov.vDeg <= 180))
    throw new RangeError(`${where}: fov must be in (0, 360] × (0, 180] degrees, got ${JSON.stringify(fov)}`);
}

/**
 * Probability that each tile is visible when the viewport centre is predicted at c with mean angular
 * error sigmaDeg.
 * @param c a unit direction (x, y, z; three.js frame, -Z = yaw 0) at offset `co`
 * @param sigmaDeg the prediction's mean angular error, degrees (≥ 0)
 * @returns one probability per tile, row-major (`g.rows × g.cols`)
 * @throws RangeError for a sigmaDeg that is no finite number ≥ 0, a grid without whole positive cols and rows, a field of
 *   view outside (0, 360] × (0, 180] degrees (a NaN sigmaDeg gave all-zero tiles, a grid of 0 columns none)
 */
export function tileProbabilities(
  c: ArrayLike<number>,
  sigmaDeg: number,
  g: TileGrid = DEFAULT_GRID,
  fov: Fov = DEFAULT_FOV,
  co = 0,
): Float64Array {
  if (!(sigmaDeg >= 0 && sigmaDeg < Infinity)) throw new RangeError(`tileProbabilities: sigmaDeg must be a number ≥ 0, got ${sigmaDeg}`);
  checkTiling('tileProbabilities', g, fov);
  const p = new Float64Array(g.cols * g.rows);
  const yaw = (Math.atan2(c[co], -c[co + 2]) * 180) / Math.PI;
  const pitch = (Math.asin(Math.max(-1, Math.min(1, c[co + 1]))) * 180) / Math.PI;
  const offs = fovOffsets(fov);
  for (const [dx, dy] of DISP) {
    const pc = Math.max(-89.9, Math.min(89.9, pitch + dy * sigmaDeg));
    const yc = yaw + (dx * sigmaDeg) / Math.max(0.2, Math.cos((pc * Math.PI) / 180));
    const centre = fromYawPitch(yc, pc);
    const seen = new Set<number>();
    for (const d of viewportDirections(centre, 0, offs)) seen.add(tileOf(d[0], d[1], d[2], g));
    for (const t of seen) p[t] += 1 / DISP.length;
  }
  return p;
}

export type TileQuality = 'low' | 'high';
export interface PrefetchPlan {
  quality: TileQuality[];
  /** bits of the plan for one segment */
  bits: number;
  /** bits of fetching every tile at high quality */
  allHighBits: number;
}

/**
 * Every tile at low quality (nothing is ever black), then upgrade tiles to high by decreasing probability
 * while the plan fits the budget (bits per segment). Equal-size tiles; `lowBits`/`highBits` per tile.
 * @param prob tile probabilities (`tileProbabilities`, a prediction's `tiles`)
 * @param budgetBits the segment's budget, bits (a plan of every tile at low may exceed it)
 * @throws RangeError when budgetBits or lowBits is no finite number ≥ 0, or highBits is below lowBits (an undefined
 *   budget upgraded every visible tile to high)
 */
export function prefetchPlan(prob: ArrayLike<number>, budgetBits: number, lowBits: number, highBits: number): PrefetchPlan {
  if (!(budgetBits >= 0 && budgetBits < Infinity && lowBits >= 0 && highBits >= lowBits && highBits < Infinity))
    throw new RangeError(
      `prefetchPlan: budgetBits and lowBits must be finite numbers ≥ 0 and highBits ≥ lowBits, got ${budgetBits}, ${lowBits}, ${highBits}`,
    );
  const n = prob.length;
  const quality: TileQuality[] = new Array(n).fill('low');
  let bits = n * lowBits;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => prob[b] - prob[a]);
  for (const t of order) {
    if (prob[t] <= 0) break;
    if (bits + highBits - lowBits > budgetBits) break;
    quality[t] = 'high';
    bits += highBits - lowBits;
  }
  return { quality, bits, allHighBits: n * highBits };
}
