/**
 * Telemetry stores. Ingest is idempotent per batch id: a batch is stored once, however often it is sent and
 * whichever controller process receives it. A batch carrying a view's `viewend` folds the view into the ended
 * views the channel statistics are computed from (channels.ts); a late batch of an ended view folds it again.
 * - MemoryTelemetryStore: for tests and throwaway runs (one process).
 * - SqliteTelemetryStore: the embedded default (better-sqlite3, WAL, one file under the data directory; several
 *   processes on one machine may share the file).
 * - PgTelemetryStore (pg-store.ts): PostgreSQL, for a fleet of controller processes.
 * The interface is async: a networked store answers later, and rejects with a StoreUnavailableError (errors.ts)
 * when it cannot be reached — the controller answers 503 and the SDK sends the batch again.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TelemetryBatch, TelemetryEvent } from '../core/protocol.js';
import { channelStatsOf, viewRecord, type ChannelStatsAnswer, type ViewRecord } from './channels.js';

export interface IngestResult {
  /** the batch id was stored before: nothing was added */
  duplicate: boolean;
  /** events stored by this call */
  accepted: number;
}

export interface StoredEvent extends TelemetryEvent {
  batch_id: string;
  viewer_id: string;
  session_id: string;
  received_at: number;
}

/** What the controller needs from a telemetry store. Every method may reject with StoreUnavailableError. */
export interface TelemetryStore {
  /** store a validated batch once per batch id (`receivedAt`: epoch ms) */
  ingest(batch: TelemetryBatch, receivedAt: number): Promise<IngestResult>;
  /** the stored events of a view, by seq (then arrival) */
  viewEvents(viewId: string): Promise<StoredEvent[]>;
  /** the channel's statistics and the population medians, over the ended views stored */
  channelStats(channel: string): Promise<ChannelStatsAnswer>;
  /**
   * Every stored event of the views that have at least one event with `from <= t < to` (epoch ms, the event's own
   * time), ordered by view id then seq — at most `maxViews` views: those whose latest event in the window is the most
   * recent. `GET /v1/metrics` computes everything else from these events with shared code (server/metrics.ts), so a
   * store implements only this query. Resolves to [] when nothing matches; rejects only when the store fails.
   */
  viewEventsBetween(from: number, to: number, maxViews: number): Promise<StoredEvent[]>;
  /** numbers for tests and ops: batches and events stored, duplicates refused by this process since start */
  stats(): Promise<{ batches: number; events: number; duplicates: number }>;
  close(): Promise<void>;
}

/** The ids of the views a batch ends (its `viewend` events). */
export function endedViews(batch: TelemetryBatch): string[] {
  const out: string[] = [];
  for (const e of batch.events) if (e.type === 'viewend' && !out.includes(e.view_id)) out.push(e.view_id);
  return out;
}

export class MemoryTelemetryStore implements TelemetryStore {
  private batches = new Set<string>();
  private byView = new Map<string, StoredEvent[]>();
  private ended = new Map<string, ViewRecord>();
  private events = 0;
  private dups = 0;

  async ingest(batch: TelemetryBatch, receivedAt: number): Promise<IngestResult> {
    if (this.batches.has(batch.batch_id)) {
      this.dups++;
      return { duplicate: true, accepted: 0 };
    }
    this.batches.add(batch.batch_id);
    const touched = new Set<string>();
    for (const e of batch.events) {
      const row: StoredEvent = {
        ...e,
        batch_id: batch.batch_id,
        viewer_id: batch.viewer_id,
        session_id: batch.session_id,
        received_at: receivedAt,
      };
      let list = this.byView.get(e.view_id);
      if (!list) this.byView.set(e.view_id, (list = []));
      list.push(row);
      touched.add(e.view_id);
    }
    this.events += batch.events.length;
    for (const v of touched)
      if (this.ended.has(v) || batch.events.some((e) => e.view_id === v && e.type === 'viewend'))
        this.ended.set(v, viewRecord(v, this.ended.get(v)?.session_id ?? batch.session_id, this.byView.get(v)!));
    return { duplicate: false, accepted: batch.events.length };
  }

  async viewEvents(viewId: string): Promise<StoredEvent[]> {
    return [...(this.byView.get(viewId) ?? [])].sort((a, b) => a.seq - b.seq);
  }

  async channelStats(channel: string): Promise<ChannelStatsAnswer> {
    return channelStatsOf(channel, this.ended.values());
  }

  async viewEventsBetween(from: number, to: number, maxViews: number): Promise<StoredEvent[]> {
    const hit: Array<[string, number]> = [];
    for (const [id, list] of this.byView) {
      let last = -Infinity;
      for (const e of list) if (e.t >= from && e.t < to && e.t > last) last = e.t;
      if (last > -Infinity) hit.push([id, last]);
    }
    hit.sort((a, b) => b[1] - a[1]);
    return hit
      .slice(0, Math.max(0, maxViews))
      .map(([id]) => id)
      .sort()
      .flatMap((id) => [...this.byView.get(id)!].sort((a, b) => a.seq - b.seq));
  }

  async stats() {
    return { batches: this.batches.size, events: this.events, duplicates: this.dups };
  }

  async close(): Promise<void> {}
}

interface SqliteDb {
  pragma(s: string): unknown;
  exec(s: string): unknown;
  prepare(s: string): { run(...a: unknown[]): { changes: number }; all(...a: unknown[]): unknown[]; get(...a: unknown[]): unknown };
  transaction<T extends (...a: never[]) => unknown>(fn: T): T;
  close(): void;
}

/** The median of a column over `from` (a FROM clause) in SQLite: the mean of the one or two middle rows (null: no rows). */
const sqliteMedian = (col: string, from: string) =>
  `(SELECT AVG(${col}) FROM (SELECT ${col} FROM ${from} ORDER BY ${col} LIMIT 2 - (SELECT COUNT(*) FROM ${from}) % 2 OFFSET ((SELECT COUNT(*) FROM ${from}) - 1) / 2))`;

export class SqliteTelemetryStore implements TelemetryStore {
  private db: SqliteDb;
  private dups = 0;
  private insertBatch;
  private insertEvent;
  private selectView;
  private isEnded;
  private upsertView;
  private selectChannel;
  private tx: (batch: TelemetryBatch, receivedAt: number) => IngestResult;

  /** `file` is a path (its directory is created) or ':memory:'. */
  static async open(file: string): Promise<SqliteTelemetryStore> {
    const mod = (await import('better-sqlite3')) as unknown as { default: new (f: string, o?: { timeout?: number }) => SqliteDb };
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    // several processes may write the file: a writer waits up to 10 s for another's transaction
    return new SqliteTelemetryStore(new mod.default(file, { timeout: 10000 }));
  }

  private constructor(db: SqliteDb) {
    this.db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS batches (
        batch_id TEXT PRIMARY KEY,
        viewer_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        sealed_at REAL NOT NULL,
        received_at REAL NOT NULL,
        n INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        batch_id TEXT NOT NULL,
        viewer_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        view_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        t REAL NOT NULL,
        type TEXT NOT NULL,
        data TEXT,
        received_at REAL NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_view ON events(view_id, seq);
      CREATE INDEX IF NOT EXISTS events_viewer ON events(viewer_id, t);
      CREATE TABLE IF NOT EXISTS views (
        view_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        i REAL NOT NULL,
        d REAL NOT NULL
      );
      CREATE INDEX IF NOT EXISTS views_channel ON views(channel);
      CREATE INDEX IF NOT EXISTS views_i ON views(i);
      CREATE INDEX IF NOT EXISTS views_d ON views(d);
      CREATE INDEX IF NOT EXISTS views_session ON views(session_id);
    `);
    // a file written before the views table existed: fold its ended views in once
    const folded = db.prepare('SELECT COUNT(*) AS n FROM views').get() as { n: number };
    this.insertBatch = db.prepare(
      'INSERT OR IGNORE INTO batches (batch_id, viewer_id, session_id, sealed_at, received_at, n) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertEvent = db.prepare(
      'INSERT INTO events (batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectView = db.prepare(
      'SELECT batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at FROM events WHERE view_id = ? ORDER BY seq, id',
    );
    this.isEnded = db.prepare('SELECT session_id FROM views WHERE view_id = ?');
    this.upsertView = db.prepare(
      `INSERT INTO views (view_id, session_id, channel, i, d) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (view_id) DO UPDATE SET channel = excluded.channel, i = excluded.i, d = excluded.d`,
    );
    const views = 'views';
    const perSession = '(SELECT COUNT(*) AS c FROM views GROUP BY session_id)';
    this.selectChannel = db.prepare(`SELECT
        (SELECT COUNT(*) FROM views WHERE channel = @channel) AS n,
        (SELECT AVG(i) FROM views WHERE channel = @channel) AS i_all,
        (SELECT AVG(d) FROM views WHERE channel = @channel) AS t_all,
        ${sqliteMedian('i', views)} AS med_i,
        ${sqliteMedian('d', views)} AS med_d,
        ${sqliteMedian('c', perSession)} AS med_n,
        (SELECT COUNT(*) FROM views) AS views,
        (SELECT COUNT(DISTINCT session_id) FROM views) AS sessions`);
    this.tx = db.transaction((batch: TelemetryBatch, receivedAt: number): IngestResult => {
      const r = this.insertBatch.run(batch.batch_id, batch.viewer_id, batch.session_id, batch.sealed_at, receivedAt, batch.events.length);
      if (r.changes === 0) return { duplicate: true, accepted: 0 };
      const touched = new Set<string>();
      for (const e of batch.events) {
        this.insertEvent.run(
          batch.batch_id,
          batch.viewer_id,
          batch.session_id,
          e.view_id,
          e.seq,
          e.t,
          e.type,
          e.data ? JSON.stringify(e.data) : null,
          receivedAt,
        );
        touched.add(e.view_id);
      }
      // in the same transaction (one writer at a time): the fold sees every event of the view stored so far
      const ends = endedViews(batch);
      for (const v of touched) {
        const prev = this.isEnded.get(v) as { session_id: string } | undefined;
        if (prev || ends.includes(v)) this.fold(v, prev?.session_id ?? batch.session_id);
      }
      return { duplicate: false, accepted: batch.events.length };
    }) as unknown as (batch: TelemetryBatch, receivedAt: number) => IngestResult;
    if (folded.n === 0) {
      const ended = db.prepare("SELECT DISTINCT view_id, session_id FROM events WHERE type = 'viewend'").all() as Array<{
        view_id: string;
        session_id: string;
      }>;
      if (ended.length) db.transaction(() => ended.forEach((v) => this.fold(v.view_id, v.session_id)))();
    }
  }

  private fold(viewId: string, sessionId: string) {
    const r = viewRecord(viewId, sessionId, this.rows(viewId));
    this.upsertView.run(r.view_id, r.session_id, r.channel, r.i, r.d);
  }

  private rows(viewId: string): StoredEvent[] {
    return (this.selectView.all(viewId) as Array<Omit<StoredEvent, 'data'> & { data: string | null }>).map((r) => ({
      ...r,
      data: r.data ? JSON.parse(r.data) : undefined,
    })) as StoredEvent[];
  }

  async ingest(batch: TelemetryBatch, receivedAt: number): Promise<IngestResult> {
    const r = this.tx(batch, receivedAt);
    if (r.duplicate) this.dups++;
    return r;
  }

  async viewEvents(viewId: string): Promise<StoredEvent[]> {
    return this.rows(viewId);
  }

  async channelStats(channel: string): Promise<ChannelStatsAnswer> {
    const r = this.selectChannel.get({ channel }) as Record<string, number | null>;
    return {
      channel,
      views: r.n ?? 0,
      I_all: r.i_all,
      T_all: r.t_all,
      medians: { I: r.med_i, D: r.med_d, N: r.med_n },
      population: { views: r.views ?? 0, sessions: r.sessions ?? 0 },
    };
  }

  private selectBetween: { all(...a: unknown[]): unknown[] } | null = null;

  async viewEventsBetween(from: number, to: number, maxViews: number): Promise<StoredEvent[]> {
    if (!this.selectBetween) {
      // created on first use: an index on the event time for the window's scan
      this.db.exec('CREATE INDEX IF NOT EXISTS events_t ON events(t)');
      this.selectBetween = this.db.prepare(
        `WITH v AS (SELECT view_id, MAX(t) AS last FROM events WHERE t >= ? AND t < ? GROUP BY view_id ORDER BY last DESC LIMIT ?)
         SELECT e.batch_id, e.viewer_id, e.session_id, e.view_id, e.seq, e.t, e.type, e.data, e.received_at
         FROM events e JOIN v ON e.view_id = v.view_id ORDER BY e.view_id, e.seq, e.id`,
      );
    }
    return (
      this.selectBetween.all(from, to, Math.max(0, Math.floor(maxViews))) as Array<Omit<StoredEvent, 'data'> & { data: string | null }>
    ).map((r) => ({ ...r, data: r.data ? JSON.parse(r.data) : undefined })) as StoredEvent[];
  }

  async stats() {
    const b = this.db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number };
    const e = this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number };
    return { batches: b.n, events: e.n, duplicates: this.dups };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
