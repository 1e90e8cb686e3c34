/**
 * Faults found by the session-11 new-user trial (h11-user): command lines that accepted a bad or ignored value with
 * exit 0, crashed with a stack trace, or named the wrong option. Each spec runs the real entry point in a child
 * process (or the library the entry point calls) and fails on the code the trial found.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainAbr } from '../../src/train/abr.js';
import { InputError } from '../../src/train/errors.js';
import { TOTAL_CHUNKS, VIDEO_BIT_RATE_KBPS } from '../../src/core/abr.js';

const tsxBin = join(process.cwd(), 'node_modules', '.bin', 'tsx');
/** an entry point (repo-relative) in a child process, in `cwd`, with no data (EDGEPLAY_DATA points nowhere) */
const run = (entry: string, args: string[], cwd = process.cwd()) =>
  spawnSync(tsxBin, [join(process.cwd(), entry), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, EDGEPLAY_DATA: join(cwd, 'no-data'), EDGEPLAY_CACHE: join(cwd, '.cache') },
  });

describe('bench:browser-abr --ranks / --synthetic are checked, and refused where they choose nothing (new-user trial, session 11)', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'edgeplay-s11-'));
    mkdirSync(join(cwd, 'bench', 'results'), { recursive: true });
    // a minimal results file for --summary (and for --dev --summary)
    const rows = ['hls', 'drl'].map((policy, i) => ({ trace: 'norway_bus_1', policy, repeat: 0, qoe_chunk: 1 + i, rebuffer_s: 0 }));
    const file = JSON.stringify({ command: 'fixture', config: { traces: ['norway_bus_1'], policies: ['hls', 'drl'] }, rows, rejected: [] });
    writeFileSync(join(cwd, 'bench', 'results', 'browser-abr.json'), file);
    writeFileSync(join(cwd, 'bench', 'results', 'browser-abr-dev.json'), file);
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('a bad --ranks or --synthetic exits 2 naming it, with --summary too (it was ignored: exit 0)', () => {
    for (const [flag, value] of [
      ['--ranks', 'abc'],
      ['--ranks', '1.5'],
      ['--synthetic', '1.5'],
    ]) {
      const r = run('bench/cli/browser-abr.ts', ['--summary', flag, value], cwd);
      expect(r.status)
        .withContext(`${flag} ${value}: ${r.stdout.slice(0, 200)}`)
        .toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });

  it('--ranks or --synthetic with --dev or --traces is refused: those choose the traces (the flag was silently ignored)', () => {
    for (const args of [
      ['--dev', '--ranks', '1/6,5/6'],
      ['--dev', '--synthetic', '2'],
      ['--traces', 'norway_bus_1', '--ranks', '1/2'],
    ]) {
      const r = run('bench/cli/browser-abr.ts', [...args, '--summary'], cwd);
      expect(r.status).withContext(args.join(' ')).toBe(2);
      expect(r.stderr).toContain(args.find((a) => a === '--ranks' || a === '--synthetic')!);
    }
    // the defaults stay quiet: --dev alone still summarises
    expect(run('bench/cli/browser-abr.ts', ['--dev', '--summary'], cwd).status).toBe(0);
  });
});

describe('train:abr --hls-mix is a share, and --select dev-hls names what it needs (new-user trial, session 11)', () => {
  const traces = [1.5, 3, 0.8, 2.5].map((mbps, k) => ({
    name: `t_${k}`,
    time: Array.from({ length: 60 }, (_, i) => i),
    bw: Array.from({ length: 60 }, () => mbps),
  }));
  const videoSizes = VIDEO_BIT_RATE_KBPS.map((kbps) => Array.from({ length: TOTAL_CHUNKS }, () => kbps * 500));
  const common = { traces, videoSizes, starts: 1, bcEpochs: 1, ppoIters: 0, hidden: 8, cacheDir: null, log: () => undefined };

  it('hlsMix above 1 is refused before any work (1.5 trained as 1 and was recorded as 1.5)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'edgeplay-s11-')), 'm');
    await expectAsync(trainAbr({ ...common, hlsMix: 1.5, hlsSizes: videoSizes, out })).toBeRejectedWithError(
      InputError,
      /hlsMix.*\[0, 1\]/,
    );
    const r = run('src/train/cli/abr.ts', ['--hls-mix', '1.5', '--hls-sizes', '.cache/none', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--hls-mix');
  });

  it("select 'dev-hls' without hlsSizes says so (it said 'hlsMix needs hlsSizes', an option the user never gave)", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'edgeplay-s11-')), 'm');
    await expectAsync(trainAbr({ ...common, select: 'dev-hls', out })).toBeRejectedWithError(InputError, /dev-hls.*hlsSizes/);
  });
});

describe('train:abr-soup of two models of different architectures (new-user trial, session 11)', () => {
  it('exits 2 with one line naming both directories, not a stack trace with exit 1', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'edgeplay-s11-')), 'soup');
    const r = run('src/train/cli/abr-soup.ts', ['--a', 'models/abr-drl', '--b', 'models/viewport', '--out', out]);
    expect(r.status).withContext(r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toContain('models/viewport');
  });
});

describe('an entry point names itself once in its error line (new-user trial, session 11)', () => {
  it("bench:part-sizes --live-encodes without --encodes: 'bench:part-sizes: --live-encodes needs …', not 'bench:part-sizes: bench:part-sizes: …'", () => {
    const r = run('bench/cli/part-sizes.ts', ['--live-encodes']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^bench:part-sizes: --live-encodes needs --encodes/);
  });
});

describe("the README's real-playback headline names the command that printed it (new-user trial, session 11)", () => {
  it('the paragraph citing its results file (bench/results/browser-abr-*.json) gives its recorded command, not the default `npm run bench:browser-abr` (14 traces, abr-drl)', () => {
    const flat = (t: string) => t.replace(/\s+/g, ' ');
    const readme = flat(readFileSync('README.md', 'utf8'));
    // the headline: from "In real playback through hls.js" to the results file it cites (browser-abr-wide.json in
    // session 11, browser-abr-wider.json since session 12)
    const at = readme.indexOf('In real playback through hls.js');
    expect(at).toBeGreaterThan(0);
    const cite = /\(`(bench\/results\/browser-abr-[\w-]+\.json)`\)/.exec(readme.slice(at));
    expect(cite).withContext('the headline cites a browser-abr results file').not.toBeNull();
    const headline = readme.slice(at, at + cite!.index);
    const recorded = flat(JSON.parse(readFileSync(cite![1], 'utf8')).command as string);
    // the flags that choose what was played: traces, synthetic links, policies (the monitor() default among them)
    for (const flag of ['--ranks', '--synthetic', '--policies']) {
      const m = new RegExp(`${flag} (\\S+)`).exec(recorded);
      expect(m).withContext(flag).not.toBeNull();
      expect(headline).withContext(`${flag} ${m![1]}`).toContain(`${flag} ${m![1]}`);
    }
  });
});

describe("the dashboard's serving pathway of an LL-HLS part (new-user trial, session 11)", () => {
  it("names the edge a part came from: a segment still in production has no URL of its own (hls.js gives ''), and '' read as the page's port said 'cdn'", async () => {
    const { servingPathwayOf } = await import('../../demo/serving-pathway.js');
    const edges = [
      { id: 'edge-1', url: 'http://127.0.0.1:37519' },
      { id: 'edge-2', url: 'http://127.0.0.1:34525' },
    ];
    const page = 'http://127.0.0.1:8080/?channel=live';
    const part = { url: 'http://127.0.0.1:37519/streams/live/v1/part_000198_0.m4s?trace=varying' };
    expect(servingPathwayOf({ frag: { url: '' }, part }, edges, page)).toBe('edge-1');
    // a whole segment: its own URL; the page's own origin is the CDN pathway; nothing to go by: no answer
    expect(servingPathwayOf({ frag: { url: 'http://127.0.0.1:34525/streams/vod/v0/seg_001.m4s' } }, edges, page)).toBe('edge-2');
    expect(servingPathwayOf({ frag: { url: 'http://127.0.0.1:8080/streams/vod/v0/seg_001.m4s' }, part: null }, edges, page)).toBe('cdn');
    expect(servingPathwayOf({ frag: { url: '' }, part: null }, edges, page)).toBeNull();
  });
});

describe("the README's hand-wired ABR snippet loads monitor()'s DRL (new-user trial, session 11)", () => {
  it('its initAbr modelUrl is models/<DEFAULT_ABR_MODEL> (it loaded models/abr-drl, the Pensieve-simulator model, beside the player semantics abr-drl-player is trained for)', async () => {
    const { DEFAULT_ABR_MODEL } = await import('../../src/monitor.js');
    const readme = readFileSync('README.md', 'utf8');
    const snippet = /### ABR: the DRL policy[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(snippet).toContain('createStreamController'); // the snippet plays with monitor()'s semantics
    const url = /initAbr\(\{ modelUrl: '([^']+)'/.exec(snippet)?.[1];
    expect(url).toBe(`/models/${DEFAULT_ABR_MODEL}/model.json`);
  });
});

describe('bench:part-sizes --split test on our encodes needs no aitrans data (new-user trial, session 11)', () => {
  it('the test split (encodes only: the shared dataset holds its test split out) runs without the challenge frame traces or the shared chunks', async () => {
    const { benchPartSizes } = await import('../../bench/part-sizes.js');
    const nowhere = join(tmpdir(), 'edgeplay-s11-nothing-here');
    // the committed part-size head and forecaster, the committed encodes (bench/coding-meta): what a fresh clone has
    const r = await benchPartSizes({
      split: 'test',
      encodes: 'bench/coding-meta',
      noLive: true,
      frames: nowhere,
      data: nowhere,
      out: null,
      log: () => undefined,
    });
    expect(r.mape.length).toBeGreaterThan(0);
    expect(r.streams.length).toBeGreaterThan(0);
    expect(r.streams.every((s) => /^enc\d+$|^\(stream mean\)$/.test(s.video)))
      .withContext(JSON.stringify(r.streams.map((s) => s.video)))
      .toBeTrue();
  });
});

describe('bench:abr-dev --models with an empty ensemble member (new-user trial, session 11)', () => {
  it("'models/abr-drl+' is refused at once naming the list (it computed the baseline, then said 'no DRL model in ' with no name)", async () => {
    const { benchAbrDev } = await import('../../bench/abr-dev.js');
    for (const bad of ['models/abr-drl+', '+models/abr-drl', 'models/abr-drl++models/abr-drl-fast', ''])
      await expectAsync(
        benchAbrDev({ models: [bad], dataDir: join(tmpdir(), 'edgeplay-s11-nothing-here'), out: null, log: () => undefined }),
      )
        .withContext(bad)
        .toBeRejectedWithError(InputError, /--models: .*empty/);
  });
});
