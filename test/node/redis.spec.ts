/**
 * The Redis assignment store against a real redis-server (started here on a free loopback port): the same
 * behaviour as the memory store under random operations, and two controller processes sharing one Redis
 * under thousands of parallel negotiations never reserve more than an edge holds, share one negotiation
 * rate limit per client address, and keep no session of their own: any process answers any session's
 * reloads, a kill -9'd process restarted carries on, and a Redis outage is a 503, never a 404.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { RedisAssignmentStore } from '../../src/server/redis-store.js';
import { CapacityLedger, type EdgeConfig } from '../../src/assign/edge/ledger.js';
import { VERSIONS } from '../../src/assign/edge/model.js';
import { freePort, haveRedis, spawnController as spawnCtl, startRedis as startServer, whyNoRedis as why } from '../services.js';

async function startRedis(persistent = false): Promise<{ url: string; proc: ChildProcess; kill(): Promise<void>; start(): Promise<void> }> {
  const r = await startServer({ persistent });
  return {
    url: r.url,
    get proc() {
      return r.proc;
    },
    kill: () => r.kill(),
    start: () => r.start(),
  };
}

/** A controller process (src/server/main.ts, in-memory telemetry) on a free port; resolves once it listens. */
const spawnController = (args: string[]) => spawnCtl(['--memory', ...args]);

describe('Redis assignment store', () => {
  let redis: { url: string; proc: ChildProcess } | null = null;
  beforeAll(async () => {
    if (haveRedis) redis = await startRedis();
  });
  afterAll(() => redis?.proc.kill());

  it('behaves like the memory store under random reserve / release / expiry', async () => {
    if (!redis) return pending(why);
    const edges: EdgeConfig[] = [
      { id: 'e1', url: 'http://127.0.0.1:1', setting: 'thin' },
      { id: 'e2', url: 'http://127.0.0.1:2', setting: 'mid' },
    ];
    const rs = await RedisAssignmentStore.connect(redis.url, edges, `t${Date.now()}`);
    const ms = new CapacityLedger(edges);
    try {
      let seed = 11;
      const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const t0 = Date.now();
      let agreeOk = 0;
      for (let i = 0; i < 600; i++) {
        const now = t0 + i * 10;
        const op = rnd();
        const sess = `s${Math.floor(rnd() * 80)}`;
        if (op < 0.7) {
          const e = rnd() < 0.5 ? 'e1' : 'e2',
            ch = `c${Math.floor(rnd() * 4)}`,
            v = Math.floor(rnd() * 6),
            ttl = 200 + Math.floor(rnd() * 3000);
          const a = await rs.reserve(sess, e, ch, v, ttl, now);
          const b = ms.reserve(sess, e, ch, v, ttl, now);
          expect(a.ok).withContext(`op ${i}`).toBe(b.ok);
          if (a.ok) agreeOk++;
        } else if (op < 0.9) {
          expect(await rs.release(sess)).toBe(ms.release(sess));
        } else {
          expect(await rs.sweep(now)).toBe(ms.sweep(now));
        }
      }
      await rs.sweep(t0 + 6000);
      ms.sweep(t0 + 6000);
      expect(agreeOk).toBeGreaterThan(100);
      const [a, b] = [await rs.snapshot(), ms.snapshot()];
      for (let k = 0; k < 2; k++) {
        expect(a[k].usedMbps).toBeCloseTo(b[k].usedMbps, 6);
        expect(a[k].usedVcpu).toBeCloseTo(b[k].usedVcpu, 6);
      }
    } finally {
      await rs.close();
    }
  });

  it('two controller processes on one Redis never reserve more than the edge holds', async () => {
    if (!redis) return pending(why);
    const edges: EdgeConfig[] = [{ id: 'small', url: 'http://127.0.0.1:9', setting: 'thin' }];
    const procs: ChildProcess[] = [];
    const urls: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const p = spawn(
          join(process.cwd(), 'node_modules', '.bin', 'tsx'),
          [
            'src/server/main.ts',
            '--memory',
            '--quiet',
            '--port',
            String(port),
            '--redis',
            redis.url,
            '--edges',
            JSON.stringify(edges),
            '--rate',
            '1000000',
          ],
          { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, EDGEPLAY_SECRET: 'shared' } },
        );
        procs.push(p);
        await new Promise<void>((res, rej) => {
          const t = setTimeout(() => rej(new Error('controller did not start')), 30000);
          p.stdout!.on('data', (d: Buffer) => {
            if (d.toString().includes('listening')) {
              clearTimeout(t);
              res();
            }
          });
        });
        urls.push(`http://127.0.0.1:${port}`);
      }
      // a multivariant playlist an edge pathway can carry (without variants everyone is served by the CDN)
      const variants = [0, 1].map((k) => ({ id: `v${k}`, uri: `http://127.0.0.1:8080/streams/vod/v${k}/index.m3u8` }));
      const N = 2000;
      let edgeCount = 0,
        ok = 0;
      let next = 0;
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= N) return;
          const r = await fetch(`${urls[i % 2]}/v1/negotiate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              viewer_id: `viewer-${i}`,
              channel: `ch${i % 3}`,
              rtt_ms: { cdn: 600, small: 20 },
              bandwidth_mbps: 20,
              variants,
            }),
          });
          if (r.status === 200) {
            ok++;
            if ((await r.json()).assignment.target === 'small') edgeCount++;
          } else await r.text();
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      const store = await RedisAssignmentStore.connect(redis.url, edges);
      const snap = (await store.snapshot())[0];
      await store.close();
      console.log(
        `[measure] 2 controllers x Redis: ${ok} negotiations answered, ${edgeCount} placed on the thin edge, usage ${snap.usedMbps.toFixed(1)}/200 Mb/s, ${snap.usedVcpu.toFixed(2)}/16 vCPU`,
      );
      expect(ok).toBe(N);
      expect(edgeCount).toBeGreaterThan(10);
      expect(snap.usedMbps).toBeLessThanOrEqual(200 + 1e-9);
      expect(snap.usedVcpu).toBeLessThanOrEqual(16 + 1e-9);
      // every answer that said "small" holds a lease: the count is what the usage implies
      const pulls = [...snap.channels.keys()].length * 4.3;
      expect(snap.usedMbps - pulls).toBeGreaterThan(0);
    } finally {
      for (const p of procs) p.kill('SIGTERM');
    }
  }, 180000);

  it('two controller processes on one Redis share one negotiation rate limit per client address', async () => {
    if (!redis) return pending(why);
    const own = await startRedis(); // a Redis of its own: no counters left by the other tests
    const ctrls: Array<{ url: string; proc: ChildProcess }> = [];
    try {
      // 0.1 negotiations/s over a 60 s window: 6 per client per minute, whichever process answers
      for (let i = 0; i < 2; i++) ctrls.push(await spawnController(['--redis', own.url, '--rate', '0.1', '--rate-window', '60']));
      const statuses: number[] = [];
      let limited: Response | null = null;
      for (let i = 0; i < 12; i++) {
        const r = await fetch(`${ctrls[i % 2].url}/v1/negotiate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ viewer_id: `viewer-${i}`, channel: 'news' }),
        });
        statuses.push(r.status);
        if (r.status === 429 && !limited) limited = r;
        else await r.text();
      }
      // one allowance for both processes: 6 answered in all (each process alone would answer 6 of its own)
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await limited!.json()).error).toBe('rate_limited');
    } finally {
      for (const c of ctrls) c.proc.kill('SIGTERM');
      own.proc.kill();
    }
  });

  // what a fleet needs: the sessions in Redis, not in the process that negotiated them
  const EDGE: EdgeConfig = { id: 'small', url: 'http://127.0.0.1:9', setting: 'thin' };
  const VARIANTS = [0, 1].map((k) => ({ id: `v${k}`, uri: `http://127.0.0.1:8080/streams/vod/v${k}/index.m3u8` }));
  const negotiate = (url: string, i: number) =>
    fetch(`${url}/v1/negotiate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        viewer_id: `viewer-${i}`,
        channel: 'news',
        rtt_ms: { cdn: 600, small: 20 },
        bandwidth_mbps: 20,
        variants: VARIANTS,
      }),
    });
  const steer = (url: string, a: { steering_uri: string }, pathway: string) =>
    fetch(`${url}${a.steering_uri}&_HLS_pathway=${pathway}`).then(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: await r.json(),
    }));

  it('keeps no session in a process: any controller answers any reload, and one kill -9ed and restarted carries on without over-allocating', async () => {
    if (!redis) return pending(why);
    const own = await startRedis(true);
    const store = await RedisAssignmentStore.connect(own.url, [EDGE]);
    // the thin edge holds 45 viewers of one channel at 1440p (4.3 Mb/s each + one pull); leases of 60 s, renewed by every reload
    const flags = ['--redis', own.url, '--edges', JSON.stringify([EDGE]), '--rate', '1000000'];
    const [a, b] = [await spawnController(flags), await spawnController(flags)];
    try {
      type Answer = { session: string; token: string; steering_uri: string; assignment: { target: string } };
      const viewers: Answer[] = [];
      for (let i = 0; i < 60; i++) {
        const r = await negotiate(a.url, i);
        expect(r.status).toBe(200);
        viewers.push(await r.json());
      }
      const onEdge = viewers.filter((v) => v.assignment.target === 'small');
      expect(onEdge.length).toBeGreaterThanOrEqual(45); // the edge is full (the last ones at lower versions), the rest on the CDN
      expect(onEdge.length).toBeLessThan(60);
      // the other process answers every reload of a session it never saw
      for (const v of viewers) {
        const m = await steer(b.url, v, v.assignment.target === 'small' ? 'small' : 'cdn');
        expect(m.status).toBe(200);
        expect(m.body['PATHWAY-PRIORITY'][0]).toBe(v.assignment.target);
      }
      const before = new Map(await Promise.all(onEdge.map(async (v) => [v.session, (await store.lease(v.session))!.expires] as const)));
      // the negotiating process dies without a word; newcomers meanwhile are placed against the leases in Redis
      await a.kill9();
      const newcomers: Answer[] = [];
      for (let i = 100; i < 110; i++) newcomers.push(await (await negotiate(b.url, i)).json());
      await a.start();
      // the restarted process answers the reloads of sessions negotiated before the crash and renews their leases
      for (const v of onEdge) {
        const m = await steer(a.url, v, 'small');
        expect(m.status).withContext(v.session).toBe(200); // never a 404 for a live session
        expect(m.body['PATHWAY-PRIORITY']).toEqual(['small', 'cdn']);
      }
      for (const v of onEdge) {
        const l = await store.lease(v.session);
        expect(l).withContext(v.session).not.toBeNull();
        expect(l!.expires).toBeGreaterThan(before.get(v.session)!);
      }
      // everyone whose manifest says 'small' holds a lease on it, and the edge carries exactly those leases: nothing
      // reserved twice, nothing lost in the crash, never above capacity
      const placed = [...onEdge, ...newcomers.filter((v) => v.assignment.target === 'small')];
      const leases = await Promise.all(placed.map((v) => store.lease(v.session)));
      expect(leases.every((l) => l?.edge === 'small')).toBeTrue();
      const snap = (await store.snapshot())[0];
      const held = leases.reduce<number>((sum, l) => sum + VERSIONS[l!.version].mbps, VERSIONS[0].mbps); // + the channel's one pull
      expect(snap.usedMbps).toBeCloseTo(held, 6);
      expect(snap.usedMbps).toBeLessThanOrEqual(snap.capMbps + 1e-9);
      // a leave through either process releases what the other reserved
      const gone = onEdge[0];
      const left = await fetch(`${b.url}/v1/sessions/${gone.session}/leave?token=${encodeURIComponent(gone.token)}`, { method: 'POST' });
      expect((await left.json()).released).toBeTrue();
      expect((await steer(a.url, gone, 'small')).status).toBe(404);
    } finally {
      await a.stop();
      await b.stop();
      await store.close();
      own.proc.kill('SIGKILL');
    }
  }, 180000);

  it('answers 503 with Retry-After while Redis is down — never a 404 for a live session — and carries on when it is back', async () => {
    if (!redis) return pending(why);
    const own = await startRedis(true);
    const c = await spawnController(['--redis', own.url, '--edges', JSON.stringify([EDGE]), '--rate', '1000000']);
    try {
      const v = await (await negotiate(c.url, 1)).json();
      expect(v.assignment.target).toBe('small');
      await own.kill();
      const m = await steer(c.url, v, 'small');
      expect(m.status).toBe(503);
      expect(m.body.error).toBe('unavailable');
      expect(Number(m.retryAfter)).toBeGreaterThan(0);
      const n = await negotiate(c.url, 2);
      expect(n.status).toBe(503); // the SDK's negotiate() then plays from the CDN
      await n.text();
      expect((await fetch(`${c.url}/v1/sessions/${v.session}/leave?token=${encodeURIComponent(v.token)}`, { method: 'POST' })).status).toBe(
        503,
      );
      await own.start();
      // the controller reconnects by itself: wait for it (bounded), then the session is as it was
      let back = await steer(c.url, v, 'small');
      for (let i = 0; i < 100 && back.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        back = await steer(c.url, v, 'small');
      }
      expect(back.status).toBe(200);
      expect(back.body['PATHWAY-PRIORITY']).toEqual(['small', 'cdn']);
      expect((await negotiate(c.url, 3)).status).toBe(200);
    } finally {
      await c.stop();
      own.proc.kill('SIGKILL');
    }
  }, 120000);
});
