/**
 * Faults found by the session-12 new-user trial (h12-user): bad input the controller, the SDK or a command line took
 * without a clear error — a date that does not exist read as another day, a stack trace for a mistyped CDN set, an
 * ABR controller built for a policy no worker has, a model the real-playback bench would only miss in Chromium.
 * Each spec fails on the code the trial found.
 */
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { startServer, type RunningServer } from '../../src/server/main.js';

describe('GET /v1/metrics refuses a calendar date that does not exist (new-user trial, session 12)', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ port: 0, store: new MemoryTelemetryStore() });
  });
  afterAll(async () => {
    await srv.close();
    srv.store.close();
  });

  it('from=2026-11-31T00:00:00Z is a 400 naming querystring/from (it was read as 1 December: Date.parse rolls the day over), a real date is not', async () => {
    for (const [param, value] of [
      ['from', '2026-11-31T00:00:00Z'],
      ['from', '2026-02-29T12:00:00Z'], // 2026 is no leap year
      ['to', '2026-04-31T10:00:00+02:00'],
    ]) {
      const r = await fetch(`${srv.url}/v1/metrics?metric=views&${param}=${encodeURIComponent(value)}`);
      const body = (await r.json()) as { error: string; field: string; message: string };
      expect(r.status)
        .withContext(`${param}=${value}: ${JSON.stringify(body)}`)
        .toBe(400);
      expect(body.field).toBe(`querystring/${param}`);
      expect(body.message).toContain('not a date');
    }
    const now = Date.now();
    const day = new Date(now - 3600_000).toISOString().slice(0, 19) + 'Z';
    const ok = await fetch(`${srv.url}/v1/metrics?metric=views&from=${day}`);
    expect(ok.status).toBe(200);
    // a leap day that exists, in a window the route accepts
    const leap = await fetch(`${srv.url}/v1/metrics?metric=views&from=2028-02-28T12:00:00Z&to=2028-02-29T12:00:00Z`);
    expect(leap.status).toBe(200);
  });
});
