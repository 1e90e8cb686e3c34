/**
 * The demo's CDNs: loopback servers (edges.ts' file server) whose capacity is shared by the transfers in
 * flight — a saturated CDN really delays every segment it serves, so its viewers stall, and the controller's
 * scheduler (src/server/cdns.ts) sees it in the telemetry and moves new viewers to another CDN.
 */
import type { ServerResponse } from 'node:http';
import { startFileServer, type FileServer, type OriginPull } from './file-server.js';

export interface DemoCdnSpec {
  id: string;
  /** what the CDN can send in all, Mb/s, shared equally by the transfers in flight */
  capacityMbps: number;
}

const CHUNK = 16 * 1024;

/**
 * A link of `capacityBps` shared equally by the bodies it is sending (each chunk paced at capacity / transfers).
 * `capacityBps` may be changed while it sends (tests saturate a CDN): the next chunk takes the new pace.
 */
export class SharedCapacity {
  active = 0;
  constructor(public capacityBps: number) {
    if (!(capacityBps > 0)) throw new Error(`SharedCapacity: capacity ${capacityBps} must be > 0`);
  }
  async send(res: ServerResponse, body: Buffer): Promise<void> {
    this.active++;
    try {
      for (let at = 0; at < body.length && !res.destroyed; at += CHUNK) {
        const part = body.subarray(at, at + CHUNK);
        const ms = (part.length * 8 * 1000 * this.active) / this.capacityBps;
        await new Promise((r) => setTimeout(r, ms));
        res.write(part);
      }
      res.end();
    } finally {
      this.active--;
    }
  }
}

/** A demo CDN: its file server and the link its transfers share. */
export interface DemoCdn extends FileServer {
  link: SharedCapacity;
}

/**
 * Start the demo's CDNs on free loopback ports, serving `roots` (stream name → directory) and pulling the streams of
 * `pull` (the live channel) from the origin on every request.
 */
export async function startDemoCdns(specs: DemoCdnSpec[], roots: Record<string, string>, pull?: OriginPull): Promise<DemoCdn[]> {
  const out: DemoCdn[] = [];
  for (const s of specs) {
    const link = new SharedCapacity(s.capacityMbps * 1e6);
    const server = await startFileServer(s.id, roots, 0, (_url, res, body) => link.send(res, body), undefined, pull);
    out.push(Object.assign(server, { link }));
  }
  return out;
}
