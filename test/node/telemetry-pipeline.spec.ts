/**
 * The telemetry pipeline's defaults when Edgeplay passes its options through unset (`dbName: options.dbName`,
 * `flushIntervalMs: options.flushIntervalMs`, both undefined for an app that leaves them out): the outbox is the
 * IndexedDB database 'edgeplay', it imports the spills written before they carried a name, and an event waits for the
 * 5-s flush instead of being sealed alone. IndexedDB and localStorage are stubs (Node has neither).
 */
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
    g.indexedDB = {
      open(name: string) {
        opened.push(name);
        const r: Record<string, unknown> = { error: new Error('stub') };
        setTimeout(() => (r.onerror as () => void)?.(), 0);
        return r;
      },
    };
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
    pipeline.destroy(); // not durable (no IndexedDB): the new batch is spilled
    const spilled = JSON.parse(storage.getItem(spillKey('edgeplay', 'tab-now')) ?? '[]') as Array<{ events: number }>;
    expect(spilled.length).toBe(1);
  });

  it('keeps an event in the open batch for the default flush interval', async () => {
    pipeline = make();
    await new Promise((r) => setTimeout(r, 20));
    pipeline.record({ view_id: 'view-1', seq: 0, t: Date.now(), type: 'play' });
    await new Promise((r) => setTimeout(r, 100));
    expect(pipeline.stats.sealed).toBe(0);
  });
});
