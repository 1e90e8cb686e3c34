/**
 * The controller's shared pieces: the token service's verify result, CORS through @fastify/cors (preflight
 * 204, the origins list), the negotiation rate limit through @fastify/rate-limit (429, Retry-After, a JSON
 * message), and the command line (node:util parseArgs: a bad flag is a clear error).
 */
import { buildServer } from '../../src/server/app.js';
import { parseCommandLine } from '../../src/server/main.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { TokenService } from '../../src/server/tokens.js';

describe('controller: token service', () => {
  it('verifies to a result: ok with the expiry, or the reason it was refused', () => {
    const t = new TokenService('secret-a', 1000);
    const now = 1_700_000_000_000;
    const tok = t.issue('sess-1', now);
    expect(t.verify('sess-1', tok, now)).toEqual({ ok: true, expires: now + 1000 });
    expect(t.verify('sess-1', tok, now + 1000)).toEqual({ ok: true, expires: now + 1000 }); // valid up to its expiry
    expect(t.verify('sess-1', tok, now + 1001)).toEqual({ ok: false, reason: 'expired', message: 'token expired' });
    expect(t.verify('sess-2', tok, now)).toEqual({ ok: false, reason: 'invalid', message: 'token invalid' }); // another session's
    expect(new TokenService('secret-b').verify('sess-1', tok, now)).toEqual({ ok: false, reason: 'invalid', message: 'token invalid' });
    expect(t.verify('sess-1', `${now + 5000}.${tok.split('.')[1]}`, now).ok).toBeFalse(); // a stretched expiry breaks the signature
    expect(t.verify('sess-1', undefined, now)).toEqual({ ok: false, reason: 'missing', message: 'token missing' });
    expect(t.verify('sess-1', 42, now)).toEqual({ ok: false, reason: 'missing', message: 'token missing' });
    for (const bad of ['abc', 'x.y', '.sig', '123.', '12e3.abc'])
      expect(t.verify('sess-1', bad, now))
        .withContext(bad)
        .toEqual({ ok: false, reason: 'malformed', message: 'token malformed' });
  });
});

describe('controller: CORS and rate limit', () => {
  it('answers preflights 204 with the allowed origin, methods, headers and max-age; other origins get no grant', async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore(), corsOrigins: ['https://player.example'] });
    try {
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/v1/negotiate',
        headers: { origin: 'https://player.example', 'access-control-request-method': 'POST' },
      });
      expect(pre.statusCode).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe('https://player.example');
      expect(String(pre.headers['vary'])).toMatch(/origin/i);
      expect(pre.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
      expect(pre.headers['access-control-allow-headers']).toBe('content-type, authorization');
      expect(pre.headers['access-control-max-age']).toBe('600');
      const other = await app.inject({
        method: 'OPTIONS',
        url: '/v1/negotiate',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(other.statusCode).toBe(204);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      // a simple request from the allowed origin is granted too; an OPTIONS without Origin is still a 204
      const get = await app.inject({ method: 'GET', url: '/v1/health', headers: { origin: 'https://player.example' } });
      expect(get.headers['access-control-allow-origin']).toBe('https://player.example');
      expect((await app.inject({ method: 'OPTIONS', url: '/v1/telemetry' })).statusCode).toBe(204);
    } finally {
      await app.close();
    }
  });

  it('limits negotiations per client address: a burst of 2 × rate, then 429 with Retry-After and a JSON message', async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore(), negotiation: { ratePerS: 3, rateWindowS: 60 } });
    try {
      const statuses: number[] = [];
      let limited: { headers: Record<string, unknown>; body: { error: string; message: string } } | null = null;
      for (let i = 0; i < 200; i++) {
        const r = await app.inject({ method: 'POST', url: '/v1/negotiate', payload: { viewer_id: 'v1', channel: 'news' } });
        statuses.push(r.statusCode);
        if (r.statusCode === 429 && !limited) limited = { headers: r.headers, body: r.json() };
        // bad input is answered 400 and costs the client nothing
        expect((await app.inject({ method: 'POST', url: '/v1/negotiate', payload: { channel: 'news' } })).statusCode).toBe(400);
      }
      expect(statuses.filter((s) => s === 200).length).toBe(180); // 3/s × 60 s
      expect(statuses.indexOf(429)).toBe(180);
      expect(limited!.body.error).toBe('rate_limited');
      expect(limited!.body.message).toMatch(/too many negotiations from this client; retry in \d+ s/);
      expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited!.headers['retry-after'])).toBeLessThanOrEqual(60);
      // a different client address has its own allowance
      const elsewhere = await app.inject({
        method: 'POST',
        url: '/v1/negotiate',
        payload: { viewer_id: 'v2', channel: 'news' },
        remoteAddress: '10.0.0.7',
      });
      expect(elsewhere.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('controller: command line', () => {
  it('parses the flags and environment of npm run server, and names a bad flag', () => {
    const c = parseCommandLine(['--port', '0', '--memory', '--rate', '5', '--policy', 'cloud-cdn'], { EDGEPLAY_REDIS: 'redis://r:6379' });
    expect(c).toEqual(
      jasmine.objectContaining({ port: 0, memory: true, ratePerS: 5, policy: 'cloud-cdn', redisUrl: 'redis://r:6379', edges: [] }),
    );
    expect(parseCommandLine([], { EDGEPLAY_EDGES: '[{"id":"e1","url":"http://x","setting":"mid"}]' }).edges.length).toBe(1);
    expect(parseCommandLine(['--policy', 'drl'], {}).drlPath).toBe('models/edge-drl/mid.json');
    expect(() => parseCommandLine(['--prot', '1'], {})).toThrowError(/--prot/);
    expect(() => parseCommandLine(['--port'], {})).toThrowError(/--port/);
    expect(() => parseCommandLine(['--port', 'x'], {})).toThrowError(/--port must be a port number/);
    expect(() => parseCommandLine(['--rate=-1'], {})).toThrowError(/--rate must be a positive number/);
    expect(() => parseCommandLine(['--policy', 'best'], {})).toThrowError(/--policy must be one of online-heu, cloud-cdn, drl/);
    expect(() => parseCommandLine(['--edges', '{}'], {})).toThrowError(/--edges must be a JSON array/);
    expect(() => parseCommandLine(['extra'], {})).toThrowError(/extra/);
  });
});
