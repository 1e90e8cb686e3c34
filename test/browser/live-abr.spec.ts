/**
 * Live ABR in the player (issue 14): the chunk-size forecaster and the latency-aware DRL policy in the one
 * worker, behind the edgeplay ABR controller in real hls.js on the dev server's real-time live ladder, whose
 * playlists carry each finished chunk's coding meta; a killed worker falls back to hls.js.
 */
import Hls from 'hls.js';
import { createAbrController, startWorker, workerAbrPort, type AbrDecisionRecord, type AbrPort } from '../../src/index.js';
import type { LiveDecisionRequest } from '../../src/abr/live.js';
import { env, makeVideo, until } from './util.js';

const model = (name: string) => new URL(`/base/models/${name}/model.json`, location.href).href;

describe('live ABR in the worker', () => {
  it('forecasts every rung from the finished chunks and decides by bandwidth and latency', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    const port = workerAbrPort(w);
    try {
      const ladder = [364, 814, 1264];
      const chunkS = 2;
      // chunks of a stream whose top rung doubles in size at chunk 6 (a complex scene starts)
      const finished = Array.from({ length: 10 }, (_, k) => {
        const f = k < 6 ? 1 : 2;
        return { sn: 100 + k, sizes: ladder.map((kb) => Math.round(((kb * 1000 * chunkS) / 8) * f)), meta: null };
      });
      const req = (thrBytesPerMs: number, latencyS: number, bufferS: number, reset: boolean, done = finished): LiveDecisionRequest => ({
        reset,
        ladderKbps: ladder,
        chunkS,
        finished: done,
        obs: {
          ladderKbps: ladder,
          chunkS,
          partS: chunkS,
          nextIndex: 110,
          lastQuality: 1,
          bufferS,
          latencyS,
          targetLatencyS: 6,
          playbackRate: 1,
          stalled: false,
          waitS: 0,
          producedS: 0,
          throughputs: Array(6).fill(thrBytesPerMs),
          wallThroughputs: Array(6).fill(thrBytesPerMs),
          delaysMs: Array(6).fill(200),
        },
      });
      await expectAsync(port.decideLive(req(500, 6, 4, true))).toBeRejectedWithError(/live models not loaded/);
      expect(await port.initLive(model('live-abr-drl'), model('chunk-size'))).toBe('drl+meta');
      const rich = await port.decideLive(req(2000, 6, 4, true));
      // five horizons at every rung, ordered like the ladder, and the doubling is seen: above the old size
      expect(rich.forecast.length).toBe(5);
      for (const row of rich.forecast) {
        expect(row.length).toBe(3);
        expect(row[0]).toBeLessThan(row[1]);
        expect(row[1]).toBeLessThan(row[2]);
      }
      expect(rich.forecast[0][2]).toBeGreaterThan(finished[0].sizes[2] * 1.3);
      expect(rich.level).toBe(2);
      // a link below the lowest rung (240 kbps) and half a second of buffer: the lowest rung
      const poor = await port.decideLive(req(30, 7, 0.5, false, []));
      expect(poor.level).toBe(0);
      // a ladder the policy cannot play is refused for good (the controller hands over to hls.js)
      const big = { ...req(500, 6, 4, true), ladderKbps: Array.from({ length: 11 }, (_, i) => 100 * (i + 1)) };
      await expectAsync(port.decideLive(big)).toBeRejectedWith(jasmine.objectContaining({ permanent: true }));
    } finally {
      port.close();
      w.terminate();
    }
  });

  it('plays the live ladder on forecasts from the coding meta, and falls back to hls.js when the worker dies', async () => {
    if (!env.live) return pending('live encoder not started (--no-live)');
    const w = startWorker('/base/dist/edgeplay.worker.js');
    const records: AbrDecisionRecord[] = [];
    let port: AbrPort | null = null;
    const Ctl = createAbrController(Hls, { policy: 'drl', port: () => port, onDecision: (r) => records.push(r) });
    const video = makeVideo();
    const hls = new Hls({ abrController: Ctl as never, liveSyncDuration: 4, maxLiveSyncPlaybackRate: 1.5 });
    const loads: Array<{ sn: number; level: number; t: number }> = [];
    hls.on(Hls.Events.FRAG_LOADING, (_e, d) => {
      if (d.frag.type === 'main' && typeof d.frag.sn === 'number') loads.push({ sn: d.frag.sn, level: d.frag.level, t: performance.now() });
    });
    let fatal: string | null = null;
    hls.on(Hls.Events.ERROR, (_e, d) => {
      if (d.fatal) fatal = d.details;
    });
    try {
      const p = workerAbrPort(w);
      await p.initLive(model('live-abr-drl'), model('chunk-size'));
      port = p;
      hls.loadSource(`${env.dev}/streams/live/master.m3u8`);
      hls.attachMedia(video);
      await video.play().catch(() => undefined);
      const live = () => records.filter((r) => r.source === 'policy' && r.live?.forecast);
      await until(() => live().length >= 4, 'four live decisions from the worker', 60000).catch((e) => {
        throw new Error(`${e.message}; decisions so far: ${JSON.stringify(records.slice(0, 6))}`);
      });
      const got = live();
      // the playlists carried the coding meta, and the forecast covers every rung for 5 chunks
      expect(got.some((r) => r.live!.codingMeta)).toBeTrue();
      for (const r of got) {
        expect(r.live!.forecast!.length).toBe(5);
        expect(
          r.live!.forecast!.every((row) => row.length === hls.levels.length && row.every((b) => b > 0 && Number.isFinite(b))),
        ).toBeTrue();
        expect(r.live!.latencyS).toBeGreaterThan(0);
      }
      // a decision is what hls.js fetches next: a decision that reached the controller before hls.js asked for
      // that fragment (and no other decision came in between) is the level loaded. On a busy machine some
      // answers arrive after hls.js has already started the fragment: wait for two that were in time.
      const applied = () =>
        live()
          .map((r) => ({ r, load: loads.find((l) => l.t >= r.at && l.sn === r.sn) }))
          .filter((x) => x.load && !records.some((o) => o !== x.r && o.at > x.r.at && o.at <= x.load!.t));
      await until(() => applied().length >= 2, 'two decisions in time for the fragment they are for', 90000);
      for (const x of applied()) expect(x.load!.level).withContext(`sn ${x.r.sn}`).toBe(x.r.level!);
      // kill the worker: the controller falls back to hls.js at the deadline and playback goes on
      w.terminate();
      const cut = records.length;
      const playedAt = video.currentTime;
      await until(() => records.slice(cut).filter((r) => r.source === 'fallback').length >= 2, 'fallback decisions', 60000);
      expect(records.slice(cut).every((r) => r.source === 'fallback')).toBeTrue();
      await until(() => video.currentTime > playedAt + 3, 'three more seconds played', 60000, 250);
      expect(fatal).toBeNull();
      console.log(
        `[measure] live DRL: ${got.length} decisions, latency ${got.map((r) => r.live!.latencyS.toFixed(1)).join(' ')} s, p50 answer ${got
          .map((r) => r.latencyMs)
          .sort((a, b) => a - b)
          [got.length >> 1].toFixed(1)} ms`,
      );
    } finally {
      port = null;
      w.terminate();
      hls.destroy();
      video.remove();
    }
  });
});
