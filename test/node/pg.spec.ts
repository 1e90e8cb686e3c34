/**
 * The PostgreSQL telemetry store against a real PostgreSQL (test/services.ts starts one in a temporary data
 * directory as the `postgres` user; pending when it is not installed): idempotent ingest when two controller
 * processes race on the same re-sent batches, events in day partitions, channel statistics identical across
 * stores and across processes, a late batch of an ended view folded in, and the store riding out a restart
 * of PostgreSQL (503 meanwhile, nothing lost).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetryBatch, TelemetryEvent } from '../../src/core/protocol.js';
import { StoreUnavailableError } from '../../src/server/errors.js';
import { PgTelemetryStore } from '../../src/server/pg-store.js';
import { MemoryTelemetryStore, SqliteTelemetryStore, type TelemetryStore } from '../../src/server/store.js';
import { havePostgres, sharedPostgres, spawnController, startPostgres, whyNoPostgres } from '../services.js';

const HOUR = 3600e3;

/** A view of `channel` with `chats` chat messages over `playS` seconds of play, in one batch (ending it when `end`). */
function viewBatch(n: number, channel: string, sessionId: string, chats: number, playS: number, end = true): TelemetryBatch {
  const t = 1_700_000_000_000 + n * 1000;
  const view = `view-${String(n).padStart(6, '0')}`;
  const events: TelemetryEvent[] = [
    { view_id: view, seq: 0, t, type: 'viewstart', data: { channel, content_id: channel } },
    { view_id: view, seq: 1, t: t + 100, type: 'play' },
    { view_id: view, seq: 2, t: t + 200, type: 'startup', data: { startup_ms: 100, ttff_ms: 200 } },
    ...Array.from({ length: chats }, (_, i) => ({
      view_id: view,
      seq: 3 + i,
      t: t + 300 + i,
      type: 'interaction' as const,
      data: { kind: 'chat' },
    })),
  ];
  if (end) events.push({ view_id: view, seq: 3 + chats, t: t + 200 + playS * 1000, type: 'viewend', data: { reason: 'detach' } });
  return {
    v: 1,
    batch_id: `batch-${String(n).padStart(6, '0')}`,
    viewer_id: `viewer-${n % 7}xx`,
    session_id: sessionId,
    sealed_at: t,
    events,
  };
}

describe('PostgreSQL telemetry store', () => {
  let url = '';
  beforeAll(async () => {
    if (havePostgres) url = await (await sharedPostgres()).createDatabase();
  });

  it('stores a re-sent batch once when two controller processes race on it', async () => {
    if (!havePostgres) return pending(whyNoPostgres);
    const db = await (await sharedPostgres()).createDatabase();
    const ctl = [await spawnController(['--pg', db]), await spawnController(['--pg', db])];
    const store = await PgTelemetryStore.connect(db);
    try {
      const N = 300;
      const post = (c: number, b: TelemetryBatch) =>
        fetch(`${ctl[c].url}/v1/telemetry`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(b) }).then(
          async (r) => {
            expect(r.status).toBe(200);
            return r.json();
          },
        );
      let firsts = 0,
        dups = 0;
      // every batch sent to both processes at once, twice over: four deliveries, one stored
      for (let k = 0; k < N; k += 25) {
        const answers = await Promise.all(
          Array.from({ length: 25 }, (_, j) => viewBatch(k + j, 'news', `session-${k + j}`, 2, 60)).flatMap((b) => [
            post(0, b),
            post(1, b),
            post(0, b),
            post(1, b),
          ]),
        );
        for (const a of answers) a.duplicate ? dups++ : firsts++;
      }
      expect(firsts).toBe(N);
      expect(dups).toBe(3 * N);
      const [c] = (
        await store.client.query(
          'SELECT (SELECT count(*) FROM batches)::int AS b, (SELECT count(*) FROM events)::int AS e, (SELECT count(*) FROM (SELECT 1 FROM events GROUP BY view_id, seq HAVING count(*) > 1) d)::int AS twice, (SELECT count(*) FROM views)::int AS v',
        )
      ).rows;
      expect(c).toEqual({ b: N, e: N * 6, twice: 0, v: N });
      // both processes answer the same statistics, from the database
      const stats = await Promise.all(ctl.map((x) => fetch(`${x.url}/v1/channels/news/stats`).then((r) => r.json())));
      expect(stats[0]).toEqual(stats[1]);
      expect(stats[0].views).toBe(N);
    } finally {
      for (const c of ctl) await c.stop();
      await store.close();
    }
  }, 180000);

  it('puts events into day partitions (a day beyond them into the default one) and creates the partitions of new days', async () => {
    if (!havePostgres) return pending(whyNoPostgres);
    const store = await PgTelemetryStore.connect(url);
    try {
      const now = Date.now();
      await store.ingest(viewBatch(900001, 'p', 's-1', 0, 10), now);
      await store.ingest(viewBatch(900002, 'p', 's-1', 0, 10), now + 2 * 24 * HOUR);
      await store.ingest(viewBatch(900003, 'p', 's-1', 0, 10), now + 30 * 24 * HOUR);
      const where = async (b: string) =>
        (await store.client.query('SELECT DISTINCT tableoid::regclass::text AS p FROM events WHERE batch_id = $1', [b])).rows.map(
          (r) => r.p,
        );
      const name = (ms: number) => `events_${new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')}`;
      expect(await where('batch-900001')).toEqual([name(now)]);
      expect(await where('batch-900002')).toEqual([name(now + 2 * 24 * HOUR)]);
      expect(await where('batch-900003')).toEqual(['events_default']);
      // a controller started on a later day creates that day's partitions (idempotent: nothing new the second time)
      const made = await store.ensurePartitions(now + 5 * 24 * HOUR);
      expect(made).toContain(name(now + 5 * 24 * HOUR));
      expect(await store.ensurePartitions(now + 5 * 24 * HOUR)).toEqual([]);
      // a view reads back whole across partitions
      expect((await store.viewEvents('view-900002')).map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    } finally {
      await store.close();
    }
  });

  it('answers the same channel statistics as the memory and SQLite stores, and folds a late batch of an ended view', async () => {
    if (!havePostgres) return pending(whyNoPostgres);
    const db = await (await sharedPostgres()).createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'edgeplay-pgcmp-'));
    const stores: TelemetryStore[] = [
      new MemoryTelemetryStore(),
      await SqliteTelemetryStore.open(join(dir, 't.sqlite')),
      await PgTelemetryStore.connect(db),
    ];
    try {
      let seed = 5;
      const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const batches: TelemetryBatch[] = [];
      for (let n = 0; n < 61; n++)
        batches.push(
          viewBatch(
            n,
            ['news', 'sports', 'music'][n % 3],
            `sess-${Math.floor(rnd() * 20)}`,
            Math.floor(rnd() * 8),
            30 + Math.floor(rnd() * 3000),
          ),
        );
      // a view whose chats arrive after its viewend (its batch re-sent late)
      const late = viewBatch(70, 'news', 'sess-late', 0, 1800);
      const lateChats: TelemetryBatch = {
        ...late,
        batch_id: 'batch-late-chats',
        events: Array.from({ length: 9 }, (_, i) => ({
          view_id: 'view-000070',
          seq: 10 + i,
          t: late.events[0].t + 500 + i,
          type: 'interaction',
          data: { kind: 'chat' },
        })),
      };
      late.events[late.events.length - 1].seq = 19;
      for (const s of stores) {
        for (const b of batches) await s.ingest(b, Date.now());
        await s.ingest(late, Date.now());
      }
      const before = await Promise.all(stores.map((s) => s.channelStats('news')));
      for (const s of stores) await s.ingest(lateChats, Date.now());
      const after = await Promise.all(stores.map((s) => s.channelStats('news')));
      for (const answers of [before, after]) {
        const [mem, ...others] = answers;
        for (const o of others) {
          expect(o.views).toBe(mem.views);
          expect(o.population).toEqual(mem.population);
          for (const k of ['I_all', 'T_all'] as const) expect(o[k]!).toBeCloseTo(mem[k]!, 9);
          for (const k of ['I', 'D', 'N'] as const) expect(o.medians[k]!).toBeCloseTo(mem.medians[k]!, 9);
        }
      }
      expect(after[0].views).toBe(before[0].views);
      expect(after[0].I_all!).toBeGreaterThan(before[0].I_all!); // 9 chats in half an hour, counted after all
      // the window query GET /v1/metrics is computed from: the same events, in the same order, from every store
      const t0 = batches[0].events[0].t;
      for (const [from, to, max] of [
        [t0, t0 + 30e3, 1000],
        [t0 + 10e3, t0 + 40e3, 5],
        [0, 1, 10],
      ]) {
        const [mem, ...others] = await Promise.all(stores.map((s) => s.viewEventsBetween(from, to, max)));
        expect(mem.length)
          .withContext(`${from}-${to}`)
          .toBe(to === 1 ? 0 : mem.length);
        for (const o of others)
          expect(o.map((e) => [e.view_id, e.seq, e.type, e.data])).toEqual(mem.map((e) => [e.view_id, e.seq, e.type, e.data]));
      }
      expect((await stores[2].viewEventsBetween(t0 + 10e3, t0 + 40e3, 5)).length).toBeGreaterThan(0);
      const none = await stores[2].channelStats('nobody');
      expect(none).toEqual(await stores[0].channelStats('nobody'));
    } finally {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers StoreUnavailableError while PostgreSQL restarts, then carries on with nothing lost', async () => {
    if (!havePostgres) return pending(whyNoPostgres);
    const pg = await startPostgres(); // a cluster of its own: it is restarted here
    const store = await PgTelemetryStore.connect(await pg.createDatabase(), { warn: () => {} });
    try {
      for (let n = 0; n < 5; n++) expect((await store.ingest(viewBatch(n, 'news', 's', 1, 60), Date.now())).duplicate).toBeFalse();
      await pg.kill();
      await expectAsync(store.ingest(viewBatch(5, 'news', 's', 1, 60), Date.now())).toBeRejectedWith(jasmine.any(StoreUnavailableError));
      await expectAsync(store.channelStats('news')).toBeRejectedWith(jasmine.any(StoreUnavailableError));
      await pg.start();
      // the pool drops the connections the restart closed and opens new ones
      let r = null;
      for (let i = 0; i < 50 && !r; i++) r = await store.ingest(viewBatch(5, 'news', 's', 1, 60), Date.now()).catch(() => null);
      expect(r).toEqual({ duplicate: false, accepted: 5 });
      expect(await store.stats()).toEqual(jasmine.objectContaining({ batches: 6, events: 30 }));
      expect((await store.channelStats('news')).views).toBe(6);
    } finally {
      await store.close();
      await pg.stop();
    }
  }, 120000);
});
