/**
 * QoE accounting against what the media element really does (issue 18 items 5–8): seeks started from any
 * state, jumps the player makes by itself, levels without a declared bitrate, a stall a pause interrupts.
 * Real Chromium, real hls.js, the dev server's generated streams and the real controller.
 */
import Hls from 'hls.js';
import { env, player, serverSummary, sleep, until } from './util.js';

describe('QoE follows the element', () => {
  // item 5: play pressed while a seek from pause was in flight left the view 'paused' and play_ms frozen
  it('a seek started from pause, with play pressed during it, plays on', async () => {
    const p = player({ src: `${env.dev}/streams/vod/master.m3u8`, heartbeatMs: 1000 });
    try {
      await until(() => p.video.currentTime > 2, 'playback', 20000);
      p.video.pause();
      await until(() => p.ep.currentView!.summary().state === 'paused', 'paused', 5000);
      const before = p.ep.currentView!.summary().play_ms;
      p.video.currentTime = 90;
      void p.video.play().catch(() => undefined);
      await until(() => p.video.currentTime > 93, 'three seconds of playback after the seek', 30000);
      const s = p.ep.currentView!.summary();
      const playedAfter = (p.video.currentTime - 90) * 1000;
      expect(s.state).toBe('playing');
      expect(s.seek_count).toBe(1);
      // play time grows with what the element played after the seek (it stayed frozen before the fix); the
      // margin is event delivery ('playing' reaches the page after the playhead starts), not machine speed
      expect(before).toBeGreaterThan(1500);
      expect(s.play_ms - before)
        .withContext(`play_ms ${before} → ${s.play_ms}, element played ${playedAfter} ms after the seek`)
        .toBeGreaterThan(playedAfter - 500);
    } finally {
      await p.destroy();
    }
  });

  // item 6: an 8 s VOD with video.loop (the 360 viewer sets it) counted every wrap as a seek
  it('a looping video wraps around without counting seeks', async () => {
    const p = player({ src: `${env.dev}/streams/vod/master.m3u8?limit=2`, loop: true, heartbeatMs: 1000 });
    let wraps = 0,
      last = 0;
    const onTime = () => {
      if (p.video.currentTime < last - 4) wraps++;
      last = p.video.currentTime;
    };
    p.video.addEventListener('timeupdate', onTime);
    try {
      await until(() => wraps >= 2, 'two wraps of the 8 s loop', 40000, 100);
      await sleep(500);
      const s = p.ep.currentView!.summary();
      expect(s.seek_count).toBe(0);
      expect(p.events.filter((e) => e.type === 'seek_start' || e.type === 'seek_end')).toEqual([]);
      expect(s.ended).toBeFalse();
      expect(s.state).toBe('playing');
      // a seek by the viewer still counts
      p.video.currentTime = 2;
      await until(() => p.events.find((e) => e.type === 'seek_end'), 'the viewer seek', 10000);
      expect(p.ep.currentView!.summary().seek_count).toBe(1);
    } finally {
      p.video.removeEventListener('timeupdate', onTime);
      await p.destroy();
    }
  });

  // item 7: a media playlist as the source (no BANDWIDTH) reported bitrate 0, averaged in with real values
  it('measures the bitrate of a level that declares none, never reporting 0', async () => {
    const p = player({ src: `${env.dev}/streams/vod/v3/index.m3u8?limit=6`, heartbeatMs: 1000 });
    let loaded = 0,
      bits = 0,
      secs = 0;
    p.hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
      if (d.frag.type !== 'main') return;
      loaded++;
      bits += d.frag.stats.loaded * 8;
      secs += d.frag.duration;
    });
    try {
      await until(() => loaded >= 3 && p.video.currentTime > 5, 'three fragments and five seconds played', 30000);
      expect(p.hls.levels.length).toBe(1);
      expect(p.hls.levels[0].bitrate || 0).toBe(0); // the playlist declares none
      const rates = p.events.filter((e) => e.type === 'bitrate').map((e) => e.data?.bitrate);
      expect(rates).not.toContain(0);
      const known = rates.filter((b): b is number => typeof b === 'number');
      expect(known.length).toBeGreaterThan(0);
      // the measured value is the fragments' bytes × 8 / duration (the dev server's bytes), within 10 %
      expect(Math.abs(known[known.length - 1] - bits / secs) / (bits / secs)).toBeLessThan(0.1);
      const viewId = p.ep.currentView!.id;
      await p.ep.flush();
      const srv = await serverSummary(viewId);
      expect(srv.bitrate_avg_bps as number).toBeGreaterThan(0.5 * (bits / secs));
      expect(srv.switch_count).toBe(0);
    } finally {
      await p.destroy();
    }
  });

  // item 8: a pause during a stall split it into two stalls
  it('counts a stall interrupted by a pause once, without the pause time', async () => {
    // the outage trace: 12 s at 8 Mb/s, then 60 s at 0.02 Mb/s — the stall outlasts the pause
    const p = player({
      src: `${env.dev}/streams/vod/master.m3u8?trace=outage`,
      hlsConfig: { maxBufferLength: 8, maxMaxBufferLength: 8 },
      heartbeatMs: 1000,
    });
    try {
      const first = await until(() => p.events.find((e) => e.type === 'rebuffer_start'), 'a stall', 90000, 100);
      await sleep(1000);
      expect(p.ep.currentView!.summary().state).toBe('rebuffering'); // still stalled when paused
      p.video.pause();
      await sleep(4000);
      void p.video.play().catch(() => undefined);
      // the stall goes on after the resume: the same stall
      const cont = await until(
        () => p.events.find((e) => e.type === 'rebuffer_start' && e.data?.continued === true),
        'the stall to go on',
        10000,
        50,
      );
      await sleep(1500);
      const s = p.ep.currentView!.summary();
      expect(s.rebuffer_count).toBe(1);
      expect(p.events.filter((e) => e.type === 'rebuffer_start' && e.data?.continued !== true).length).toBe(1);
      // stall time = before the pause + since the resume; the 4 s paused in between are not stall time
      const atPause = p.events.find((e) => e.type === 'rebuffer_end' && e.t >= first.t)!;
      const expected = atPause.t - first.t + (performance.timeOrigin + performance.now() - cont.t);
      expect(Math.abs(s.rebuffer_ms - expected))
        .withContext(`rebuffer_ms ${s.rebuffer_ms}, expected ${expected}`)
        .toBeLessThan(300);
    } finally {
      await p.destroy();
    }
  });
});
