/**
 * Multi-CDN scheduling in the controller (src/server/cdns.ts) over real HTTP: new viewers not on an edge get
 * CDNs by the shares, the steering manifest orders the CDN pathways (the viewer's first, failover after, a
 * CDN it left last), the telemetry's per-CDN QoE moves the shares off a saturated CDN within a few steps,
 * GET /v1/cdns reports it; with a real redis-server, one scheduler at a time decides, the others serve its
 * shares, and a leader that stops is replaced at the next step.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UcbShares } from '../../src/assign/cdn/baselines.js';
import {
  CdnScheduler,
  DOWN_HOLD_STEPS,
  failureGuard,
  loadCdnPolicy,
  parseCdns,
  PROBE_POINTS,
  type CdnConfig,
} from '../../src/server/cdns.js';
import { parseCommandLine, startServer, type RunningServer } from '../../src/server/main.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import type { TelemetryBatch } from '../../src/core/schemas/telemetry.js';

const CDNS: CdnConfig[] = [
  { id: 'cdn-a', url: 'http://127.0.0.1:9001' },
  { id: 'cdn-b', url: 'http://127.0.0.1:9002' },
  { id: 'cdn-c', url: 'http://127.0.0.1:9003' },
];
const STEP = 60000;

let batchNo = 0;
/** one minute of viewing per view on `pathway`: a startup, heartbeats every 10 s, and `stalls` stalls of `stallMs` each */
function minuteOf(views: string[], pathway: string, t0: number, stalls: number, stallMs: number, startupMs: number): TelemetryBatch {
  const events: TelemetryBatch['events'] = [];
  for (const v of views) {
    let seq = 0;
    events.push({ view_id: v, seq: seq++, t: t0, type: 'startup', data: { startup_ms: startupMs, ttff_ms: startupMs, pathway } });
    for (let k = 1; k <= 6; k++) {
      const t = t0 + k * 9000;
      if (k <= stalls) {
        events.push({ view_id: v, seq: seq++, t: t - 3000, type: 'rebuffer_start', data: { playhead: k, pathway } });
        events.push({ view_id: v, seq: seq++, t: t - 3000 + stallMs, type: 'rebuffer_end', data: { duration_ms: stallMs, pathway } });
      }
      events.push({
        view_id: v,
        seq: seq++,
        t,
        type: 'heartbeat',
        data: { playhead: k * 9, buffer_s: 4, live: true, state: 'playing', pathway },
      });
    }
  }
  return {
    v: 1,
    batch_id: `batch-${String(++batchNo).padStart(4, '0')}`,
    viewer_id: 'viewer-0001',
    session_id: 'session-0001',
    sealed_at: t0 + 60000,
    events,
  };
}

describe('multi-CDN scheduling in the controller (over HTTP)', () => {
  let server: RunningServer;
  let fake = 1_800_000_000_000 - (1_800_000_000_000 % STEP);
  let sched: CdnScheduler;
  beforeEach(async () => {
    sched = new CdnScheduler({
      cdns: CDNS,
      policy: new UcbShares({ c: 1, rho: 1, gamma: 0.95 }, 'd-ucb'),
      stepMs: STEP,
      clock: () => fake,
      manual: true,
    });
    server = await startServer({ port: 0, store: new MemoryTelemetryStore(), logger: false, cdns: sched });
  });
  afterEach(async () => server.close());
  const post = (path: string, body: unknown) =>
    fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('gives new viewers CDNs by the shares and lists their CDN first in the steering manifest, the CDN they left last', async () => {
    const got: Record<string, number> = {};
    const sessions: { session: string; steering_uri: string; cdn: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await post('/v1/negotiate', { viewer_id: `v${i}`, channel: 'news' });
      expect(r.status).toBe(200);
      const a = await r.json();
      expect(a.assignment.target).toBe('cdn');
      got[a.assignment.cdn] = (got[a.assignment.cdn] ?? 0) + 1;
      sessions.push({ session: a.session, steering_uri: a.steering_uri, cdn: a.assignment.cdn });
    }
    expect(got).toEqual({ 'cdn-a': 10, 'cdn-b': 10, 'cdn-c': 10 }); // the equal split at the start, viewer by viewer
    const s = sessions[0];
    const m1 = await (await fetch(server.url + s.steering_uri + '&_HLS_pathway=cdn')).json();
    expect(m1['PATHWAY-PRIORITY'][0]).toBe(s.cdn);
    expect([...m1['PATHWAY-PRIORITY']].sort()).toEqual(['cdn', 'cdn-a', 'cdn-b', 'cdn-c']);
    expect(m1['PATHWAY-PRIORITY'][3]).toBe('cdn'); // the playlist's own pathway as the last resort
    const clones = m1['PATHWAY-CLONES'] as { ID: string; 'BASE-ID': string; 'URI-REPLACEMENT': { HOST: string } }[];
    expect(clones.map((c) => [c.ID, c['BASE-ID'], c['URI-REPLACEMENT'].HOST])).toEqual(CDNS.map((c) => [c.id, 'cdn', new URL(c.url).host]));
    // the viewer failed over to another CDN (hls.js reports where it plays from): it stays there, the CDN it left goes last
    const other = m1['PATHWAY-PRIORITY'][1];
    const m2 = await (await fetch(server.url + m1['RELOAD-URI'] + `&_HLS_pathway=${other}`)).json();
    expect(m2['PATHWAY-PRIORITY']).toEqual([other, m1['PATHWAY-PRIORITY'][2], s.cdn, 'cdn']);
    // it is on the playlist's own pathway (before it applied a manifest): not a failover, nothing changes
    const m3 = await (await fetch(server.url + m2['RELOAD-URI'] + '&_HLS_pathway=cdn')).json();
    expect(m3['PATHWAY-PRIORITY']).toEqual(m2['PATHWAY-PRIORITY']);
  });

  it("starts a viewer with known variants on its CDN's pathway: the answer carries that CDN's clone", async () => {
    const variants = [0, 1].map((i) => ({ id: `v${i}`, uri: `http://origin.example/vod/v${i}/index.m3u8?x=1`, bandwidth: 1e6 * (i + 1) }));
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const a = (await (await post('/v1/negotiate', { viewer_id: `w${i}`, channel: 'news', variants })).json()).assignment;
      expect(a.target).toBe('cdn');
      expect(a.pathway).toBe(a.cdn);
      expect(a.clone.ID).toBe(a.cdn);
      expect(a.clone['BASE-ID']).toBe('cdn');
      const host = CDNS.find((c) => c.id === a.cdn)!.url;
      expect(a.clone['URI-REPLACEMENT']['PER-VARIANT-URIS']).toEqual({
        v0: `${host}/vod/v0/index.m3u8?x=1`,
        v1: `${host}/vod/v1/index.m3u8?x=1`,
      });
      seen.add(a.cdn);
    }
    expect(seen.size).toBe(3);
    // without variants there is nothing to clone: the playlist's own pathway, as before
    const b = (await (await post('/v1/negotiate', { viewer_id: 'w9', channel: 'news' })).json()).assignment;
    expect(b.pathway).toBe('cdn');
    expect(b.clone).toBeUndefined();
  });

  it('measures per-CDN QoE from the telemetry and moves new viewers off a saturated CDN within a few steps', async () => {
    const before = await (await fetch(server.url + '/v1/cdns')).json();
    expect(before.cdns.map((c: { share: number }) => c.share)).toEqual([0.34, 0.33, 0.33]);
    expect(before.history).toEqual([]);
    expect(before.policy).toBe('d-ucb');
    const shareA: number[] = [];
    for (let k = 0; k < 4; k++) {
      const step = Math.floor(fake / STEP);
      // cdn-a saturated: two 2-s stalls a minute and a slow start; b and c clean
      for (const [cdn, stalls, startup] of [
        ['cdn-a', 2, 3000],
        ['cdn-b', 0, 800],
        ['cdn-c', 0, 900],
      ] as const) {
        const r = await post('/v1/telemetry', minuteOf([`${cdn}-v1`, `${cdn}-v2`, `${cdn}-v3`], cdn, fake + 1000, stalls, 2000, startup));
        expect(r.status).toBe(200);
      }
      const rep = await sched.tick(step);
      expect(rep!.step).toBe(step);
      shareA.push(rep!.next[0]);
      fake += STEP;
    }
    const after = await (await fetch(server.url + '/v1/cdns')).json();
    expect(after.history.length).toBe(4);
    const first = after.history[0];
    // watched: 3 views × 54 s on each CDN (the first event to the last heartbeat) → 2.7 concurrent viewers
    expect(first.workload).toEqual([2.7, 2.7, 2.7]);
    expect(first.slatency).toEqual([3, 0.8, 0.9]);
    expect(first.bufratio[0]).toBeCloseTo((100 * 12) / 162, 3); // 6 stalls × 2 s per 162 s watched
    expect(first.buffreq[0]).toBeCloseTo((100 * 6) / 162, 3);
    expect(first.bufratio[1]).toBe(0);
    // new viewers leave cdn-a: its share falls step by step, well below the equal third
    expect(shareA[shareA.length - 1]).toBeLessThan(0.2);
    expect(after.cdns[0].share).toBe(shareA[shareA.length - 1]);
    expect(after.leader).toBeTrue();
    // and the negotiation follows: 20 new viewers, few on cdn-a
    let onA = 0;
    for (let i = 0; i < 20; i++)
      if ((await (await post('/v1/negotiate', { viewer_id: `n${i}`, channel: 'news' })).json()).assignment.cdn === 'cdn-a') onA++;
    expect(onA).toBeLessThanOrEqual(Math.ceil(20 * after.cdns[0].share));
  });
});

/**
 * A minute of one view's telemetry: heartbeats every 9 s on its pathway; `failover` = the CDN it was on died: hls.js'
 * requests there failed (a `requests` event with failures on that pathway) and it plays on from `failover.to` with no
 * stall (the failover is seamless: no QoE event names the dead CDN).
 */
function viewMinute(view: string, pathway: string, t0: number, failover?: { to: string }): TelemetryBatch['events'] {
  const ev: TelemetryBatch['events'] = [];
  let seq = (Math.floor(t0 / STEP) % 1e6) * 10;
  let on = pathway;
  for (let k = 1; k <= 6; k++) {
    const t = t0 + k * 9000;
    if (failover && k === 2) {
      const data = { host: 'h', cdn: on, pathway: on, count: 3, ok: 0, segments: 3, failures: 3, bytes: 0 };
      ev.push({
        view_id: view,
        seq: seq++,
        t: t - 2000,
        type: 'requests',
        data: { ...data, busy_ms: 0, ttfb_sum_ms: 0, ttfb_max_ms: 0, interval_ms: 9000 },
      });
      on = failover.to;
    }
    ev.push({
      view_id: view,
      seq: seq++,
      t,
      type: 'heartbeat',
      data: { playhead: k * 9, buffer_s: 8, live: true, state: 'playing', pathway: on },
    });
  }
  return ev;
}

describe('multi-CDN scheduling: a killed CDN loses its share (over HTTP)', () => {
  for (const policyName of ['d-ucb', 'lts'] as const)
    it(`${policyName}: a CDN whose viewers fail over without a stall gets no new viewers from the step that saw it, probes after the hold`, async () => {
      let fake = 1_900_000_000_000 - (1_900_000_000_000 % STEP);
      const sched = new CdnScheduler({
        cdns: CDNS,
        policy: loadCdnPolicy(
          policyName,
          CDNS.map((c) => c.id),
          'models/cdn-lts/mechanistic-ABC.json',
        ),
        stepMs: STEP,
        clock: () => fake,
        manual: true,
      });
      const server = await startServer({ port: 0, store: new MemoryTelemetryStore(), logger: false, cdns: sched });
      const post = (path: string, body: unknown) =>
        fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      try {
        // nine viewers by the equal split, each with its first steering manifest (its CDN first)
        const viewers: { view: string; cdn: string; steering: string; order: string[] }[] = [];
        for (let i = 0; i < 9; i++) {
          const a = await (await post('/v1/negotiate', { viewer_id: `k${i}`, channel: 'news' })).json();
          const m = await (await fetch(server.url + a.steering_uri + '&_HLS_pathway=cdn')).json();
          viewers.push({ view: `view-kill-${i}`, cdn: a.assignment.cdn, steering: m['RELOAD-URI'], order: m['PATHWAY-PRIORITY'] });
        }
        expect(viewers.filter((v) => v.cdn === 'cdn-a').length).toBe(3);
        let batchNo = 0;
        const minute = async (dead: string | null) => {
          const events: TelemetryBatch['events'] = [];
          for (const v of viewers) {
            if (v.cdn === dead) {
              // hls.js failed over to the next pathway of the manifest; its next steering request says so
              const to = v.order.find((p) => p !== dead && p !== 'cdn')!;
              events.push(...viewMinute(v.view, v.cdn, fake + 1000, { to }));
              const m = await (await fetch(server.url + v.steering + `&_HLS_pathway=${to}`)).json();
              expect(m['PATHWAY-PRIORITY'].indexOf(dead)).toBe(2); // the CDN it left goes last (before the playlist's own)
              v.cdn = to;
            } else events.push(...viewMinute(v.view, v.cdn, fake + 1000));
          }
          const r = await post('/v1/telemetry', {
            v: 1,
            batch_id: `kill-batch-${policyName}-${++batchNo}`,
            viewer_id: 'viewer-k',
            session_id: 'session-k',
            sealed_at: fake + STEP,
            events,
          });
          expect(r.status)
            .withContext(await r.text())
            .toBe(200);
          const rep = (await sched.tick(Math.floor(fake / STEP)))!;
          fake += STEP;
          return rep;
        };
        for (let k = 0; k < 3; k++) await minute(null);
        const before = sched.shares()[0];
        expect(before).toBeGreaterThan(0);
        // cdn-a dies: its three viewers fail over seamlessly (no stall, no startup there)
        const killed = await minute('cdn-a');
        // the step that saw it moves every new viewer off it, and nobody is sent there for the hold
        const after: number[] = [killed.next[0]];
        for (let k = 1; k < DOWN_HOLD_STEPS; k++) after.push((await minute(null)).next[0]);
        console.log(`[measure] ${policyName}: cdn-a's share ${before} before the kill → ${after.join(', ')} after`);
        expect(after).toEqual(new Array(DOWN_HOLD_STEPS).fill(0));
        expect(killed.failures[0]).toBe(9); // 3 failed requests each (the largest of the three signals: 3 steering departures, 3 telemetry moves)
        expect(killed.workload[0]).toBeLessThan(1); // 15 s of viewing each before the failover
        expect(killed.bufratio[0]).toBeGreaterThan(10); // the failures as stalls
        expect(killed.failures.slice(1)).toEqual([0, 0]);
        for (let i = 0; i < 6; i++) {
          const a = await (await post('/v1/negotiate', { viewer_id: `late${i}`, channel: 'news' })).json();
          expect(a.assignment.cdn).not.toBe('cdn-a');
        }
        const cdns = await (await fetch(server.url + '/v1/cdns')).json();
        expect(cdns.history[cdns.history.length - DOWN_HOLD_STEPS].failures).toEqual([9, 0, 0]);
        // after the hold: at most a probe share while nobody has watched it since
        for (let k = 0; k < 3; k++) expect((await minute(null)).next[0]).toBeLessThanOrEqual(PROBE_POINTS / 100);
      } finally {
        await server.close();
      }
    });

  it("failureGuard: a down CDN's points go to the others for the hold, then a probe cap until it serves viewers again; one failure among many viewers is not down", () => {
    const ok = (step: number, w: number[], f = [0, 0, 0]) => ({ step, workload: w, failures: f });
    const h = [ok(10, [5, 5, 5]), ok(11, [5, 0, 5], [4, 0, 0])]; // cdn-a: 4 failures among 5 viewers × 60 s: not down
    expect(failureGuard([40, 30, 30], h, 60, 11)).toEqual([40, 30, 30]);
    const down = [ok(10, [5, 5, 5]), ok(11, [0.1, 5, 5], [3, 0, 0])]; // 6 s watched, 3 failures: down
    expect(failureGuard([40, 30, 30], down, 60, 11)).toEqual([0, 50, 50]);
    expect(failureGuard([40, 45, 15], down, 60, 11)).toEqual([0, 75, 25]); // in proportion to the policy's shares
    expect(failureGuard([40, 30, 30], [...down, ok(12, [0, 5, 5])], 60, 15)).toEqual([0, 50, 50]); // within the hold
    expect(failureGuard([40, 30, 30], [...down, ok(12, [0, 5, 5])], 60, 16)).toEqual([5, 48, 47]); // probe cap
    expect(failureGuard([40, 30, 30], [...down, ok(16, [0.5, 5, 5])], 60, 17)).toEqual([40, 30, 30]); // served again: healthy
    expect(failureGuard([40, 30, 30], [ok(11, [0, 0, 0], [1, 1, 1])], 60, 11)).toEqual([40, 30, 30]); // all down: the policy's
    expect(failureGuard([0, 60, 40], [ok(9, [0, 5, 5], [2, 0, 0])], 60, 10)).toEqual([0, 60, 40]);
  });
});

describe('multi-CDN scheduling: configuration', () => {
  it('--cdns is checked, naming what is wrong', () => {
    expect(parseCdns('[{"id":"a","url":"http://x:1/"},{"id":"b","url":"https://y"}]')).toEqual([
      { id: 'a', url: 'http://x:1' },
      { id: 'b', url: 'https://y' },
    ]);
    expect(() => parseCdns('nope')).toThrowError(/--cdns must be JSON/);
    expect(() => parseCdns('[{"id":"a","url":"http://x"}]')).toThrowError(/at least two/);
    expect(() => parseCdns('[{"id":"a","url":"http://x"},{"id":"a","url":"http://y"}]')).toThrowError(/'a' is repeated/);
    expect(() => parseCdns('[{"id":"a","url":"ftp://x"},{"id":"b","url":"http://y"}]')).toThrowError(/\.url must be http/);
    expect(() => parseCdns('[{"id":"cdn","url":"http://x"},{"id":"b","url":"http://y"}]')).toThrowError(/own pathway/);
    expect(() => parseCommandLine(['--cdns', '[1]'])).toThrowError(/--cdns/);
    expect(() => parseCommandLine(['--cdns', JSON.stringify(CDNS), '--cdn-policy', 'magic'])).toThrowError(/--cdn-policy must be one of/);
    expect(() => parseCommandLine(['--cdn-step', '0'])).toThrowError(/--cdn-step/);
    expect(parseCommandLine(['--cdns', JSON.stringify(CDNS), '--cdn-step', '0.5']).cdnStepS).toBe(0.5);
  });

  it("serves a set's Fast-LTS tree when it loses < 2 % to the network on the dev days, and records the test days' check", () => {
    const dir = join('models', 'cdn-lts');
    const files = readdirSync(dir).filter((f) => /^(mechanistic|piecewise)-[A-D]{3}\.json$/.test(f));
    expect(files.length).toBe(5);
    for (const f of files) {
      const man = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      const fast = man.fastLts;
      expect(fast).withContext(f).toBeTruthy();
      const check = fast.testCheck;
      // the recorded figure is the ratio of the recorded QoEs, and the rule follows from it
      expect(check.fastVsNetPct)
        .withContext(f)
        .toBeCloseTo((100 * (check.fastQoe - check.netQoe)) / Math.abs(check.netQoe), 2);
      expect(check.passes)
        .withContext(f)
        .toBe(check.fastVsNetPct > -2);
      // the serving rule is decided on the dev days only: the test days are reported, never selected on
      expect(fast.served)
        .withContext(`${f}: served follows the dev-day rule`)
        .toBe((fast.devQoe - fast.netDevQoe) / Math.abs(fast.netDevQoe) > -0.02);
      expect(loadCdnPolicy('lts', ['a', 'b', 'c'], join(dir, f)).name)
        .withContext(f)
        .toBe(fast.served ? 'fast-lts' : 'lts');
    }
  });

  it("gives the policy the coming step's UTC minute of the day, and refuses a model whose weights do not fit the inputs its file records", async () => {
    // the step 13:36 UTC is measured and decided at its end: the shares are for the step 13:37 (minute 817)
    const seen: Array<number | undefined> = [];
    const fakeNow = Date.UTC(2026, 10, 30, 13, 37, 5);
    const sched = new CdnScheduler({
      cdns: CDNS,
      policy: {
        name: 'spy',
        step: (obs) => {
          seen.push(obs.minuteOfDay);
          return [0.4, 0.3, 0.3];
        },
      },
      stepMs: STEP,
      clock: () => fakeNow,
      manual: true,
      warn: () => {},
    });
    await sched.tick();
    await sched.tick(Math.floor(Date.UTC(2026, 10, 30, 23, 59) / STEP));
    expect(seen).toEqual([13 * 60 + 37, 0]);
    // a file that records the time-of-day input with weights of the paper's width (and one needing an unknown input)
    const dir = mkdtempSync(join(tmpdir(), 'ep-cdn-tod-'));
    try {
      const src = join('models', 'cdn-lts');
      const man = JSON.parse(readFileSync(join(src, 'piecewise-ABC.json'), 'utf8'));
      writeFileSync(join(dir, man.weights), readFileSync(join(src, man.weights)));
      const isTod = (man.inputs?.timeOfDay ?? 0) > 0;
      writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ ...man, inputs: isTod ? undefined : { timeOfDay: 1 }, fastLts: null }));
      writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ ...man, inputs: { weather: 1 } }));
      expect(() => loadCdnPolicy('lts', ['a', 'b', 'c'], join(dir, 'wrong.json'))).toThrowError(
        /--cdn-model .*wrong\.json: LTS manifest: the weights .* do not fit the inputs the manifest records/,
      );
      expect(() => loadCdnPolicy('lts', ['a', 'b', 'c'], join(dir, 'unknown.json'))).toThrowError(/needs the input 'weather'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers GET /v1/cdns 404 without --cdns', async () => {
    const s = await startServer({ port: 0, store: new MemoryTelemetryStore(), logger: false });
    try {
      const r = await fetch(s.url + '/v1/cdns');
      expect(r.status).toBe(404);
      expect((await r.json()).message).toMatch(/--cdns/);
    } finally {
      await s.close();
    }
  });
});

const REDIS = process.env.REDIS_SERVER ?? 'redis-server';
const haveRedis = spawnSync(REDIS, ['--version']).status === 0;
const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

describe('multi-CDN scheduling with Redis: one leader', () => {
  let proc: ChildProcess;
  let url: string;
  beforeAll(async () => {
    if (!haveRedis) return;
    const port = await freePort();
    proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    const { Redis } = await import('ioredis');
    for (let i = 0; i < 100; i++) {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await r.connect();
        await r.ping();
        r.disconnect();
        return;
      } catch {
        r.disconnect();
        await new Promise((s) => setTimeout(s, 50));
      }
    }
    throw new Error('redis-server did not start');
  });
  afterAll(() => proc?.kill());

  it('one scheduler decides each step from everyone’s measurements, all serve its shares, a stopped leader is replaced at the next step', async () => {
    if (!haveRedis) return pending(`${REDIS} not found`);
    const { Redis } = await import('ioredis');
    // the lease is one step of real time: long enough that a leader slowed by a loaded machine (several Redis round
    // trips per tick at nice 19) still holds it when the follower ticks (400 ms lost it under load ≈ 15)
    const stepMs = 2000;
    let now = 2_000_000_000_000 - (2_000_000_000_000 % stepMs);
    const clients = [new Redis(url), new Redis(url)];
    const mk = (i: number) =>
      new CdnScheduler({
        cdns: CDNS,
        policy: new UcbShares({ c: 1, rho: 1, gamma: 0.95 }, 'd-ucb'),
        stepMs,
        redis: clients[i],
        id: `p${i}`,
        clock: () => now,
        manual: true,
        warn: (m) => fail(m),
      });
    const [p0, p1] = [mk(0), mk(1)];
    try {
      const step0 = Math.floor(now / stepMs);
      // each process ingests part of the telemetry: cdn-a's stalls reach p1 only
      p0.observe(minuteOf(['view-b-01'], 'cdn-b', now, 0, 0, 700));
      p1.observe(minuteOf(['view-a-01'], 'cdn-a', now, 3, 3000, 4000));
      await new Promise((s) => setTimeout(s, 50)); // the measurements' MULTI has been sent: wait for Redis to apply them
      await clients[0].ping();
      await clients[1].ping();
      const r0 = await p0.tick(step0);
      const r1 = await p1.tick(step0);
      expect(r0).not.toBeNull(); // p0 came first: the leader
      expect(r1).toBeNull();
      expect(p0.leader).toBeTrue();
      expect(p1.leader).toBeFalse();
      expect(r0!.bufratio[0]).toBeGreaterThan(0); // p1's measurement reached the leader
      expect(r0!.slatency.slice(0, 2)).toEqual([4, 0.7]);
      expect(p1.shares()).toEqual(p0.shares()); // the follower serves the leader's shares
      expect(p1.steps()).toEqual(p0.steps());
      // the leader renews while alive: the follower ticking first at the next boundary does not take over
      now += stepMs;
      expect(await p1.tick(step0 + 1)).toBeNull();
      expect(await p0.tick(step0 + 1)).not.toBeNull();
      // p0 stops (no more ticks): its lease runs out within a step, and p1 decides the next step
      await new Promise((s) => setTimeout(s, stepMs + 100));
      now += stepMs;
      const r2 = await p1.tick(step0 + 2);
      expect(r2).not.toBeNull();
      expect(p1.leader).toBeTrue();
      expect(p1.steps().map((s) => s.step)).toEqual([step0, step0 + 1, step0 + 2]); // it carried on from the shared history
      expect(p0.decided + p1.decided).toBe(3); // one decision per step
    } finally {
      for (const c of clients) c.disconnect();
    }
  });
});

describe("the demo's CDNs (demo/cdns.ts)", () => {
  it('share a capacity among the transfers in flight: two segments at once take about twice as long as one', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startDemoCdns } = await import('../../demo/cdns.js');
    const dir = mkdtempSync(join(tmpdir(), 'ep-cdn-'));
    writeFileSync(join(dir, 'seg.m4s'), Buffer.alloc(200 * 1024, 7));
    const [cdn] = await startDemoCdns([{ id: 'cdn-x', capacityMbps: 8 }], { vod: dir });
    try {
      const get = async () => {
        const t0 = performance.now();
        const r = await fetch(`${cdn.url}/streams/vod/seg.m4s`);
        const n = (await r.arrayBuffer()).byteLength;
        expect(r.headers.get('x-edge')).toBe('cdn-x');
        return { n, s: (performance.now() - t0) / 1000 };
      };
      const bits = 200 * 1024 * 8;
      const one = await get();
      expect(one.n).toBe(200 * 1024);
      expect(one.s).toBeGreaterThanOrEqual((0.95 * bits) / 8e6); // paced: never faster than the capacity
      const two = await Promise.all([get(), get()]);
      // together they never get more than the capacity (give or take the one 16-KB chunk each was already pacing)
      const chunkBits = 16 * 1024 * 8;
      expect(Math.max(two[0].s, two[1].s)).toBeGreaterThanOrEqual((0.95 * (2 * bits - 2 * chunkBits)) / 8e6);
      for (const t of two) expect(t.s).toBeGreaterThanOrEqual((0.95 * bits) / 8e6);
      expect(cdn.stats().segments).toBe(3);
    } finally {
      await cdn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pull the live channel from the origin per request (query kept, the playlist as the origin answers it), 503 before the origin listens', async () => {
    const { createServer } = await import('node:http');
    const { startDemoCdns } = await import('../../demo/cdns.js');
    const asked: string[] = [];
    // an origin whose live playlist depends on the LL-HLS query (a blocking reload answers for the msn asked)
    const origin = createServer((req, res) => {
      asked.push(req.url ?? '');
      const u = new URL(req.url ?? '/', 'http://o');
      if (u.pathname === '/streams/live/v0/index.m3u8') {
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
        return res.end(`#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:${u.searchParams.get('_HLS_msn')}\n`);
      }
      if (u.pathname === '/streams/live/v0/seg9.m4s') {
        res.writeHead(200, { 'content-type': 'video/iso.segment' });
        return res.end(Buffer.alloc(64 * 1024, 3));
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    let originUrl: string | null = null;
    const [cdn] = await startDemoCdns([{ id: 'cdn-x', capacityMbps: 50 }], {}, { streams: ['live'], origin: () => originUrl });
    try {
      const early = await fetch(`${cdn.url}/streams/live/v0/index.m3u8`);
      expect(early.status).toBe(503);
      originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
      // the viewer's shaping query is not sent upstream (the origin serves the CDN): only the LL-HLS query goes on
      const pl = await fetch(`${cdn.url}/streams/live/v0/index.m3u8?trace=norway_bus_1&_HLS_msn=12&sess=abc&_HLS_part=1&rtt=80`);
      expect(pl.status).toBe(200);
      expect(pl.headers.get('x-cdn')).toBe('cdn-x');
      expect(await pl.text()).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:12\n');
      const seg = await fetch(`${cdn.url}/streams/live/v0/seg9.m4s?trace=norway_bus_1&sess=abc`);
      expect((await seg.arrayBuffer()).byteLength).toBe(64 * 1024);
      expect((await fetch(`${cdn.url}/streams/live/v0/missing.m4s`)).status).toBe(404);
      // VOD is still served from its files only: not pulled
      expect((await fetch(`${cdn.url}/streams/vod/master.m3u8`)).status).toBe(404);
      expect(asked).toEqual([
        '/streams/live/v0/index.m3u8?_HLS_msn=12&_HLS_part=1',
        '/streams/live/v0/seg9.m4s',
        '/streams/live/v0/missing.m4s',
      ]);
      expect(cdn.stats().segments).toBe(1);
    } finally {
      await cdn.close();
      await new Promise((r) => origin.close(r));
    }
  });
});
