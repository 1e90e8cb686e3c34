/**
 * The controller benchmark (`npm run bench:server`, entry in cli/server.ts):
 * autocannon against POST /v1/negotiate (memory store, then Redis store when redis-server is available)
 * and a hello-world route of the same fastify instance in the same run, on loopback; the controller runs
 * in its own process (bench/server-child.ts), autocannon in this one. Writes
 * bench/results/server.json rows {route, store, connections, rps, p50_ms, p99_ms, ratio_to_hello}.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import { dirname, join } from 'node:path';
import { RedisAssignmentStore } from '../src/server/redis-store.js';

export interface ServerBenchOptions {
  /** seconds per autocannon run (default 5) */
  duration?: number;
  /** concurrent connections (default 50) */
  connections?: number;
  /** results file (default bench/results/server.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface ServerBenchResult {
  command: string;
  duration_s: number;
  rows: Array<Record<string, unknown>>;
}

/** Runs the benchmark (memory store, then Redis when redis-server is installed), prints and writes the results. */
export async function benchServer(o: ServerBenchOptions = {}): Promise<ServerBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const DURATION = o.duration ?? 5;
  const CONNECTIONS = o.connections ?? 50;
  const freePort = () =>
    new Promise<number>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });

  const run = (url: string, opts: Partial<autocannon.Options> = {}) =>
    new Promise<autocannon.Result>((res, rej) => {
      autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...opts }, (err, r) => (err ? rej(err) : res(r)));
    });

  const rows: Array<Record<string, unknown>> = [];
  /** the controller runs in its own process (one core for it, one for autocannon), as in production */
  async function benchStore(storeName: string, redisUrl?: string) {
    const port = await freePort();
    const child = spawn(
      join(process.cwd(), 'node_modules', '.bin', 'tsx'),
      ['bench/server-child.ts', String(port), ...(redisUrl ? [redisUrl] : [])],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('controller did not start')), 30000);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          res();
        }
      });
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      await run(`${base}/hello`, { duration: 1 }); // warm-up
      // one fixed body: building a new one per request would make autocannon (not the server) the bottleneck;
      // every negotiation still creates its own session, decision and token on the server
      const negOpts = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          viewer_id: 'viewer-bench',
          channel: 'ch1',
          weights: { a1: 4, a2: 3, a3: 3 },
          rtt_ms: { cdn: 300, 'edge-1': 30, 'edge-2': 50 },
          bandwidth_mbps: 8,
          // the demo ladder: without variants the controller assigns the CDN (no reservation to measure)
          variants: [569700, 1314700, 2107746, 3170392, 4900780, 7413026].map((bandwidth, i) => ({
            id: `v${i}`,
            uri: `http://127.0.0.1:8080/streams/vod/v${i}/index.m3u8`,
            bandwidth,
          })),
        }),
      } as Partial<autocannon.Options>;
      await run(`${base}/v1/negotiate`, { ...negOpts, duration: 1 }); // warm-up (JIT)
      const hello = await run(`${base}/hello`);
      const neg = await run(`${base}/v1/negotiate`, negOpts);
      const errors = neg.non2xx + neg.errors;
      for (const [route, r] of [
        ['hello', hello],
        ['/v1/negotiate', neg],
      ] as const) {
        const row = {
          route,
          store: storeName,
          connections: CONNECTIONS,
          rps: Math.round(r.requests.average),
          p50_ms: r.latency.p50,
          p99_ms: r.latency.p99,
          ratio_to_hello: Math.round((r.requests.average / hello.requests.average) * 1000) / 1000,
          ...(route !== 'hello' ? { errors } : {}),
        };
        rows.push(row);
        log(
          `${route.padEnd(14)} ${storeName.padEnd(7)} ${String(CONNECTIONS).padStart(4)} conns ${String(row.rps).padStart(7)} req/s  p50 ${String(row.p50_ms).padStart(4)} ms  p99 ${String(row.p99_ms).padStart(4)} ms  ratio ${row.ratio_to_hello.toFixed(3)}${route !== 'hello' ? `  non-2xx/errors ${errors}` : ''}`,
        );
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }

  log(`bench:server — ${DURATION} s per run, ${CONNECTIONS} connections, loopback`);
  await benchStore('memory');
  const REDIS = process.env.REDIS_SERVER ?? 'redis-server';
  if (spawnSync(REDIS, ['--version']).status === 0) {
    const port = await freePort();
    const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      let up = false;
      for (let k = 0; k < 100 && !up; k++) {
        try {
          const st = await RedisAssignmentStore.connect(`redis://127.0.0.1:${port}`, []);
          await st.close();
          up = true;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      if (!up) throw new Error('redis-server did not start');
      await benchStore('redis', `redis://127.0.0.1:${port}`);
    } finally {
      proc.kill();
    }
  } else log(`(redis: skipped, ${REDIS} not found — apt-get install -y redis-server)`);
  const result: ServerBenchResult = { command: o.command ?? 'benchServer (library call)', duration_s: DURATION, rows };
  const outFile = o.out === undefined ? 'bench/results/server.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1));
    log(`wrote ${outFile}`);
  }
  return result;
}
