/**
 * The fleet under faults (bench/chaos.ts, the scenario of `npm run bench:chaos`, smaller): two controller
 * processes on one Redis and one PostgreSQL (real ones, started here), simulated viewers through a round-robin
 * balancer, while one controller is kill -9ed and restarted, then Redis is restarted, then PostgreSQL. Counted,
 * not timed: every acknowledged batch stored once, no edge ever above capacity, no 404 for a live session's
 * steering reload, and after each fault the fleet serves again. Pending when redis-server or PostgreSQL is absent.
 */
import { runChaos } from '../../bench/chaos.js';
import { havePostgres, haveRedis, whyNoPostgres, whyNoRedis } from '../services.js';

describe('controller fleet under faults (chaos)', () => {
  it('loses and duplicates no acknowledged batch, never over-allocates an edge and never 404s a live session through a controller kill -9, a Redis and a PostgreSQL restart', async () => {
    if (!haveRedis) return pending(whyNoRedis);
    if (!havePostgres) return pending(whyNoPostgres);
    // each window waits for its own steady service (counted: steering reloads and batches answered), never on a clock alone
    const r = await runChaos({
      viewers: 40,
      tickMs: 1000,
      steadyMs: 1000,
      steadyRequests: 20,
      downMs: 500,
      resendP: 0.2,
      rampMs: 2000,
      out: null,
      log: () => {},
    });
    expect(r.rows.map((x) => x.fault)).toEqual(['none', 'controller-kill9', 'redis-restart', 'postgres-restart']);
    for (const row of r.rows) {
      const ctx = JSON.stringify(row);
      expect(row.acked).withContext(ctx).toBeGreaterThan(0); // telemetry flowed in every window
      expect(row.lost).withContext(ctx).toBe(0);
      expect(row.duplicated).withContext(ctx).toBe(0);
      expect(row.stored).withContext(ctx).toBe(row.acked);
      expect(row.steering_404).withContext(ctx).toBe(0);
      expect(row.max_usage_over_capacity).withContext(ctx).toBe(0);
      if (row.fault !== 'none') expect(row.recovery_s).withContext(ctx).not.toBeNull(); // the fleet served again
      expect(row.requests.steering?.['200'] ?? 0)
        .withContext(ctx)
        .toBeGreaterThan(0);
    }
    // the edges were under pressure (the invariant was tested near full), and usage was sampled in every window but
    // the Redis outage's own
    expect(Math.max(...r.rows.map((x) => x.max_usage_ratio))).toBeGreaterThan(0.8);
    // the sampler (a process of its own) sampled every window Redis was up in, and its curve covers the run
    for (const row of r.rows.filter((x) => x.fault !== 'redis-restart')) expect(row.samples).withContext(row.fault).toBeGreaterThan(0);
    expect(r.usage_curve.samples).toBe(r.rows.reduce((a, x) => a + x.samples, 0));
    expect(r.usage_curve.t_s.length).toBeGreaterThan(0);
    for (const e of Object.values(r.usage_curve.edges)) expect(e.used_mbps.length).toBe(r.usage_curve.t_s.length);
    // a Redis outage is a 503 (then the CDN), a PostgreSQL outage a 503 to telemetry (sent again): both were seen
    const redis = r.rows[2].requests,
      pg = r.rows[3].requests;
    expect((redis.negotiate?.['503'] ?? 0) + (redis.steering?.['503'] ?? 0)).toBeGreaterThan(0);
    expect(pg.telemetry?.['503'] ?? 0).toBeGreaterThan(0);
  }, 600000);
});
