/**
 * Negotiation and HLS Content Steering (ELCast's assignment carried by standards):
 *   POST /v1/negotiate               viewer, channel, preference weights, measured RTTs, bandwidth, the
 *                                    playlist's variants → assignment (edge or CDN, version / bitrate cap),
 *                                    a signed session token and the steering URI
 *   GET  /v1/steering/:session       steering manifest (VERSION 1, TTL, RELOAD-URI with the token,
 *                                    PATHWAY-PRIORITY assigned edge first then the CDN, PATHWAY-CLONES
 *                                    introducing the edge); reads _HLS_pathway / _HLS_throughput and
 *                                    re-decides; renews the lease; CMSD-Dynamic hints (mb, etp, du)
 *   POST /v1/sessions/:session/leave releases the lease
 * Tokens: HMAC-SHA256 over session and expiry. A token bucket per client address limits negotiations.
 */
import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { options, VERSIONS, type AssignmentPolicyName, type ViewerRequest } from '../assign/edge/model.js';
import { BASELINE_POLICIES, type AssignmentPolicy } from '../assign/edge/policy.js';
import { DEFAULT_WEIGHTS, validWeights, type PreferenceWeights } from '../core/preference.js';
import { NAME_PATTERN } from '../core/protocol.js';
import type { AssignmentStore } from './edges.js';
import type { DrlAssignment } from '../assign/edge/drl.js';

export interface NegotiateOptions {
  store: AssignmentStore;
  /** HMAC secret (default: random per process — tokens then do not survive a restart) */
  secret?: string;
  /** 'online-heu' (default), 'cloud-cdn', or 'drl' (needs `drl`) */
  policy?: AssignmentPolicyName | 'drl';
  /** the trained DRL assignment policy (models/edge-drl/<setting>.json) */
  drl?: DrlAssignment;
  /** lease length, ms (default 60 s; every steering reload renews it) */
  leaseMs?: number;
  /** steering manifest TTL, s (default 10) */
  steeringTtlS?: number;
  /** negotiations per second per client address (burst: twice that) */
  ratePerS?: number;
}

interface Session {
  id: string;
  channel: string;
  weights: PreferenceWeights;
  variants: Array<{ id: string; uri: string }>;
  req: ViewerRequest;
  target: string;
  version: number;
  expires: number;
  /** the pathway the last manifest put first (null before the first manifest) */
  advertised: string | null;
}

const ID = NAME_PATTERN;

// session ids from a pooled random buffer (one syscall per 256 ids instead of one per id)
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
function sessionId(len = 16): string {
  if (poolAt + len > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  let out = '';
  for (let i = 0; i < len; i++) out += ALPHABET[POOL[poolAt++] & 63];
  return out;
}

export function registerNegotiation(
  app: FastifyInstance,
  o: NegotiateOptions,
): { sessions: Map<string, Session>; checkToken: (session: string, token: unknown) => string | null } {
  const secret = o.secret ?? randomBytes(32).toString('hex');
  const leaseMs = o.leaseMs ?? 60000;
  const ttl = o.steeringTtlS ?? 10;
  const policy = o.policy ?? 'online-heu';
  if (policy === 'drl' && !o.drl) throw new Error("negotiation policy 'drl' needs the trained weights (drl option)");
  const ranker: AssignmentPolicy = policy === 'drl' ? o.drl! : BASELINE_POLICIES[policy];
  if (!ranker) throw new Error(`unknown negotiation policy ${policy}`);
  const edgeIds = o.store.edges().map((e) => e.id);
  const sessions = new Map<string, Session>();
  const sign = (sid: string, exp: number) => createHmac('sha256', secret).update(`${sid}.${exp}`).digest('base64url');
  const token = (sid: string, exp: number) => `${exp}.${sign(sid, exp)}`;
  const checkToken = (sid: string, tok: unknown): string | null => {
    if (typeof tok !== 'string') return 'token missing';
    const [exp, sig] = tok.split('.');
    if (!exp || !sig || !/^\d+$/.test(exp)) return 'token malformed';
    const want = Buffer.from(sign(sid, Number(exp)));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'token invalid';
    if (Number(exp) < Date.now()) return 'token expired';
    return null;
  };
  // token bucket per client address
  const buckets = new Map<string, { tokens: number; at: number }>();
  const rate = o.ratePerS ?? 50;
  const allow = (ip: string) => {
    const now = Date.now();
    const b = buckets.get(ip) ?? { tokens: 2 * rate, at: now };
    b.tokens = Math.min(2 * rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (buckets.size > 10000) buckets.clear();
    buckets.set(ip, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
  // sessions live as long as their lease (renewed by steering reloads); dropped in the background
  const gc = setInterval(() => {
    const now = Date.now();
    for (const [k, v] of sessions) if (v.expires < now) sessions.delete(k);
  }, 5000);
  gc.unref();
  app.addHook('onClose', async () => clearInterval(gc));
  const edgeUrl = (id: string) => o.store.edges().find((e) => e.id === id)?.url ?? null;

  /** decide, and if the store fails (Redis down), serve from the CDN rather than fail the viewer */
  const decideSafe = async (s: Session, throughputMbps?: number) => {
    try {
      return await decide(s, throughputMbps);
    } catch (e) {
      app.log.warn(`assignment store failed, serving ${s.id} from the CDN: ${(e as Error)?.message}`);
      s.target = 'cdn';
      return null;
    }
  };
  const decide = async (s: Session, throughputMbps?: number) => {
    if (throughputMbps && throughputMbps > 0) s.req.bandwidthMbps = throughputMbps;
    const lease = s.target === 'cdn' ? null : await o.store.lease(s.id); // a new or CDN session holds none
    const snap = await o.store.snapshot();
    const view = snap.map((e) => {
      // our own current lease is capacity we already hold: let the decision see it as free
      if (!lease || lease.edge !== e.id) return e;
      return { ...e, usedMbps: e.usedMbps - VERSIONS[lease.version].mbps };
    });
    const opts = options(s.req, view);
    // best first; a reservation can still lose a race against another controller process: try the next
    const ranked = [...ranker.rank(s.req, opts, view, edgeIds).map((k) => opts[k]), opts[0]];
    for (const best of ranked) {
      if (best.target === 'cdn') {
        await o.store.release(s.id);
        s.target = 'cdn';
        s.version = best.version;
        return best;
      }
      const r = await o.store.reserve(s.id, best.target, s.channel, best.version, leaseMs);
      if (r.ok) {
        s.target = best.target;
        s.version = best.version;
        return best;
      }
    }
    await o.store.release(s.id);
    s.target = 'cdn';
    s.version = opts[0].version;
    return opts[0];
  };

  const answer = (s: Session) => {
    const exp = Date.now() + 3600e3;
    const tok = token(s.id, exp);
    return {
      session: s.id,
      token: tok,
      assignment: {
        target: s.target,
        pathway: s.target === 'cdn' ? 'cdn' : s.target,
        version: VERSIONS[s.version].name,
        bitrate_cap_mbps: VERSIONS[s.version].mbps,
        edge_url: s.target === 'cdn' ? null : edgeUrl(s.target),
      },
      steering_uri: `/v1/steering/${s.id}?token=${encodeURIComponent(tok)}`,
      weights: s.weights,
      policy,
    };
  };

  app.post<{
    Body: {
      viewer_id: string;
      channel: string;
      region?: string;
      device?: string;
      weights?: PreferenceWeights;
      rtt_ms?: Record<string, number>;
      bandwidth_mbps?: number;
      variants?: Array<{ id: string; uri: string }>;
    };
  }>(
    '/v1/negotiate',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['viewer_id', 'channel'],
          properties: {
            viewer_id: { type: 'string', pattern: ID },
            channel: { type: 'string', pattern: ID },
            region: { type: 'string', maxLength: 64 },
            device: { type: 'string', enum: ['desktop', 'mobile', 'tv', 'headset', 'other'] },
            weights: {
              type: 'object',
              required: ['a1', 'a2', 'a3'],
              additionalProperties: false,
              properties: {
                a1: { type: 'number', minimum: 0, maximum: 10 },
                a2: { type: 'number', minimum: 0, maximum: 10 },
                a3: { type: 'number', minimum: 0, maximum: 10 },
              },
            },
            rtt_ms: { type: 'object', maxProperties: 32, additionalProperties: { type: 'number', minimum: 0, maximum: 60000 } },
            bandwidth_mbps: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
            variants: {
              type: 'array',
              maxItems: 32,
              items: {
                type: 'object',
                required: ['id', 'uri'],
                additionalProperties: false,
                properties: { id: { type: 'string', pattern: ID }, uri: { type: 'string', maxLength: 2048, pattern: '^https?://' } },
              },
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              session: { type: 'string' },
              token: { type: 'string' },
              steering_uri: { type: 'string' },
              policy: { type: 'string' },
              assignment: {
                type: 'object',
                properties: {
                  target: { type: 'string' },
                  pathway: { type: 'string' },
                  version: { type: 'string' },
                  bitrate_cap_mbps: { type: 'number' },
                  edge_url: { type: ['string', 'null'] },
                },
              },
              weights: { type: 'object', properties: { a1: { type: 'number' }, a2: { type: 'number' }, a3: { type: 'number' } } },
            },
          },
        },
      },
    },
    async (req, reply) => {
      if (!allow(req.ip))
        return reply
          .code(429)
          .header('retry-after', '1')
          .send({ error: 'rate_limited', message: 'too many negotiations from this client; retry in a second' });
      const b = req.body;
      if (b.weights && !validWeights(b.weights))
        return reply.code(400).send({ error: 'bad_request', message: 'body/weights must sum to 10 (a1 + a2 + a3)', field: 'body/weights' });
      const rtt = b.rtt_ms ?? {};
      const edges = o.store.edges();
      const s: Session = {
        id: sessionId(16),
        channel: b.channel,
        weights: b.weights ?? { ...DEFAULT_WEIGHTS },
        variants: b.variants ?? [],
        req: {
          channel: b.channel,
          weights: b.weights ?? { ...DEFAULT_WEIGHTS },
          bandwidthMbps: b.bandwidth_mbps ?? 10,
          // one-way latency = RTT / 2; unmeasured paths take the paper's midpoints
          cdnLatencyS: rtt.cdn != null ? rtt.cdn / 2000 : 0.4,
          edgeLatencyS: Object.fromEntries(edges.filter((e) => rtt[e.id] != null).map((e) => [e.id, rtt[e.id] / 2000])),
          edgeCdnLatencyS: Object.fromEntries(edges.map((e) => [e.id, e.cdnLatencyS ?? 0.05])),
        },
        target: 'cdn',
        version: 0,
        expires: Date.now() + leaseMs,
        advertised: null,
      };
      await decideSafe(s);
      sessions.set(s.id, s);
      return answer(s);
    },
  );

  app.get<{ Params: { session: string }; Querystring: { token?: string; _HLS_pathway?: string; _HLS_throughput?: string } }>(
    '/v1/steering/:session',
    {
      schema: {
        params: { type: 'object', required: ['session'], properties: { session: { type: 'string', pattern: ID } } },
        querystring: {
          type: 'object',
          properties: {
            token: { type: 'string', maxLength: 256 },
            _HLS_pathway: { type: 'string', maxLength: 128 },
            _HLS_throughput: { type: 'string', pattern: '^\\d{1,12}$' },
          },
        },
      },
    },
    async (req, reply) => {
      const s = sessions.get(req.params.session);
      const bad = checkToken(req.params.session, req.query.token);
      if (bad) return reply.code(403).send({ error: 'forbidden', message: bad });
      if (!s) return reply.code(404).send({ error: 'not_found', message: `no session ${req.params.session} (negotiate again)` });
      const thr = req.query._HLS_throughput ? Number(req.query._HLS_throughput) / 1e6 : undefined; // bit/s → Mb/s
      // the player left the edge an earlier manifest sent it to (hls.js penalises a failing pathway and moves
      // on): treat that edge as unusable for this session. Before any manifest it is simply still on 'cdn'.
      if (
        req.query._HLS_pathway &&
        s.advertised &&
        s.advertised !== 'cdn' &&
        s.target === s.advertised &&
        req.query._HLS_pathway !== s.advertised
      ) {
        await o.store.release(s.id).catch(() => false);
        s.req.edgeLatencyS = Object.fromEntries(Object.entries(s.req.edgeLatencyS).filter(([k]) => k !== s.target));
        s.target = 'cdn';
      }
      await decideSafe(s, thr);
      s.expires = Date.now() + leaseMs;
      if (s.target !== 'cdn') await o.store.renew(s.id, leaseMs).catch(() => false);
      const tok = token(s.id, Date.now() + 3600e3);
      const clones =
        s.target === 'cdn'
          ? []
          : [
              {
                'BASE-ID': 'cdn',
                ID: s.target,
                'URI-REPLACEMENT': {
                  'PER-VARIANT-URIS': Object.fromEntries(
                    s.variants.map((v) => {
                      const u = new URL(v.uri);
                      return [v.id, `${edgeUrl(s.target)}${u.pathname}${u.search}`];
                    }),
                  ),
                },
              },
            ];
      s.advertised = s.target;
      const snap = (await o.store.snapshot().catch(() => [])).find((e) => e.id === s.target);
      const duress = snap ? snap.usedMbps > 0.9 * snap.capMbps || snap.usedVcpu > 0.9 * snap.capVcpu : false;
      const cmsd = [
        `"${s.target}"`,
        `mb=${Math.round(VERSIONS[s.version].mbps * 1000)}`,
        `etp=${Math.round(s.req.bandwidthMbps * 1000)}`,
        ...(duress ? ['du'] : []),
      ].join(';');
      return reply
        .header('cmsd-dynamic', cmsd)
        .header('cache-control', 'no-store')
        .send({
          VERSION: 1,
          TTL: ttl,
          'RELOAD-URI': `/v1/steering/${s.id}?token=${encodeURIComponent(tok)}`,
          'PATHWAY-PRIORITY': s.target === 'cdn' ? ['cdn'] : [s.target, 'cdn'],
          ...(clones.length ? { 'PATHWAY-CLONES': clones } : {}),
        });
    },
  );

  app.post<{ Params: { session: string }; Querystring: { token?: string } }>(
    '/v1/sessions/:session/leave',
    {
      schema: {
        params: { type: 'object', required: ['session'], properties: { session: { type: 'string', pattern: ID } } },
        querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 256 } } },
      },
    },
    async (req, reply) => {
      const bad = checkToken(req.params.session, req.query.token);
      if (bad) return reply.code(403).send({ error: 'forbidden', message: bad });
      const released = await o.store.release(req.params.session).catch(() => false);
      sessions.delete(req.params.session);
      return { released };
    },
  );

  return { sessions, checkToken };
}
