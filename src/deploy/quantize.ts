/**
 * Weight compression for the deployment variants (src/deploy/catalog.ts): int8 with one scale per tensor and
 * IEEE 754 half floats, written in tfjs' own quantised weight format so that `tf.loadLayersModel` decodes them
 * (a weight spec's `quantization: { dtype: 'uint8', scale, min }` or `{ dtype: 'float16' }`), and magnitude
 * pruning masks. Pure functions over typed arrays: no DOM, no Node, no tfjs.
 */

/** Symmetric int8 with one scale per tensor: w ≈ scale · q, q ∈ [−127, 127], scale = max |w| / 127. */
export interface Int8Tensor {
  /** q + 128 as unsigned bytes (tfjs' uint8 format with min = −128 · scale) */
  bytes: Uint8Array;
  scale: number;
  /** the value of byte 0 in tfjs' affine decoding (value = byte · scale + min) */
  min: number;
}

/** Quantise a tensor to int8 with a per-tensor scale (an all-zero tensor gets scale 1). */
export function quantizeInt8(w: ArrayLike<number>): Int8Tensor {
  let max = 0;
  for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]));
  const scale = max > 0 ? max / 127 : 1;
  const bytes = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) bytes[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scale))) + 128;
  return { bytes, scale, min: -128 * scale };
}

/** The values an int8 tensor decodes to (what tfjs computes on load). */
export function dequantizeInt8(t: Int8Tensor): Float32Array {
  const out = new Float32Array(t.bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = t.bytes[i] * t.scale + t.min;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 as IEEE 754 binary16 bits, rounded to nearest even (overflow → ±Infinity, NaN kept). */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // subnormal half (or zero)
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  e = h >>> 10;
  return sign | (e >= 0x1f ? 0x7c00 : h);
}

/** binary16 bits → number. */
export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A tensor as half floats (little-endian 16-bit words, tfjs' float16 weight format). */
export function toFloat16(w: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = toHalf(w[i]);
  return out;
}

/**
 * Magnitude pruning: a mask keeping the (1 − sparsity) share of weights with the largest |w| (ties at the
 * threshold pruned). @returns 1 = kept, 0 = pruned
 * @throws RangeError when sparsity is outside [0, 1)
 */
export function magnitudeMask(w: ArrayLike<number>, sparsity: number): Float32Array {
  if (!(sparsity >= 0 && sparsity < 1)) throw new RangeError(`sparsity must be in [0, 1), got ${sparsity}`);
  const mags = Float64Array.from(w, Math.abs).sort();
  const k = Math.floor(sparsity * mags.length);
  const thr = k > 0 ? mags[k - 1] : -1;
  const mask = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]) > thr) mask[i] = 1;
  return mask;
}
