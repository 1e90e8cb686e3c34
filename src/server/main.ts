/**
 * Run the edge controller alone:
 *   npm run server -- [--port 8081] [--host 127.0.0.1] [--data DIR | --memory | --pg postgres://…] [--quiet]
 *     [--edges '[{"id":"edge-1","url":"http://…","setting":"mid"}]'] [--redis redis://host:port]
 *     [--policy online-heu|cloud-cdn|drl] [--drl models/edge-drl/mid.json] [--rate 50] [--rate-window 2]
 *     [--lease 60] [--steering-ttl 10] [--task-slots 2] [--scheduler auction|auction-nocomp|edf|fcfs] [--models models]
 *     [--task-lookahead 1] [--task-handoff shared|message]
 * `--task-slots N` (N ≥ 1) serves offloaded inference (POST /v1/tasks, tasks.ts) on N compute slots — a pool of N
 * worker_threads (task-pool.ts), each with the viewport models of `--models`; 0 (default) does not.
 * `--task-lookahead K` (default 1) hands up to K tasks on deck to busy threads (TaskService `lookahead`).
 * `--task-handoff` (default shared) how a task reaches its thread: `shared`, a shared-memory queue every thread takes
 * from itself (shared-queue.ts; no message or event-loop turn between two tasks), or `message`, one message per task
 * to a chosen thread (TaskPool `handoff`; BENCHMARKS.md "The shared-memory hand-off").
 *     [--cdns '[{"id":"cdn-a","url":"http://…"},…]'] [--cdn-policy lts|equal|d-ucb] [--cdn-model FILE] [--cdn-step 60]
 * `--cdns` schedules new viewers over several CDN pathways (cdns.ts): every `--cdn-step` seconds a policy
 * (default LTS, models/cdn-lts/mechanistic-ABC.json) decides each CDN's share from the telemetry; with
 * `--redis` one controller process at a time decides (a lease) and all of them serve its shares.
 * `--keys-file FILE` (or EDGEPLAY_KEYS_FILE, or the list itself in EDGEPLAY_KEYS): token signing keys, `kid=secret`
 * per line or comma, the first signing, every one verifying (tokens.ts: rotation without logging anyone out; a
 * token of a key no longer listed is answered 401). Without them: EDGEPLAY_SECRET (one key), else a random key.
 * `--edge-key KEY` (or EDGEPLAY_EDGE_KEY, ≥ 16 characters) is the key the edge caches present (Bearer) when they
 * report their stats to `POST /v1/edges/:id/stats`; without it those reports are refused (403).
 * `--help` lists the flags (serverCli); a bad flag or environment value exits 2 with one line naming it, a port in
 * use or a store that cannot be reached exits 1 with one line saying so.
 * Environment: EDGEPLAY_PORT, EDGEPLAY_HOST, EDGEPLAY_DATA_DIR, EDGEPLAY_EDGES, EDGEPLAY_REDIS, EDGEPLAY_PG,
 * EDGEPLAY_SECRET, EDGEPLAY_KEYS, EDGEPLAY_KEYS_FILE. Telemetry goes to SQLite under the data directory (default), to memory (`--memory`), or to
 * PostgreSQL (`--pg`: every process of a fleet on one database). `--redis` shares reservations, negotiation
 * sessions and the negotiation rate limit with every controller process on that Redis (default: in memory, this
 * process only); `EDGEPLAY_SECRET` lets them accept each other's tokens. A fleet is several such processes behind
 * one address: any of them answers any request.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { buildServer } from './app.js';
import { CDN_POLICIES, CdnScheduler, loadCdnPolicy, parseCdns, type CdnConfig, type CdnPolicyName } from './cdns.js';
import type { AssignmentStore, EdgeConfig } from './edges.js';
import type { DrlAssignment } from '../assign/edge/drl.js';
import { EDGE_SETTINGS } from '../assign/edge/model.js';
import { SCHEDULERS, type SchedulerName } from '../assign/auction/index.js';
import type { TaskService } from './tasks.js';
import { TASK_HANDOFFS, type TaskHandoff } from './task-pool.js';
import { MemoryTelemetryStore, SqliteTelemetryStore, type TelemetryStore } from './store.js';
import { parseSigningKeys, type SigningKey } from './tokens.js';
import { envNum, InputError, parseCli, PORT } from '../train/cli/args.js';

export interface RunningServer {
  url: string;
  port: number;
  store: TelemetryStore;
  close(): Promise<void>;
}

const POLICIES = ['online-heu', 'cloud-cdn', 'drl'] as const;
type PolicyName = (typeof POLICIES)[number];

export async function startServer(
  opts: {
    port?: number;
    host?: string;
    dataDir?: string;
    memory?: boolean;
    /** PostgreSQL URL for the telemetry store (postgres://user@host:port/db) */
    pg?: string;
    store?: TelemetryStore;
    logger?: boolean;
    edges?: EdgeConfig[];
    assignment?: AssignmentStore;
    /** negotiations per second per client address (default 50) */
    ratePerS?: number;
    /** the rate limit's window, s (default 2) */
    rateWindowS?: number;
    /** lease length, ms (default 60 s; every steering reload renews it) */
    leaseMs?: number;
    /** steering manifest TTL, s (default 10) */
    steeringTtlS?: number;
    /** shared state across controller processes (rate-limit counters) */
    redis?: Redis;
    /** token signing secret (default: EDGEPLAY_SECRET, else random per process) */
    secret?: string;
    /** token signing keys, the first signing (tokens.ts; wins over `secret`) */
    keys?: SigningKey[];
    policy?: PolicyName;
    drl?: DrlAssignment;
    /** the inference service for offloaded tasks (none: not served) */
    tasks?: TaskService;
    /** several CDN pathways scheduled by share (cdns.ts) */
    cdns?: CdnScheduler;
    /** the key edges present to report their cache stats (default EDGEPLAY_EDGE_KEY; none: reports are refused) */
    edgeKey?: string;
  } = {},
): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir ?? process.env.EDGEPLAY_DATA_DIR ?? 'data');
  // checked before anything opens: EDGEPLAY_PORT=abc is an InputError naming it, not fastify's "Received type number (NaN)"
  const port = opts.port ?? envNum('EDGEPLAY_PORT', process.env, PORT) ?? 8081;
  const store =
    opts.store ??
    (opts.pg
      ? await (await import('./pg-store.js')).PgTelemetryStore.connect(opts.pg)
      : opts.memory
        ? new MemoryTelemetryStore()
        : await SqliteTelemetryStore.open(join(dataDir, 'telemetry.sqlite')));
  const app = await buildServer({
    store,
    logger: opts.logger,
    edges: opts.edges,
    assignment: opts.assignment,
    redis: opts.redis,
    tasks: opts.tasks,
    cdns: opts.cdns,
    edgeKey: opts.edgeKey ?? process.env.EDGEPLAY_EDGE_KEY,
    negotiation: {
      ...((opts.secret ?? process.env.EDGEPLAY_SECRET) ? { secret: opts.secret ?? process.env.EDGEPLAY_SECRET } : {}),
      ...(opts.keys ? { keys: opts.keys } : {}),
      ...(opts.ratePerS ? { ratePerS: opts.ratePerS } : {}),
      ...(opts.rateWindowS ? { rateWindowS: opts.rateWindowS } : {}),
      ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
      ...(opts.steeringTtlS ? { steeringTtlS: opts.steeringTtlS } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.drl ? { drl: opts.drl } : {}),
    },
  });
  const host = opts.host ?? process.env.EDGEPLAY_HOST ?? '127.0.0.1';
  let address: string;
  try {
    address = await app.listen({ port, host });
  } catch (e) {
    await app.close();
    if (!opts.store) await store.close(); // the caller's store stays open
    throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? Object.assign(new Error(`port ${port} on ${host} is in use (another controller?)`), { code: 'EADDRINUSE', port })
      : e;
  }
  const bound = Number(new URL(address).port);
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    store,
    async close() {
      await app.close();
    },
  };
}

/** The command line of `npm run server` (its --help); parseCommandLine checks the values. */
export const serverCli = {
  name: 'server',
  summary:
    'The edge controller alone: telemetry ingest and metrics, edge negotiation and steering, offloaded tasks, multi-CDN\nshares. Environment: EDGEPLAY_PORT, EDGEPLAY_HOST, EDGEPLAY_DATA_DIR, EDGEPLAY_EDGES, EDGEPLAY_REDIS, EDGEPLAY_PG,\nEDGEPLAY_CDNS, EDGEPLAY_SECRET, EDGEPLAY_KEYS, EDGEPLAY_KEYS_FILE, EDGEPLAY_EDGE_KEY (a flag wins over its variable).',
  flags: {
    port: { type: 'string', arg: 'N', help: 'port 0–65535, 0 for any free one (default: $EDGEPLAY_PORT or 8081)' },
    host: { type: 'string', arg: 'HOST', help: 'address to listen on (default: $EDGEPLAY_HOST or 127.0.0.1)' },
    data: { type: 'string', arg: 'DIR', help: 'SQLite telemetry store directory (default: $EDGEPLAY_DATA_DIR or data)' },
    memory: { type: 'boolean', help: 'keep telemetry in memory (no --pg)' },
    pg: { type: 'string', arg: 'URL', help: 'PostgreSQL telemetry store, postgres://user@host:port/db (default: $EDGEPLAY_PG)' },
    quiet: { type: 'boolean', help: 'no request log' },
    edges: {
      type: 'string',
      arg: 'JSON',
      help: 'edge caches, [{"id","url","setting"},…], ids of A–Z a–z 0–9 . _ - (default: $EDGEPLAY_EDGES or [])',
    },
    redis: { type: 'string', arg: 'URL', help: 'share sessions and rate limits with other controllers, redis://host:port' },
    policy: { type: 'string', default: 'online-heu', arg: 'NAME', help: `edge assignment policy: ${POLICIES.join(', ')}` },
    drl: { type: 'string', arg: 'FILE', help: "the drl policy's weights (default with --policy drl: models/edge-drl/mid.json)" },
    rate: { type: 'string', arg: 'N', help: 'negotiations per second per client address (default 50)' },
    'rate-window': { type: 'string', arg: 'S', help: "the rate limit's window, seconds (default 2)" },
    lease: { type: 'string', arg: 'S', help: 'edge lease, seconds (default 60)' },
    'steering-ttl': { type: 'string', arg: 'S', help: 'steering manifest TTL, whole seconds (default 10)' },
    'task-slots': { type: 'string', default: '0', arg: 'N', help: 'serve POST /v1/tasks on N compute threads (0–64; 0: not served)' },
    'task-lookahead': { type: 'string', default: '1', arg: 'K', help: 'tasks on deck handed to busy threads (0–64)' },
    'task-handoff': { type: 'string', default: 'shared', arg: 'NAME', help: `how a task reaches its thread: ${TASK_HANDOFFS.join(', ')}` },
    scheduler: { type: 'string', default: 'auction', arg: 'NAME', help: `task scheduler: ${SCHEDULERS.join(', ')}` },
    models: { type: 'string', default: 'models', arg: 'DIR', help: 'the viewport models the task threads load' },
    cdns: { type: 'string', arg: 'JSON', help: 'schedule viewers over CDNs, [{"id","url"},…] ≥ 2 (default: $EDGEPLAY_CDNS)' },
    'cdn-policy': { type: 'string', default: 'lts', arg: 'NAME', help: `the CDN share policy: ${CDN_POLICIES.join(', ')}` },
    'cdn-model': { type: 'string', default: 'models/cdn-lts/mechanistic-ABC.json', arg: 'FILE', help: "the lts policy's network" },
    'cdn-step': { type: 'string', default: '60', arg: 'S', help: 'seconds between two CDN share decisions (≥ 0.05)' },
    'keys-file': {
      type: 'string',
      arg: 'FILE',
      help: 'token signing keys, kid=secret per line, the first signing (default: $EDGEPLAY_KEYS_FILE)',
    },
    'edge-key': {
      type: 'string',
      arg: 'KEY',
      help: 'the key edges report their stats with, ≥ 16 characters (default: $EDGEPLAY_EDGE_KEY)',
    },
  },
} as const;

/**
 * The command line and environment, checked: an unknown flag, a missing value, a bad number or choice, in a flag or in
 * its environment variable, is an InputError naming the flag or the variable. `--help` prints the flags and exits 0.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  const v = parseCli(serverCli, argv);
  /** the flag's value, else its environment variable's, with the name to quote in an error */
  const source = (flag: keyof typeof v & string, variable: string): [string | undefined, string] => {
    const fromFlag = v[flag] as string | undefined;
    if (fromFlag !== undefined) return [fromFlag, `--${flag}`];
    const fromEnv = env[variable];
    return [fromEnv === '' ? undefined : fromEnv, variable];
  };
  const num = (flag: string, s: string | undefined, ok: (n: number) => boolean, what: string, label = `--${flag}`) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (s.trim() === '' || !ok(n)) throw new InputError(`${label} must be ${what} (got '${s}')`);
    return n;
  };
  let edges: EdgeConfig[];
  const [edgesJson, edgesFrom] = source('edges', 'EDGEPLAY_EDGES');
  try {
    edges = JSON.parse(edgesJson ?? '[]');
    if (!Array.isArray(edges)) throw new Error('not an array');
  } catch (e) {
    throw new InputError(`${edgesFrom} must be a JSON array of {id, url, setting}: ${(e as Error).message}`);
  }
  // each entry checked here, so a bad one is named with its flag (the ledger refused it only once the store started)
  for (const [i, e] of edges.entries()) {
    const where = `${edgesFrom} entry ${i}${typeof e?.id === 'string' ? ` ("${e.id}")` : ''}`;
    if (typeof e?.id !== 'string' || !e.id) throw new InputError(`${where} needs an "id" (a string)`);
    // the id is a Content Steering PATHWAY-ID (RFC 8216bis §4.4.6.6: [A-Za-z0-9._-]) and the edge's name in its reports
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(e.id)) throw new InputError(`${where}: "id" must be 1–64 of A–Z a–z 0–9 . _ - (a pathway id)`);
    if (e.id === 'cdn') throw new InputError(`${where}: "id" 'cdn' is the multivariant playlist's own pathway`);
    if (edges.findIndex((o) => o?.id === e.id) < i) throw new InputError(`${where}: "id" is repeated`);
    if (typeof e.url !== 'string' || !e.url) throw new InputError(`${where} needs a "url" (the edge's origin URL)`);
    if (!/^https?:\/\/[^/]/.test(e.url)) throw new InputError(`${where}: "url" must be an absolute http(s) URL (got '${e.url}')`);
    if (!Object.hasOwn(EDGE_SETTINGS, e.setting))
      throw new InputError(
        `${where}: "setting" must be one of ${Object.keys(EDGE_SETTINGS).join(', ')} (got ${JSON.stringify(e.setting)})`,
      );
  }
  if (!(POLICIES as readonly string[]).includes(v.policy))
    throw new InputError(`--policy must be one of ${POLICIES.join(', ')} (got '${v.policy}')`);
  const policy = v.policy as PolicyName;
  const [pgUrl, pgFrom] = source('pg', 'EDGEPLAY_PG');
  if (pgUrl !== undefined && !/^postgres(ql)?:\/\/./.test(pgUrl))
    throw new InputError(`${pgFrom} must be a postgres:// URL (got '${pgUrl}')`);
  if (pgUrl && v.memory) throw new InputError(`${pgFrom} and --memory are two telemetry stores: give one`);
  // --data names the SQLite store: beside --memory or a PostgreSQL URL it was ignored (telemetry the operator meant to
  // keep on disk went to memory, lost at the next restart)
  if (v.data !== undefined && (v.memory || pgUrl))
    throw new InputError(`--data and ${v.memory ? '--memory' : pgFrom} are two telemetry stores: give one`);
  if (!(TASK_HANDOFFS as readonly string[]).includes(v['task-handoff']))
    throw new InputError(`--task-handoff must be one of ${TASK_HANDOFFS.join(', ')} (got '${v['task-handoff']}')`);
  if (!(SCHEDULERS as readonly string[]).includes(v.scheduler))
    throw new InputError(`--scheduler must be one of ${SCHEDULERS.join(', ')} (got '${v.scheduler}')`);
  const [cdnsJson, cdnsFrom] = source('cdns', 'EDGEPLAY_CDNS');
  let cdns: CdnConfig[] = [];
  try {
    if (cdnsJson !== undefined) cdns = parseCdns(cdnsJson);
  } catch (e) {
    // parseCdns names --cdns; a list from the environment is named by its variable
    throw new InputError(cdnsFrom === '--cdns' ? (e as Error).message : (e as Error).message.replace(/^--cdns/, cdnsFrom));
  }
  // edges and CDNs are pathways of one steering manifest: one id, one pathway
  const shared = cdns.find((c) => edges.some((e) => e.id === c.id));
  if (shared) throw new InputError(`${edgesFrom} and ${cdnsFrom} both name the pathway '${shared.id}'`);
  if (!(CDN_POLICIES as readonly string[]).includes(v['cdn-policy']))
    throw new InputError(`--cdn-policy must be one of ${CDN_POLICIES.join(', ')} (got '${v['cdn-policy']}')`);
  // token signing keys: --keys-file FILE, else EDGEPLAY_KEYS (kid=secret,… the first signing), else EDGEPLAY_SECRET
  let keys: SigningKey[] | undefined;
  const keysFile = v['keys-file'] ?? env.EDGEPLAY_KEYS_FILE;
  try {
    if (keysFile !== undefined) keys = parseSigningKeys(readFileSync(keysFile, 'utf8'));
    else if (env.EDGEPLAY_KEYS !== undefined) keys = parseSigningKeys(env.EDGEPLAY_KEYS);
  } catch (e) {
    const where = keysFile !== undefined ? `--keys-file ${keysFile}` : 'EDGEPLAY_KEYS';
    throw new InputError(`${where}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const [edgeKey, edgeKeyFrom] = source('edge-key', 'EDGEPLAY_EDGE_KEY');
  if (edgeKey !== undefined && edgeKey.length < 16) throw new InputError(`${edgeKeyFrom} must be at least 16 characters`);
  const [port, portFrom] = source('port', 'EDGEPLAY_PORT');
  const drlPath = v.drl ?? (policy === 'drl' ? 'models/edge-drl/mid.json' : undefined);
  if (drlPath !== undefined && !existsSync(drlPath)) throw new InputError(`--drl: no such file '${drlPath}'`);
  const taskSlots = num('task-slots', v['task-slots'], (n) => Number.isInteger(n) && n >= 0 && n <= 64, 'an integer 0–64')!;
  // the task threads load the viewport model from --models: a directory without it crashed a thread at start
  if (taskSlots > 0 && !existsSync(join(v.models, 'viewport', 'model.json')))
    throw new InputError(`--models ${v.models}: no viewport/model.json there (the model the --task-slots threads run)`);
  return {
    keys,
    edgeKey,
    taskSlots,
    taskLookahead: num('task-lookahead', v['task-lookahead'], (n) => Number.isInteger(n) && n >= 0 && n <= 64, 'an integer 0–64')!,
    taskHandoff: v['task-handoff'] as TaskHandoff,
    scheduler: v.scheduler as SchedulerName,
    modelsDir: v.models,
    port: num('port', port, (n) => Number.isInteger(n) && n >= 0 && n < 65536, 'a port number 0–65535', portFrom),
    host: v.host,
    dataDir: v.data,
    memory: v.memory,
    quiet: v.quiet,
    edges,
    redisUrl: v.redis ?? env.EDGEPLAY_REDIS,
    pgUrl,
    policy,
    drlPath,
    ratePerS: num('rate', v.rate, (n) => Number.isFinite(n) && n > 0, 'a positive number of negotiations per second'),
    rateWindowS: num('rate-window', v['rate-window'], (n) => Number.isFinite(n) && n > 0, 'a positive number of seconds'),
    cdns,
    cdnPolicy: v['cdn-policy'] as CdnPolicyName,
    cdnModel: v['cdn-model'],
    cdnStepS: num('cdn-step', v['cdn-step'], (n) => Number.isFinite(n) && n >= 0.05, 'a step length in seconds (≥ 0.05)')!,
    leaseS: num('lease', v.lease, (n) => Number.isFinite(n) && n > 0, 'a positive number of seconds'),
    steeringTtlS: num('steering-ttl', v['steering-ttl'], (n) => Number.isInteger(n) && n > 0, 'a positive whole number of seconds'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let cli: ReturnType<typeof parseCommandLine>;
  try {
    cli = parseCommandLine(process.argv.slice(2));
  } catch (e) {
    // a bad flag or environment value: one line naming it, exit 2 (as every train, bench and demo command)
    if (!(e instanceof InputError)) throw e;
    console.error(`server: ${e.message}`);
    process.exit(2);
  }
  const drl = cli.drlPath
    ? new (await import('../assign/edge/drl.js')).DrlAssignment(JSON.parse((await import('node:fs')).readFileSync(cli.drlPath, 'utf8')))
    : undefined;
  let cdnPolicy: ReturnType<typeof loadCdnPolicy> | undefined;
  try {
    if (cli.cdns.length)
      cdnPolicy = loadCdnPolicy(
        cli.cdnPolicy,
        cli.cdns.map((c) => c.id),
        cli.cdnModel,
      );
  } catch (e) {
    console.error(`server: ${(e as Error).message}`);
    process.exit(2);
  }
  const assignment = cli.redisUrl
    ? await (await import('./redis-store.js')).RedisAssignmentStore.connect(cli.redisUrl, cli.edges)
    : undefined;
  let tasks: TaskService | undefined;
  if (cli.taskSlots > 0) {
    const { TaskService } = await import('./tasks.js');
    const { TaskPool } = await import('./task-pool.js');
    // one worker_threads thread per compute slot, each with its own copy of the model
    // on deck: a busy thread gets its next task at once (the hand-off idled slots: BENCHMARKS.md "Task offloading")
    const lookahead = cli.taskLookahead;
    const pool = await new TaskPool({
      size: cli.taskSlots,
      modelsDir: cli.modelsDir,
      lookahead: Math.ceil(lookahead / cli.taskSlots),
      handoff: cli.taskHandoff,
    })
      .ready()
      .catch((e: Error) => {
        // a model that does not load (a corrupt file): one line, no stack
        console.error(`[edgeplay] controller not started: the task threads did not start (--models ${cli.modelsDir}): ${e.message}`);
        process.exit(1);
      });
    tasks = new TaskService({
      slots: cli.taskSlots,
      lookahead,
      scheduler: cli.scheduler,
      executors: { viewport: pool.executor() },
    });
  }
  const cdns = cdnPolicy
    ? new CdnScheduler({ cdns: cli.cdns, policy: cdnPolicy, stepMs: Math.round(cli.cdnStepS * 1000), redis: assignment?.client })
    : undefined;
  const s = await startServer({
    edgeKey: cli.edgeKey,
    tasks,
    port: cli.port,
    host: cli.host,
    dataDir: cli.dataDir,
    memory: cli.memory,
    pg: cli.pgUrl,
    logger: !cli.quiet,
    edges: cli.edges,
    assignment,
    redis: assignment?.client,
    cdns,
    ratePerS: cli.ratePerS,
    rateWindowS: cli.rateWindowS,
    leaseMs: cli.leaseS ? cli.leaseS * 1000 : undefined,
    steeringTtlS: cli.steeringTtlS,
    policy: cli.policy,
    drl,
    keys: cli.keys,
  }).catch((e: NodeJS.ErrnoException) => {
    // a store that cannot be reached at start, a port in use: one line saying what, no stack
    const how = e.code === 'EADDRINUSE' ? ': choose another with --port N (or EDGEPLAY_PORT)' : '';
    console.error(`[edgeplay] controller not started: ${e.message}${how}`);
    process.exit(1);
  });
  console.log(`[edgeplay] controller listening on ${s.url}`);
  const stop = () =>
    s.close().then(async () => {
      await s.store.close();
      await assignment?.close();
      process.exit(0);
    });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
