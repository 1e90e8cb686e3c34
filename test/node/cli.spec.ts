/**
 * The entry points a new user types first — `npm run edge`, `npm run server`, `npm start`, `npm run bench:cdn-tod` — as
 * the README promises them: `--help` lists the flags (exit 0); an unknown flag, a missing or bad value, in a flag or in
 * its environment variable, exits 2 with one line naming it and no stack; a port in use exits 1 with one line naming
 * the port and the flag that chooses another. Each runs the real script (tsx) in a child process.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { envNum, InputError, num, PORT } from '../../src/train/cli/args.js';

const tsx = join('node_modules', '.bin', 'tsx');

/** Runs `file` with `args` (environment: this one plus `env`); bounded by a timeout in case a fault lets it start. */
function run(file: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(tsx, [file, ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } });
}

/** A listener on a free port of 127.0.0.1, holding it while a test runs. */
function holdPort(): Promise<{ port: number; server: Server }> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res({ port: (server.address() as { port: number }).port, server }));
  });
}

/** A bad command line's answer: exit 2, one line `NAME: …` containing `message` on stderr, no stack, nothing run. */
function expectRefused(r: SpawnSyncReturns<string>, name: string, message: string, what: string): void {
  expect(r.status).withContext(what).toBe(2);
  expect(r.stderr).withContext(what).toContain(`${name}: ${message}`);
  expect(r.stderr)
    .withContext(what)
    .not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stdout).withContext(what).toBe('');
}

describe('cli: number checks (src/train/cli/args.ts)', () => {
  it('num checks an upper bound; envNum checks an environment variable alike and names it; PORT is 0–65535', () => {
    expect(num('port', '65535', PORT)).toBe(65535);
    expect(() => num('port', '65536', PORT)).toThrowError(InputError, '--port: must be at most 65535, got "65536"');
    expect(() => num('port', '-1', PORT)).toThrowError(InputError, '--port: must be at least 0, got "-1"');
    expect(envNum('EDGEPLAY_PORT', { EDGEPLAY_PORT: '8081' }, PORT)).toBe(8081);
    expect(envNum('EDGEPLAY_PORT', {}, PORT)).toBeUndefined();
    expect(envNum('EDGEPLAY_PORT', { EDGEPLAY_PORT: '' }, PORT)).toBeUndefined();
    expect(() => envNum('EDGEPLAY_PORT', { EDGEPLAY_PORT: 'abc' }, PORT)).toThrowError(
      InputError,
      'EDGEPLAY_PORT: expected a number, got "abc"',
    );
    expect(() => envNum('EDGEPLAY_PORT', { EDGEPLAY_PORT: '8081.5' }, PORT)).toThrowError(InputError, /EDGEPLAY_PORT: expected an integer/);
  });
});

describe('cli: npm run edge (src/server/edge/main.ts)', () => {
  const file = 'src/server/edge/main.ts';

  it('--help lists its flags with their defaults and exits 0', () => {
    const r = run(file, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: npm run edge -- [options]');
    for (const flag of ['--origin URL', '--capacity-gb GB', '--policy NAME', '--tuner NAME', '--controller URL', '--report-key KEY'])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/--policy NAME .*lru, lfu, gdsf \(default: lru\)/);
    expect(r.stderr).toBe('');
  });

  it('a missing --origin or a bad value exits 2 with one line naming the flag', () => {
    const o = ['--origin', 'http://127.0.0.1:9'];
    const cases: Array<[string[], string]> = [
      [[], '--origin URL is required'],
      [['--origin', 'not-a-url'], '--origin: expected an http(s) URL'],
      [['--origin', 'ftp://x'], '--origin: expected an http(s) URL'],
      [[...o, '--capacity-gb', 'abc'], '--capacity-gb: expected a number, got "abc"'],
      [[...o, '--capacity-gb', '0'], '--capacity-gb: must be more than 0'],
      [[...o, '--policy', 'foo'], '--policy: one of lru, lfu, gdsf, got "foo"'],
      [[...o, '--tuner', 'foo'], '--tuner: one of fixed, size-only, strategy-only, agent, got "foo"'],
      [[...o, '--tuner', 'agent', '--agent', '/nonexistent/agent.json'], '--agent: no such file'],
      [[...o, '--port', '99999'], '--port: must be at most 65535, got "99999"'],
      [[...o, '--interval-s', 'x'], '--interval-s: expected a number'],
      [[...o, '--controller', 'http://127.0.0.1:9'], '--controller needs --report-key KEY or EDGEPLAY_EDGE_KEY'],
      [[...o, '--orign', 'x'], "Unknown option '--orign'"],
    ];
    for (const [args, message] of cases) expectRefused(run(file, args, { EDGEPLAY_EDGE_KEY: '' }), 'edge', message, args.join(' '));
  });

  it('a port in use: one line naming the port and --port, exit 1', async () => {
    const { port, server } = await holdPort();
    try {
      const r = run(file, ['--origin', 'http://127.0.0.1:9', '--port', String(port)]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`[edgeplay] edge not started: port ${port} on 127.0.0.1 is in use (choose another with --port N)`);
    } finally {
      server.close();
    }
  });
});

describe('cli: npm run server (src/server/main.ts)', () => {
  const file = 'src/server/main.ts';

  it('--help lists its flags (task slots and CDNs included) and exits 0', () => {
    const r = run(file, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: npm run server -- [options]');
    for (const flag of ['--port N', '--memory', '--task-slots N', '--cdns JSON', '--edge-key KEY', '--keys-file FILE'])
      expect(r.stdout).toContain(flag);
    expect(r.stderr).toBe('');
  });

  it('a bad flag or environment value exits 2 with one line naming it, before anything starts', () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--memory'], { EDGEPLAY_PORT: 'abc' }, "EDGEPLAY_PORT must be a port number 0–65535 (got 'abc')"],
      [['--memory', '--port', '70000'], {}, "--port must be a port number 0–65535 (got '70000')"],
      [['--memory'], { EDGEPLAY_EDGES: '{}' }, 'EDGEPLAY_EDGES must be a JSON array'],
      [['--memory'], { EDGEPLAY_EDGE_KEY: 'short' }, 'EDGEPLAY_EDGE_KEY must be at least 16 characters'],
      [['--memory'], { EDGEPLAY_CDNS: '[1]' }, 'EDGEPLAY_CDNS must be a JSON array of at least two'],
      [['--memory', '--policy', 'drl', '--drl', '/nonexistent/drl.json'], {}, "--drl: no such file '/nonexistent/drl.json'"],
      [['--memory', '--bogus'], {}, "Unknown option '--bogus' (see --help)"],
    ];
    for (const [args, env, message] of cases)
      expectRefused(run(file, ['--quiet', ...args], env), 'server', message, `${JSON.stringify(env)} ${args.join(' ')}`);
  });

  it('a port in use: one line naming the port and --port, exit 1', async () => {
    const { port, server } = await holdPort();
    try {
      const r = run(file, ['--memory', '--quiet', '--port', String(port)]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `[edgeplay] controller not started: port ${port} on 127.0.0.1 is in use (another controller?): choose another with --port N (or EDGEPLAY_PORT)`,
      );
    } finally {
      server.close();
    }
  });
});

describe('cli: npm start (demo/server.ts)', () => {
  const file = 'demo/server.ts';

  it('a bad port, flag or environment, or a --traces directory that does not exist, exits 2 naming it before any work', () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--port', '70000'], {}, '--port: must be at most 65535, got "70000"'],
      [['--controller-port', '1.5'], {}, '--controller-port: expected an integer, got "1.5"'],
      [[], { EDGEPLAY_DEMO_PORT: 'abc' }, 'EDGEPLAY_DEMO_PORT: expected a number, got "abc"'],
      [[], { EDGEPLAY_CONTROLLER_PORT: '99999' }, 'EDGEPLAY_CONTROLLER_PORT: must be at most 65535'],
      [['--traces', '/nonexistent'], {}, '--traces: no such directory "/nonexistent"'],
    ];
    for (const [args, env, message] of cases)
      expectRefused(run(file, args, env), 'start', message, `${JSON.stringify(env)} ${args.join(' ')}`);
  });

  it('a second npm start while its port is busy: one line naming the port and the flag, exit 1, before the streams and encoders', async () => {
    const { port, server } = await holdPort();
    try {
      const dev = run(file, ['--no-live', '--port', String(port)]);
      expect(dev.status).toBe(1);
      expect(dev.stderr.trim()).toBe(`start: port ${port} on 127.0.0.1 is in use (another npm start?): choose another with --port N`);
      expect(dev.stdout).toBe('');
      const ctl = run(file, ['--no-live', '--port', '0', '--controller-port', String(port)]);
      expect(ctl.status).toBe(1);
      expect(ctl.stderr.trim()).toBe(
        `start: port ${port} on 127.0.0.1 is in use (another npm start?): choose another with --controller-port N`,
      );
    } finally {
      server.close();
    }
  });
});

describe('cli: npm run bench:cdn-tod (bench/cdn-tod.ts)', () => {
  const file = 'bench/cdn-tod.ts';

  it('--help lists its flags and exits 0; an unknown flag or a bad value exits 2 naming it, before any work', () => {
    const help = run(file, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: npm run bench:cdn-tod -- [options]');
    for (const flag of ['--model FILE', '--expert FILE', '--train-days N', '--compare LIST', '--skip-trees', '--out FILE'])
      expect(help.stdout).toContain(flag);
    expect(help.stderr).toBe('');
    const cases: Array<[string[], string]> = [
      [['--modle', 'x'], "Unknown option '--modle' (see --help)"],
      [['extra'], "Unexpected argument 'extra'"],
      [['--train-days', '0'], '--train-days: must be at least 1, got "0"'],
      [['--train-days', 'x'], '--train-days: expected a number, got "x"'],
      [['--model', '/nonexistent/tod.json'], '--model: no such file "/nonexistent/tod.json"'],
      [['--compare', 'models/cdn-lts/mechanistic-ABC.json,/nonexistent/b.json'], '--compare: no such file "/nonexistent/b.json"'],
    ];
    for (const [args, message] of cases) expectRefused(run(file, args), 'bench:cdn-tod', message, args.join(' '));
  });
});
