/**
 * The edge controller's telemetry API over real HTTP, with the SQLite store and with the PostgreSQL store (a
 * real PostgreSQL started in a temporary directory; pending when it is not installed): the same answers, the
 * same 4xx, the same fuzz run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomId } from '../../src/core/ids.js';
import { EVENT_TYPES, type TelemetryBatch, type TelemetryEvent } from '../../src/core/protocol.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { havePostgres, sharedPostgres, whyNoPostgres } from '../services.js';

function batch(viewId = randomId(), n = 3, extra: Partial<TelemetryBatch> = {}): TelemetryBatch {
  const t = Date.now();
  const events: TelemetryEvent[] = [
    { view_id: viewId, seq: 0, t, type: 'viewstart', data: { content_id: 'c1', channel: 'news' } },
    { view_id: viewId, seq: 1, t: t + 100, type: 'play' },
    { view_id: viewId, seq: 2, t: t + 900, type: 'startup', data: { startup_ms: 800, ttff_ms: 900 } },
  ];
  for (let i = 3; i < n; i++) events.push({ view_id: viewId, seq: i, t: t + 1000 + i * 100, type: 'interaction', data: { kind: 'chat' } });
  return {
    v: 1,
    batch_id: randomId(),
    viewer_id: randomId(),
    session_id: randomId(),
    sealed_at: t + 5000,
    events: events.slice(0, n),
    ...extra,
  };
}

/** The telemetry API's behaviour with one store; `open` starts the controller (null: pending, with `why`). */
function telemetryApi(name: string, open: () => Promise<RunningServer | null>, why = '') {
  describe(`controller: telemetry API (${name})`, () => {
    let srv: RunningServer;
    let it = globalThis.it;
    const post = (body: unknown, type = 'application/json') =>
      fetch(`${srv.url}/v1/telemetry`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    let up = false;
    beforeAll(async () => {
      const s = await open();
      if (s) {
        srv = s;
        up = true;
      }
    });
    afterAll(async () => {
      if (!up) return;
      await srv.close();
      await srv.store.close();
    });
    // every test of this suite is pending when its store cannot run here
    it = ((desc: string, fn: () => Promise<void>, timeout?: number) =>
      globalThis.it(desc, async () => (up ? fn() : pending(why)), timeout)) as typeof globalThis.it;

    it('stores a batch and summarizes the view', async () => {
      const b = batch(undefined, 6);
      const r = await post(b);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ batch_id: b.batch_id, accepted: 6, duplicate: false });
      const v = await (await fetch(`${srv.url}/v1/views/${b.events[0].view_id}`)).json();
      expect(v.startup_ms).toBe(800);
      expect(v.channel).toBe('news');
      expect(v.interactions).toEqual({ chat: 3 });
    });

    it('accepts text/plain bodies (sendBeacon / keepalive without preflight)', async () => {
      const b = batch();
      const r = await post(JSON.stringify(b), 'text/plain;charset=UTF-8');
      expect(r.status).toBe(200);
    });

    it('deduplicates by batch id', async () => {
      const b = batch(undefined, 5);
      const before = await srv.store.stats();
      for (let i = 0; i < 4; i++) {
        const r = await post(b);
        expect(r.status).toBe(200);
        expect((await r.json()).duplicate).toBe(i > 0);
      }
      const after = await srv.store.stats();
      expect(after.events - before.events).toBe(5);
      expect(after.batches - before.batches).toBe(1);
      expect(after.duplicates - before.duplicates).toBe(3);
      expect((await srv.store.viewEvents(b.events[0].view_id)).length).toBe(5);
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ ...batch(), batch_id: undefined }, /batch_id/],
        [{ ...batch(), v: 2 }, /\/v|v /],
        [{ ...batch(), events: [] }, /events/],
        [{ ...batch(), events: [{ ...batch().events[0], seq: 'x' }] }, /events\/0\/seq/],
        [{ ...batch(), events: [{ ...batch().events[0], type: 'nope' }] }, /events\/0\/type/],
        [{ ...batch(), events: [{ ...batch().events[0], data: { nested: { a: 1 } } }] }, /events\/0\/data/],
        [{ ...batch(), viewer_id: 'short' }, /viewer_id/],
        [{ ...batch(), extra: 1 }, /additional/],
      ];
      for (const [body, re] of cases) {
        const r = await post(body);
        expect(r.status).withContext(JSON.stringify(body).slice(0, 80)).toBe(400);
        const j = await r.json();
        expect(j.message).toMatch(re);
      }
      const bad = await post('{"v":1,', 'application/json');
      expect(bad.status).toBe(400);
      const proto = await post('{"v":1,"__proto__":{"x":1}}');
      expect(proto.status).toBe(400);
    });

    it('answers 413 to oversized bodies and 415 to unknown content types', async () => {
      const big = batch();
      (big.events[0].data as Record<string, string>).title = 'x'.repeat(400 * 1024);
      const r = await post(big);
      expect(r.status).toBe(413);
      expect((await r.json()).error).toBe('payload_too_large');
      const r2 = await post('<xml/>', 'application/xml');
      expect(r2.status).toBe(415);
    });

    it('survives a fuzz loop of hostile bodies: always 4xx or 200, never 5xx', async () => {
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
      const values = (): unknown =>
        pick<() => unknown>([
          () => null,
          () => rnd() * 1e20 - 1e19,
          () => -1,
          () => NaN,
          () => 'x'.repeat(Math.floor(rnd() * 2000)),
          () => true,
          () => [],
          () => ({}),
          () => randomId(),
          () => pick([...EVENT_TYPES]),
          () => '\u0000\ud800',
          () => ({ $ref: '#' }),
          () => 2 ** 53,
        ])();
      const statuses = new Map<number, number>();
      for (let i = 0; i < 400; i++) {
        const b: Record<string, unknown> = JSON.parse(JSON.stringify(batch(undefined, 1 + Math.floor(rnd() * 5))));
        const m = Math.floor(rnd() * 7);
        if (m === 0) b[pick(Object.keys(b))] = values();
        else if (m === 1) b[randomId(6)] = values();
        else if (m === 2) {
          const ev = (b.events as Record<string, unknown>[])[0];
          ev[pick(['view_id', 'seq', 't', 'type', 'data', 'zz'])] = values();
        } else if (m === 3) b.events = '__DEEP__';
        else if (m === 4)
          (b.events as Record<string, unknown>[])[0].data = { [pick(['a', 'B', '__proto__', 'constructor', 'x'.repeat(40)])]: values() };
        else if (m === 5) b.events = Array.from({ length: 600 }, () => (b.events as unknown[])[0]);
        let body = JSON.stringify(b);
        if (m === 3) {
          const d = 50 + Math.floor(rnd() * 20000);
          body = body.replace('"__DEEP__"', (rnd() < 0.5 ? '[' : '{"a":[').repeat(d) + '1' + (rnd() < 0.5 ? ']' : ']}').repeat(d));
        }
        if (m === 6) body = body.slice(0, Math.floor(rnd() * body.length)); // truncated JSON
        const r = await post(body, rnd() < 0.5 ? 'application/json' : 'text/plain');
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status).withContext(body.slice(0, 200)).toBeLessThan(500);
        await r.arrayBuffer();
      }
      // a very deep document as raw text
      const r = await post('['.repeat(100000) + ']'.repeat(100000));
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect([...statuses.keys()].some((s) => s === 400)).toBeTrue();
      // still healthy
      expect((await fetch(`${srv.url}/v1/health`)).status).toBe(200);
    });

    it('answers 404 for unknown views and 400 for bad view ids', async () => {
      expect((await fetch(`${srv.url}/v1/views/${randomId()}`)).status).toBe(404);
      expect((await fetch(`${srv.url}/v1/views/bad!id`)).status).toBe(400);
    });

    it('answers CORS preflights', async () => {
      const r = await fetch(`${srv.url}/v1/telemetry`, {
        method: 'OPTIONS',
        headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' },
      });
      expect(r.status).toBe(204);
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
    });
  });
}

telemetryApi('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeplay-node-'));
  const srv = await startServer({ port: 0, dataDir: dir });
  return { ...srv, close: async () => (await srv.close(), rmSync(dir, { recursive: true, force: true })) };
});

telemetryApi(
  'PostgreSQL',
  async () => (havePostgres ? startServer({ port: 0, pg: await (await sharedPostgres()).createDatabase() }) : null),
  whyNoPostgres,
);

describe('controller: telemetry API (SQLite file)', () => {
  it('keeps data across a restart (SQLite file under the data directory)', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'edgeplay-restart-'));
    try {
      let s = await startServer({ port: 0, dataDir: d2 });
      const b = batch(undefined, 4);
      expect(
        (await fetch(`${s.url}/v1/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) }))
          .status,
      ).toBe(200);
      await s.close();
      await s.store.close();
      s = await startServer({ port: 0, dataDir: d2 });
      const v = await fetch(`${s.url}/v1/views/${b.events[0].view_id}`);
      expect(v.status).toBe(200);
      expect((await v.json()).events).toBe(4);
      // dedup state also survives
      const again = await fetch(`${s.url}/v1/telemetry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(b),
      });
      expect((await again.json()).duplicate).toBeTrue();
      await s.close();
      await s.store.close();
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });
});
