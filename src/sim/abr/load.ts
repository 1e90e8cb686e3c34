/** Node-only loading of Pensieve-format trace directories and video_size files. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTrace } from '../../core/trace.js';
import type { SimTrace } from './env.js';

export const dataRoot = () => resolve(process.env.EDGEPLAY_DATA ?? join(process.cwd(), '..', 'shared', 'data'));

/** Every file of `dir`, sorted by name (the reproducible order). */
export function loadTraceDir(dir: string): SimTrace[] {
  const names = traceNames(dir);
  if (!names.length) throw new Error(`no trace files in ${dir}`);
  return names.map((n) => {
    const t = parseTrace(readFileSync(join(dir, n), 'utf8'), n);
    return { name: n, time: Float64Array.from(t.times), bw: Float64Array.from(t.mbps) };
  });
}

/**
 * The held-out (dev) split of the Pensieve training traces every ABR trainer and dev benchmark uses: of the traces in
 * sorted-name order (as `loadTraceDir` returns them), every 7th from the 4th (index i with i % 7 === 3) is dev, the rest
 * train. Works on any array (trace objects or names); the test traces are never part of it.
 */
export function heldOutSplit<T>(sorted: readonly T[]): { train: T[]; dev: T[] } {
  return { train: sorted.filter((_, i) => i % 7 !== 3), dev: sorted.filter((_, i) => i % 7 === 3) };
}

/** The file names `loadTraceDir` reads from `dir`, sorted (no parsing). Throws Error when `dir` is missing. */
export function traceNames(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`trace directory not found: ${dir}`);
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && statSync(join(dir, f)).isFile())
    .sort();
}

/** video_size_0 .. video_size_5 (bytes per chunk, one per line). */
export function loadVideoSizes(dir: string, levels = 6): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < levels; q++) {
    const f = join(dir, `video_size_${q}`);
    if (!existsSync(f)) throw new Error(`missing ${f}`);
    out.push(readFileSync(f, 'utf8').trim().split(/\s+/).map(Number));
  }
  return out;
}
