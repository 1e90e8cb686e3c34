/**
 * The telemetry ingest benchmark (`npm run bench:ingest`, entry in cli/ingest.ts): autocannon POSTs telemetry
 * batches (each a new batch id, `eventsPerBatch` events) through real HTTP on loopback to 1 and to 2 controller
 * processes (src/server/main.ts; autocannon spreads its connections over them) storing into SQLite (one file
 * shared by the processes, WAL) and into PostgreSQL (a cluster started here), and the `GET /v1/health` route of the
 * same processes in the same run (the "hello" of bench:server: a route that does nothing). After each run the store
 * is counted: events stored must equal 2xx answers × events per batch. Writes bench/results/ingest.json rows
 * {store, controllers, events_per_s, p99_ms, ratio_to_hello, …}; ratio_to_hello is ingest requests/s over hello
 * requests/s of the same processes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import autocannon from 'autocannon';
import { havePostgres, spawnController, startPostgres, whyNoPostgres, type ControllerProcess } from '../test/services.js';

export interface IngestBenchOptions {
  /** seconds per autocannon run (default 5) */
  duration?: number;
  /** concurrent connections, spread over the processes (default 50) */
  connections?: number;
  /** events per batch (default 10) */
  eventsPerBatch?: number;
  /** results file (default bench/results/ingest.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface IngestRow {
  store: 'sqlite' | 'postgres';
  controllers: number;
  /** events acknowledged (2xx × events per batch) per second */
  events_per_s: number;
  batches_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** hello (GET /v1/health) requests per second of the same processes */
  hello_rps: number;
  /** ingest requests/s ÷ hello requests/s */
  ratio_to_hello: number;
  /** answers other than 2xx, and connection errors */
  errors: number;
  /**
   * events the store gained in the run ÷ events acknowledged: at least 1 (every acknowledged event stored; the
   * requests still in flight when autocannon's clock stops are stored but not counted as answered)
   */
  stored_ratio: number;
}

export interface IngestBenchResult {
  command: string;
  duration_s: number;
  connections: number;
  events_per_batch: number;
  /** the machine's 1/5/15-minute load averages when the run started */
  load_average: number[];
  rows: IngestRow[];
}

/**
 * Runs the benchmark (SQLite, then PostgreSQL when installed; 1 then 2 processes each), prints and writes it.
 * @throws Error when a controller does not start
 */
export async function benchIngest(o: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const DURATION = o.duration ?? 5;
  const CONNECTIONS = o.connections ?? 50;
  const K = o.eventsPerBatch ?? 10;
  const rows: IngestRow[] = [];
  let run = 0;

  const cannon = (opts: autocannon.Options) =>
    new Promise<autocannon.Result>((res, rej) => autocannon({ connections: CONNECTIONS, ...opts }, (err, r) => (err ? rej(err) : res(r))));

  /** one batch template; each request gets a new batch id and view id by string replacement (cheap for autocannon) */
  const t0 = Date.now();
  const template = JSON.stringify({
    v: 1,
    batch_id: 'batch-@@@@@@@@@@@@@@@@',
    viewer_id: 'viewer-bench01',
    session_id: 'session-bench01',
    sealed_at: t0,
    events: Array.from({ length: K }, (_, i) => ({
      view_id: 'view-@@@@@@@@@@@@@@@@',
      seq: i,
      t: t0 + i,
      type: i === 0 ? 'viewstart' : i === 1 ? 'startup' : 'interaction',
      data: i === 0 ? { channel: 'news', content_id: 'news' } : i === 1 ? { startup_ms: 400, ttff_ms: 800 } : { kind: 'chat' },
    })),
  });

  async function measure(store: IngestRow['store'], procs: ControllerProcess[], count: () => Promise<number>) {
    const urls = procs.map((p) => p.url);
    const hello = await cannon({ url: urls.map((u) => `${u}/v1/health`) as unknown as string, duration: DURATION });
    let n = 0;
    const tag = `${process.pid.toString(36)}${(run++).toString(36)}`;
    const ingestOpts = (duration: number): autocannon.Options => ({
      url: urls.map((u) => `${u}/v1/telemetry`) as unknown as string,
      duration,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          setupRequest: (req) => {
            const id = `${tag}x${(n++).toString(36)}`.padStart(16, '0');
            return { ...req, body: template.replaceAll('@@@@@@@@@@@@@@@@', id) };
          },
        },
      ],
    });
    const before = await count();
    const r = await cannon(ingestOpts(DURATION));
    const ok = r['2xx'];
    const stored = (await count()) - before;
    const row: IngestRow = {
      store,
      controllers: procs.length,
      events_per_s: Math.round((ok * K) / DURATION),
      batches_per_s: Math.round(ok / DURATION),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      hello_rps: Math.round(hello.requests.average),
      ratio_to_hello: Math.round((r.requests.average / hello.requests.average) * 1000) / 1000,
      errors: r.non2xx + r.errors + r.timeouts,
      stored_ratio: ok ? Math.round((stored / (ok * K)) * 1000) / 1000 : 0,
    };
    rows.push(row);
    log(
      `${store.padEnd(8)} ${String(procs.length).padStart(2)} proc  ${String(row.events_per_s).padStart(7)} events/s  ${String(row.batches_per_s).padStart(6)} batches/s  p50 ${String(row.p50_ms).padStart(4)} ms  p99 ${String(row.p99_ms).padStart(5)} ms  hello ${String(row.hello_rps).padStart(6)} req/s  ratio ${row.ratio_to_hello.toFixed(3)}  errors ${row.errors}  stored/acked ${row.stored_ratio}`,
    );
  }

  const load = loadavg().map((x) => Math.round(x * 10) / 10);
  log(`bench:ingest — ${DURATION} s per run, ${CONNECTIONS} connections, ${K} events per batch, loopback; load average ${load.join(' ')}`);
  // SQLite: one file, shared by the processes (WAL)
  const dir = mkdtempSync(join(tmpdir(), 'edgeplay-ingest-'));
  try {
    const { SqliteTelemetryStore } = await import('../src/server/store.js');
    const countSqlite = async () => {
      const s = await SqliteTelemetryStore.open(join(dir, 'telemetry.sqlite'));
      try {
        return (await s.stats()).events;
      } finally {
        await s.close();
      }
    };
    for (const n of [1, 2]) {
      const procs: ControllerProcess[] = [];
      try {
        for (let k = 0; k < n; k++) procs.push(await spawnController(['--data', dir]));
        await cannon({ url: procs.map((p) => `${p.url}/v1/health`) as unknown as string, duration: 1 }); // warm-up
        await measure('sqlite', procs, countSqlite);
      } finally {
        for (const p of procs) await p.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (havePostgres) {
    const pg = await startPostgres();
    try {
      const { default: pgLib } = await import('pg');
      for (const n of [1, 2]) {
        const db = await pg.createDatabase(`ingest${n}`);
        const countPg = async () => {
          const c = new pgLib.Client({ connectionString: db });
          await c.connect();
          try {
            return Number((await c.query('SELECT count(*) AS n FROM events')).rows[0].n);
          } finally {
            await c.end();
          }
        };
        const procs: ControllerProcess[] = [];
        try {
          for (let k = 0; k < n; k++) procs.push(await spawnController(['--pg', db]));
          await cannon({ url: procs.map((p) => `${p.url}/v1/health`) as unknown as string, duration: 1 });
          await measure('postgres', procs, countPg);
        } finally {
          for (const p of procs) await p.stop();
        }
      }
    } finally {
      await pg.stop();
    }
  } else log(`(postgres: skipped, ${whyNoPostgres})`);

  const result: IngestBenchResult = {
    command: o.command ?? 'benchIngest (library call)',
    duration_s: DURATION,
    connections: CONNECTIONS,
    events_per_batch: K,
    load_average: load,
    rows,
  };
  const outFile = o.out === undefined ? 'bench/results/ingest.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1));
    log(`wrote ${outFile}`);
  }
  return result;
}
