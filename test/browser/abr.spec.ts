/**
 * The edgeplay ABR controller inside real hls.js: decisions come from the DRL model in the comlink
 * worker; a killed worker falls back to the hls.js decision and playback goes on to the end.
 */
import Hls from 'hls.js';
import {
  createAbrController,
  createEdgeplay,
  createStreamController,
  DEFAULT_ABANDON,
  startWorker,
  workerAbrPort,
  type AbrDecisionRecord,
  type AbrPort,
  type AbrTableCheck,
  type RefetchSkip,
  type AbrAbandonRecord,
} from '../../src/index.js';
import { ABR_TASK_MODEL, parseVariantId, variantPath } from '../../src/deploy/catalog.js';
import { env, makeVideo, uniq, until } from './util.js';

/**
 * The first main fragment request after a decision's answer, unless another decision came in between.
 * Not always the fragment after the one just loaded: on an up-switch to a level whose playlist is not
 * loaded yet, hls.js looks the buffer end up with no tolerance and, the buffer ending a few ms short of
 * the segment end (AAC frames), loads the same fragment again at the new level.
 */
function firstLoadAfter<L extends { t: number }>(r: AbrDecisionRecord, loads: L[], records: AbrDecisionRecord[]): L | undefined {
  return loads.find((l) => l.t >= r.at && !records.some((o) => o !== r && o.at > r.at && o.at <= l.t));
}

/** A main fragment request: its sn, the level hls.js asked for, and when (`performance.now()`, ms). */
interface FragLoad {
  sn: number;
  level: number;
  t: number;
}

/** Records every main fragment request of `hls` (FRAG_LOADING), then loads `src` into `video` and starts playback. */
async function playRecordingLoads(hls: Hls, video: HTMLVideoElement, src: string): Promise<FragLoad[]> {
  const loads: FragLoad[] = [];
  hls.on(Hls.Events.FRAG_LOADING, (_e, d) => {
    if (d.frag.type === 'main' && typeof d.frag.sn === 'number') loads.push({ sn: d.frag.sn, level: d.frag.level, t: performance.now() });
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  await video.play().catch(() => undefined);
  return loads;
}

/**
 * hls.js with a scripted policy that always asks for the top level, the controller's abandonment (DEFAULT_ABANDON)
 * recorded in `abandons`, and no re-fetch after a switch; not loaded yet.
 */
function topLevelWithAbandonment(): { abandons: AbrAbandonRecord[]; video: HTMLVideoElement; hls: Hls } {
  const port: AbrPort = { decide: async (_p, obs) => obs.ladderKbps.length - 1 };
  const abandons: AbrAbandonRecord[] = [];
  const Ctl = createAbrController(Hls, {
    policy: 'drl',
    port: () => port,
    budgetMs: 2000,
    abandon: DEFAULT_ABANDON,
    onAbandon: (r) => abandons.push(r),
  });
  const video = makeVideo();
  const hls = new Hls({ abrController: Ctl as never, streamController: createStreamController(Hls) as never, maxBufferLength: 60 });
  return { abandons, video, hls };
}

/** A deployment-profile row offering `model`'s int8 variant on plain JS, fast and as accurate as the full model. */
const int8Row = (model: 'abr-drl' | 'abr-drl-player') => ({
  model,
  variant: 'int8',
  backend: 'js' as const,
  throttle: 1,
  rel_accuracy: 1,
  p50_ms: 0.1,
  p95_ms: 0.2,
  bytes: 1000,
});

describe('ABR controller in hls.js', () => {
  it('answers over its own port: policy levels, worker errors as rejections, a breakdown per answer', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    const port = workerAbrPort(w);
    try {
      const ladder = [300, 750, 1200, 1850, 2850, 4300];
      // thr in bytes/ms; the last 8 chunks were level 2 (600 kB) downloaded at that rate
      const obs = (bufferS: number, thr: number) => ({
        lastQuality: 2,
        bufferS,
        throughputs: Array(8).fill(thr),
        delaysMs: Array(8).fill(600000 / thr),
        nextSizes: ladder.map((k) => k * 500),
        remain: 20,
        nextIndex: 10,
        totalChunks: 48,
        ladderKbps: ladder,
        rebufS: 0,
      });
      // the model is not loaded yet: the worker's error comes back as a rejection with its message
      await expectAsync(port.decide('drl', obs(10, 500))).toBeRejectedWithError(/DRL model not loaded/);
      await expectAsync(port.decide('nope' as never, obs(10, 500))).toBeRejectedWithError(/unknown policy nope/);
      // buffer-based: an empty buffer gives the lowest level, a full one the highest
      expect(await port.decide('bb', obs(0, 500))).toBe(0);
      expect(await port.decide('bb', obs(30, 500))).toBe(5);
      await w.api.initAbr({ modelUrl: new URL('/base/models/abr-drl/model.json', location.href).href });
      // decision tables: a policy with state between decisions (robustMPC's past errors) is refused, the DRL answers
      const tableReq = { base: obs(10, 300), bytes: 600_000, elapsedMs: 50, drainRate: 1, appendS: 4, keep: 8 };
      await expectAsync(port.table!('robustmpc', tableReq)).toBeRejectedWithError(/keeps state between decisions/);
      const table = await port.table!('drl', tableReq);
      expect(table.levels.some((l) => l >= 0)).toBeTrue();
      expect(table.edgesMs.length).toBe(table.levels.length + 1);
      // several requests in flight at once each get their own answer
      const [starved, rich] = await Promise.all([port.decide('drl', obs(0.5, 40)), port.decide('drl', obs(20, 600))]);
      expect(starved).toBeLessThan(rich);
      expect(port.timings.length).toBe(6);
      // the parts come from two threads' clocks: the policy's own time fits inside the round trip
      for (const t of port.timings) {
        expect(t.computeMs).toBeGreaterThanOrEqual(0);
        expect(t.totalMs).toBeGreaterThanOrEqual(t.computeMs - 0.2);
      }
      // tables are built in slices: a decision asked while one builds is answered between two slices, before the
      // table; built in one go (a slice longer than the build), the decision waits for the whole table. The worker's
      // emulated 30× slowdown makes each policy call take milliseconds, so the second message is queued long before
      // the first build's first pause (the ordering itself is tested without threads in decision-table.spec.ts)
      await w.api.emulateCpuThrottling(30);
      const order: string[] = [];
      await Promise.all([
        port.table!('drl', tableReq, { sliceMs: 0 }).then(() => order.push('table')),
        port.decide('drl', obs(10, 300)).then(() => order.push('decision')),
      ]);
      expect(order).toEqual(['decision', 'table']);
      order.length = 0;
      await Promise.all([
        port.table!('drl', tableReq, { sliceMs: 1e9 }).then(() => order.push('table')),
        port.decide('drl', obs(10, 300)).then(() => order.push('decision')),
      ]);
      expect(order).toEqual(['table', 'decision']);
      // a newer table request abandons the build of an older one
      const older = expectAsync(port.table!('drl', tableReq, { sliceMs: 0 })).toBeRejectedWithError(/superseded/);
      expect((await port.table!('drl', tableReq, { sliceMs: 0 })).levels).toEqual(table.levels);
      await older;
      await w.api.emulateCpuThrottling(1);
    } finally {
      port.close();
      w.terminate();
    }
  });

  it('applies the stall guard given to initAbr to the DRL and to a deployed ABR variant', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    const port = workerAbrPort(w);
    try {
      const ladder = [300, 750, 1200, 1850, 2850, 4300];
      // a fast link (8 Mb/s) but only 2 s of buffer: below the guard's 4 s reserve, every level but the lowest is refused
      const obs = {
        lastQuality: 3,
        bufferS: 2,
        throughputs: Array(8).fill(1000),
        delaysMs: Array(8).fill(925),
        nextSizes: ladder.map((k) => k * 500),
        remain: 20,
        nextIndex: 10,
        totalChunks: 48,
        ladderKbps: ladder,
        rebufS: 0,
      };
      // the DRL monitor() plays (DEFAULT_ABR_MODEL = the ABR task's model, whose variants deploy() chooses from)
      const modelUrl = new URL(`/base/models/${ABR_TASK_MODEL}/model.json`, location.href).href;
      await w.api.initAbr({ modelUrl });
      expect((await w.api.info()).abrModelUrl).toBe(modelUrl);
      const plain = await port.decide('drl', obs);
      expect(plain).withContext('the policy as trained goes above the lowest level here').toBeGreaterThan(0);
      await expectAsync(w.api.initAbr({ modelUrl, guard: { reserveS: 4, factor: 2 } })).toBeRejectedWithError(/factor/);
      await w.api.initAbr({ modelUrl, guard: { reserveS: 4, factor: 0.9 } });
      expect(await port.decide('drl', obs)).toBe(0);
      // a profile with no ABR row: nothing is deployed for the task and initAbr's model answers (info() says so)
      const noAbr = await w.api.deploy({
        modelsUrl: new URL('/base/models/', location.href).href,
        profile: { probes: [{ throttle: 1, msPerMmac: 1 }], rows: [] },
        tasks: { abr: { latencyBudgetMs: 1000, accuracyFloor: 0 } },
      });
      expect(noAbr.choices.find((c) => c.task === 'abr')?.model).toBe('');
      expect((await w.api.info()).abrModelUrl).toBe(modelUrl);
      // a deployed ABR variant answers for the DRL from now on: the guard still applies
      const state = await w.api.deploy({
        modelsUrl: new URL('/base/models/', location.href).href,
        tasks: { abr: { latencyBudgetMs: 1000, accuracyFloor: 0 } },
      });
      expect(state.choices.find((c) => c.task === 'abr')?.placement)
        .withContext(JSON.stringify(state))
        .toBe('device');
      expect(state.errors).toEqual([]);
      expect(await port.decide('drl', obs)).toBe(0);
      // info() names the network that answers: the shipped profile's pick (models/variants/profile.json has the ABR
      // task's variants' rows), a variant of the same network, loaded from where the catalog keeps it
      const chosen = state.choices.find((c) => c.task === 'abr')!;
      expect(chosen.model).withContext(chosen.reason).toBe(ABR_TASK_MODEL);
      const chosenUrl = new URL(`/base/models/${variantPath(ABR_TASK_MODEL, parseVariantId(chosen.variant).variant)}`, location.href).href;
      expect((await w.api.info()).abrModelUrl).toBe(chosenUrl);
      // with a profile that offers the task model's int8 variant, that variant answers, and info() says so
      const profile = { probes: [{ throttle: 1, msPerMmac: 1 }], rows: [int8Row(ABR_TASK_MODEL)] };
      const state2 = await w.api.deploy({
        modelsUrl: new URL('/base/models/', location.href).href,
        profile,
        tasks: { abr: { latencyBudgetMs: 1000, accuracyFloor: 0 } },
      });
      expect(state2.errors).toEqual([]);
      expect(state2.choices.find((c) => c.task === 'abr')?.variant)
        .withContext(JSON.stringify(state2))
        .toBe('int8');
      const info = await w.api.info();
      expect(info.models).toContain(`${ABR_TASK_MODEL}/int8`);
      expect(info.abrModelUrl).toBe(new URL(`/base/models/variants/${ABR_TASK_MODEL}/int8/model.json`, location.href).href);
      expect(await port.decide('drl', obs)).toBe(0);
      // and it is the guard that holds the variant down: without it the variant goes above the lowest level
      await w.api.initAbr({ modelUrl });
      expect(await port.decide('drl', obs)).toBeGreaterThan(0);
    } finally {
      port.close();
      w.terminate();
    }
  });

  it("deploys variants of monitor()'s DRL only: a player on another network keeps it unless the app names the models", async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    try {
      const modelsUrl = new URL('/base/models/', location.href).href;
      const profile = { probes: [{ throttle: 1, msPerMmac: 1 }], rows: [int8Row('abr-drl-player'), int8Row('abr-drl')] };
      const task = { latencyBudgetMs: 1000, accuracyFloor: 0 };
      // the task model's variant answers after initAbr on the task model
      await w.api.initAbr({ modelUrl: new URL(`/base/models/${ABR_TASK_MODEL}/model.json`, location.href).href });
      const s1 = await w.api.deploy({ modelsUrl, profile, tasks: { abr: task } });
      expect(s1.errors).toEqual([]);
      expect((await w.api.info()).models).toContain(`${ABR_TASK_MODEL}/int8`);
      // initAbr on another network (monitor's abrModel: 'abr-drl') drops the variant of the other one
      const other = new URL('/base/models/abr-drl/model.json', location.href).href;
      await w.api.initAbr({ modelUrl: other });
      expect((await w.api.info()).abrModelUrl).toBe(other);
      expect((await w.api.info()).models).toContain('abr-drl');
      // and deploy() leaves that network in place (the profile's ABR variants are of the task model), saying why
      const s2 = await w.api.deploy({ modelsUrl, profile, tasks: { abr: task } });
      expect(s2.errors.join('\n')).toMatch(/player's DRL is abr-drl .*kept abr-drl/);
      expect((await w.api.info()).abrModelUrl).toBe(other);
      // unless the app names the models itself
      const s3 = await w.api.deploy({ modelsUrl, profile, tasks: { abr: { ...task, models: ['abr-drl'] } } });
      expect(s3.errors).toEqual([]);
      expect(s3.choices.find((c) => c.task === 'abr')?.model).toBe('abr-drl');
      expect((await w.api.info()).abrModelUrl).toBe(new URL('/base/models/variants/abr-drl/int8/model.json', location.href).href);
    } finally {
      w.terminate();
    }
  });

  it('plays a shaped trace to the end on DRL decisions from the worker, and falls back when the worker dies', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    const backend = await w.api.initAbr({ modelUrl: new URL('/base/models/abr-drl/model.json', location.href).href });
    expect(backend).toBe('cpu');
    const records: AbrDecisionRecord[] = [];
    let port: AbrPort | null = workerAbrPort(w);
    const Ctl = createAbrController(Hls, { policy: 'drl', port: () => port, onDecision: (r) => records.push(r) });
    const video = makeVideo();
    const ep = createEdgeplay({ endpoint: `${env.controller}/v1/telemetry`, consent: 'granted', dbName: uniq('ep-abr') });
    const hls = new Hls(ep.hlsConfig({ abrController: Ctl as never, maxBufferLength: 12 }));
    let fatal: string | null = null;
    hls.on(Hls.Events.ERROR, (_e, d) => {
      if (d.fatal) fatal = d.details;
    });
    ep.attach(hls, video, { channel: 'abr', contentId: 'vod-1' });
    // every main fragment request: which level hls.js asked for, and when
    const loads = await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?trace=4g&limit=12`);
    try {
      // DRL decisions drive the first half
      await until(() => records.filter((r) => r.source === 'policy').length >= 5, 'five DRL decisions', 60000).catch((e) => {
        throw new Error(`${e.message}; decisions so far: ${JSON.stringify(records.slice(0, 6))}`);
      });
      const fromPolicy = records.filter((r) => r.source === 'policy');
      const lat = fromPolicy.map((r) => r.latencyMs).sort((a, b) => a - b);
      console.log(
        `[measure] worker decision latency p50 ${lat[Math.floor(lat.length / 2)].toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} ms (${lat.length} decisions)`,
      );
      // the first main fragment request after the answer asked for the decided level
      const applied = fromPolicy.map((r) => ({ r, load: firstLoadAfter(r, loads, records) })).filter((x) => x.load);
      expect(applied.length).toBeGreaterThanOrEqual(3);
      const obeyed = applied.filter((x) => x.load!.level === x.r.level).length;
      expect(obeyed / applied.length)
        .withContext(JSON.stringify(applied.map((x) => [x.r.sn, x.r.level, x.load!.sn, x.load!.level])))
        .toBeGreaterThanOrEqual(0.75);
      // kill the worker: calls never answer, the controller falls back to hls.js at the deadline (the fragment
      // loading at the kill may still be answered from the decision table the worker sent before it died)
      w.terminate();
      const killedAt = records.length;
      await until(() => records.slice(killedAt).filter((r) => r.source === 'fallback').length >= 2, 'fallback decisions', 60000);
      const afterKill = records.slice(killedAt);
      expect(afterKill.filter((r) => r.source !== 'fallback').length)
        .withContext(JSON.stringify(afterKill))
        .toBeLessThanOrEqual(1);
      expect(afterKill.every((r) => r.source === 'fallback' || (r.via === 'table' && r === afterKill[0]))).toBeTrue();
      // and playback reaches the end of the stream
      await until(() => video.ended, 'the end of the stream', 120000, 250);
      expect(fatal).toBeNull();
      const s = ep.currentView!.summary();
      console.log(
        `[measure] DRL-in-hls.js view: ${s.play_ms.toFixed(0)} ms played, ${s.rebuffer_count} stalls, avg ${(s.bitrate_avg_bps! / 1000).toFixed(0)} kbps, ${s.switch_count} switches`,
      );
      port = null;
    } finally {
      w.terminate();
      await ep.destroy();
      hls.destroy();
      video.remove();
    }
  });

  it('answers from the decision table the worker built while the fragment loaded, checked by the policy itself', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    await w.api.initAbr({ modelUrl: new URL('/base/models/abr-drl/model.json', location.href).href });
    const records: AbrDecisionRecord[] = [];
    const checks: AbrTableCheck[] = [];
    const port = workerAbrPort(w);
    const Ctl = createAbrController(Hls, {
      policy: 'drl',
      port: () => port,
      onDecision: (r) => records.push(r),
      onTableCheck: (c) => checks.push(c),
    });
    const video = makeVideo();
    const hls = new Hls({ abrController: Ctl as never, maxBufferLength: 12 });
    const loads = await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?trace=4g&limit=12`);
    try {
      await until(() => checks.length >= 6, 'six table answers checked by the policy', 90000).catch((e) => {
        throw new Error(`${e.message}; decisions so far: ${JSON.stringify(records.slice(0, 8))}`);
      });
      const byTable = records.filter((r) => r.via === 'table');
      expect(byTable.length).toBeGreaterThanOrEqual(6);
      // every table answer is a level of the ladder and is checked once against the policy's own answer
      for (const r of byTable) expect(r.level! >= 0 && r.level! < hls.levels.length).toBeTrue();
      // each check answers one table decision (hls.js loads a fragment again at the new level after some switches:
      // one sn can be decided twice, so pair by sn and level, each decision once)
      const pending = byTable.slice();
      for (const c of checks) {
        const i = pending.findIndex((r) => r.sn === c.sn && r.level === c.table);
        expect(i)
          .withContext(`check ${JSON.stringify(c)} answers no table decision`)
          .toBeGreaterThanOrEqual(0);
        pending.splice(i, 1);
      }
      for (const c of checks) expect(c.exact >= 0 && c.exact < hls.levels.length).toBeTrue();
      // a table is the policy worked out ahead: its answers are the policy's own on nearly every fragment
      const agree = checks.filter((c) => c.table === c.exact).length;
      expect(agree / checks.length)
        .withContext(JSON.stringify(checks))
        .toBeGreaterThanOrEqual(0.8);
      // and hls.js loads the next fragment at the level that stood (the table's, or the policy's that replaced it)
      const unpaired = checks.slice();
      const applied = byTable
        .map((r) => {
          const k = unpaired.findIndex((x) => x.sn === r.sn && x.table === r.level);
          const c = k >= 0 ? unpaired.splice(k, 1)[0] : undefined;
          return { level: c?.replaced ? c.exact : r.level, load: firstLoadAfter(r, loads, records) };
        })
        .filter((x) => x.load);
      expect(applied.length).toBeGreaterThanOrEqual(3);
      expect(applied.filter((x) => x.load!.level === x.level).length / applied.length)
        .withContext(JSON.stringify(applied))
        .toBeGreaterThanOrEqual(0.75);
    } finally {
      hls.destroy();
      video.remove();
      port.close();
      w.terminate();
    }
  });

  it("puts the policy's own answer in place of a table's that differs, while hls.js has not loaded that fragment", async () => {
    // a scripted port: its tables always say level 0, the policy itself says level 2 after 150 ms — later than
    // hls.js' next tick, so the replacement must survive hls.js setting nextLoadLevel on every tick
    const tables: number[] = [];
    const port: AbrPort = {
      decide: (_p, obs) =>
        new Promise<number>((r) => setTimeout(() => r(obs.ladderKbps.length > 2 ? 2 : 0), 150)) as ReturnType<AbrPort['decide']>,
      table: async (_p, req) => {
        tables.push(req.bytes);
        return { bytes: req.bytes, edgesMs: [1, 1e9], levels: [0], evaluations: 1 };
      },
    };
    const records: AbrDecisionRecord[] = [];
    const checks: AbrTableCheck[] = [];
    const Ctl = createAbrController(Hls, {
      policy: 'drl',
      port: () => port,
      onDecision: (r) => records.push(r),
      onTableCheck: (c) => checks.push(c),
    });
    const video = makeVideo();
    // a forward buffer of at most 8 s (hls.js' target is max(8 × maxBufferSize / BANDWIDTH, maxBufferLength), capped by
    // maxMaxBufferLength): hls.js waits after each load, so the policy's later answer can still count
    const hls = new Hls({ abrController: Ctl as never, maxBufferLength: 4, maxMaxBufferLength: 8 });
    const loads = await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?trace=4g&limit=12`);
    try {
      await until(() => checks.filter((c) => c.replaced).length >= 2 && loads.length >= 8, 'two replaced table answers', 90000).catch(
        (e) => {
          throw new Error(`${e.message}; checks so far: ${JSON.stringify(checks)}`);
        },
      );
      expect(tables.length).toBeGreaterThanOrEqual(2);
      for (const c of checks) expect([c.table, c.exact]).toEqual([0, 2]);
      // the last decision for a fragment is the one it is loaded with (a re-fetch of the fragment before it brings a
      // second decision for the same one): replaced → the policy's level, else hls.js had already used the table's.
      // Each table decision asks the scripted policy once and its answers come in order: the i-th check is the i-th
      // table decision's (a decision whose check has not come yet is left out)
      const byTable = records.filter((r) => r.via === 'table');
      for (const sn of new Set(checks.map((c) => c.sn))) {
        const i = byTable.map((r) => r.sn).lastIndexOf(sn);
        const c = checks[i];
        if (!c) continue;
        expect(c.sn).toBe(sn);
        const load = loads.find((l) => l.sn === sn && l.t >= byTable[i].at);
        if (!load) continue;
        expect(load.level)
          .withContext(`fragment ${sn}: ${JSON.stringify(c)}`)
          .toBe(c.replaced ? 2 : 0);
      }
    } finally {
      hls.destroy();
      video.remove();
    }
  });

  it('requests every fragment at the level a timely decision named, and follows hls.js when the answer is late', async () => {
    // a scripted port whose answers hls.js would never pick on its own: lowest and highest level in turn,
    // then answers that miss the deadline
    let mode: 'script' | 'late' = 'script';
    const port: AbrPort = {
      decide: async (_p, obs) => {
        if (mode === 'late') {
          await new Promise((r) => setTimeout(r, 80));
          return 0;
        }
        return obs.nextIndex % 2 === 0 ? obs.ladderKbps.length - 1 : 0;
      },
    };
    const records: AbrDecisionRecord[] = [];
    const Ctl = createAbrController(Hls, { policy: 'drl', port: () => port, budgetMs: 20, onDecision: (r) => records.push(r) });
    const video = makeVideo();
    const hls = new Hls({ abrController: Ctl as never, maxBufferLength: 8 });
    const loads = await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?limit=14`);
    try {
      await until(() => records.filter((r) => r.source === 'policy').length >= 6, 'six scripted decisions', 60000);
      mode = 'late';
      const cut = records.length;
      await until(() => records.slice(cut).filter((r) => r.source === 'fallback').length >= 2, 'late answers', 60000);
      const timely = records
        .slice(0, cut)
        .filter((r) => r.source === 'policy')
        .map((r) => ({ r, load: firstLoadAfter(r, loads, records) }))
        .filter((x) => x.load);
      expect(timely.length).toBeGreaterThanOrEqual(4);
      expect(new Set(timely.map((x) => x.r.level)).size)
        .withContext('the script alternates levels')
        .toBe(2);
      for (const x of timely)
        expect(x.load!.level)
          .withContext(`decision ${JSON.stringify(x.r)} → load ${JSON.stringify(x.load)}`)
          .toBe(x.r.level!);
      // late answers are dropped: every decision after the switch is a fallback to hls.js at the deadline
      const late = records.slice(cut);
      expect(late.every((r) => r.source === 'fallback' && /no answer within 20 ms/.test(r.reason ?? '')))
        .withContext(JSON.stringify(late))
        .toBeTrue();
    } finally {
      hls.destroy();
      video.remove();
    }
  });

  // hls.js 1.7.4 loads the fragment just buffered once more after a level switch (the buffer ends a few ms short of
  // the segment: AAC frames); in real playback that doubled a download on most DRL switches
  it('with createStreamController a level switch loads the next fragment, never the one just buffered again', async () => {
    // every decision is a switch: the lowest and the highest level in turn
    const port: AbrPort = { decide: async (_p, obs) => (obs.nextIndex % 2 === 0 ? obs.ladderKbps.length - 1 : 0) };
    const N = 8;
    const play = async (skipping: boolean) => {
      const records: AbrDecisionRecord[] = [];
      const skips: RefetchSkip[] = [];
      const Ctl = createAbrController(Hls, { policy: 'drl', port: () => port, budgetMs: 2000, onDecision: (r) => records.push(r) });
      const video = makeVideo();
      const hls = new Hls({
        abrController: Ctl as never,
        ...(skipping ? { streamController: createStreamController(Hls, { onSkip: (s) => skips.push(s) }) as never } : {}),
        maxBufferLength: 60,
      });
      const loads = await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?limit=${N}`);
      try {
        await until(() => new Set(loads.map((l) => l.sn)).size >= N && hls.media?.buffered.length, `all ${N} fragments requested`, 90000);
        await until(
          () => {
            const b = video.buffered;
            return b.length > 0 && b.end(b.length - 1) > N * 4 - 0.5;
          },
          'the last fragment buffered',
          90000,
        );
        const b = video.buffered;
        return { loads, skips, records, ranges: Array.from({ length: b.length }, (_, i) => [b.start(i), b.end(i)]) };
      } finally {
        hls.destroy();
        video.remove();
      }
    };
    const plain = await play(false);
    const refetched = (ls: FragLoad[]) => ls.filter((l, i) => ls.slice(0, i).some((o) => o.sn === l.sn));
    // the fault this controller mends: plain hls.js fetches some fragment twice under the same script
    expect(refetched(plain.loads).length).withContext(JSON.stringify(plain.loads)).toBeGreaterThan(0);
    const mended = await play(true);
    const policyDecisions = mended.records.filter((r) => r.source === 'policy');
    expect(policyDecisions.length).toBeGreaterThanOrEqual(N - 2);
    expect(refetched(mended.loads)).withContext(JSON.stringify(mended.loads)).toEqual([]);
    expect(mended.skips.length).withContext('re-fetches avoided').toBeGreaterThan(0);
    // one report per re-fetch avoided, each a real switch
    expect(new Set(mended.skips.map((s) => s.sn)).size).toBe(mended.skips.length);
    for (const s of mended.skips) expect(s.from).not.toBe(s.to);
    // the fragments still join into one buffered range: nothing was skipped over
    expect(mended.ranges.length).withContext(JSON.stringify(mended.ranges)).toBe(1);
    expect(mended.ranges[0][0]).toBeLessThan(0.5);
    // each fragment was requested at the level the decision for it named (the script alternates)
    const decided = policyDecisions.filter((r) => mended.loads.some((l) => l.sn === r.sn));
    expect(decided.length).toBeGreaterThanOrEqual(N - 2);
    for (const r of decided)
      expect(mended.loads.find((l) => l.sn === r.sn)!.level)
        .withContext(`decision ${JSON.stringify(r)}`)
        .toBe(r.level!);
  });

  // hls.js' own emergency abort never weighs the lowest level's load time: in 84 real runs it never fired on a ~1 Mb/s trace
  it('abandons a top-level download the collapsed link cannot finish in time, and loads that fragment lower', async () => {
    const { abandons, video, hls } = topLevelWithAbandonment();
    const emergency: Array<{ sn: number; level: number }> = [];
    hls.on(Hls.Events.FRAG_LOAD_EMERGENCY_ABORTED, (_e, d) => emergency.push({ sn: d.frag.sn as number, level: d.frag.level }));
    // 8 Mb/s for 10 s, then 0.6 Mb/s: a 4.3 Mb/s fragment then takes ~28 s, the lowest one ~2.5 s
    const loads = await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?trace=collapse&limit=12`);
    const loaded: Array<{ sn: number; level: number }> = [];
    hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
      if (d.frag.type === 'main' && typeof d.frag.sn === 'number') loaded.push({ sn: d.frag.sn, level: d.frag.level });
    });
    try {
      const a = await until(() => abandons[0], 'a download abandoned', 90000);
      // the abandoned download is the last load of that fragment (at the top level, unless hls.js' own abort came first)
      const before = loads.filter((l) => l.sn === a.sn && l.t <= a.at);
      expect(a.from)
        .withContext(JSON.stringify(loads))
        .toBe(before[before.length - 1].level);
      expect(a.to).toBeLessThan(a.from);
      expect(a.loadedBytes).toBeLessThan(a.totalBytes);
      expect(a.bufferS).toBeGreaterThan(0);
      // hls.js' stream controller was told, for that load
      expect(emergency).toContain({ sn: a.sn, level: a.from });
      // the same fragment is requested again at the lower level and arrives; playback goes on
      await until(() => loaded.find((l) => l.sn === a.sn), `fragment ${a.sn} loaded after the abandon`, 60000);
      const after = loads.filter((l) => l.t >= a.at);
      expect(after[0])
        .withContext(JSON.stringify(loads))
        .toEqual(jasmine.objectContaining({ sn: a.sn, level: a.to }));
      // at the level the last abandon named (a level still too slow for the buffer left is abandoned in turn)
      const chain = abandons.filter((x) => x.sn === a.sn);
      for (let i = 1; i < chain.length; i++) expect(chain[i].from).toBe(chain[i - 1].to);
      expect(loaded.find((l) => l.sn === a.sn)!.level)
        .withContext(JSON.stringify(chain))
        .toBe(chain[chain.length - 1].to);
    } finally {
      hls.destroy();
      video.remove();
    }
  });

  // review fault: with a level the app fixed, switching down reloads the same level, and the rule aborted it again forever
  it('does not abandon a download at a level the app fixed', async () => {
    const { abandons, video, hls } = topLevelWithAbandonment();
    hls.on(Hls.Events.MANIFEST_PARSED, () => (hls.currentLevel = 5));
    const started = new Map<number, number>();
    const done = new Set<number>();
    hls.on(Hls.Events.FRAG_LOADING, (_e, d) => {
      if (d.frag.type === 'main' && typeof d.frag.sn === 'number') started.set(d.frag.sn, performance.now());
    });
    hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
      if (d.frag.type === 'main' && typeof d.frag.sn === 'number') done.add(d.frag.sn);
    });
    await playRecordingLoads(hls, video, `${env.dev}/streams/vod/master.m3u8?trace=collapse&limit=12`);
    try {
      // a top-level fragment on the collapsed link (~28 s; on the good link one takes ~2 s) has loaded for 4 s, long
      // past the rule's first look at 1 s, with less buffer than it needs
      await until(
        () => [...started].some(([sn, t]) => !done.has(sn) && performance.now() - t > 4000 && video.currentTime > 0),
        'a slow top-level download under way',
        90000,
      );
      expect(hls.autoLevelEnabled).toBeFalse();
      expect(abandons).toEqual([]);
    } finally {
      hls.destroy();
      video.remove();
    }
  });

  // issue 18 item 3: on third-party ladders (1–3 levels) every fragment fell back ("DRL model expects 6 levels")
  it('decides with the DRL model on a 3-level ladder, and hands over once when a policy cannot serve a stream', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    await w.api.initAbr({ modelUrl: new URL('/base/models/abr-drl/model.json', location.href).href });
    const port = workerAbrPort(w);
    const records: AbrDecisionRecord[] = [];
    const Ctl = createAbrController(Hls, { policy: 'drl', port: () => port, onDecision: (r) => records.push(r) });
    const video = makeVideo();
    const hls = new Hls({ abrController: Ctl as never, maxBufferLength: 12 });
    hls.loadSource(`${env.dev}/streams/vod/master.m3u8?variants=0,2,5&limit=8`);
    hls.attachMedia(video);
    await video.play().catch(() => undefined);
    try {
      await until(() => records.length >= 4, 'four decisions on the 3-level stream', 60000);
      expect(hls.levels.length).toBe(3);
      const fromPolicy = records.filter((r) => r.source === 'policy');
      expect(fromPolicy.length).withContext(JSON.stringify(records)).toBeGreaterThanOrEqual(3);
      expect(fromPolicy.every((r) => r.level! >= 0 && r.level! < 3)).toBeTrue();
      expect(records.some((r) => /expects|handover/.test(r.reason ?? ''))).toBeFalse();
    } finally {
      hls.destroy();
      video.remove();
      w.terminate();
    }
    // a policy the worker does not have (an older worker build): said once, then hls.js decides without asking again.
    // createAbrController refuses a policy name it does not know (session 12), so the controller runs 'bola' and the
    // port asks the real worker for one it lacks, 'nope': the worker's own rejection drives the handover.
    const records2: AbrDecisionRecord[] = [];
    let asked = 0;
    const w2 = startWorker('/base/dist/edgeplay.worker.js');
    const real = workerAbrPort(w2);
    // The first two requests are answered together, as a busy worker answers (CI saw two handovers when a
    // second request went out before the first rejection came back): their rejections overlap.
    const held: Array<() => void> = [];
    const counting: AbrPort = {
      decide: (_p, o) => {
        asked++;
        const answer = real.decide('nope' as never, o);
        if (asked > 2) return answer;
        return new Promise<number>((res, rej) => {
          held.push(() => answer.then(res, rej));
          if (held.length === 2) held.forEach((release) => release());
        });
      },
    };
    const Ctl2 = createAbrController(Hls, {
      policy: 'bola',
      port: () => counting,
      budgetMs: 20000,
      onDecision: (r) => records2.push(r),
    });
    const video2 = makeVideo();
    const hls2 = new Hls({ abrController: Ctl2 as never, maxBufferLength: 12 });
    let loaded = 0,
      eos = false;
    hls2.on(Hls.Events.FRAG_LOADED, (_e, d) => {
      if (d.frag.type === 'main') loaded++;
    });
    hls2.on(Hls.Events.BUFFER_EOS, () => (eos = true));
    hls2.loadSource(`${env.dev}/streams/vod/master.m3u8?limit=10`);
    hls2.attachMedia(video2);
    await video2.play().catch(() => undefined);
    try {
      const handover = await until(
        () => records2.find((r) => /handover to hls.js: unknown policy nope/.test(r.reason ?? '')),
        'the handover',
        60000,
      );
      const askedThen = asked,
        recordsThen = records2.length,
        loadedThen = loaded;
      expect(askedThen).withContext('two requests overlapped').toBeGreaterThanOrEqual(2);
      // every fragment of the stream loaded (hls.js signals the end of the stream): the ones after the handover
      // were hls.js' own decisions
      await until(() => eos, 'the whole stream loaded', 90000);
      expect(loaded).toBeGreaterThan(loadedThen);
      // said once; hls.js decides every fragment since, and the policy is not asked again
      expect(records2.filter((r) => /handover/.test(r.reason ?? '')).length).toBe(1);
      expect(records2.length).withContext(JSON.stringify(records2)).toBe(recordsThen);
      expect(asked).toBe(askedThen);
      expect(handover.source).toBe('fallback');
    } finally {
      hls2.destroy();
      video2.remove();
      w2.terminate();
    }
  });
});
