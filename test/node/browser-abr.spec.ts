/**
 * bench:browser-abr's run validity (bench/browser-abr.ts `playbackLagShare`): a run whose media clock fell behind the
 * wall clock without a reported stall (a Chromium starved of CPU) must be recognised, from the page's own
 * measurement and, for runs recorded before the page measured it, from the load log. Pure functions, no browser.
 */
import { playbackClock } from '../../demo/playback-clock.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heldOutSplit } from '../../src/sim/abr/load.js';
import {
  byBand,
  defaultBenchTraces,
  playJobs,
  benchProgress,
  playbackLagShare,
  robustMpcBaseline,
  rotatedJobs,
  summarise,
  writeSyntheticTraces,
  devBenchTraces,
  DEV_SYNTHETIC_TRACES,
  type BenchJob,
  type Row,
} from '../../bench/browser-abr.js';

/**
 * A load log of `n` 4-s fragments fetched back to back every `everyS` s of wall time, first one ending at 1 s, with
 * the media clock running at `rate` × real time from the first append (and one refetch of fragment 3), as the page
 * records it: the forward buffer at each load's end.
 */
type Load = { sn: number; level: number; bytes: number; start_ms: number; first_ms: number; end_ms: number; buffer_s: number };
function loadLog(n: number, everyS: number, rate: number): Load[] {
  const loads: Load[] = [];
  const sns = [...Array(n).keys()];
  sns.splice(4, 0, 3); // fragment 3 again at another level: no media gained
  let appended = 0;
  sns.forEach((sn, i) => {
    const end = 1 + i * everyS;
    const isNew = !loads.some((l) => l.sn === sn);
    if (isNew) appended++;
    const playhead = Math.max(0, (end - 1) * rate);
    loads.push({
      sn,
      level: 0,
      bytes: 1e5,
      start_ms: end * 1000 - 500,
      first_ms: end * 1000 - 400,
      end_ms: end * 1000,
      buffer_s: appended * 4 - playhead,
    });
  });
  return loads;
}

describe('bench:browser-abr run validity (playbackLagShare)', () => {
  it("takes the page's own measurement when it reports one", () => {
    expect(playbackLagShare({ play_wall_s: 150, playback_lag_s: 30, loads: loadLog(30, 3, 1) })).toBeCloseTo(0.2, 6);
  });

  it('estimates from the load log: about 0 when the media clock kept up, the missing share when it ran slow', () => {
    const ok = playbackLagShare({ rebuffer_s: 0, loads: loadLog(30, 3, 1) })!;
    expect(Math.abs(ok)).toBeLessThan(0.01);
    const slow = playbackLagShare({ rebuffer_s: 0, loads: loadLog(30, 3, 0.7) })!;
    expect(slow).toBeGreaterThan(0.28);
    expect(slow).toBeLessThan(0.32);
  });

  it('counts reported stalls as accounted for, not as lag', () => {
    // media at 0.9 × over a ~90 s window leaves ~9 s unplayed; if the page reported those 9 s as a stall, no lag is left
    const loads = loadLog(30, 3, 0.9);
    const hidden = playbackLagShare({ rebuffer_s: 0, loads })!;
    const window = (loads.at(-1)!.end_ms - 1000) / 1000;
    const reported = playbackLagShare({ rebuffer_s: hidden * window, loads })!;
    expect(hidden).toBeGreaterThan(0.08);
    expect(Math.abs(reported)).toBeLessThan(0.01);
  });

  it('is null when nothing can tell (no page measurement, too few loads)', () => {
    expect(playbackLagShare({})).toBeNull();
    expect(playbackLagShare({ loads: loadLog(30, 3, 1).slice(0, 2) })).toBeNull();
  });

  it('summarise pairs by trace: a trace some policy has no run on is left out of every policy', () => {
    const rows: Row[] = [
      { trace: 'a', policy: 'hls', qoe_chunk: 0.5, rebuffer_s: 0 },
      { trace: 'a', policy: 'drl', qoe_chunk: 0.7, rebuffer_s: 0 },
      { trace: 'b', policy: 'hls', qoe_chunk: 0.1, rebuffer_s: 0 },
      { trace: 'b', policy: 'drl', qoe_chunk: 0.4, rebuffer_s: 0 },
      { trace: 'c', policy: 'drl', qoe_chunk: 5, rebuffer_s: 0 },
    ];
    const { summary } = summarise(rows, ['hls', 'drl']);
    const drl = summary.find((s) => s.policy === 'drl')!;
    expect(drl.runs).toBe(2);
    expect(drl.qoe_chunk_mean).toBeCloseTo(0.55, 9);
    expect(drl.diff_vs_hls!).toBeCloseTo(0.25, 9);
  });

  it('summarise compares each policy with robustMPC played with the same mends, else plain robustMPC', () => {
    const rows: Row[] = [];
    const q: Record<string, number[]> = {
      hls: [0.5, 0.2],
      robustmpc: [0.9, 0.1],
      'robustmpc+norefetch+abandon': [1.0, 0.6],
      'drl+norefetch+abandon:m': [1.2, 0.7],
      drl: [0.8, 0.3],
    };
    for (const [policy, v] of Object.entries(q)) v.forEach((x, i) => rows.push({ trace: `t${i}`, policy, qoe_chunk: x, rebuffer_s: 0 }));
    const { summary } = summarise(rows, Object.keys(q));
    const by = (p: string) => summary.find((s) => s.policy === p)!;
    expect(by('drl+norefetch+abandon:m').robustmpc_baseline).toBe('robustmpc+norefetch+abandon');
    expect(by('drl+norefetch+abandon:m').diff_vs_robustmpc!).toBeCloseTo(0.15, 9);
    expect(by('drl').robustmpc_baseline).toBe('robustmpc');
    expect(by('drl').diff_vs_robustmpc!).toBeCloseTo(0.05, 9);
    // never across different player semantics
    expect(robustMpcBaseline('drl+norefetch', ['hls', 'drl+norefetch', 'robustmpc+norefetch+abandon'])).toBeNull();
    expect(robustMpcBaseline('hls', ['hls', 'robustmpc+norefetch+abandon'])).toBeNull();
    expect(robustMpcBaseline('drl', ['hls', 'drl'])).toBeNull();
  });

  it('rotatedJobs plays every trace × policy × repeat once and rotates which policy goes first', () => {
    const jobs = rotatedJobs(['a', 'b', 'c'], ['hls', 'bola', 'drl'], 2);
    expect(jobs.length).toBe(18);
    expect(new Set(jobs.map((j) => `${j.trace}|${j.policy}|${j.repeat}`)).size).toBe(18);
    const firsts = jobs.filter((_, i) => i % 3 === 0).map((j) => j.policy);
    expect(firsts).toEqual(['hls', 'bola', 'drl', 'bola', 'drl', 'hls']);
  });

  it('defaultBenchTraces picks the traces at the given ranks of mean throughput per family, then N synthetic ones per family', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeplay-ranks-'));
    // two families of six traces; trace i of a family has mean (i + 1) Mb/s, written in scrambled name order
    for (const fam of ['bus', 'car'])
      for (const i of [3, 0, 5, 1, 4, 2]) writeFileSync(join(dir, `norway_${fam}_${10 - i}`), `0 9\n1 ${i + 1}\n2 ${i + 1}\n`);
    // ranks 1/3 and 2/3 of six: the 3rd and 5th slowest (index 2 and 4) — names 8 and 6
    expect(defaultBenchTraces(dir)).toEqual([
      'norway_bus_8',
      'norway_bus_6',
      'norway_car_8',
      'norway_car_6',
      'synth_walk-hi_0',
      'synth_markov-hi_0',
    ]);
    // five ranks pick five distinct traces per family; ranks landing on the same trace count once; 2 synthetic per family
    const five = defaultBenchTraces(dir, [0, 1 / 6, 1 / 3, 1 / 2, 5 / 6], 2);
    expect(five.filter((t) => t.startsWith('norway_bus_'))).toEqual([
      'norway_bus_10',
      'norway_bus_9',
      'norway_bus_8',
      'norway_bus_7',
      'norway_bus_5',
    ]);
    expect(five.filter((t) => t.startsWith('synth_'))).toEqual([
      'synth_walk-hi_0',
      'synth_walk-hi_1',
      'synth_markov-hi_0',
      'synth_markov-hi_1',
    ]);
    expect(defaultBenchTraces(dir, [0, 0.01], 0)).toEqual(['norway_bus_10', 'norway_car_10']);
    expect(() => defaultBenchTraces(dir, [1])).toThrowError(/rank must be in \[0, 1\)/);
    expect(() => defaultBenchTraces(dir, [0.5], 1.5)).toThrowError(/integer ≥ 0/);
  });

  it("byBand breaks the paired comparison down by the traces' mean throughput", () => {
    const row = (trace: string, policy: string, qoe: number, stall = 0): Row => ({ trace, policy, qoe_chunk: qoe, rebuffer_s: stall });
    const means = new Map([
      ['slow1', 0.8],
      ['slow2', 1.0],
      ['mid', 1.5],
      ['fast', 6],
      ['unknown-mean', 3],
    ]);
    means.delete('unknown-mean');
    const rows = [
      row('slow1', 'hls', 0.3),
      row('slow1', 'drl', 0.7),
      row('slow1', 'robustmpc', 0.5, 2),
      row('slow2', 'hls', 0.3),
      row('slow2', 'drl', 0.5),
      row('slow2', 'drl', 0.9), // two runs: averaged to 0.7 first
      row('slow2', 'robustmpc', 0.6),
      row('mid', 'hls', 1.0),
      row('mid', 'drl', 0.8),
      row('mid', 'robustmpc', 1.1),
      row('fast', 'hls', 3.0), // robustMPC never ran here: the trace is left out, the band omitted
      row('fast', 'drl', 3.2),
      row('unknown-mean', 'hls', 1),
      row('unknown-mean', 'drl', 2),
      row('unknown-mean', 'robustmpc', 2),
    ];
    const bands = byBand(rows, ['hls', 'drl', 'robustmpc'], means);
    expect([...new Set(bands.map((b) => b.band))]).toEqual(['< 1.25 Mb/s', '1.25–2 Mb/s']);
    const slowDrl = bands.find((b) => b.band === '< 1.25 Mb/s' && b.policy === 'drl')!;
    expect(slowDrl.traces).toBe(2);
    expect(slowDrl.qoe_chunk_mean).toBeCloseTo(0.7, 9);
    expect(slowDrl.diff_vs_hls).toBeCloseTo(0.4, 9);
    expect(slowDrl.diff_ci_low).toBeCloseTo(0.4, 9); // both traces +0.4: no spread
    expect(slowDrl.wins_vs_hls).toBe(2);
    expect(slowDrl.diff_vs_robustmpc).toBeCloseTo(0.15, 9);
    expect(bands.find((b) => b.band === '< 1.25 Mb/s' && b.policy === 'robustmpc')!.stall_s_mean).toBeCloseTo(1, 9);
    const midDrl = bands.find((b) => b.band === '1.25–2 Mb/s' && b.policy === 'drl')!;
    expect([midDrl.traces, midDrl.wins_vs_hls, midDrl.diff_ci_low, midDrl.diff_ci_high]).toEqual([1, 0, null, null]);
    expect(midDrl.diff_vs_hls).toBeCloseTo(-0.2, 9);
    // other cut points: everything known below 2 Mb/s is one band
    expect(new Set(byBand(rows, ['hls', 'drl', 'robustmpc'], means, [2]).map((b) => b.band))).toEqual(new Set(['< 2 Mb/s']));
    expect(() => byBand(rows, ['hls'], means, [2, 1])).toThrowError(/band cuts must increase/);
  });

  it('writeSyntheticTraces writes the defaults and every synth_ trace asked for, and refuses an unknown family', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeplay-synth-'));
    const written = writeSyntheticTraces(dir, ['norway_bus_1', 'synth_walk-hi_3', 'synth_markov-hi_0']);
    expect(written).toEqual(['synth_walk-hi_0', 'synth_markov-hi_0', 'synth_walk-hi_3']);
    expect(readdirSync(dir).sort()).toEqual(['synth_markov-hi_0', 'synth_walk-hi_0', 'synth_walk-hi_3']);
    // another index is another trace (the generator is seeded per index)
    expect(readFileSync(join(dir, 'synth_walk-hi_3'), 'utf8')).not.toEqual(readFileSync(join(dir, 'synth_walk-hi_0'), 'utf8'));
    expect(() => writeSyntheticTraces(dir, ['synth_lte_0'])).toThrowError(/expected synth_<markov-train\|.*\|markov-hi>_<index>/);
    // the training families too (the dev set's)
    expect(writeSyntheticTraces(dir, ['synth_step-fast_60'])).toContain('synth_step-fast_60');
    expect(readFileSync(join(dir, 'synth_step-fast_60'), 'utf8').trim().split('\n').length).toBeGreaterThan(10);
  });

  it('devBenchTraces (--dev): the held-out split of the training traces plus synthetic training-family traces no trainer reads, never a test trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeplay-devtraces-'));
    // 16 training traces written in scrambled order; a dot file is not a trace
    const names = Array.from({ length: 16 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const n of [...names].reverse()) writeFileSync(join(dir, n), '0 1\n1 1\n');
    writeFileSync(join(dir, '.hidden'), 'x');
    const dev = devBenchTraces(dir);
    // every 7th by sorted name from the 4th: t03, t10 (the split train:abr selects on: heldOutSplit)
    expect(dev.slice(0, 2)).toEqual(['t03', 't10']);
    expect(dev.slice(0, 2)).toEqual(heldOutSplit(names).dev);
    expect(dev.slice(2)).toEqual([...DEV_SYNTHETIC_TRACES]);
    // no evaluation family (the test set's), and indices beyond what the trainers read
    for (const t of DEV_SYNTHETIC_TRACES) {
      const m = /^synth_(.+)_(\d+)$/.exec(t)!;
      expect(['markov-train', 'markov-fast', 'step-fast']).toContain(m[1]);
      expect(Number(m[2])).toBeGreaterThanOrEqual(m[1] === 'markov-train' ? 100 : 45);
    }
    expect(() => devBenchTraces(join(dir, 'missing'))).toThrowError(/training traces not found/);
  });

  it('playJobs (the VOD and live run loop) rejects a lagged run, plays it again, and leaves a failed one for a rerun', async () => {
    const jobs = rotatedJobs(['a', 'b'], ['hls', 'drl'], 1);
    const plays: string[] = [];
    const accepted: Row[] = [];
    const rejected: Row[] = [];
    const logs: string[] = [];
    let writes = 0;
    await playJobs({
      jobs,
      total: jobs.length,
      maxLag: 0.03,
      play: async (j: BenchJob) => {
        const k = `${j.trace}|${j.policy}`;
        plays.push(k);
        if (k === 'b|hls') throw new Error('chromium crashed');
        // the first play of a|drl lags by 10 % (a starved Chromium), its second keeps up; the others keep up
        const lag = k === 'a|drl' && plays.filter((p) => p === k).length === 1 ? 6 : 0.3;
        return { ...j, play_wall_s: 60, playback_lag_s: lag };
      },
      rows: accepted,
      rejected,
      write: () => writes++,
      describe: (r) => `${r.trace} ${r.policy} kept`,
      log: (s) => logs.push(s),
    });
    expect(writes).toBe(4); // after each of the 3 kept runs and the 1 rejected one
    expect(logs.filter((l) => /^\[\d\/4\] \w+ \w+ kept  lag [\d.]+ %/.test(l)).length).toBe(3);
    expect(plays.filter((p) => p === 'a|drl').length).toBe(2);
    expect(rejected.map((r) => `${r.trace}|${r.policy}`)).toEqual(['a|drl']);
    expect(rejected[0].playback_lag_share).toBeCloseTo(0.1, 9);
    expect(accepted.map((r) => `${r.trace}|${r.policy}`).sort()).toEqual(['a|drl', 'a|hls', 'b|drl']);
    expect(accepted.every((r) => (r.playback_lag_share as number) <= 0.03)).toBeTrue();
    expect(logs.some((l) => /b hls #0: failed \(chromium crashed\)/.test(l))).toBeTrue();
    expect(logs.some((l) => /a drl #0: rejected, playback lagged the wall clock by 10\.0 %/.test(l))).toBeTrue();
  });

  it('a resumed bench counts its own jobs: runs kept from a file played with more repeats are not progress (session 12)', async () => {
    // the file holds repeats 0 and 1 of trace a; this bench asks for repeat 0 of a and b: 2 jobs done before, 2 to play
    const kept: Row[] = [
      { trace: 'a', policy: 'hls', repeat: 0 },
      { trace: 'a', policy: 'drl', repeat: 0 },
      { trace: 'a', policy: 'hls', repeat: 1 },
      { trace: 'a', policy: 'drl', repeat: 1 },
    ];
    const jobs = rotatedJobs(['a', 'b'], ['hls', 'drl'], 1);
    const todo = jobs.filter((j) => j.trace === 'b');
    const logs: string[] = [];
    await playJobs({
      jobs: todo,
      total: jobs.length,
      maxLag: 0.03,
      play: async (j: BenchJob) => ({ ...j, play_wall_s: 60, playback_lag_s: 0 }),
      rows: kept,
      rejected: [],
      write: () => undefined,
      describe: (r) => `${r.trace} ${r.policy}`,
      log: (s) => logs.push(s),
    });
    // it printed [5/4] and [6/4]: every kept row (4 resumed + the new ones) over the jobs
    expect(logs.map((l) => /^\[(\d+)\/(\d+)\]/.exec(l)?.slice(1).join('/'))).toEqual(['3/4', '4/4']);
    expect(benchProgress(kept, jobs, 1)).toEqual({ done: 4, total: 4, extra: 2, rejected: 1 });
    expect(benchProgress(kept.slice(0, 2), jobs, 0)).toEqual({ done: 2, total: 4, extra: 0, rejected: 0 });
  });

  it('playJobs gives up when every run lags (the machine is too busy for real-time playback)', async () => {
    let plays = 0;
    const run = playJobs({
      jobs: rotatedJobs(['a'], ['hls'], 1),
      maxLag: 0.03,
      play: async (j) => (plays++, { ...j, play_wall_s: 60, playback_lag_s: 30 }),
      total: 1,
      rows: [],
      rejected: [],
      write: () => undefined,
      describe: () => '',
      log: () => undefined,
    });
    await expectAsync(run).toBeRejectedWithError(/every run lags/);
    expect(plays).toBe(7); // more than 2 x 1 job + 4 rejected
  });

  describe("the pages' media clock against the wall clock (demo/playback-clock.ts)", () => {
    /** a media element's clock: events by hand, the wall clock by hand */
    class FakeVideo extends EventTarget {
      currentTime = 0;
      playbackRate = 1;
      fire(type: string): void {
        this.dispatchEvent(new Event(type));
      }
    }
    let wallMs = 0;
    const now = () => wallMs;
    /** `s` wall seconds of playback in 0.25-s timeupdates, the media advancing by `speed` × the playback rate */
    const play = (v: FakeVideo, s: number, speed = 1) => {
      for (let t = 0; t < s; t += 0.25) {
        wallMs += 250;
        v.currentTime += 0.25 * v.playbackRate * speed;
        v.fire('timeupdate');
      }
    };

    it('is null before playback, about 0 when playback kept up (stalls and live rate changes are not lag)', () => {
      wallMs = 1000;
      const v = new FakeVideo();
      const c = playbackClock(v, now, 0);
      expect(c.report()).toEqual({ play_wall_s: null, media_s: null, playback_lag_s: null });
      v.fire('playing');
      play(v, 10);
      v.fire('waiting'); // a 3-s stall, reported
      wallMs += 3000;
      v.fire('playing');
      v.playbackRate = 1.5; // LoL+ catching up
      v.fire('ratechange');
      play(v, 10);
      v.playbackRate = 0.8;
      v.fire('ratechange');
      play(v, 10);
      const r = c.report();
      expect(r.play_wall_s).toBeCloseTo(33, 6);
      expect(r.media_s).toBeCloseTo(10 + 15 + 8, 6);
      expect(Math.abs(r.playback_lag_s!)).toBeLessThan(1e-6);
    });

    it('measures the media the wall clock allowed that did not play, at the playback rate', () => {
      wallMs = 0;
      const v = new FakeVideo();
      const c = playbackClock(v, now, 0);
      v.fire('playing');
      v.playbackRate = 1.5;
      v.fire('ratechange');
      play(v, 20, 0.8); // a starved Chromium: 80 % speed, no 'waiting'
      const r = c.report();
      expect(r.media_s).toBeCloseTo(24, 6);
      expect(r.playback_lag_s).toBeCloseTo(30 - 24, 6);
      expect(playbackLagShare({ ...r })).toBeCloseTo(6 / 20, 6);
    });

    it('does not count a seek (a gap jumped, the live edge) as playback', () => {
      wallMs = 0;
      const v = new FakeVideo();
      const c = playbackClock(v, now, 0);
      v.fire('playing');
      play(v, 10);
      v.currentTime += 6; // hls.js jumps 6 s ahead within the buffer: no 'playing' follows
      v.fire('seeking');
      v.fire('seeked');
      play(v, 10);
      const r = c.report();
      expect(r.media_s).toBeCloseTo(20, 6);
      expect(Math.abs(r.playback_lag_s!)).toBeLessThan(1e-6);
    });
  });
});

describe('bench:browser-abr --dev on the command line (review of session 10)', () => {
  // the real entry point in a child process, in a scratch directory with no data (EDGEPLAY_DATA empty): nothing can play
  const entry = join(process.cwd(), 'bench', 'cli', 'browser-abr.ts');
  const tsxBin = join(process.cwd(), 'node_modules', '.bin', 'tsx');
  const runCli = (cwd: string, args: string[]) =>
    spawnSync(tsxBin, [entry, ...args], {
      cwd,
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, EDGEPLAY_DATA: join(cwd, 'no-data'), EDGEPLAY_CACHE: join(cwd, '.cache') },
    });
  /** a minimal VOD results file: one trace, hls.js and the DRL */
  const resultsFile = (trace: string) =>
    JSON.stringify({
      command: 'fixture',
      config: { traces: [trace], policies: ['hls', 'drl'], limit: 30, repeats: 1 },
      rows: ['hls', 'drl'].map((policy, i) => ({ trace, policy, repeat: 0, qoe_chunk: 1 + i, rebuffer_s: 0, bitrate_mean: 1 })),
      rejected: [],
    });

  it('--live --dev is refused (the live evaluation has no dev set: it played the test traces, silently)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-devcli-'));
    const r = runCli(cwd, ['--live', '--dev']);
    rmSync(cwd, { recursive: true, force: true });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--dev/);
    expect(r.stderr).toMatch(/--live/);
  });

  it('--dev keeps its own results file (browser-abr-dev.json), never the test evaluation default browser-abr.json', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-devcli-'));
    mkdirSync(join(cwd, 'bench', 'results'), { recursive: true });
    const testFile = join(cwd, 'bench', 'results', 'browser-abr.json');
    const devFile = join(cwd, 'bench', 'results', 'browser-abr-dev.json');
    writeFileSync(testFile, resultsFile('norway_bus_1'));
    writeFileSync(devFile, resultsFile('synth_markov-fast_60'));
    const before = readFileSync(testFile, 'utf8');
    // --summary plays nothing: it re-summarises the results file the flags name
    const r = runCli(cwd, ['--dev', '--summary']);
    expect(r.status).withContext(r.stderr).toBe(0);
    expect(r.stdout).toContain('browser-abr-dev.json');
    expect(readFileSync(testFile, 'utf8')).withContext('the test results file was rewritten by a --dev command').toBe(before);
    expect(readFileSync(devFile, 'utf8')).toContain('"summary"');
    rmSync(cwd, { recursive: true, force: true });
  });
});
