/**
 * The telemetry store in PostgreSQL (`--pg postgres://…`): several controller processes share it.
 *
 *   batches  batch_id PRIMARY KEY — the idempotency key: two processes racing on a re-sent batch store it once
 *            (the second INSERT … ON CONFLICT DO NOTHING waits for the first to commit, then adds nothing)
 *   events   partitioned by day of arrival (RANGE on received_at, epoch ms; events_YYYYMMDD), a DEFAULT
 *            partition so an insert never fails for want of one; partitions from yesterday to three days
 *            ahead are created at start and every hour (dropping a day's partition drops that day)
 *   views    one row per ended view (channels.ts viewRecord): the channel statistics and population medians
 *            are computed from it by SQL on every request, so every process answers the same
 *
 * A batch is one statement (one round trip, atomic): the batch row, its events only if that row was new, and
 * which of its views had already ended (a late batch of an ended view folds it again). A view is folded under
 * an advisory lock on its id, reading every event stored so far. Event data is kept as JSON text (PostgreSQL's
 * jsonb refuses \u0000 and lone surrogates, which a valid batch may carry). Connection failures (refused,
 * reset, the server shutting down or recovering) reject with StoreUnavailableError; the pool reconnects.
 */
import type { Pool, PoolClient } from 'pg';
import type { TelemetryBatch } from '../core/protocol.js';
import { viewRecord, type ChannelStatsAnswer } from './channels.js';
import { StoreUnavailableError } from './errors.js';
import { endedViews, type IngestResult, type StoredEvent, type TelemetryStore } from './store.js';

const DAY_MS = 86400e3;

/** Whether a pg error means the server cannot be reached or is not serving (rather than a bad query). */
function unreachable(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (/^(08|53|57|58)/.test(code)) return true; // connection exception, resources, operator intervention, system
    if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, …
    return false;
  }
  return /connection|terminated|timeout|not queryable|Client has encountered/i.test(String((e as Error)?.message));
}

/** The URL with its password replaced by `***` (for messages). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a malformed URL)';
  }
}

const day = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const partitionName = (start: number) => `events_${new Date(start).toISOString().slice(0, 10).replace(/-/g, '')}`;

export interface PgStoreOptions {
  /** connections in the pool (default 10) */
  poolSize?: number;
  /**
   * ms a query may wait for a connection — a free one of the pool or a new one — before it is refused as
   * StoreUnavailableError (default 15000: under load requests queue for the pool; a stopped server refuses at once)
   */
  connectTimeoutMs?: number;
  /** where warnings go (default console.warn) */
  warn?: (message: string) => void;
}

export class PgTelemetryStore implements TelemetryStore {
  private dups = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  private constructor(
    private readonly pool: Pool,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Connect, create the schema when missing (under an advisory lock: processes starting together agree) and
   * the day partitions around today. @throws Error naming the server (password hidden) and the cause when PostgreSQL
   * cannot be reached or the schema cannot be created at start
   */
  static async connect(url: string, o: PgStoreOptions = {}): Promise<PgTelemetryStore> {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
      connectionString: url,
      max: o.poolSize ?? 10,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 15000,
      idleTimeoutMillis: 30000,
    });
    const warn = o.warn ?? ((m: string) => console.warn(m));
    // an idle connection the server closes (a restart) emits 'error' on the pool: the pool drops it and connects anew
    pool.on('error', (e) => warn(`[edgeplay] postgres: idle connection lost (${e.message}); the pool reconnects`));
    const s = new PgTelemetryStore(pool, warn);
    try {
      await s.migrate();
      await s.ensurePartitions();
    } catch (e) {
      await pool.end().catch(() => {});
      throw new Error(`PostgreSQL at ${redact(url)} cannot be used: ${(e as Error).message || (e as { code?: string }).code}`, {
        cause: e,
      });
    }
    s.timer = setInterval(
      () => s.ensurePartitions().catch((e) => warn(`[edgeplay] postgres: partitions not created: ${e.message}`)),
      3600e3,
    );
    s.timer.unref();
    return s;
  }

  private async q<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query(text, values)).rows as T[];
    } catch (e) {
      throw unreachable(e) ? new StoreUnavailableError('telemetry', e) : e;
    }
  }

  private async inTx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    let c: PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw new StoreUnavailableError('telemetry', e);
    }
    let broken: unknown = null;
    // a checked-out client whose connection the server drops between two queries emits 'error' on itself (the pool
    // listens only to idle clients): without a listener that error would end the process; kept, it fails this
    // transaction (503) and the client is released broken
    const onError = (e: Error) => (broken ??= e);
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      broken = e;
      await c.query('ROLLBACK').catch(() => {});
      throw unreachable(e) ? new StoreUnavailableError('telemetry', e) : e;
    } finally {
      c.off('error', onError);
      c.release(broken && unreachable(broken) ? (broken as Error) : undefined);
    }
  }

  private async migrate() {
    await this.inTx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(7010401)');
      await c.query(`
        CREATE TABLE IF NOT EXISTS batches (
          batch_id text PRIMARY KEY,
          viewer_id text NOT NULL,
          session_id text NOT NULL,
          sealed_at double precision NOT NULL,
          received_at bigint NOT NULL,
          n integer NOT NULL
        );
        CREATE TABLE IF NOT EXISTS events (
          id bigserial,
          batch_id text NOT NULL,
          viewer_id text NOT NULL,
          session_id text NOT NULL,
          view_id text NOT NULL,
          seq bigint NOT NULL,
          t double precision NOT NULL,
          type text NOT NULL,
          data text,
          received_at bigint NOT NULL
        ) PARTITION BY RANGE (received_at);
        CREATE TABLE IF NOT EXISTS events_default PARTITION OF events DEFAULT;
        CREATE INDEX IF NOT EXISTS events_view ON events (view_id, seq, id);
        CREATE INDEX IF NOT EXISTS events_t ON events (t);
        CREATE TABLE IF NOT EXISTS views (
          view_id text PRIMARY KEY,
          session_id text NOT NULL,
          channel text NOT NULL,
          i double precision NOT NULL,
          d double precision NOT NULL
        );
        CREATE INDEX IF NOT EXISTS views_channel ON views (channel);
      `);
    });
  }

  /** Create the day partitions from yesterday to three days ahead (idempotent; a day already in DEFAULT stays there). */
  async ensurePartitions(now = Date.now()): Promise<string[]> {
    const made: string[] = [];
    for (let k = -1; k <= 3; k++) {
      const start = day(now) + k * DAY_MS;
      const name = partitionName(start);
      try {
        await this.inTx(async (c) => {
          await c.query('SELECT pg_advisory_xact_lock(7010402)');
          const exists = await c.query('SELECT 1 FROM pg_class WHERE relname = $1', [name]);
          if (exists.rowCount) return;
          await c.query(`CREATE TABLE ${name} PARTITION OF events FOR VALUES FROM (${start}) TO (${start + DAY_MS})`);
          made.push(name);
        });
      } catch (e) {
        if (e instanceof StoreUnavailableError) throw e;
        this.warn(`[edgeplay] postgres: partition ${name} not created: ${(e as Error).message}`);
      }
    }
    return made;
  }

  async ingest(batch: TelemetryBatch, receivedAt: number): Promise<IngestResult> {
    const ev = batch.events;
    const [r] = await this.q<{ inserted: number; ended: string[] }>(
      `WITH b AS (
         INSERT INTO batches (batch_id, viewer_id, session_id, sealed_at, received_at, n)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (batch_id) DO NOTHING
         RETURNING batch_id
       ), e AS (
         INSERT INTO events (batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at)
         SELECT $1, $2, $3, x.view_id, x.seq, x.t, x.type, x.data, $5
         FROM b, unnest($7::text[], $8::bigint[], $9::float8[], $10::text[], $11::text[]) WITH ORDINALITY AS x(view_id, seq, t, type, data, k)
         ORDER BY x.k
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM b)::int AS inserted,
              ARRAY(SELECT view_id FROM views WHERE view_id = ANY($7::text[])) AS ended`,
      [
        batch.batch_id,
        batch.viewer_id,
        batch.session_id,
        batch.sealed_at,
        Math.round(receivedAt),
        ev.length,
        ev.map((e) => e.view_id),
        ev.map((e) => e.seq),
        ev.map((e) => e.t),
        ev.map((e) => e.type),
        ev.map((e) => (e.data ? JSON.stringify(e.data) : null)),
      ],
    );
    const ends = endedViews(batch);
    if (!r.inserted) {
      this.dups++;
      // the first delivery may have been stored without its views folded (the store failed in between): fold them now
      if (ends.length) for (const v of ends.filter((v) => !r.ended.includes(v))) await this.fold(v, batch.session_id);
      return { duplicate: true, accepted: 0 };
    }
    const touched = new Set(ev.map((e) => e.view_id));
    for (const v of touched) if (ends.includes(v) || r.ended.includes(v)) await this.fold(v, batch.session_id);
    return { duplicate: false, accepted: ev.length };
  }

  /** Fold a view into `views` from every event stored so far, under a lock on the view (two processes fold in turn). */
  private async fold(viewId: string, sessionId: string) {
    await this.inTx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [viewId]);
      const rows = (
        await c.query(
          'SELECT batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at FROM events WHERE view_id = $1 ORDER BY seq, id',
          [viewId],
        )
      ).rows;
      const prev = (await c.query('SELECT session_id FROM views WHERE view_id = $1', [viewId])).rows[0] as
        { session_id: string } | undefined;
      const r = viewRecord(viewId, prev?.session_id ?? sessionId, rows.map(toEvent));
      await c.query(
        `INSERT INTO views (view_id, session_id, channel, i, d) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (view_id) DO UPDATE SET channel = excluded.channel, i = excluded.i, d = excluded.d`,
        [r.view_id, r.session_id, r.channel, r.i, r.d],
      );
    });
  }

  async viewEvents(viewId: string): Promise<StoredEvent[]> {
    const rows = await this.q(
      'SELECT batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at FROM events WHERE view_id = $1 ORDER BY seq, id',
      [viewId],
    );
    return rows.map(toEvent);
  }

  /** The events of the views seen in [from, to) (event time, epoch ms), the `maxViews` most recent (store.ts). */
  async viewEventsBetween(from: number, to: number, maxViews: number): Promise<StoredEvent[]> {
    const rows = await this.q(
      `WITH v AS (SELECT view_id, max(t) AS last FROM events WHERE t >= $1 AND t < $2 GROUP BY view_id ORDER BY last DESC LIMIT $3)
       SELECT e.batch_id, e.viewer_id, e.session_id, e.view_id, e.seq, e.t, e.type, e.data, e.received_at
       FROM events e JOIN v ON e.view_id = v.view_id ORDER BY e.view_id COLLATE "C", e.seq, e.id`,
      [from, to, Math.max(0, Math.floor(maxViews))],
    );
    return rows.map(toEvent);
  }

  async channelStats(channel: string): Promise<ChannelStatsAnswer> {
    const [r] = await this.q<Record<string, number | string | null>>(
      `SELECT
         (SELECT count(*) FROM views WHERE channel = $1)::int AS n,
         (SELECT avg(i) FROM views WHERE channel = $1) AS i_all,
         (SELECT avg(d) FROM views WHERE channel = $1) AS t_all,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY i) FROM views) AS med_i,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM views) AS med_d,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY c) FROM (SELECT count(*) AS c FROM views GROUP BY session_id) s) AS med_n,
         (SELECT count(*) FROM views)::int AS views,
         (SELECT count(DISTINCT session_id) FROM views)::int AS sessions`,
      [channel],
    );
    const num = (v: number | string | null) => (v == null ? null : Number(v));
    return {
      channel,
      views: Number(r.n),
      I_all: num(r.i_all),
      T_all: num(r.t_all),
      medians: { I: num(r.med_i), D: num(r.med_d), N: num(r.med_n) },
      population: { views: Number(r.views), sessions: Number(r.sessions) },
    };
  }

  async stats() {
    const [r] = await this.q<{ b: string; e: string }>('SELECT (SELECT count(*) FROM batches) AS b, (SELECT count(*) FROM events) AS e');
    return { batches: Number(r.b), events: Number(r.e), duplicates: this.dups };
  }

  /** The pool, for tests and benchmarks that count what was stored. */
  get client(): Pool {
    return this.pool;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pool.end();
  }
}

function toEvent(r: Record<string, unknown>): StoredEvent {
  return {
    batch_id: r.batch_id as string,
    viewer_id: r.viewer_id as string,
    session_id: r.session_id as string,
    view_id: r.view_id as string,
    seq: Number(r.seq),
    t: Number(r.t),
    type: r.type as StoredEvent['type'],
    ...(r.data != null ? { data: JSON.parse(r.data as string) } : {}),
    received_at: Number(r.received_at),
  };
}
