/**
 * The Redis assignment store against a real redis-server (started here on a free loopback port): the same
 * behaviour as the memory store under random operations, and two controller processes sharing one Redis
 * under thousands of parallel negotiations never reserve more than an edge holds, and share one negotiation
 * rate limit per client address.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RedisAssignmentStore } from '../../src/server/redis-store.js';
import { CapacityLedger, type EdgeConfig } from '../../src/assign/edge/ledger.js';

const REDIS = process.env.REDIS_SERVER ?? 'redis-server';
const haveRedis = spawnSync(REDIS, ['--version']).status === 0;
const why = `${REDIS} not found: apt-get install -y redis-server (or set REDIS_SERVER)`;

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

async function startRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const { Redis } = await import('ioredis');
  for (let i = 0; i < 100; i++) {
    const r = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return { url: `redis://127.0.0.1:${port}`, proc };
    } catch {
      r.disconnect();
      await new Promise((s) => setTimeout(s, 50));
    }
  }
  proc.kill();
  throw new Error('redis-server did not start');
}

/** A controller process (src/server/main.ts) on a free port; resolves once it listens. */
async function spawnController(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(
    join(process.cwd(), 'node_modules', '.bin', 'tsx'),
    ['src/server/main.ts', '--memory', '--quiet', '--port', String(port), ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, EDGEPLAY_SECRET: 'shared' },
    },
  );
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('controller did not start')), 30000);
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(t);
        res();
      }
    });
  });
  return { url: `http://127.0.0.1:${port}`, proc };
}

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
});
