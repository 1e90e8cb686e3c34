/**
 * Telemetry stores. Ingest is idempotent per batch id: a batch stored once, however often sent.
 * - MemoryTelemetryStore: for tests and throwaway runs.
 * - SqliteTelemetryStore: the embedded default (better-sqlite3, WAL, one file under the data directory).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TelemetryBatch, TelemetryEvent } from '../core/protocol.js';

export interface IngestResult {
  duplicate: boolean;
  accepted: number;
}

export interface StoredEvent extends TelemetryEvent {
  batch_id: string;
  viewer_id: string;
  session_id: string;
  received_at: number;
}

export interface TelemetryStore {
  ingest(batch: TelemetryBatch, receivedAt: number): IngestResult;
  viewEvents(viewId: string): StoredEvent[];
  /**
   * Every stored event of the views that have at least one event with `from <= t < to` (epoch ms, the event's own
   * time), ordered by view id then seq — at most `maxViews` views: those whose latest event in the window is the most
   * recent. `GET /v1/metrics` computes everything else from these events with shared code (server/metrics.ts), so a
   * store implements only this query. Resolves to [] when nothing matches; rejects only when the store fails.
   */
  viewEventsBetween(from: number, to: number, maxViews: number): Promise<StoredEvent[]>;
  /** numbers for tests and ops: batches and events stored, duplicates refused since start */
  stats(): { batches: number; events: number; duplicates: number };
  close(): void;
}

export class MemoryTelemetryStore implements TelemetryStore {
  private batches = new Set<string>();
  private byView = new Map<string, StoredEvent[]>();
  private events = 0;
  private dups = 0;

  ingest(batch: TelemetryBatch, receivedAt: number): IngestResult {
    if (this.batches.has(batch.batch_id)) {
      this.dups++;
      return { duplicate: true, accepted: 0 };
    }
    this.batches.add(batch.batch_id);
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
    }
    this.events += batch.events.length;
    return { duplicate: false, accepted: batch.events.length };
  }

  viewEvents(viewId: string): StoredEvent[] {
    return [...(this.byView.get(viewId) ?? [])].sort((a, b) => a.seq - b.seq);
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
      .flatMap((id) => this.viewEvents(id));
  }

  stats() {
    return { batches: this.batches.size, events: this.events, duplicates: this.dups };
  }

  close(): void {}
}

interface SqliteDb {
  pragma(s: string): unknown;
  exec(s: string): unknown;
  prepare(s: string): { run(...a: unknown[]): { changes: number }; all(...a: unknown[]): unknown[]; get(...a: unknown[]): unknown };
  transaction<T extends (...a: never[]) => unknown>(fn: T): T;
  close(): void;
}

export class SqliteTelemetryStore implements TelemetryStore {
  private db: SqliteDb;
  private dups = 0;
  private insertBatch;
  private insertEvent;
  private selectView;
  private tx: (batch: TelemetryBatch, receivedAt: number) => IngestResult;

  /** `file` is a path (its directory is created) or ':memory:'. */
  static async open(file: string): Promise<SqliteTelemetryStore> {
    const mod = (await import('better-sqlite3')) as unknown as { default: new (f: string) => SqliteDb };
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    return new SqliteTelemetryStore(new mod.default(file));
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
    `);
    this.insertBatch = db.prepare(
      'INSERT OR IGNORE INTO batches (batch_id, viewer_id, session_id, sealed_at, received_at, n) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertEvent = db.prepare(
      'INSERT INTO events (batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectView = db.prepare(
      'SELECT batch_id, viewer_id, session_id, view_id, seq, t, type, data, received_at FROM events WHERE view_id = ? ORDER BY seq, id',
    );
    this.tx = db.transaction((batch: TelemetryBatch, receivedAt: number): IngestResult => {
      const r = this.insertBatch.run(batch.batch_id, batch.viewer_id, batch.session_id, batch.sealed_at, receivedAt, batch.events.length);
      if (r.changes === 0) return { duplicate: true, accepted: 0 };
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
      }
      return { duplicate: false, accepted: batch.events.length };
    }) as unknown as (batch: TelemetryBatch, receivedAt: number) => IngestResult;
  }

  ingest(batch: TelemetryBatch, receivedAt: number): IngestResult {
    const r = this.tx(batch, receivedAt);
    if (r.duplicate) this.dups++;
    return r;
  }

  viewEvents(viewId: string): StoredEvent[] {
    return (this.selectView.all(viewId) as Array<Omit<StoredEvent, 'data'> & { data: string | null }>).map((r) => ({
      ...r,
      data: r.data ? JSON.parse(r.data) : undefined,
    })) as StoredEvent[];
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

  stats() {
    const b = this.db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number };
    const e = this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number };
    return { batches: b.n, events: e.n, duplicates: this.dups };
  }

  close(): void {
    this.db.close();
  }
}
