import Hls from 'hls.js';
import { createEdgeplay, type Edgeplay, type TelemetryEvent } from '../../src/index.js';
export interface EnvConfig {
  dev: string;
  controller: string;
  live: boolean;
}
export const env = (window as unknown as { __karma__: { config: { edgeplay: EnvConfig } } }).__karma__.config.edgeplay;

// specs read requests from Resource Timing: the browser keeps only 250 entries unless told otherwise, and the
// whole suite runs in one page (a spec late in the run would see none of its own requests)
performance.setResourceTimingBufferSize(1_000_000);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until<T>(
  fn: () => T | Promise<T>,
  what: string | (() => string),
  timeoutMs = 30000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const t0 = performance.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(everyMs);
  }
}

export async function harness(path: string, method = 'GET'): Promise<unknown> {
  const r = await fetch(`${env.dev}/__harness${path}`, { method });
  if (!r.ok) throw new Error(`harness ${path}: ${r.status}`);
  return r.json();
}

export interface StoredEvent {
  view_id: string;
  seq: number;
  type: string;
  t: number;
  data?: Record<string, unknown>;
  batch_id: string;
}
export const storedEvents = (viewId: string) => harness(`/views/${viewId}/events`) as Promise<StoredEvent[]>;

/** Element-level truth: waiting -> playing intervals after the first `playing`, seeks excluded. */
export function watchStalls(video: HTMLVideoElement) {
  const intervals: Array<{ start: number; end: number | null }> = [];
  let started = false;
  video.addEventListener('playing', () => {
    if (!started) {
      started = true;
      return;
    }
    const open = intervals[intervals.length - 1];
    if (open && open.end === null) open.end = performance.now();
  });
  video.addEventListener('waiting', () => {
    if (!started || video.seeking) return;
    const open = intervals[intervals.length - 1];
    if (!open || open.end !== null) intervals.push({ start: performance.now(), end: null });
  });
  return intervals;
}

export function makeVideo(): HTMLVideoElement {
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.width = 320;
  v.height = 180;
  document.body.appendChild(v);
  return v;
}

export function loadFrame(query: Record<string, string>): Promise<HTMLIFrameElement> {
  const f = document.createElement('iframe');
  f.width = '360';
  f.height = '220';
  f.src = `/base/test/browser/fixtures/page.html?${new URLSearchParams(query)}`;
  document.body.appendChild(f);
  return new Promise((res) => {
    f.onload = () => res(f);
  });
}

export const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

export interface Player {
  dbName: string;
  ep: Edgeplay;
  hls: Hls;
  video: HTMLVideoElement;
  events: TelemetryEvent[];
  destroy(): Promise<void>;
}

/** A player on the dev server with edgeplay attached (telemetry to the real controller, granted consent by default). */
export function player(opts: {
  src: string;
  channel?: string;
  consent?: 'granted' | 'pending';
  sampleRate?: number;
  hlsConfig?: Record<string, unknown>;
  heartbeatMs?: number;
  loop?: boolean;
}): Player {
  const video = makeVideo();
  video.loop = !!opts.loop;
  const events: TelemetryEvent[] = [];
  const dbName = uniq('ep-db');
  const ep = createEdgeplay({
    endpoint: `${env.controller}/v1/telemetry`,
    consent: opts.consent ?? 'granted',
    sampleRate: opts.sampleRate,
    dbName,
    flushIntervalMs: 300,
    heartbeatMs: opts.heartbeatMs ?? 2000,
    onEvent: (e) => events.push(e),
  });
  const hls = new Hls(ep.hlsConfig({ ...(opts.hlsConfig ?? {}) }));
  ep.attach(hls, video, { channel: opts.channel ?? 'ch-a', contentId: 'vod-1' });
  hls.loadSource(opts.src);
  hls.attachMedia(video);
  void video.play().catch(() => undefined);
  return {
    dbName,
    ep,
    hls,
    video,
    events,
    async destroy() {
      await ep.destroy();
      hls.destroy();
      video.remove();
    },
  };
}

/** The controller's QoE summary of a view (GET /v1/views/:id), expecting 200. */
export async function serverSummary(viewId: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${env.controller}/v1/views/${viewId}`);
  expect(r.status).withContext(`GET /v1/views/${viewId}`).toBe(200);
  return r.json();
}
