/** Node-only loading of viewport trace directories (index.csv + <dataset>/<video>.csv, see the data README). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromYawPitch } from '../../viewport/geometry.js';

export interface ViewportTrace {
  dataset: string;
  video: string;
  user: string;
  split: string;
  /** the split was derived (withDerivedDev), not read from index.csv */
  derived: boolean;
  /** playback time of the first sample (s) */
  t0: number;
  /** unit vectors at 5 Hz, flat [x,y,z, …] */
  xyz: Float64Array;
}

export interface IndexRow {
  dataset: string;
  video: string;
  user: string;
  split: string;
  /** split derived by withDerivedDev */ derived?: boolean;
}

export function readIndex(dir: string): IndexRow[] {
  const f = join(dir, 'index.csv');
  if (!existsSync(f)) throw new Error(`no index.csv in ${dir} (expected dataset,video,user,split,… per the viewport data README)`);
  const lines = readFileSync(f, 'utf8').trim().split(/\r?\n/);
  const head = lines[0].split(',');
  const col = (name: string) => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${f}: header lacks column "${name}"`);
    return i;
  };
  const [di, vi, ui, si] = [col('dataset'), col('video'), col('user'), col('split')];
  return lines
    .slice(1)
    .filter(Boolean)
    .map((l) => {
      const c = l.split(',');
      return { dataset: c[di], video: c[vi], user: c[ui], split: c[si] };
    });
}

/** All traces of the directory (every split); `filter` picks index rows before any CSV is read. */
export function loadViewportDir(
  dir: string,
  filter: (r: IndexRow) => boolean = () => true,
  opts: { derivedDev?: boolean } = {},
): ViewportTrace[] {
  const all = readIndex(dir);
  const rows = (opts.derivedDev === false ? all : withDerivedDev(all)).filter(filter);
  const byFile = new Map<string, Map<string, IndexRow>>();
  for (const r of rows) {
    const k = `${r.dataset}/${r.video}`;
    if (!byFile.has(k)) byFile.set(k, new Map());
    byFile.get(k)!.set(r.user, r);
  }
  const out: ViewportTrace[] = [];
  for (const [k, users] of [...byFile].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const f = join(dir, `${k}.csv`);
    if (!existsSync(f)) throw new Error(`index.csv lists ${k} but ${f} does not exist`);
    const lines = readFileSync(f, 'utf8').trim().split(/\r?\n/);
    const head = lines[0].split(',');
    const [ui, ti, yi, pi] = ['user', 't', 'yaw', 'pitch'].map((n) => head.indexOf(n));
    if (Math.min(ui, ti, yi, pi) < 0) throw new Error(`${f}: header must have user,t,yaw,pitch`);
    let cur: { row: IndexRow; t0: number; v: number[] } | null = null;
    const flush = () => {
      if (cur)
        out.push({
          dataset: cur.row.dataset,
          video: cur.row.video,
          user: cur.row.user,
          split: cur.row.split,
          derived: cur.row.derived ?? false,
          t0: cur.t0,
          xyz: Float64Array.from(cur.v),
        });
      cur = null;
    };
    let curUser = '';
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].split(',');
      const u = c[ui];
      if (u !== curUser) {
        flush();
        curUser = u;
        const row = users.get(u);
        if (row) cur = { row, t0: Number(c[ti]), v: [] };
      }
      if (!cur) continue;
      const [x, y, z] = fromYawPitch(Number(c[yi]), Number(c[pi]));
      (cur as { v: number[] }).v.push(x, y, z);
    }
    flush();
  }
  return out;
}

/**
 * A dataset with no `dev` rows (David MMSys18 has only train/test) gets a derived dev split, the same
 * everywhere (trainer and benchmark): every 5th of its videos and every 4th of its users (sorted) are held
 * out; dev = held videos × held users, train = the other videos × the other users, cross cells dropped
 * (split "excluded") — so dev shares neither users nor videos with train, like the published splits.
 */
export function withDerivedDev(rows: IndexRow[]): IndexRow[] {
  const hasDev = new Set(rows.filter((r) => r.split === 'dev').map((r) => r.dataset));
  const byDs = new Map<string, IndexRow[]>();
  for (const r of rows) if (!hasDev.has(r.dataset)) (byDs.get(r.dataset) ?? byDs.set(r.dataset, []).get(r.dataset)!).push(r);
  const derived = new Map<IndexRow, string>();
  for (const [, rs] of byDs) {
    const train = rs.filter((r) => r.split === 'train');
    const vids = [...new Set(train.map((r) => r.video))].sort();
    const users = [...new Set(train.map((r) => r.user))].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
    const hv = new Set(vids.filter((_, i) => i % 5 === 2));
    const hu = new Set(users.filter((_, i) => i % 4 === 1));
    if (!hv.size || !hu.size) continue;
    for (const r of train) {
      const v = hv.has(r.video),
        u = hu.has(r.user);
      derived.set(r, v && u ? 'dev' : v || u ? 'excluded' : 'train');
    }
  }
  return rows.map((r) => (derived.has(r) ? ({ ...r, split: derived.get(r)!, derived: true } as IndexRow) : r));
}
