/**
 * Mux Data's Viewer Experience Scores (core/scores.ts) against worked examples computed by hand from the published
 * formulas, and the Mux-parity fields of the QoE accumulator (startup breakdown, watch time, up/downscaling, rendition
 * time, per-host request metrics, the scores of a view) on a hand-made event stream.
 */
import {
  playbackSuccessScore,
  smoothnessScore,
  startupTimeScore,
  videoQualityScore,
  viewerExperienceScore,
} from '../../src/core/scores.js';
import { summarizeView } from '../../src/core/qoe.js';
import type { EventData, EventType, TelemetryEvent } from '../../src/core/protocol.js';

describe('Mux Viewer Experience Scores', () => {
  it('Startup Time Score = 8 / (8 + s) × 100, matching every example Mux publishes', () => {
    // hand: 8/8.4 = 0.952381; 8/10 = 0.8; 8/16 = 0.5; 8/28 = 0.285714
    expect(startupTimeScore(400)).toBeCloseTo(95.2381, 3);
    expect(startupTimeScore(2000)).toBeCloseTo(80, 9);
    expect(startupTimeScore(8000)).toBeCloseTo(50, 9);
    expect(startupTimeScore(20000)).toBeCloseTo(28.5714, 3);
    // Mux's page rounds them: 400 ms → 95, 2 s → 80, 8 s → 50, 20 s → 29
    expect([400, 2000, 8000, 20000].map((ms) => Math.round(startupTimeScore(ms)))).toEqual([95, 80, 50, 29]);
    expect(startupTimeScore(0)).toBe(100);
    expect(() => startupTimeScore(-1)).toThrowError(RangeError);
  });

  it('Smoothness Score = mean of 100/√(1 + (n/2)²) and 100·e^(−10·share)', () => {
    expect(smoothnessScore(0, 0)).toBe(100);
    // one 5 s stall in a 5-minute video: watch time 305 s (Mux counts rebuffering in watch time)
    // count term 100/√1.25 = 89.4427, share term 100·e^(−10·5/305) = 84.8798 → 87.1612
    expect(smoothnessScore(1, 5 / 305)).toBeCloseTo(87.1612, 3);
    // four 15 s stalls in a 20-minute video: 100/√5 = 44.7214, 100·e^(−10·60/1260) = 62.1145 → 53.4179
    expect(smoothnessScore(4, 60 / 1260)).toBeCloseTo(53.4179, 3);
    // Mux's page gives 85 and 54 for these two (its own arithmetic: "average of 80 and 90", "of 44 and 60"); the
    // published formula gives 87.2 and 53.4 — we follow the formula (README, "Scores")
    expect(Math.abs(smoothnessScore(1, 5 / 305) - 85)).toBeLessThan(2.5);
    expect(Math.abs(smoothnessScore(4, 60 / 1260) - 54)).toBeLessThan(1);
  });

  it('Video Quality Score = 100·e^(−0.33·(0.15·max + 0.85·avg)) over upscale fractions', () => {
    expect(videoQualityScore(0, 0)).toBe(100);
    // Mux: "50% upscaling throughout: 85" — 100·e^(−0.165) = 84.7894
    expect(videoQualityScore(0.5, 0.5)).toBeCloseTo(84.7894, 3);
    expect(Math.round(videoQualityScore(0.5, 0.5))).toBe(85);
    // Mux: "200% upscaling for the first 30 seconds, and no upscaling for the next 20 minutes: 92"; the formula
    // gives 100·e^(−0.33·(0.15·2 + 0.85·2·30/1230)) = 89.3434 (documented in the README)
    expect(videoQualityScore(2, (2 * 30) / 1230)).toBeCloseTo(89.3434, 3);
    expect(videoQualityScore(1, 1)).toBeCloseTo(100 * Math.exp(-0.33), 9);
  });

  it('Playback Success Score: 100 played, 0 failed, 50 exit before start, none under 1 s or still starting', () => {
    expect(playbackSuccessScore({ failed: false, started: true, ended: true, ebvsMs: null })).toBe(100);
    expect(playbackSuccessScore({ failed: true, started: true, ended: true, ebvsMs: null })).toBe(0);
    expect(playbackSuccessScore({ failed: true, started: false, ended: true, ebvsMs: 5000 })).toBe(0);
    expect(playbackSuccessScore({ failed: false, started: false, ended: true, ebvsMs: 3000 })).toBe(50);
    expect(playbackSuccessScore({ failed: false, started: false, ended: true, ebvsMs: 999 })).toBeNull();
    expect(playbackSuccessScore({ failed: false, started: false, ended: false, ebvsMs: null })).toBeNull();
  });

  it('Overall Viewer Experience = success × mean of the three tradeoffs (our weights 3:2:1)', () => {
    // T(Sm,Q) = (3·100 + 100)/4 = 100, T(Sm,Su) = (3·100 + 2·80)/5 = 92, T(Su,Q) = (2·80 + 100)/3 = 86.667 → 92.889
    expect(viewerExperienceScore({ playbackSuccess: 100, startup: 80, smoothness: 100, quality: 100 })).toBeCloseTo(92.8889, 3);
    expect(viewerExperienceScore({ playbackSuccess: 100, startup: 100, smoothness: 100, quality: 100 })).toBe(100);
    expect(viewerExperienceScore({ playbackSuccess: 0, startup: 80, smoothness: 100, quality: 100 })).toBe(0);
    // an exit before start: no other score, success alone
    expect(viewerExperienceScore({ playbackSuccess: 50, startup: null, smoothness: null, quality: null })).toBe(50);
    // no quality score (no size known): T(Sm,Q) = Sm, T(Su,Q) = Su → (60 + (3·60 + 2·90)/5 + 90)/3 = 74
    expect(viewerExperienceScore({ playbackSuccess: 100, startup: 90, smoothness: 60, quality: null })).toBeCloseTo(74, 9);
    expect(viewerExperienceScore({ playbackSuccess: null, startup: 90, smoothness: 60, quality: 60 })).toBeNull();
  });
});

function stream(spec: Array<[number, EventType, EventData?]>): TelemetryEvent[] {
  return spec.map(([t, type, data], seq) => ({ view_id: 'view-00002', seq, t: 1_000_000 + t, type, ...(data ? { data } : {}) }));
}

describe('QoE summary: Mux parity fields', () => {
  const size = (width: number, height: number, dpr: number, video_width: number, video_height: number) => ({
    width,
    height,
    dpr,
    video_width,
    video_height,
  });
  const s = summarizeView(
    stream([
      [0, 'viewstart', { channel: 'news', device: 'desktop', page_load_ms: 700 }],
      [0, 'player_resize', size(640, 360, 1, 0, 0)],
      [300, 'player_ready', { player_startup_ms: 300 }],
      [400, 'play'],
      [1400, 'startup', { startup_ms: 1000, ttff_ms: 1400 }],
      [1400, 'bitrate', { bitrate: 1e6, level: 1, width: 1280, height: 720 }],
      [1400, 'player_resize', size(640, 360, 1, 1280, 720)], // shown at half: 50 % downscaling
      [11400, 'player_resize', size(1280, 720, 2, 1280, 720)], // 2560 × 1440 device px: 100 % upscaling
      [21400, 'bitrate', { bitrate: 2e6, level: 2, width: 1920, height: 1080 }],
      [21400, 'player_resize', size(1280, 720, 2, 1920, 1080)], // 2560/1920: 33.3 % upscaling
      [31400, 'rebuffer_start', { playhead: 30 }],
      [33400, 'rebuffer_end', { duration_ms: 2000 }],
      [
        43400,
        'requests',
        {
          host: 'a.example:1',
          cdn: 'cdn',
          count: 5,
          ok: 4,
          segments: 4,
          failures: 1,
          bytes: 4e6,
          busy_ms: 2000,
          ttfb_sum_ms: 400,
          ttfb_max_ms: 150,
        },
      ],
      [
        43400,
        'requests',
        {
          host: 'b.example:2',
          cdn: null,
          pathway: 'edge-1',
          count: 2,
          ok: 2,
          segments: 2,
          failures: 0,
          bytes: 1e6,
          busy_ms: 1000,
          ttfb_sum_ms: 60,
          ttfb_max_ms: 40,
        },
      ],
      [
        48400,
        'requests',
        {
          host: 'a.example:1',
          cdn: 'cdn',
          count: 1,
          ok: 1,
          segments: 1,
          failures: 0,
          bytes: 1e6,
          busy_ms: 500,
          ttfb_sum_ms: 200,
          ttfb_max_ms: 200,
        },
      ],
      [53400, 'viewend', { reason: 'test' }],
    ]),
  );

  it('breaks startup down as Mux does: page load + player startup + video startup', () => {
    expect(s.page_load_ms).toBe(700);
    expect(s.player_startup_ms).toBe(300);
    expect(s.startup_ms).toBe(1000);
    expect(s.aggregate_startup_ms).toBe(2000);
    expect(s.device).toBe('desktop');
  });

  it('time-weights up/downscaling over playing time, keeps the maxima, and times each rendition', () => {
    // playing 1.4–31.4 s and 33.4–53.4 s = 50 s: 10 s at scale 0.5, 10 s at 2, 30 s at 4/3
    expect(s.play_ms).toBe(50000);
    expect(s.downscale_pct!).toBeCloseTo((50 * 10) / 50, 9);
    expect(s.upscale_pct!).toBeCloseTo((100 * 10 + (100 / 3) * 30) / 50, 9);
    expect(s.max_upscale_pct!).toBeCloseTo(100, 9);
    expect(s.max_downscale_pct!).toBeCloseTo(50, 9);
    expect(s.rendition_play_ms).toEqual({ '720p@1000k': 20000, '1080p@2000k': 30000 });
  });

  it('measures watch time (startup wait + playing + rebuffering) and the rebuffer percentage of it', () => {
    expect(s.watch_ms).toBe(1000 + 50000 + 2000);
    expect(s.rebuffer_percentage).toBeCloseTo((100 * 2) / 53, 9);
    expect(s.rebuffer_per_min).toBeCloseTo(60 / 53, 9);
  });

  it('sums the request reports per host: count, failures, bytes, TTFB mean and max, Σ bits / Σ time', () => {
    expect(s.requests['a.example:1']).toEqual({
      cdn: 'cdn',
      pathway: null,
      count: 6,
      segments: 5,
      failures: 1,
      bytes: 5e6,
      ttfb_mean_ms: 600 / 5,
      ttfb_max_ms: 200,
      throughput_bps: (5e6 * 8000) / 2500,
    });
    expect(s.requests['b.example:2'].pathway).toBe('edge-1');
    expect(s.requests['b.example:2'].throughput_bps).toBe(8e6);
    expect(s.cdn).toBe('cdn');
    expect(s.host).toBe('a.example:1');
  });

  it('scores the view with the published formulas', () => {
    expect(s.score_playback_success).toBe(100);
    expect(s.score_startup!).toBeCloseTo((8 / 9) * 100, 9); // 1 s startup
    // (100/√1.25 + 100·e^(−10·2/53)) / 2 = (89.4427 + 68.5670) / 2
    expect(s.score_smoothness!).toBeCloseTo(79.0049, 3);
    // 100·e^(−0.33·(0.15·1 + 0.85·0.4))
    expect(s.score_video_quality!).toBeCloseTo(85.0696, 3);
    // ((3·79.0049 + 85.0696)/4 + (3·79.0049 + 2·88.8889)/5 + (2·88.8889 + 85.0696)/3) / 3 = (80.5211 + 82.9585 + 87.6158) / 3
    expect(s.score_viewer_experience!).toBeCloseTo(83.6985, 3);
  });

  it('gives an exit before start a playback success of 50 and nothing else', () => {
    const e = summarizeView(
      stream([
        [0, 'viewstart'],
        [100, 'play'],
        [3100, 'viewend', { reason: 'pagehide' }],
      ]),
    );
    expect(e.ebvs_ms).toBe(3000);
    expect(e.watch_ms).toBe(3000);
    expect(e.score_playback_success).toBe(50);
    expect(e.score_startup).toBeNull();
    expect(e.score_smoothness).toBeNull();
    expect(e.score_video_quality).toBeNull();
    expect(e.score_viewer_experience).toBe(50);
    const failed = summarizeView(
      stream([
        [0, 'viewstart'],
        [100, 'play'],
        [900, 'error', { fatal: true, type: 'networkError', details: 'manifestLoadError' }],
        [1000, 'viewend', { reason: 'error' }],
      ]),
    );
    expect(failed.startup_failed).toBeTrue();
    expect(failed.score_playback_success).toBe(0);
    expect(failed.score_viewer_experience).toBe(0);
  });
});
