/**
 * Faults found by the session-12 new-user trial (h12-user): bad input the controller, the SDK or a command line took
 * without a clear error — a date that does not exist read as another day, a stack trace for a mistyped CDN set, an
 * ABR controller built for a policy no worker has, a model the real-playback bench would only miss in Chromium.
 * Each spec fails on the code the trial found.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Hls from 'hls.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { createAbrController, type EdgeplayAbrOptions } from '../../src/abr/hls-controller.js';
import { monitor, type MonitorOptions } from '../../src/monitor.js';
import { createEdgeplay } from '../../src/edgeplay.js';
import { printSummary, summarise } from '../../bench/browser-abr.js';
import { abrParam } from '../../demo/abr-param.js';
import { checkTaskRequirement, selectDeployment } from '../../src/deploy/select.js';
import type { Backend, DeployModel, DeployProfile } from '../../src/deploy/catalog.js';

const tsxBin = join(process.cwd(), 'node_modules', '.bin', 'tsx');
/** an entry point (repo-relative) in a child process, in `cwd`, with no data (EDGEPLAY_DATA points nowhere) */
const run = (entry: string, args: string[], cwd = process.cwd()) =>
  spawnSync(tsxBin, [join(process.cwd(), entry), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, EDGEPLAY_DATA: join(cwd, 'no-data'), EDGEPLAY_CACHE: join(cwd, '.cache') },
  });

describe('GET /v1/metrics refuses a calendar date that does not exist (new-user trial, session 12)', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ port: 0, store: new MemoryTelemetryStore() });
  });
  afterAll(async () => {
    await srv.close();
    srv.store.close();
  });

  it('from=2026-11-31T00:00:00Z is a 400 naming querystring/from (it was read as 1 December: Date.parse rolls the day over), a real date is not', async () => {
    for (const [param, value] of [
      ['from', '2026-11-31T00:00:00Z'],
      ['from', '2026-02-29T12:00:00Z'], // 2026 is no leap year
      ['to', '2026-04-31T10:00:00+02:00'],
    ]) {
      const r = await fetch(`${srv.url}/v1/metrics?metric=views&${param}=${encodeURIComponent(value)}`);
      const body = (await r.json()) as { error: string; field: string; message: string };
      expect(r.status)
        .withContext(`${param}=${value}: ${JSON.stringify(body)}`)
        .toBe(400);
      expect(body.field).toBe(`querystring/${param}`);
      expect(body.message).toContain('not a date');
    }
    const now = Date.now();
    const day = new Date(now - 3600_000).toISOString().slice(0, 19) + 'Z';
    const ok = await fetch(`${srv.url}/v1/metrics?metric=views&from=${day}`);
    expect(ok.status).toBe(200);
    // a leap day that exists, in a window the route accepts
    const leap = await fetch(`${srv.url}/v1/metrics?metric=views&from=2028-02-28T12:00:00Z&to=2028-02-29T12:00:00Z`);
    expect(leap.status).toBe(200);
  });
});

describe('bench:cdn --sets names an unknown or repeated CDN (new-user trial, session 12)', () => {
  it('--sets ABX, AAB or an empty entry exits 2 with one line naming --sets before any work (it crashed with a stack trace, exit 1)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s12-'));
    try {
      for (const set of ['ABX', 'AAB', '']) {
        const r = run('bench/cdn.ts', ['--sets', `ABC,${set}`, '--out', join(cwd, 'cdn.json')], cwd);
        expect(r.status)
          .withContext(`${set}: ${r.stderr.slice(0, 300)}`)
          .toBe(2);
        expect(r.stderr).toContain('bench:cdn: --sets');
        expect(r.stderr).toContain(set || 'empty');
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('--models or --learned-dir that is not a directory exits 2 naming it (it measured no LTS policy and exited 0)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s12-'));
    try {
      for (const [args, flag] of [
        [['--models', '/nonexistent-cdn-lts', '--sim', 'piecewise'], '--models'],
        [
          ['--models', join(process.cwd(), 'models', 'cdn-lts'), '--learned-dir', '/nonexistent-cdn-sim', '--sim', 'learned'],
          '--learned-dir',
        ],
      ] as const) {
        const r = run('bench/cdn.ts', [...args, '--out', join(cwd, 'cdn.json')], cwd);
        expect(r.status)
          .withContext(`${args.join(' ')}: ${r.stderr.slice(0, 300)}`)
          .toBe(2);
        expect(r.stderr.trim()).toMatch(new RegExp(`^bench:cdn: ${flag}: no such directory`));
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('createAbrController refuses options that cannot work (new-user trial, session 12)', () => {
  class BaseAbr {
    constructor(public hls: unknown) {}
  }
  /** a constructor with hls.js' DefaultConfig.abrController, as the controller and monitor() read it */
  const FakeHls = Object.assign(function FakeHls() {}, { DefaultConfig: { abrController: BaseAbr } }) as unknown as typeof Hls;
  const good: EdgeplayAbrOptions = { policy: 'drl', port: () => null };

  it('an unknown policy, a budget that is not a positive number, a port that is not a function, an hls.js without DefaultConfig: TypeError naming it', () => {
    expect(() => createAbrController(FakeHls, good)).not.toThrow();
    const bad: Array<[Partial<EdgeplayAbrOptions>, RegExp]> = [
      [{ policy: 'dlr' as never }, /policy.*"dlr".*drl/],
      [{ budgetMs: -5 }, /budgetMs/],
      [{ budgetMs: NaN }, /budgetMs/],
      [{ liveBudgetMs: 0 }, /liveBudgetMs/],
      [{ port: null as never }, /port/],
    ];
    for (const [o, message] of bad)
      expect(() => createAbrController(FakeHls, { ...good, ...o }))
        .withContext(JSON.stringify(o))
        .toThrowError(TypeError, message);
    expect(() => createAbrController({} as typeof Hls, good)).toThrowError(TypeError, /DefaultConfig\.abrController/);
  });

  it("monitor() refuses abr: 'dlr' or a bad abrBudgetMs before it starts anything (without a worker it played hls.js' ABR silently)", async () => {
    const video = { addEventListener: () => undefined, removeEventListener: () => undefined } as unknown as HTMLVideoElement;
    const base: MonitorOptions = {
      Hls: FakeHls,
      src: 'https://cdn.example/m.m3u8',
      endpoint: 'https://edge.example/v1/telemetry',
      worker: false,
    };
    await expectAsync(monitor(video, { ...base, abr: 'dlr' as never })).toBeRejectedWithError(TypeError, /options\.abr "dlr" is none of/);
    await expectAsync(monitor(video, { ...base, abrBudgetMs: 0 })).toBeRejectedWithError(TypeError, /options\.abrBudgetMs/);
  });
});

describe('bench:browser-abr refuses a DRL model the page would not find, before playing (new-user trial, session 12)', () => {
  // no dist/ in this directory: the command stops there at the latest (it must never start the demo server here)
  let cwd: string;
  beforeEach(() => (cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s12-'))));
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('--policies drl:NAME or --model /models/NAME/model.json without models/NAME exits 2 naming it (every such run failed in Chromium, or hung to its timeout)', () => {
    for (const args of [
      ['--policies', 'hls,drl+norefetch:abr-drl-plyer'],
      ['--model', '/models/abr-drl-plyer/model.json', '--policies', 'hls,drl'],
    ]) {
      const r = run('bench/cli/browser-abr.ts', ['--traces', 'norway_bus_1', ...args, '--out', join(cwd, 'r.json')], cwd);
      expect(r.status)
        .withContext(`${args.join(' ')}: ${r.stderr.slice(0, 300)}`)
        .toBe(2);
      expect(r.stderr).toContain('models/abr-drl-plyer');
      expect(r.stdout).toBe('');
    }
  });
});

describe('createEdgeplay refuses timer options that would flood the pipeline (new-user trial, session 12)', () => {
  it('heartbeatMs or flushIntervalMs of 0, below 0, NaN or beyond a timer’s 2^31−1 ms, or a sessionTimeoutMs ≤ 0: RangeError naming it (a view beat, and a batch was sealed, on every tick)', async () => {
    const endpoint = 'https://edge.example/v1/telemetry';
    for (const o of [
      { heartbeatMs: 0 },
      { heartbeatMs: -5 },
      { heartbeatMs: 3e9 }, // a timer delay over 2^31 − 1 ms fires at once
      { flushIntervalMs: 0 },
      { flushIntervalMs: NaN },
      { sessionTimeoutMs: 0 },
    ]) {
      const key = Object.keys(o)[0];
      expect(() => createEdgeplay({ endpoint, ...o }))
        .withContext(JSON.stringify(o))
        .toThrowError(RangeError, new RegExp(`edgeplay: ${key} must be`));
    }
    // the defaults and sensible values still construct
    for (const o of [{}, { heartbeatMs: 5000, flushIntervalMs: 1000, sessionTimeoutMs: 60_000 }]) {
      const ep = createEdgeplay({ endpoint, ...o });
      await ep.destroy();
    }
  });
});

describe("bench:browser-abr's summary of a model comparison without hls.js prints the paired differences the decision cites (new-user trial, session 12)", () => {
  it("--dev --policies A,B,C: each of B, C against A (the first), with its 95 % interval and traces above A, printed and recorded (BENCHMARKS' −0.041 and −0.018 came from no command)", () => {
    // three traces; B is 0.1 above A on two of them and 0.05 below on the third
    const qoe: Record<string, number[]> = { A: [1, 2, 0.5], B: [1.1, 2.1, 0.45], C: [1, 2, 0.5] };
    const rows = Object.entries(qoe).flatMap(([policy, q]) =>
      q.map((x, i) => ({ trace: `t${i}`, policy, repeat: 0, qoe_chunk: x, rebuffer_s: 0 })),
    );
    const res = { ...summarise(rows, ['A', 'B', 'C']), bands: [] };
    const b = res.summary.find((s) => s.policy === 'B')!;
    expect(b.reference).toBe('A');
    expect(b.diff_vs_reference).toBeCloseTo(0.05, 9);
    expect(b.diff_ref_ci_low!).toBeLessThan(0.05);
    expect(b.diff_ref_ci_high!).toBeGreaterThan(0.05);
    expect(b.wins_vs_reference).toBe(2);
    expect(res.summary.find((s) => s.policy === 'A')!.diff_vs_reference).toBe(0);
    const lines: string[] = [];
    printSummary(res, (s) => lines.push(s));
    const text = lines.join('\n');
    expect(text).toContain('paired with A');
    expect(text).toMatch(/B\s+0\.050 \[-?\d\.\d{3}, \d\.\d{3}\]\s+2 of 3/);
    // with hls.js played the comparison is to hls.js, as before: no reference
    const withHls = summarise(
      rows.map((r) => ({ ...r, policy: r.policy === 'A' ? 'hls' : r.policy })),
      ['hls', 'B'],
    );
    expect(withHls.summary.find((s) => s.policy === 'B')!.reference).toBeNull();
  });
});

describe("bench:browser-abr's summary table keeps its columns apart for long policy names (new-user trial, session 12)", () => {
  it("'drl+norefetch+abandon:abr-drl-fast-mix' no longer runs its QoE interval into the next column ('2.377]- [-, -]')", () => {
    const long = 'drl+norefetch+abandon:abr-drl-fast-mix';
    const rows = ['hls', long].flatMap((policy, k) =>
      [0, 1, 2].map((i) => ({ trace: `t${i}`, policy, repeat: 0, qoe_chunk: -0.5 + i + k / 10, rebuffer_s: 0 })),
    );
    const lines: string[] = [];
    printSummary({ ...summarise(rows, ['hls', long]), bands: [] }, (s) => lines.push(s));
    const [header, ...table] = lines
      .map((l) => l.replace(/^\n/, ''))
      .filter((l) => l.trim())
      .slice(0, 3);
    // each column's values start where its header does, after a space
    for (const title of ['qoe/chunk', 'vs hls.js', 'vs robustmpc']) {
      const col = header.indexOf(title);
      for (const row of table) {
        expect(row[col - 1])
          .withContext(`${title}: ${row}`)
          .toBe(' ');
        expect(row[col]).withContext(`${title}: ${row}`).not.toBe(' ');
      }
    }
  });
});

describe('npm run server names a bad --edges entry or --models directory (new-user trial, session 12)', () => {
  // a fault would let the controller start: the timeout ends it
  const server = (args: string[]) =>
    spawnSync(tsxBin, ['src/server/main.ts', '--port', '0', '--memory', '--quiet', ...args], { encoding: 'utf8', timeout: 30000 });

  it("an edge without a url or with an unknown setting exits 2 naming --edges (it said 'controller not started: edge e1: unknown setting undefined', exit 1)", () => {
    for (const edges of [
      '[{"id":"e1"}]',
      '[{"id":"e1","url":"http://127.0.0.1:9001","setting":"huge"}]',
      '[{"url":"http://x","setting":"mid"}]',
    ]) {
      const r = server(['--edges', edges]);
      expect(r.status)
        .withContext(`${edges}: ${r.stderr.slice(0, 300)}`)
        .toBe(2);
      expect(r.stderr.trim()).toMatch(/^server: --edges /);
    }
  });

  it('--task-slots with a --models directory without the viewport model exits 2 naming --models (a worker thread crashed it with a stack trace)', () => {
    const r = server(['--task-slots', '1', '--models', '/nonexistent-models']);
    expect(r.status).withContext(r.stderr.slice(0, 300)).toBe(2);
    expect(r.stderr.trim()).toMatch(/^server: --models \/nonexistent-models/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('bench:part-sizes checks its options before reading any data (new-user trial, session 12)', () => {
  it('--split bogus, --no-live with --no-mape, --decide-after without 1: exit 2 naming the flag (they were reported as missing data, ran nothing with exit 0, or were refused after the MAPE part)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s12-'));
    try {
      for (const [args, flag] of [
        [['--split', 'bogus'], '--split'],
        [['--no-live', '--no-mape'], '--no-mape'],
        [['--decide-after', '2'], '--decide-after'],
      ] as const) {
        const r = run('bench/cli/part-sizes.ts', [...args, '--out', join(cwd, 'p.json')], cwd);
        expect(r.status)
          .withContext(`${args.join(' ')}: ${r.stderr.slice(0, 300)}`)
          .toBe(2);
        expect(r.stderr.trim()).toMatch(new RegExp(`^bench:part-sizes: .*${flag}`));
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('bench:browser-abr --summary refuses the flags it would ignore (new-user trial, session 12)', () => {
  it('--summary with --policies, --traces, --limit or --parallel exits 2 naming them (they were ignored: every run of the file summarised, exit 0)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s12-'));
    try {
      for (const args of [['--policies', 'hls,drl'], ['--traces', 'norway_bus_1'], ['--limit=10'], ['--parallel', '2', '--fresh']]) {
        const r = run('bench/cli/browser-abr.ts', ['--summary', ...args, '--out', join(cwd, 'none.json')], cwd);
        expect(r.status)
          .withContext(`${args.join(' ')}: ${r.stderr.slice(0, 300)}`)
          .toBe(2);
        expect(r.stderr).toContain('--summary plays nothing');
        expect(r.stderr).toContain(args[0].replace(/=.*/, ''));
      }
      // --summary with --out (and --dev, --live) stays: they name the file
      const r = run('bench/cli/browser-abr.ts', ['--summary', '--dev', '--out', join(cwd, 'none.json')], cwd);
      expect(r.stderr).toContain('not found: nothing to summarise');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("the dashboard's ?abr= parameter (new-user trial, session 12)", () => {
  it('an unknown ?abr= falls back to the DRL with a note (monitor() now refuses it, which would leave the dashboard blank); a known one and none are taken as they are', () => {
    expect(abrParam(null)).toEqual({ abr: 'drl', note: null });
    expect(abrParam('hls')).toEqual({ abr: 'hls', note: null });
    expect(abrParam('robustmpc')).toEqual({ abr: 'robustmpc', note: null });
    const typo = abrParam('dlr');
    expect(typo.abr).toBe('drl');
    expect(typo.note).toContain('?abr=dlr');
  });
});

describe('npm run edge refuses a report key that can report nothing (new-user trial, session 12)', () => {
  // a fault lets the edge start: the timeout ends it
  const edge = (args: string[]) =>
    spawnSync(tsxBin, ['src/server/edge/main.ts', '--port', '0', '--origin', 'http://127.0.0.1:1', ...args], {
      encoding: 'utf8',
      timeout: 15000,
      env: { ...process.env, EDGEPLAY_EDGE_KEY: '' },
    });

  it('--report-key without --controller, or a key under 16 characters (the controller refuses it with 401 on every report): exit 2 naming it (the edge started)', () => {
    for (const args of [
      ['--report-key', 'a-key-of-sixteen-chars'],
      ['--controller', 'http://127.0.0.1:1', '--report-key', 'short'],
    ]) {
      const r = edge(args);
      expect(r.status)
        .withContext(`${args.join(' ')}: ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 200)}`)
        .toBe(2);
      expect(r.stderr.trim()).toMatch(/^edge: --report-key /);
    }
  });
});

describe("deploy()'s task requirements are checked, and a model the profile lacks is named (new-user trial, session 12)", () => {
  const prof = JSON.parse(readFileSync('models/variants/profile.json', 'utf8')) as DeployProfile;
  const ctx = { rows: prof.rows, factor: 1, backends: ['js', 'cpu'] as Backend[], fullAccuracy: prof.full_accuracy };

  it("an unknown task, a missing budget, a floor of 97 (a percentage) or an empty models list throws naming it (they chose 'the fastest, nothing fits p95 ≤ undefined ms', rejected every variant, chose among every model)", () => {
    expect(() => checkTaskRequirement('abr', { latencyBudgetMs: 5 })).not.toThrow();
    expect(() => checkTaskRequirement('abr', { latencyBudgetMs: 5, accuracyFloor: 0.97, models: ['abr-drl'] })).not.toThrow();
    expect(() => checkTaskRequirement('abrr', { latencyBudgetMs: 5 })).toThrowError(TypeError, /unknown task "abrr"/);
    expect(() => checkTaskRequirement('abr', {} as never)).toThrowError(TypeError, /tasks\.abr\.latencyBudgetMs/);
    expect(() => checkTaskRequirement('viewport', { latencyBudgetMs: 0 })).toThrowError(RangeError, /tasks\.viewport\.latencyBudgetMs/);
    expect(() => checkTaskRequirement('abr', { latencyBudgetMs: 5, accuracyFloor: 97 })).toThrowError(
      RangeError,
      /accuracyFloor.*\[0, 1\]/,
    );
    expect(() => checkTaskRequirement('abr', { latencyBudgetMs: 5, models: [] })).toThrowError(TypeError, /tasks\.abr\.models/);
  });

  it("tasks.abr.models naming a model the profile does not have says so (it said 'no profile for this task on the usable backends')", () => {
    const c = selectDeployment('abr', { latencyBudgetMs: 5 }, { ...ctx, models: ['abr-drl-plyer' as DeployModel] });
    expect(c.model).toBe('');
    expect(c.reason).toContain('no rows of abr-drl-plyer');
    expect(c.reason).toContain('abr-drl-player');
  });
});

describe('train:variants --sparsity and bench:abr-dev --models are refused cleanly before any work (new-user trial, session 12)', () => {
  it('train:variants --sparsity 1.5 exits 2 with one line naming it (a stack trace, exit 1)', () => {
    const r = run('src/train/cli/variants.ts', ['--sparsity', '1.5', '--out', join(tmpdir(), 'edgeplay-s12-never')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^train:variants: --sparsity/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('bench:abr-dev --models with a directory that holds no model exits 2 naming it before the data is read (the robustMPC baseline ran first)', () => {
    const r = run('bench/cli/abr-dev.ts', [
      '--models',
      'models/abr-drl-player,/nonexistent-model',
      '--out',
      join(tmpdir(), 'edgeplay-s12-never.json'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^bench:abr-dev: --models: no DRL model in \/nonexistent-model/);
    expect(r.stdout).toBe('');
  });
});

describe('train:cdn --dagger-* and train:cache --imitate-* are checked without their switch (new-user trial, session 12)', () => {
  it("'--dagger-days abc' or '--imitate-epochs abc' exits 2 naming the flag before any work (the value was ignored and the training started)", () => {
    const cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s12-'));
    try {
      for (const [entry, flag] of [
        ['src/train/cli/cdn.ts', '--dagger-days'],
        ['src/train/cli/cdn.ts', '--dagger-beta'],
        ['src/train/cli/cache.ts', '--imitate-epochs'],
      ]) {
        const r = run(entry, [flag, 'abc', '--out', join(cwd, 'out')], cwd);
        expect(r.status)
          .withContext(`${entry} ${flag}: ${r.stderr.slice(0, 300)}`)
          .toBe(2);
        expect(r.stderr).toContain(flag);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
