/**
 * The controller's shared pieces: the token service's verify result, CORS through @fastify/cors (preflight
 * 204, the origins list), the negotiation rate limit through @fastify/rate-limit (429, Retry-After, a JSON
 * message), and the command line (node:util parseArgs: a bad flag is a clear error).
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { parseCommandLine } from '../../src/server/main.js';
import { InputError } from '../../src/train/cli/args.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { kidOf, parseSigningKeys, refusalStatus, TokenService } from '../../src/server/tokens.js';
import { freePort } from '../services.js';

describe('controller: token service', () => {
  it('verifies to a result: ok with the key id and expiry, or the reason it was refused', () => {
    const t = new TokenService('secret-a-0123456789', 1000);
    const now = 1_700_000_000_000;
    const tok = t.issue('sess-1', now);
    const kid = kidOf('secret-a-0123456789');
    expect(tok.split('.')[0]).toBe(kid);
    expect(t.verify('sess-1', tok, now)).toEqual({ ok: true, kid, expires: now + 1000 });
    expect(t.verify('sess-1', tok, now + 1000)).toEqual({ ok: true, kid, expires: now + 1000 }); // valid up to its expiry
    expect(t.verify('sess-1', tok, now + 1001)).toEqual({ ok: false, reason: 'expired', message: 'token expired' });
    // bound to its session: another session's token does not verify
    expect(t.verify('sess-2', tok, now)).toEqual({
      ok: false,
      reason: 'invalid',
      message: 'token invalid (not for this session, or forged)',
    });
    // the same kid with another secret (a forger who knows the kid): the signature does not hold
    const forger = new TokenService([{ kid, secret: 'secret-b-0123456789' }]);
    expect(forger.verify('sess-1', tok, now).ok).toBeFalse();
    expect(t.verify('sess-1', forger.issue('sess-1', now), now)).toEqual(jasmine.objectContaining({ ok: false, reason: 'invalid' }));
    const [k, , sig] = tok.split('.');
    expect(t.verify('sess-1', `${k}.${now + 5000}.${sig}`, now).ok).toBeFalse(); // a stretched expiry breaks the signature
    expect(t.verify('sess-1', `other.${now + 5000}.${sig}`, now)).toEqual(jasmine.objectContaining({ reason: 'unknown_kid' })); // a swapped kid
    expect(t.verify('sess-1', undefined, now)).toEqual({ ok: false, reason: 'missing', message: 'token missing' });
    expect(t.verify('sess-1', 42, now)).toEqual({ ok: false, reason: 'missing', message: 'token missing' });
    for (const bad of ['abc', 'x.y', '.sig', '123.', '12e3.abc', `${k}.12e3.${sig}`, `${k}.${now}.`, `k!.${now}.${sig}`])
      expect(t.verify('sess-1', bad, now))
        .withContext(bad)
        .toEqual({ ok: false, reason: 'malformed', message: 'token malformed (want <kid>.<expiry>.<signature>)' });
  });

  it('accepts a token of the format before key ids (<expiry>.<sig>) until it expires, so the upgrade logs nobody out', () => {
    const secret = 'secret-a-0123456789';
    const now = 1_700_000_000_000;
    // as the controller issued them before key ids: HMAC-SHA256(secret, "<session>.<expiry>"), base64url
    const legacy = (session: string, expires: number, key = secret) =>
      `${expires}.${createHmac('sha256', key).update(`${session}.${expires}`).digest('base64url')}`;
    const t = new TokenService([
      { kid: 'k2026b', secret: 'new-secret-0123456789' },
      { kid: kidOf(secret), secret },
    ]);
    expect(t.verify('sess-1', legacy('sess-1', now + 1000), now)).toEqual({ ok: true, kid: kidOf(secret), expires: now + 1000 });
    expect(t.verify('sess-1', legacy('sess-1', now + 1000), now + 1001)).toEqual({
      ok: false,
      reason: 'expired',
      message: 'token expired',
    });
    expect(t.verify('sess-2', legacy('sess-1', now + 1000), now)).toEqual(jasmine.objectContaining({ ok: false, reason: 'invalid' }));
    expect(t.verify('sess-1', legacy('sess-1', now + 1000, 'another-secret-0123456789'), now)).toEqual(
      jasmine.objectContaining({ ok: false, reason: 'invalid' }),
    );
    const [exp, sig] = legacy('sess-1', now + 1000).split('.');
    expect(t.verify('sess-1', `${Number(exp) + 5000}.${sig}`, now).ok).toBeFalse(); // a stretched expiry breaks it
  });

  it('rotates keys: the first key signs, every listed key verifies, a retired or foreign key id is unknown_kid (401)', () => {
    const old = { kid: 'k2026a', secret: 'old-secret-0123456789' };
    const neu = { kid: 'k2026b', secret: 'new-secret-0123456789' };
    const now = 1_700_000_000_000;
    const before = new TokenService([old]); // before the rotation
    const during = new TokenService([neu, old]); // the new key signs, the old one still verifies
    const after = new TokenService([neu]); // the old key retired
    const oldTok = before.issue('sess-1', now);
    const newTok = during.issue('sess-1', now);
    expect(during.signingKid).toBe('k2026b');
    expect(during.kids).toEqual(['k2026b', 'k2026a']);
    expect(newTok.startsWith('k2026b.')).toBeTrue();
    expect(during.verify('sess-1', oldTok, now)).toEqual({ ok: true, kid: 'k2026a', expires: now + 3600e3 }); // nobody logged out
    expect(during.verify('sess-1', newTok, now)).toEqual({ ok: true, kid: 'k2026b', expires: now + 3600e3 });
    expect(after.verify('sess-1', newTok, now).ok).toBeTrue();
    const retired = after.verify('sess-1', oldTok, now);
    expect(retired).toEqual({
      ok: false,
      reason: 'unknown_kid',
      message: "token key id 'k2026a' unknown: its key was retired or is not ours (negotiate again)",
    });
    expect(refusalStatus('unknown_kid')).toBe(401);
    expect(refusalStatus('invalid')).toBe(403);
    // a process that has not learnt the new key yet does not accept its tokens: add the key everywhere before it signs
    expect(before.verify('sess-1', newTok, now)).toEqual(jasmine.objectContaining({ reason: 'unknown_kid' }));
    // a token stays bound to its session under every key
    expect(during.verify('sess-2', oldTok, now)).toEqual(jasmine.objectContaining({ reason: 'invalid' }));
    expect(() => new TokenService([old, old])).toThrowError(/listed twice/);
    expect(() => new TokenService([])).toThrowError(/no signing key/);
    expect(() => new TokenService([{ kid: 'a.b', secret: 'x'.repeat(20) }])).toThrowError(/bad key id/);
  });

  it('parses key lists (kid=secret by comma or line, the first signing) and says what is wrong with a bad one', () => {
    expect(parseSigningKeys('k2=new-secret-0123456789, k1=old-secret-0123456789')).toEqual([
      { kid: 'k2', secret: 'new-secret-0123456789' },
      { kid: 'k1', secret: 'old-secret-0123456789' },
    ]);
    expect(parseSigningKeys('# rotated 2026-11-30\nk2=new-secret-0123456789\n\nk1=old-secret-0123456789\n').map((k) => k.kid)).toEqual([
      'k2',
      'k1',
    ]);
    expect(() => parseSigningKeys('')).toThrowError(/no signing key/);
    expect(() => parseSigningKeys('k1=short')).toThrowError(/signing key 'k1': the secret must be at least 16 characters/);
    expect(() => parseSigningKeys('nosecret')).toThrowError(/want kid=secret/);
    expect(() => parseSigningKeys('k1=old-secret-0123456789,k1=new-secret-0123456789')).toThrowError(/'k1' is listed twice/);
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

describe('controller: 4xx answers name what is wrong (plugins/http.ts validationAnswer)', () => {
  const t = 1_700_000_000_000;
  const batch = (extra: Record<string, unknown> = {}, event: Record<string, unknown> = {}) => ({
    v: 1,
    batch_id: 'b'.repeat(16),
    viewer_id: 'v'.repeat(16),
    session_id: 's'.repeat(16),
    sealed_at: t,
    events: [{ view_id: 'w'.repeat(16), seq: 0, t, type: 'play', ...event }],
    ...extra,
  });

  it('a schema violation: 400 naming the unknown property, the bad data key, the allowed value', async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore() });
    try {
      const post = async (payload: unknown) => {
        const r = await app.inject({ method: 'POST', url: '/v1/telemetry', payload: payload as object });
        expect(r.statusCode).withContext(JSON.stringify(payload).slice(0, 100)).toBe(400);
        const j = r.json() as { error: string; message: string; field: string };
        expect(j.error).toBe('bad_request');
        return j;
      };
      expect((await app.inject({ method: 'POST', url: '/v1/telemetry', payload: batch() })).statusCode).toBe(200); // the base is valid
      // an extra property: its name, as the field (not "body must NOT have additional properties", field "body")
      const extra = await post(batch({ extra_field: 1 }));
      expect(extra.field).toBe('body/extra_field');
      expect(extra.message).toContain('"extra_field"');
      const deep = await post(batch({}, { colour: 'red' }));
      expect(deep.field).toBe('body/events/0/colour');
      // a data key that does not match the key pattern: the key itself
      const key = await post(batch({}, { type: 'interaction', data: { kind: 'chat', 'Bad Key!': 1 } }));
      expect(key.field).toBe('body/events/0/data/Bad Key!');
      expect(key.message).toContain('"Bad Key!"');
      expect(key.message).toMatch(/must match pattern/);
      // a wrong protocol version: the value it must be (not "must be equal to constant")
      const v = await post(batch({ v: 2 }));
      expect(v.field).toBe('body/v');
      expect(v.message).toBe('body/v must be 1');
      // an enum: the allowed values
      const type = await post(batch({}, { type: 'nope' }));
      expect(type.field).toBe('body/events/0/type');
      expect(type.message).toMatch(/^body\/events\/0\/type must be one of "viewstart", "play", /);
      // a missing property: the property is the field (not field "body/events/0", "must have required property")
      const { sealed_at: _sealed, ...unsealed } = batch();
      expect(await post(unsealed)).toEqual({ error: 'bad_request', message: 'body/sealed_at is required', field: 'body/sealed_at' });
      const noSeq = batch();
      delete (noSeq.events[0] as { seq?: number }).seq;
      expect(await post(noSeq)).toEqual({ error: 'bad_request', message: 'body/events/0/seq is required', field: 'body/events/0/seq' });
      // other violations keep ajv's message at the failing path
      const seq = await post(batch({}, { seq: 'x' }));
      expect(seq).toEqual({ error: 'bad_request', message: 'body/events/0/seq must be integer', field: 'body/events/0/seq' });
    } finally {
      await app.close();
    }
  });

  it("415 is 'unsupported_media_type' naming the content type, not 'bad_request'", async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore() });
    try {
      const r = await app.inject({ method: 'POST', url: '/v1/telemetry', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
      expect(r.statusCode).toBe(415);
      const j = r.json() as { error: string; message: string };
      expect(j.error).toBe('unsupported_media_type');
      expect(j.message).toContain('application/xml');
    } finally {
      await app.close();
    }
  });

  it('POST /v1/tasks and GET /v1/tasks/quote without a task service: 404 saying to start with --task-slots (not "no route")', async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore() });
    try {
      const task = { task: 'viewport', session: 's1', token: 'x', deadline_ms: 100, input: { hist: new Array(15).fill(0), t: 1 } };
      for (const r of [
        await app.inject({ method: 'POST', url: '/v1/tasks', payload: task }),
        await app.inject({ method: 'GET', url: '/v1/tasks/quote' }),
      ]) {
        expect(r.statusCode).toBe(404);
        expect(r.json()).toEqual({ error: 'not_found', message: 'this controller runs no offloaded tasks (start it with --task-slots N)' });
      }
      // other unknown routes are still "no route"
      const other = await app.inject({ method: 'GET', url: '/v1/nothing' });
      expect(other.statusCode).toBe(404);
      expect(other.json().message).toBe('no route GET /v1/nothing');
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
    // the PostgreSQL telemetry store: a postgres:// URL, from the flag or EDGEPLAY_PG, never with --memory
    expect(parseCommandLine(['--pg', 'postgres://u@db:5432/edgeplay'], {}).pgUrl).toBe('postgres://u@db:5432/edgeplay');
    expect(parseCommandLine([], { EDGEPLAY_PG: 'postgresql://db/x' }).pgUrl).toBe('postgresql://db/x');
    expect(parseCommandLine([], {}).pgUrl).toBeUndefined();
    expect(() => parseCommandLine(['--pg', 'mysql://db/x'], {})).toThrowError(/--pg must be a postgres:\/\/ URL/);
    expect(() => parseCommandLine(['--pg', 'postgres://db/x', '--memory'], {})).toThrowError(/--pg and --memory/);
  });

  it('reads the port from --port, else EDGEPLAY_PORT, checked alike: a bad value is an InputError naming the flag or the variable', () => {
    expect(parseCommandLine([], { EDGEPLAY_PORT: '8090' }).port).toBe(8090);
    expect(parseCommandLine(['--port', '0'], { EDGEPLAY_PORT: 'abc' }).port).toBe(0); // the flag wins, the variable is not read
    expect(parseCommandLine([], {}).port).toBeUndefined(); // startServer's default, 8081
    expect(() => parseCommandLine([], { EDGEPLAY_PORT: 'abc' })).toThrowError(
      InputError,
      "EDGEPLAY_PORT must be a port number 0–65535 (got 'abc')",
    );
    expect(() => parseCommandLine(['--port', '65536'], {})).toThrowError(InputError, /--port must be a port number/);
    expect(() => parseCommandLine([], { EDGEPLAY_PG: 'mysql://x' })).toThrowError(InputError, /EDGEPLAY_PG must be a postgres:\/\/ URL/);
    expect(() => parseCommandLine(['--bogus'], {})).toThrowError(InputError, /--bogus/);
  });

  it('reads token signing keys from --keys-file, EDGEPLAY_KEYS_FILE or EDGEPLAY_KEYS, and names the source of a bad list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeplay-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, '# newest first\nk2=new-secret-0123456789\nk1=old-secret-0123456789\n');
      const kids = (c: ReturnType<typeof parseCommandLine>) => c.keys?.map((k) => k.kid);
      expect(kids(parseCommandLine(['--keys-file', file], {}))).toEqual(['k2', 'k1']);
      expect(kids(parseCommandLine([], { EDGEPLAY_KEYS_FILE: file }))).toEqual(['k2', 'k1']);
      expect(kids(parseCommandLine([], { EDGEPLAY_KEYS: 'k3=third-secret-0123456789' }))).toEqual(['k3']);
      // the flag wins over the environment
      expect(kids(parseCommandLine(['--keys-file', file], { EDGEPLAY_KEYS: 'k3=third-secret-0123456789' }))).toEqual(['k2', 'k1']);
      expect(parseCommandLine([], {}).keys).toBeUndefined();
      expect(() => parseCommandLine(['--keys-file', join(dir, 'nope')], {})).toThrowError(/--keys-file .*nope: no such file/);
      expect(() => parseCommandLine([], { EDGEPLAY_KEYS: 'k1=short' })).toThrowError(/EDGEPLAY_KEYS: signing key 'k1': the secret must be/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start, in one line naming the server (password hidden), when PostgreSQL cannot be reached', async () => {
    const port = await freePort(); // nothing listens there
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/server/main.ts', '--quiet', '--port', '0', '--pg', `postgres://u:hunter2@127.0.0.1:${port}/x`],
      {
        encoding: 'utf8',
        timeout: 60000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`[edgeplay] controller not started: PostgreSQL at postgres://u:***@127.0.0.1:${port}/x cannot be used`);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr).not.toContain('hunter2');
  });
});
