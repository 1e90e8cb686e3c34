/**
 * Real services for tests and benchmarks, on loopback and free ports, in temporary directories: redis-server,
 * PostgreSQL (the Debian `postgresql` package, run as the unprivileged `postgres` user when we are root) and
 * controller processes (src/server/main.ts). Each starter says clearly what is missing (`haveRedis` /
 * `havePostgres` and their `why…` strings, for `pending(reason)`); everything started is stopped when the
 * process exits, even on an uncaught error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before it is returned). */
export const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

// ---------------------------------------------------------------- cleanup at exit

const atExit: Array<() => void> = [];
let hooked = false;
function onExit(fn: () => void) {
  atExit.push(fn);
  if (hooked) return;
  hooked = true;
  const run = () => {
    for (const f of atExit.splice(0).reverse())
      try {
        f();
      } catch {
        /* best effort */
      }
  };
  process.on('exit', run);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      run();
      process.exit(130);
    });
}

// ---------------------------------------------------------------- redis-server

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
export const haveRedis = spawnSync(REDIS_SERVER, ['--version']).status === 0;
export const whyNoRedis = `${REDIS_SERVER} not found: apt-get install -y redis-server (or set REDIS_SERVER)`;

export interface RedisServer {
  url: string;
  port: number;
  /** the running process (replaced by restart) */
  proc: ChildProcess;
  /**
   * Stop Redis (SIGKILL: a crash, not a shutdown; with `persistent` every acknowledged write is in the
   * append-only file) and start it again on the same port and directory once `downMs` has passed.
   */
  restart(downMs?: number): Promise<void>;
  /** kill it (SIGKILL) without starting it again */
  kill(): Promise<void>;
  /** start it again after kill() */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start redis-server on a free loopback port. `persistent`: append-only file fsynced on every write
 * (`appendfsync always`) in a temporary directory, so a restart loses nothing acknowledged.
 */
export async function startRedis(o: { persistent?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'edgeplay-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(...(o.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  const url = `redis://127.0.0.1:${port}`;
  const launch = async () => {
    const proc = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    const { Redis } = await import('ioredis');
    for (let i = 0; i < 200; i++) {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        // with an append-only file, Redis answers LOADING until it has read it back
        await r.ping();
        r.disconnect();
        return proc;
      } catch {
        r.disconnect();
        await sleep(25);
      }
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const s: RedisServer = {
    url,
    port,
    proc: await launch(),
    async kill() {
      s.proc.kill('SIGKILL');
      await exited(s.proc);
    },
    async start() {
      s.proc = await launch();
    },
    async restart(downMs = 0) {
      await s.kill();
      await sleep(downMs);
      await s.start();
    },
    async stop() {
      s.proc.kill('SIGKILL');
      await exited(s.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  onExit(() => {
    s.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

// ---------------------------------------------------------------- PostgreSQL

/** The PostgreSQL binaries: $PG_BIN, else the newest /usr/lib/postgresql/<major>/bin (Debian's layout). */
export function pgBin(): string | null {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : null;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const majors = readdirSync(base)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(base, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(base, majors[0], 'bin') : null;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const pgUser = (() => {
  if (!isRoot) return null;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : null;
})();

export const havePostgres = pgBin() !== null && (!isRoot || pgUser !== null);
export const whyNoPostgres =
  pgBin() === null
    ? 'PostgreSQL not found: apt-get install -y postgresql (or set PG_BIN to the directory holding initdb and pg_ctl)'
    : 'running as root without a postgres user to run PostgreSQL as (apt-get install -y postgresql creates it)';

export interface PostgresServer {
  /** the server's address; `url(db)` a database on it */
  url(db?: string): string;
  port: number;
  /** create a fresh database and return its URL */
  createDatabase(name?: string): Promise<string>;
  /** `pg_ctl stop -m immediate` (a crash: recovery replays the WAL) then start again once `downMs` has passed */
  restart(downMs?: number): Promise<void>;
  /** stop it (`-m immediate`) without starting it again */
  kill(): Promise<void>;
  /** start it again after kill() */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Run a PostgreSQL binary as the `postgres` user when we are root (runuser), else as ourselves. */
function pgRun(bin: string, args: string[], opts: { wait?: boolean } = {}) {
  const exe = join(pgBin()!, bin);
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  if (opts.wait === false) return spawn(cmd, argv, { stdio: 'ignore', detached: false });
  return spawnSync(cmd, argv, { encoding: 'utf8' });
}

/**
 * Start a PostgreSQL cluster in a temporary data directory on a free loopback port (unix socket in the same
 * directory, trust authentication for user `postgres` on loopback only, fsync off: a test cluster — a crash of
 * the server process still loses no committed transaction, only a crash of the machine would).
 * @throws Error naming what failed (initdb or the start, with the log's tail)
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (!havePostgres) throw new Error(whyNoPostgres);
  const dir = mkdtempSync(join(tmpdir(), 'edgeplay-pg-'));
  if (pgUser) chownSync(dir, pgUser.uid, pgUser.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  const init = pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']) as ReturnType<
    typeof spawnSync
  >;
  if (init.status !== 0) throw new Error(`initdb failed: ${String(init.stderr).slice(-800)}`);
  const port = await freePort();
  const opts = `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB`;
  const start = async () => {
    const r = pgRun('pg_ctl', ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']) as ReturnType<typeof spawnSync>;
    if (r.status !== 0) {
      const tail = spawnSync('tail', ['-n', '20', log], { encoding: 'utf8' }).stdout;
      throw new Error(`PostgreSQL did not start: ${String(r.stderr || r.stdout).slice(-400)}\n${tail}`);
    }
  };
  const kill = async () => {
    pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  await start();
  let stopped = false;
  onExit(() => {
    if (!stopped) pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
  let n = 0;
  return {
    url,
    port,
    async createDatabase(name = `t${process.pid}_${n++}_${Date.now().toString(36)}`) {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    kill,
    start,
    async restart(downMs = 0) {
      await kill();
      await sleep(downMs);
      await start();
    },
    async stop() {
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<PostgresServer> | null = null;
/** One cluster for the whole test process (started on first use); each caller takes a database of its own. */
export function sharedPostgres(): Promise<PostgresServer> {
  return (shared ??= startPostgres());
}

// ---------------------------------------------------------------- controller processes

export interface ControllerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** SIGKILL (no shutdown: what a crash or an OOM kill does) */
  kill9(): Promise<void>;
  /** start it again on the same port with the same flags; resolves once it listens */
  start(): Promise<void>;
  /** SIGTERM and wait */
  stop(): Promise<void>;
}

/**
 * A controller process (`node --import tsx src/server/main.ts --quiet --port <free> …args`); resolves once it listens.
 * `env` is added to the environment (EDGEPLAY_SECRET defaults to a value shared by every process spawned here).
 */
export async function spawnController(args: string[], env: Record<string, string> = {}): Promise<ControllerProcess> {
  const port = await freePort();
  const launch = async () => {
    // node itself with tsx's loader, not the tsx CLI: the CLI runs the program in a child of its own, which a SIGKILL
    // of the CLI would leave running
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts', '--quiet', '--port', String(port), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, EDGEPLAY_SECRET: 'edgeplay-test-secret', ...env },
    });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`controller did not start: ${err}`)), 60000);
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) {
          clearTimeout(t);
          res();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        rej(new Error(`controller exited (${code}) before listening: ${err}`));
      });
    });
    proc.stdout!.resume();
    return proc;
  };
  const c: ControllerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    proc: await launch(),
    async kill9() {
      c.proc.kill('SIGKILL');
      await exited(c.proc);
    },
    async start() {
      c.proc = await launch();
    },
    async stop() {
      c.proc.kill('SIGTERM');
      await exited(c.proc);
    },
  };
  onExit(() => c.proc.kill('SIGKILL'));
  return c;
}
