/** QoE accumulator: the definitions the README documents, on hand-made event streams. */
import { QoeAccumulator, summarizeView } from '../../src/core/qoe.js';
import type { EventData, EventType, TelemetryEvent } from '../../src/core/protocol.js';

function stream(spec: Array<[number, EventType, EventData?]>): TelemetryEvent[] {
  return spec.map(([t, type, data], seq) => ({ view_id: 'view-00001', seq, t: 1_000_000 + t, type, ...(data ? { data } : {}) }));
}

describe('QoE summary', () => {
  const ev = stream([
    [0, 'viewstart', { content_id: 'c', channel: 'news' }],
    [100, 'play'],
    [1100, 'startup', { startup_ms: 1000, ttff_ms: 1100 }],
    [1100, 'bitrate', { bitrate: 1_000_000, prev_bitrate: null }],
    [11100, 'bitrate', { bitrate: 3_000_000 }], // 10 s at 1 Mbps
    [21100, 'rebuffer_start', { playhead: 20 }], // 10 s at 3 Mbps
    [23100, 'rebuffer_end', { duration_ms: 2000 }],
    [33100, 'bitrate', { bitrate: 2_000_000 }], // 10 s more at 3 Mbps
    [43100, 'pause'], // 10 s at 2 Mbps
    [53100, 'resume'], // paused 10 s: not playing time
    [53100, 'interaction', { kind: 'chat' }],
    [54100, 'interaction', { kind: 'chat' }],
    [54100, 'interaction', { kind: 'like' }],
    [63100, 'heartbeat', { latency_s: 3, dropped: 4, frames: 1000 }], // 10 s at 2 Mbps
    [73100, 'heartbeat', { latency_s: 5, dropped: 6, frames: 2000 }],
    [100000, 'viewend', { reason: 'test' }],
  ]);
  const s = summarizeView(ev);

  it('computes startup, play time, view time', () => {
    expect(s.startup_ms).toBe(1000);
    expect(s.ttff_ms).toBe(1100);
    expect(s.view_ms).toBe(100000);
    // playing: 1100..21100, 23100..43100, 53100..100000
    expect(s.play_ms).toBe(20000 + 20000 + 46900);
    expect(s.exited_before_start).toBeFalse();
  });

  it('computes rebuffering with the LTS definitions', () => {
    expect(s.rebuffer_count).toBe(1);
    expect(s.rebuffer_ms).toBe(2000);
    expect(s.rebuffer_ratio_pct).toBeCloseTo(2, 9); // 2 s per 100 s
    expect(s.rebuffer_per_100s).toBeCloseTo(1, 9);
  });

  it('time-weights the bitrate over playing time and counts switches', () => {
    const expected = (1e6 * 10000 + 3e6 * 20000 + 2e6 * 56900) / 86900;
    expect(s.bitrate_avg_bps!).toBeCloseTo(expected, 3);
    expect(s.switch_up).toBe(1);
    expect(s.switch_down).toBe(1);
    expect(s.switch_magnitude_mean_bps).toBe((2e6 + 1e6) / 2);
  });

  it('reports latency, frames, interactions', () => {
    expect(s.latency_avg_s).toBe(4);
    expect(s.latency_last_s).toBe(5);
    expect(s.dropped_frames).toBe(6);
    expect(s.total_frames).toBe(2000);
    expect(s.interactions).toEqual({ chat: 2, like: 1 });
  });

  it('flags exits before start and counts an open stall up to now', () => {
    const e2 = summarizeView(
      stream([
        [0, 'viewstart'],
        [50, 'play'],
        [4000, 'viewend', { reason: 'pagehide' }],
      ]),
    );
    expect(e2.exited_before_start).toBeTrue();
    expect(e2.startup_ms).toBeNull();
    const acc = new QoeAccumulator();
    for (const e of stream([
      [0, 'viewstart'],
      [500, 'startup', { startup_ms: 500 }],
      [1500, 'rebuffer_start'],
    ]))
      acc.add(e);
    const live = acc.summary(1_000_000 + 4500);
    expect(live.rebuffer_count).toBe(1);
    expect(live.rebuffer_ms).toBe(3000);
    expect(live.play_ms).toBe(1000);
  });

  it('is order-independent on input (sorts by seq) and robust to a clock going backwards', () => {
    const shuffled = [...ev].reverse();
    expect(summarizeView(shuffled)).toEqual(s);
    const back = summarizeView(
      stream([
        [0, 'viewstart'],
        [1000, 'startup', { startup_ms: 1000 }],
        [500, 'heartbeat'],
        [2000, 'viewend'],
      ]),
    );
    expect(back.play_ms).toBeGreaterThanOrEqual(0);
  });

  it('counts seeks and their latency, not as rebuffers', () => {
    const s3 = summarizeView(
      stream([
        [0, 'viewstart'],
        [500, 'startup', { startup_ms: 500 }],
        [1000, 'seek_start', { from: 0.5 }],
        [1400, 'seek_end', { to: 60, latency_ms: 400 }],
        [3000, 'viewend'],
      ]),
    );
    expect(s3.seek_count).toBe(1);
    expect(s3.seek_latency_mean_ms).toBe(400);
    expect(s3.rebuffer_count).toBe(0);
    expect(s3.play_ms).toBe(500 + 1600);
  });
});

import Ajv from 'ajv';
import { sanitizeData } from '../../src/core/protocol.js';
import { TelemetryBatchSchema as telemetryBatchSchema } from '../../src/core/schemas/telemetry.js';

describe('sanitizeData', () => {
  it('turns any app data into data the server schema accepts', () => {
    const ajv = new Ajv({ allowUnionTypes: true });
    const validate = ajv.compile(telemetryBatchSchema);
    const nasty: Record<string, unknown> = {
      ok: 1,
      camelCase: 'x',
      'with space': true,
      nested: { a: [1, 2] },
      big: 'y'.repeat(5000),
      nan: NaN,
      undef: undefined,
      ['__proto__']: 'p',
      fn: () => 1,
      '9lives': 1,
    };
    for (let i = 0; i < 40; i++) nasty[`k${i}`] = i;
    const d = sanitizeData(nasty);
    const batch = {
      v: 1,
      batch_id: 'abcdefgh1',
      viewer_id: 'abcdefgh2',
      session_id: 'abcdefgh3',
      sealed_at: 1,
      events: [{ view_id: 'abcdefgh4', seq: 0, t: 1, type: 'custom', data: d }],
    };
    expect(validate(batch)).withContext(JSON.stringify(validate.errors)).toBeTrue();
    expect(d.ok).toBe(1);
    expect(d.camel_case).toBe('x');
    expect(d.nested).toBe('{"a":[1,2]}');
    expect((d.big as string).length).toBe(512);
    expect(d.nan).toBeNull();
    expect('undef' in d).toBeFalse();
    expect(Object.keys(d).length).toBeLessThanOrEqual(32);
  });
});

// issue 18 items 5, 7, 8: the view's state and counts follow the element whatever order things happen in
describe('QoE state across seeks, pauses, stalls and unknown bitrates', () => {
  const START: Array<[number, EventType, EventData?]> = [
    [0, 'viewstart', { content_id: 'c', channel: 'news' }],
    [0, 'play'],
    [0, 'startup', { startup_ms: 0, ttff_ms: 0 }],
  ];

  it('play pressed while a seek from pause is in flight: playing once the seek ends', () => {
    const s = summarizeView(
      stream([
        ...START,
        [5000, 'pause', { playhead: 5 }],
        [5100, 'seek_start', { from: 5 }],
        [5150, 'resume'],
        [5300, 'seek_end', { to: 90, latency_ms: 200 }],
        [15300, 'heartbeat', {}],
      ]),
    );
    expect(s.play_ms).toBe(15000); // 5 s before, 10 s after; the seek is not playing time
    expect(s.state).toBe('playing');
    expect(s.seek_count).toBe(1);
  });

  it('paused during a seek from playing: paused once the seek ends', () => {
    const s = summarizeView(
      stream([
        ...START,
        [5000, 'seek_start', { from: 5 }],
        [5050, 'pause', { playhead: 5 }],
        [5200, 'seek_end', { to: 9, latency_ms: 200 }],
        [15200, 'heartbeat', {}],
      ]),
    );
    expect(s.play_ms).toBe(5000);
    expect(s.state).toBe('paused');
  });

  it('play after the end restarts playback', () => {
    const s = summarizeView(stream([...START, [8000, 'ended'], [9000, 'resume'], [19000, 'heartbeat', {}]]));
    expect(s.play_ms).toBe(18000);
    expect(s.state).toBe('playing');
    expect(s.ended).toBeTrue();
  });

  it('a stall interrupted by a pause is one stall, without the pause time', () => {
    const s = summarizeView(
      stream([
        ...START,
        [10000, 'rebuffer_start', { playhead: 10 }],
        [11000, 'rebuffer_end', { duration_ms: 1000 }],
        [11000, 'pause', { playhead: 10 }],
        [15000, 'resume'],
        [15000, 'rebuffer_start', { playhead: 10, continued: true }],
        [17000, 'rebuffer_end', { duration_ms: 2000 }],
        [27000, 'heartbeat', {}],
      ]),
    );
    expect(s.rebuffer_count).toBe(1);
    expect(s.rebuffer_ms).toBe(3000);
    expect(s.play_ms).toBe(20000);
    // an open stall at the end of the data counts once too
    const open = summarizeView(stream([...START, [10000, 'rebuffer_start', { playhead: 10 }], [12000, 'heartbeat', {}]]));
    expect(open.rebuffer_count).toBe(1);
    expect(open.rebuffer_ms).toBe(2000);
  });

  it('a rendition with no declared bitrate is unknown, never 0, until its fragments measure it', () => {
    const s = summarizeView(
      stream([
        ...START,
        [0, 'bitrate', { bitrate: null, prev_bitrate: null, level: 0, measured: true }],
        [4000, 'bitrate', { bitrate: 380000, prev_bitrate: null, level: 0, measured: true }],
        [14000, 'bitrate', { bitrate: 420000, prev_bitrate: 380000, level: 0, measured: true }],
        [24000, 'heartbeat', {}],
      ]),
    );
    expect(s.bitrate_avg_bps).toBe(400000); // 10 s at 380 kb/s, 10 s at 420 kb/s; the unknown 4 s left out
    expect(s.switch_count).toBe(0); // new estimates of the same rendition are not switches
    // a switch to a rendition whose bitrate is unknown still counts, by level
    const sw = summarizeView(
      stream([
        ...START,
        [0, 'bitrate', { bitrate: 1_000_000, prev_bitrate: null, level: 0 }],
        [10000, 'bitrate', { bitrate: null, prev_bitrate: 1_000_000, level: 1, measured: true }],
        [20000, 'heartbeat', {}],
      ]),
    );
    expect(sw.switch_up).toBe(1);
    expect(sw.bitrate_avg_bps).toBe(1_000_000);
  });
});
