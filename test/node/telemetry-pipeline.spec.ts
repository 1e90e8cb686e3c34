/**
 * The telemetry pipeline's defaults when Edgeplay passes its options through unset (`dbName: options.dbName`,
 * `flushIntervalMs: options.flushIntervalMs`, both undefined for an app that leaves them out): the outbox is the
 * IndexedDB database 'edgeplay', it imports the spills written before they carried a name, and an event waits for the
 * 5-s flush instead of being sealed alone. IndexedDB and localStorage are stubs (Node has neither).
 */
import { LIMITS, toConsent } from '../../src/core/protocol.js';
import { TelemetryPipeline } from '../../src/telemetry/pipeline.js';
import { spillKey } from '../../src/telemetry/queue.js';

class MemStorage {
  private m = new Map<string, string>();
  get length(): number {
    return this.m.size;
  }
  key(i: number): string | null {
    return [...this.m.keys()][i] ?? null;
  }
  getItem(k: string): string | null {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.m.set(k, String(v));
  }
  removeItem(k: string): void {
    this.m.delete(k);
  }
}

/** An IndexedDB whose open() fails (after recording the name in `opened`): the outbox falls back to memory. */
function failingIndexedDb(opened: string[] = []) {
  return {
    open(name: string) {
      opened.push(name);
      const r: Record<string, unknown> = { error: new Error('stub') };
      setTimeout(() => (r.onerror as () => void)?.(), 0);
      return r;
    },
  };
}

describe('telemetry pipeline defaults (options passed through unset)', () => {
  const g = globalThis as Record<string, unknown>;
  let opened: string[];
  let storage: MemStorage;
  let pipeline: TelemetryPipeline | null = null;

  beforeEach(() => {
    opened = [];
    storage = new MemStorage();
    g.localStorage = storage;
    // an IndexedDB whose open() fails after recording the name: the queue falls back to memory
    g.indexedDB = failingIndexedDb(opened);
    spyOn(console, 'warn');
  });

  afterEach(() => {
    pipeline?.destroy();
    pipeline = null;
    delete g.localStorage;
    delete g.indexedDB;
  });

  const make = () =>
    new TelemetryPipeline({
      endpoint: 'http://127.0.0.1:9/v1/telemetry',
      consent: 'granted',
      sampled: true,
      viewerId: () => 'viewer-1',
      sessionId: () => 'session-1',
      tabId: 'tab-now',
      dbName: undefined,
      flushIntervalMs: undefined,
    });

  it("opens the outbox 'edgeplay', imports a legacy spill and spills under the default's key", async () => {
    storage.setItem('edgeplay:spill:oldTab123456', JSON.stringify([{ id: 'legacy-1', body: '{}', created: 1, events: 1 }]));
    pipeline = make();
    await new Promise((r) => setTimeout(r, 50));
    expect(opened).toEqual(['edgeplay']);
    expect(pipeline.stats.pending).withContext('the legacy spill is in the outbox').toBe(1);
    pipeline.record({ view_id: 'view-1', seq: 0, t: Date.now(), type: 'play' });
    pipeline.destroy(); // not durable (no IndexedDB): the new batch is spilled, and the legacy one again (undelivered)
    const spilled = JSON.parse(storage.getItem(spillKey('edgeplay', 'tab-now')) ?? '[]') as Array<{ id: string; events: number }>;
    expect(spilled.length).toBe(2);
    expect(spilled.map((b) => b.id)).toContain('legacy-1');
  });

  it('keeps an event in the open batch for the default flush interval', async () => {
    pipeline = make();
    await new Promise((r) => setTimeout(r, 20));
    pipeline.record({ view_id: 'view-1', seq: 0, t: Date.now(), type: 'play' });
    await new Promise((r) => setTimeout(r, 100));
    expect(pipeline.stats.sealed).toBe(0);
  });
});

describe('telemetry consent states (toConsent)', () => {
  const g = globalThis as Record<string, unknown>;
  let storage: MemStorage;
  beforeEach(() => {
    storage = new MemStorage();
    g.localStorage = storage;
    g.indexedDB = failingIndexedDb();
    spyOn(console, 'warn');
  });
  afterEach(() => {
    delete g.localStorage;
    delete g.indexedDB;
  });
  const make = (consent: unknown) =>
    new TelemetryPipeline({
      endpoint: 'http://127.0.0.1:9/v1/telemetry',
      consent: consent as 'pending',
      sampled: true,
      viewerId: () => 'viewer-1',
      sessionId: () => 'session-1',
      tabId: 'tab-c',
      dbName: 'consent-test',
      flushIntervalMs: 60_000,
    });

  it('maps true / false to granted / denied and refuses any other value with a TypeError naming it', () => {
    expect(toConsent(true, 'x')).toBe('granted');
    expect(toConsent(false, 'x')).toBe('denied');
    for (const c of ['granted', 'pending', 'denied'] as const) expect(toConsent(c, 'x')).toBe(c);
    for (const bad of ['yes', 'Granted', 1, null, undefined, {}])
      expect(() => toConsent(bad, 'edgeplay')).toThrowError(TypeError, /edgeplay: consent must be/);
    expect(() => make('yes')).toThrowError(TypeError, /got "yes"/);
    const p = make('pending');
    expect(() => p.setConsent('maybe' as never)).toThrowError(TypeError, /got "maybe"/);
    expect(p.consentState).toBe('pending');
    p.destroy();
  });

  it('events held before consent are sealed in batches within the limits once granted; without IndexedDB every undelivered batch is spilled at unload', async () => {
    const p = make('pending');
    for (let i = 0; i < 709; i++) p.record({ view_id: 'view-1', seq: i, t: Date.now(), type: 'interaction', data: { kind: 'chat' } });
    expect(p.stats.sealed).toBe(0);
    p.setConsent('granted');
    await new Promise((r) => setTimeout(r, 20));
    p.destroy(); // no IndexedDB here: every batch not yet delivered is spilled, so they can be counted
    const spilled = JSON.parse(storage.getItem(spillKey('consent-test', 'tab-c')) ?? '[]') as Array<{ body: string; events: number }>;
    const sizes = spilled.map((b) => (JSON.parse(b.body) as { events: unknown[] }).events.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(709);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LIMITS.maxEventsPerBatch);
  });
});

describe('memory-only outbox (no IndexedDB): the localStorage spill across pages', () => {
  const g = globalThis as Record<string, unknown>;
  let realFetch: unknown;
  beforeEach(() => {
    g.indexedDB = failingIndexedDb();
    realFetch = g.fetch;
    spyOn(console, 'warn');
  });
  afterEach(() => {
    g.fetch = realFetch;
    delete g.localStorage;
    delete g.indexedDB;
  });
  const page = (tab: string, dbName: string) =>
    new TelemetryPipeline({
      endpoint: 'http://127.0.0.1:9/v1/telemetry',
      consent: 'granted',
      sampled: true,
      viewerId: () => 'v',
      sessionId: () => 's',
      tabId: tab,
      dbName,
      flushIntervalMs: 60_000,
    });
  /** every stored spill batch id, with repeats, and the number of spill keys */
  const stored = (storage: MemStorage) => {
    const ids: string[] = [];
    for (let i = 0; i < storage.length; i++)
      ids.push(...(JSON.parse(storage.getItem(storage.key(i)!)!) as Array<{ id: string }>).map((b) => b.id));
    return { ids, keys: storage.length };
  };

  it('offline page after page: each batch kept once, in one spill (not copied by every later page)', async () => {
    const storage = new MemStorage();
    g.localStorage = storage;
    g.fetch = async () => {
      throw new Error('offline');
    };
    for (let n = 1; n <= 6; n++) {
      const p = page(`off${n}`, 'mem-off');
      await new Promise((r) => setTimeout(r, 10));
      p.record({ view_id: `view-${n}`, seq: 0, t: Date.now(), type: 'play' });
      p.destroy();
      const s = stored(storage);
      expect(s.ids.length).withContext(`page ${n}`).toBe(n);
      expect(new Set(s.ids).size).withContext(`page ${n}`).toBe(n);
      expect(s.keys).withContext(`page ${n}`).toBe(1);
    }
  });

  it('a spilled batch delivered on the next page is sent once and leaves the spill', async () => {
    const storage = new MemStorage();
    g.localStorage = storage;
    const sent: string[] = [];
    let online = false;
    g.fetch = async (_u: string, init: { body: string }) => {
      if (!online) throw new Error('offline');
      sent.push((JSON.parse(init.body) as { batch_id: string }).batch_id);
      return new Response(JSON.stringify({ accepted: 1 }), { status: 200 });
    };
    const p1 = page('t1', 'mem-sent');
    await new Promise((r) => setTimeout(r, 10));
    p1.record({ view_id: 'view-1', seq: 0, t: Date.now(), type: 'play' });
    p1.destroy(); // offline: spilled
    expect(stored(storage).ids.length).toBe(1);
    online = true;
    for (let n = 2; n <= 4; n++) {
      const p = page(`t${n}`, 'mem-sent');
      await new Promise((r) => setTimeout(r, 30));
      await p.flush();
      p.destroy();
    }
    expect(sent.length).toBe(1);
    expect(stored(storage).ids).toEqual([]);
  });

  it('offline pages within a storage quota keep every batch (no transient copies that overflow it)', async () => {
    class QuotaStorage extends MemStorage {
      override setItem(k: string, v: string): void {
        let total = v.length;
        for (let i = 0; i < this.length; i++) if (this.key(i) !== k) total += this.getItem(this.key(i)!)!.length;
        if (total > 200_000) throw new Error('QuotaExceededError');
        super.setItem(k, v);
      }
    }
    const storage = new QuotaStorage();
    g.localStorage = storage;
    g.fetch = async () => {
      throw new Error('offline');
    };
    for (let n = 1; n <= 15; n++) {
      const p = page(`q${n}`, 'mem-quota');
      await new Promise((r) => setTimeout(r, 10));
      for (let i = 0; i < 100; i++) p.record({ view_id: `view-${n}`, seq: i, t: Date.now(), type: 'interaction', data: { kind: 'chat' } });
      p.destroy();
    }
    const s = stored(storage);
    expect(new Set(s.ids).size).toBe(15);
    expect(s.ids.length).toBe(15);
  });
});
