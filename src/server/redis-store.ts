/**
 * The assignment store in Redis, so several controller processes share one view of edge capacity.
 * A reservation is one Lua script (atomic in Redis): it sweeps expired leases, releases the session's
 * previous lease, computes the edge's usage, checks capacity, reserves and writes the lease. Every key
 * carries the hash tag {<prefix>} so a Redis Cluster keeps them in one slot (scripts need that).
 *   {p}:use:<edge>     hash  ch:<channel> → viewers, v:<channel>:<version> → viewers
 *   {p}:lease:<sess>   hash  edge, channel, version, expires
 *   {p}:leases         zset  session → expiry (ms)
 *   {p}:down           set   edges marked down
 * Usage is derived from the counters exactly as the memory store does (the Lua below mirrors `edgeDemand` of
 * src/assign/edge/model.ts, the one TypeScript statement of the per-edge cost: one CDN pull per channel carried,
 * one transcode per (channel, version) below the top, each viewer's version bitrate).
 */
import type { Redis } from 'ioredis';
import { EDGE_SETTINGS, VERSIONS, type EdgeState } from '../assign/edge/model.js';
import type { AssignmentStore, EdgeConfig, Lease, Reservation } from './edges.js';

const MBPS = JSON.stringify(VERSIONS.map((v) => v.mbps));
const VCPU = JSON.stringify(VERSIONS.map((v) => v.vcpu));

// KEYS: [1] use-prefix "{p}:use:", [2] lease-prefix "{p}:lease:", [3] leases zset
// shared Lua: release(session) and usage(edge)
const LIB = `
local mbps = cjson.decode('${MBPS}')
local vcpu = cjson.decode('${VCPU}')
local function release(sess)
  local lk = KEYS[2] .. sess
  local l = redis.call('HMGET', lk, 'edge', 'channel', 'version')
  if not l[1] then return 0 end
  local uk = KEYS[1] .. l[1]
  local n = redis.call('HINCRBY', uk, 'ch:' .. l[2], -1)
  if n <= 0 then redis.call('HDEL', uk, 'ch:' .. l[2]) end
  local vf = 'v:' .. l[2] .. ':' .. l[3]
  local m = redis.call('HINCRBY', uk, vf, -1)
  if m <= 0 then redis.call('HDEL', uk, vf) end
  redis.call('DEL', lk)
  redis.call('ZREM', KEYS[3], sess)
  return 1
end
local function sweep(now)
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  for _, s in ipairs(old) do release(s) end
  return #old
end
local function usage(edge)
  local h = redis.call('HGETALL', KEYS[1] .. edge)
  local used_mbps, used_vcpu = 0, 0
  for i = 1, #h, 2 do
    local f, c = h[i], tonumber(h[i + 1])
    if c > 0 then
      if string.sub(f, 1, 3) == 'ch:' then used_mbps = used_mbps + mbps[1]
      else
        local ver = tonumber(string.match(f, ':(%d+)$'))
        used_mbps = used_mbps + c * mbps[ver + 1]
        if ver > 0 then used_vcpu = used_vcpu + vcpu[ver + 1] end
      end
    end
  end
  return used_mbps, used_vcpu
end
`;

// ARGV: session, edge, channel, version, ttl, now, capMbps, capVcpu, downFlag
const RESERVE =
  LIB +
  `
local sess, edge, ch, ver, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local capm, capv = tonumber(ARGV[7]), tonumber(ARGV[8])
if ARGV[9] == '1' then return 'down' end
sweep(now)
local prev = redis.call('HMGET', KEYS[2] .. sess, 'edge', 'channel', 'version', 'expires')
release(sess)
local uk = KEYS[1] .. edge
local um, uv = usage(edge)
local carried = redis.call('HEXISTS', uk, 'ch:' .. ch) == 1
local addm = mbps[ver + 1]
if not carried then addm = addm + mbps[1] end
local addv = 0
if ver > 0 and redis.call('HEXISTS', uk, 'v:' .. ch .. ':' .. ver) == 0 then addv = vcpu[ver + 1] end
if um + addm > capm + 1e-9 or uv + addv > capv + 1e-9 then
  if prev[1] then
    -- put the previous lease back as it was
    local puk = KEYS[1] .. prev[1]
    redis.call('HINCRBY', puk, 'ch:' .. prev[2], 1)
    redis.call('HINCRBY', puk, 'v:' .. prev[2] .. ':' .. prev[3], 1)
    redis.call('HSET', KEYS[2] .. sess, 'edge', prev[1], 'channel', prev[2], 'version', prev[3], 'expires', prev[4])
    redis.call('ZADD', KEYS[3], prev[4], sess)
  end
  return 'full'
end
redis.call('HINCRBY', uk, 'ch:' .. ch, 1)
redis.call('HINCRBY', uk, 'v:' .. ch .. ':' .. ver, 1)
redis.call('HSET', KEYS[2] .. sess, 'edge', edge, 'channel', ch, 'version', ver, 'expires', now + ttl)
redis.call('ZADD', KEYS[3], now + ttl, sess)
return 'ok'
`;

const RELEASE = LIB + `return release(ARGV[1])`;
const SWEEP = LIB + `return sweep(tonumber(ARGV[1]))`;
const RENEW = `
local e = redis.call('HGET', KEYS[2] .. ARGV[1], 'expires')
if not e or tonumber(e) <= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2] .. ARGV[1], 'expires', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1
`;

export class RedisAssignmentStore implements AssignmentStore {
  private keys: [string, string, string];
  private cfg: Map<string, EdgeConfig>;

  private constructor(
    private redis: Redis,
    edges: EdgeConfig[],
    private prefix: string,
  ) {
    for (const e of edges) if (!EDGE_SETTINGS[e.setting]) throw new Error(`edge ${e.id}: unknown setting ${e.setting} (fat | mid | thin)`);
    this.cfg = new Map(edges.map((e) => [e.id, e]));
    const p = `{${prefix}}`;
    this.keys = [`${p}:use:`, `${p}:lease:`, `${p}:leases`];
    redis.defineCommand('epReserve', { numberOfKeys: 3, lua: RESERVE });
    redis.defineCommand('epRelease', { numberOfKeys: 3, lua: RELEASE });
    redis.defineCommand('epSweep', { numberOfKeys: 3, lua: SWEEP });
    redis.defineCommand('epRenew', { numberOfKeys: 3, lua: RENEW });
  }

  /** Connect (redis://host:port) and return the store; `prefix` namespaces the keys (default 'edgeplay'). */
  static async connect(url: string, edges: EdgeConfig[], prefix = 'edgeplay'): Promise<RedisAssignmentStore> {
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true });
    let warned = false;
    redis.on('error', (e: Error) => {
      if (!warned) {
        warned = true;
        console.error(`[edgeplay] redis ${url}: ${e.message} (reservations fail over to the CDN until it is back)`);
      }
    });
    redis.on('ready', () => {
      warned = false;
    });
    await redis.connect();
    return new RedisAssignmentStore(redis, edges, prefix);
  }

  /** The connection (for other state shared through the same Redis: the rate-limit counters). */
  get client(): Redis {
    return this.redis;
  }

  private cmd(name: string, ...args: Array<string | number>): Promise<unknown> {
    return (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name](...this.keys, ...args);
  }

  edges(): EdgeConfig[] {
    return [...this.cfg.values()];
  }

  async snapshot(): Promise<EdgeState[]> {
    const down = new Set(await this.redis.smembers(`{${this.prefix}}:down`));
    const out: EdgeState[] = [];
    const ids = [...this.cfg.keys()].filter((id) => !down.has(id));
    const hashes = await Promise.all(ids.map((id) => this.redis.hgetall(this.keys[0] + id)));
    ids.forEach((id, i) => {
      const cap = EDGE_SETTINGS[this.cfg.get(id)!.setting];
      let mbps = 0,
        vcpu = 0;
      const channels = new Map<string, Set<number>>();
      for (const [f, v] of Object.entries(hashes[i])) {
        const c = Number(v);
        if (!(c > 0)) continue;
        if (f.startsWith('ch:')) {
          mbps += VERSIONS[0].mbps;
          if (!channels.has(f.slice(3))) channels.set(f.slice(3), new Set());
          continue;
        }
        const m = /^v:(.*):(\d+)$/.exec(f);
        if (!m) continue;
        const ver = Number(m[2]);
        mbps += c * VERSIONS[ver].mbps;
        if (ver > 0) vcpu += VERSIONS[ver].vcpu;
        (channels.get(m[1]) ?? channels.set(m[1], new Set()).get(m[1])!).add(ver);
      }
      out.push({ id, capMbps: cap.mbps, capVcpu: cap.vcpu, usedMbps: mbps, usedVcpu: vcpu, channels });
    });
    return out;
  }

  async reserve(session: string, edge: string, channel: string, version: number, ttlMs: number, now = Date.now()): Promise<Reservation> {
    const c = this.cfg.get(edge);
    if (!c) return { ok: false, reason: `unknown edge ${edge}` };
    if (!(version >= 0 && version < VERSIONS.length)) return { ok: false, reason: `bad version ${version}` };
    const down = await this.redis.sismember(`{${this.prefix}}:down`, edge);
    const cap = EDGE_SETTINGS[c.setting];
    const r = await this.cmd('epReserve', session, edge, channel, version, Math.round(ttlMs), now, cap.mbps, cap.vcpu, down ? '1' : '0');
    if (r === 'ok') return { ok: true };
    return { ok: false, reason: r === 'down' ? `edge ${edge} is down` : `edge ${edge} is full` };
  }

  async renew(session: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    return (await this.cmd('epRenew', session, now, now + Math.round(ttlMs))) === 1;
  }

  async release(session: string): Promise<boolean> {
    return (await this.cmd('epRelease', session)) === 1;
  }

  async lease(session: string): Promise<Lease | null> {
    const h = await this.redis.hgetall(this.keys[1] + session);
    if (!h.edge || Number(h.expires) <= Date.now()) return null;
    return { session, edge: h.edge, channel: h.channel, version: Number(h.version), expires: Number(h.expires) };
  }

  async sweep(now = Date.now()): Promise<number> {
    return Number(await this.cmd('epSweep', now));
  }

  async markDown(edge: string, down: boolean): Promise<void> {
    if (down) await this.redis.sadd(`{${this.prefix}}:down`, edge);
    else await this.redis.srem(`{${this.prefix}}:down`, edge);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
