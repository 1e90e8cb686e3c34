/**
 * The three.js 360 viewer (demo/vr-viewer.ts) on the dev server's equirectangular stream: frames render
 * (the canvas is not blank), replay mode drives the camera from a head trace, predictions come from the
 * learned model in the worker (with the video's attention prior), head motion reaches telemetry, and a
 * killed worker leaves the viewer on the main-thread fallback.
 */
import { createEdgeplay, type TelemetryEvent } from '../../src/index.js';
import { toYawPitch, orthodromic } from '../../src/viewport/index.js';
import { createVrViewer, loadTrace, traceAt, type VrViewer } from '../../demo/vr-viewer.js';
import { env, until } from './util.js';
import { Vector3 } from 'three';

describe('360 viewer', () => {
  let viewer: VrViewer | null = null;
  let box: HTMLDivElement;
  afterEach(() => {
    viewer?.destroy();
    viewer = null;
    box?.remove();
  });

  it('renders the stream, replays a head trace, predicts in the worker and falls back when it dies', async () => {
    box = document.createElement('div');
    box.style.cssText = 'width:480px;height:270px;position:relative';
    document.body.appendChild(box);
    const overlay = document.createElement('canvas');
    overlay.width = 240;
    overlay.height = 120;
    box.appendChild(overlay);
    const events: TelemetryEvent[] = [];
    const ep = createEdgeplay({
      endpoint: `${env.controller}/v1/telemetry`,
      consent: 'granted',
      onEvent: (e) => events.push(e),
      dbName: `vr-${Date.now()}`,
    });
    const csvUrl = `${env.dev}/streams/vr/viewers.csv`;
    viewer = await createVrViewer({
      container: box,
      overlay,
      src: `${env.dev}/streams/vr/master.m3u8`,
      priorUrl: `${env.dev}/streams/vr/prior.json`,
      workerUrl: '/base/dist/edgeplay.worker.js',
      modelUrl: '/base/models/viewport-prior/model.json',
      replay: { csvUrl, user: '0' },
      edgeplay: ep,
      preserveDrawingBuffer: true,
      predictBudgetMs: 500,
    });
    const v = viewer;
    await v.play();
    expect(await v.client.whenReady()).toBe('learned+prior');

    // frames render and the picture is not blank: many distinct colours, real contrast
    await until(() => v.state.frames > 30 && v.video.currentTime > 2, 'frames and playback', 30000);
    const snap = document.createElement('canvas');
    snap.width = 96;
    snap.height = 54;
    const g = snap.getContext('2d')!;
    g.drawImage(v.renderer.domElement, 0, 0, 96, 54);
    const px = g.getImageData(0, 0, 96, 54).data;
    const colours = new Set<number>();
    let sum = 0,
      sum2 = 0;
    for (let i = 0; i < px.length; i += 4) {
      const l = 0.3 * px[i] + 0.59 * px[i + 1] + 0.11 * px[i + 2];
      sum += l;
      sum2 += l * l;
      colours.add((px[i] >> 4) * 256 + (px[i + 1] >> 4) * 16 + (px[i + 2] >> 4));
    }
    const n = px.length / 4;
    const sd = Math.sqrt(sum2 / n - (sum / n) ** 2);
    expect(colours.size).toBeGreaterThan(8);
    expect(sd).toBeGreaterThan(10);

    // replay drives the camera: its direction follows the trace (checked against our own read of the CSV)
    const trace = await loadTrace(csvUrl, '0');
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      await until(() => v.video.currentTime > 3 + i, `playback past ${3 + i} s`, 20000);
      const t = v.state.playhead;
      const truth = traceAt(trace, t);
      const d = v.camera.getWorldDirection(new Vector3());
      const cam = [d.x, d.y, d.z];
      expect((orthodromic(cam, 0, truth, 0) * 180) / Math.PI).toBeLessThan(1);
      seen.push(toYawPitch(cam)[0]);
    }
    expect(Math.max(...seen) - Math.min(...seen)).toBeGreaterThan(5); // the replayed viewer does move

    // predictions arrive from the worker's model
    await until(() => v.state.predictions >= 10, '10 predictions', 20000);
    const fromWorker = v.predictions.filter((p) => !p.p.fallback);
    expect(fromWorker.length).toBeGreaterThan(5);
    expect(fromWorker.every((p) => p.p.source === 'learned+prior' && p.p.points.length === 75 && p.p.tiles.length === 32)).toBeTrue();
    // no offloading configured: every prediction ran on the device, and the viewer counts them there
    expect(v.predictions.every((p) => p.p.ranOn === 'device')).toBeTrue();
    expect(v.state.placements.edge).toBe(0);
    expect(v.state.placements.device).toBe(v.state.predictions);
    const inWorker = fromWorker.map((p) => p.p.modelMs!).sort((a, b) => a - b);
    console.log(
      `[measure] vr viewer: ${v.state.predictions} predictions, model in worker p50 ${inWorker[inWorker.length >> 1].toFixed(3)} ms, round trip p50 ${fromWorker
        .map((p) => p.p.latencyMs)
        .sort((a, b) => a - b)
        [fromWorker.length >> 1].toFixed(2)} ms, 1 s error so far ${v.state.predError1s?.toFixed(1)} deg`,
    );
    // head motion reaches telemetry
    const vp = events.filter((e) => e.type === 'viewport');
    expect(vp.length).toBeGreaterThan(2);
    expect(typeof vp[vp.length - 1].data?.yaw).toBe('number');
    expect(vp[vp.length - 1].data?.placement).toBe('device');
    expect(vp[vp.length - 1].data?.edge_share).toBe(0);

    // kill the worker: predictions keep coming, from the main-thread fallback
    v.worker!.terminate();
    const before = v.state.predictions;
    await until(() => v.state.predictions > before + 3, 'predictions after the worker died', 20000);
    const last = v.predictions[v.predictions.length - 1].p;
    expect(last.fallback).toBeTrue();
    expect(last.source).toMatch(/^no-motion \(fallback/);
    expect(v.video.paused).toBeFalse();
    ep.destroy();
  });

  // issue 18 item 16: with DeviceOrientationEvent.requestPermission (iOS 13+) it was never called
  it('asks for motion access on the first tap; granted → the phone turns the view, denied → drag works and the overlay says why', async () => {
    const DOE = DeviceOrientationEvent as unknown as { requestPermission?: () => Promise<string> };
    const saved = DOE.requestPermission;
    try {
      for (const answer of ['granted', 'denied'] as const) {
        let calls = 0;
        DOE.requestPermission = async () => (calls++, answer);
        box = document.createElement('div');
        box.style.cssText = 'width:320px;height:180px;position:relative';
        document.body.appendChild(box);
        const overlay = document.createElement('canvas');
        overlay.width = 240;
        overlay.height = 120;
        const v = (viewer = await createVrViewer({
          container: box,
          overlay,
          src: `${env.dev}/streams/vr/master.m3u8`,
          preserveDrawingBuffer: true,
        }));
        await v.play();
        await until(() => v.state.frames > 5, 'frames', 20000);
        expect(v.state.motion).toBe('ask');
        expect(calls).toBe(0); // never before a gesture
        const el = v.renderer.domElement;
        const at = (type: string, x: number) =>
          el.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: 90, pointerId: 7, pointerType: 'touch', bubbles: true }));
        at('pointerdown', 100);
        await until(() => v.state.motion !== 'ask', 'the permission answer', 5000);
        expect(calls).toBe(1);
        at('pointerup', 100);
        at('pointerdown', 100); // later taps do not ask again
        at('pointerup', 100);
        expect(calls).toBe(1);
        if (answer === 'granted') {
          expect(v.state.motion).toBe('granted');
          window.dispatchEvent(new DeviceOrientationEvent('deviceorientation', { alpha: 90, beta: 90, gamma: 0 }));
          await until(() => v.state.input === 'device', 'device orientation drives the camera', 5000);
          expect(v.state.notice).toBeNull();
        } else {
          expect(v.state.motion).toBe('denied');
          await until(() => v.state.notice !== null, 'the notice', 5000);
          expect(v.state.notice).toMatch(/denied.*drag/i);
          const yaw0 = v.state.yaw;
          at('pointerdown', 100);
          at('pointermove', 40);
          await until(() => Math.abs(v.state.yaw - yaw0) > 5, 'dragging turns the view', 5000);
          at('pointerup', 40);
          // the overlay shows it: its top band is the notice's red
          const px = overlay.getContext('2d')!.getImageData(2, 2, 1, 1).data;
          expect(px[0]).toBeGreaterThan(px[1] + 40);
          window.dispatchEvent(new DeviceOrientationEvent('deviceorientation', { alpha: 90, beta: 90, gamma: 0 }));
          await new Promise((r) => setTimeout(r, 200));
          expect(v.state.input).not.toBe('device');
        }
        viewer.destroy();
        viewer = null;
        box.remove();
      }
    } finally {
      if (saved) DOE.requestPermission = saved;
      else delete DOE.requestPermission;
    }
  });
});
