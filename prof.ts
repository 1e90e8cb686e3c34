import { loadChunkDataset } from './src/sim/abr/chunks.js';
import { loadTraceDir } from './src/sim/abr/load.js';
import { runLiveSession, TrueSizes, DeclaredSizes, ForecastSizes } from './src/sim/abr/live.js';
import { HlsLiveRule, LolPlusRule, LiveBufferBased, LiveRobustMpc } from './src/abr/live.js';
import { MeanOfPast } from './src/abr/size-forecast.js';
const vids = loadChunkDataset('/work/shared/data/chunks', ['dev']);
const traces = loadTraceDir('/work/shared/data/abr/traces/test').slice(0, 40);
for (const mk of [() => new HlsLiveRule(), () => new LolPlusRule(), () => new LiveBufferBased(), () => new LiveRobustMpc()]) {
  for (const src of ['true', 'mean', 'declared']) {
    let q = 0, br = 0, rb = 0, lat = 0, n = 0; const t0 = Date.now();
    traces.forEach((tr, i) => {
      const v = vids[i % vids.length];
      const chunks = Math.min(Math.floor(120 / v.chunkS), v.sizes.length - 6);
      const video = { name: v.video, ladderKbps: v.ladderKbps, chunkS: v.chunkS, sizes: v.sizes };
      const source = src === 'true' ? new TrueSizes(video) : src === 'mean' ? new ForecastSizes(video, new MeanOfPast()) : new DeclaredSizes(video);
      const r = runLiveSession(mk(), video, tr, source, { startChunk: 5, chunks });
      q += r.qoe.total / r.mediaS / 1000; br += r.bitrateKbpsMean / 1000; rb += r.rebufferS; lat += r.latencyMeanS; n++;
    });
    console.log(mk().name.padEnd(10), src.padEnd(9), 'qoe', (q / n).toFixed(3), 'br', (br / n).toFixed(3), 'rebuf', (rb / n).toFixed(2), 'lat', (lat / n).toFixed(2), (Date.now() - t0) + 'ms');
  }
}
