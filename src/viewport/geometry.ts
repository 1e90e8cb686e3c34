/**
 * Sphere geometry for viewport prediction. Everything works on unit view vectors in the three.js camera
 * frame (right-handed, Y up, yaw 0 looks down -Z), so nothing ever wraps at ±180°:
 *   x = cos(pitch)·sin(yaw), y = sin(pitch), z = -cos(pitch)·cos(yaw)   (degrees in, radians inside)
 */
export type Vec3 = [number, number, number];

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

export function fromYawPitch(yawDeg: number, pitchDeg: number): Vec3 {
  const y = yawDeg * D2R;
  const p = pitchDeg * D2R;
  const c = Math.cos(p);
  return [c * Math.sin(y), Math.sin(p), -c * Math.cos(y)];
}

/** [yaw in (-180, 180], pitch in [-90, 90]] in degrees */
export function toYawPitch(v: ArrayLike<number>, o = 0): [number, number] {
  const x = v[o];
  const y = Math.max(-1, Math.min(1, v[o + 1]));
  const z = v[o + 2];
  let yaw = Math.atan2(x, -z) * R2D;
  if (yaw <= -180) yaw += 360;
  return [yaw, Math.asin(y) * R2D];
}

export function dot(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  return a[ao] * b[bo] + a[ao + 1] * b[bo + 1] + a[ao + 2] * b[bo + 2];
}

/**
 * Great-circle distance in radians between unit vectors a[ao..] and b[bo..]. Computed as 2·asin(chord/2),
 * which is exact for unit vectors and well conditioned near 0 (acos(dot) is not).
 */
export function orthodromic(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  const dx = a[ao] - b[bo];
  const dy = a[ao + 1] - b[bo + 1];
  const dz = a[ao + 2] - b[bo + 2];
  const half = Math.sqrt(dx * dx + dy * dy + dz * dz) / 2;
  return 2 * Math.asin(Math.min(1, half));
}

export function normalizeInto(v: Float32Array | Float64Array | number[], o = 0): void {
  const n = Math.hypot(v[o], v[o + 1], v[o + 2]);
  if (n < 1e-12) {
    v[o] = 0;
    v[o + 1] = 0;
    v[o + 2] = -1;
    return;
  }
  v[o] /= n;
  v[o + 1] /= n;
  v[o + 2] /= n;
}

/** Spherical linear interpolation between unit vectors a and b at fraction f (written to out[oo..]). */
export function slerp(
  a: ArrayLike<number>,
  ao: number,
  b: ArrayLike<number>,
  bo: number,
  f: number,
  out: Float32Array | Float64Array | number[],
  oo = 0,
): void {
  const w = orthodromic(a, ao, b, bo);
  if (w < 1e-9) {
    out[oo] = a[ao];
    out[oo + 1] = a[ao + 1];
    out[oo + 2] = a[ao + 2];
    return;
  }
  const s = Math.sin(w);
  if (s < 1e-9) {
    // antipodal: no unique great circle, take the linear blend and renormalise
    for (let k = 0; k < 3; k++) out[oo + k] = (1 - f) * a[ao + k] + f * b[bo + k];
    normalizeInto(out, oo);
    return;
  }
  const ka = Math.sin((1 - f) * w) / s;
  const kb = Math.sin(f * w) / s;
  for (let k = 0; k < 3; k++) out[oo + k] = ka * a[ao + k] + kb * b[bo + k];
  normalizeInto(out, oo);
}

/**
 * Rotate v about the unit axis by angle (Rodrigues), into out.
 */
export function rotateAxis(
  v: ArrayLike<number>,
  vo: number,
  axis: Vec3,
  angle: number,
  out: Float32Array | Float64Array | number[],
  oo = 0,
): void {
  const [kx, ky, kz] = axis;
  const x = v[vo],
    y = v[vo + 1],
    z = v[vo + 2];
  const c = Math.cos(angle),
    s = Math.sin(angle);
  const kd = kx * x + ky * y + kz * z;
  const cx = ky * z - kz * y,
    cy = kz * x - kx * z,
    cz = kx * y - ky * x;
  out[oo] = x * c + cx * s + kx * kd * (1 - c);
  out[oo + 1] = y * c + cy * s + ky * kd * (1 - c);
  out[oo + 2] = z * c + cz * s + kz * kd * (1 - c);
}

/** Rotation about +Y that brings yaw `yawRad` to yaw 0 applied to v (x,z only change). */
export function unyaw(
  v: ArrayLike<number>,
  vo: number,
  cosY: number,
  sinY: number,
  out: Float32Array | Float64Array | number[],
  oo = 0,
): void {
  // a vector at yaw φ: (cosp·sinφ, y, -cosp·cosφ); rotating by -yaw0 gives yaw φ - yaw0
  const x = v[vo],
    z = v[vo + 2];
  out[oo] = x * cosY + z * sinY;
  out[oo + 1] = v[vo + 1];
  out[oo + 2] = -x * sinY + z * cosY;
}

/** Inverse of unyaw (bring a yaw-aligned vector back to the world frame). */
export function reyaw(
  v: ArrayLike<number>,
  vo: number,
  cosY: number,
  sinY: number,
  out: Float32Array | Float64Array | number[],
  oo = 0,
): void {
  const x = v[vo],
    z = v[vo + 2];
  out[oo] = x * cosY - z * sinY;
  out[oo + 1] = v[vo + 1];
  out[oo + 2] = x * sinY + z * cosY;
}

export const deg = (rad: number) => rad * R2D;
export const rad = (d: number) => d * D2R;
