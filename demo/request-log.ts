/**
 * What the demo's servers (the dev server "CDN" and the loopback edges) answered, per request: the truth the SDK's
 * request metrics are checked against (test/browser/mux.spec.ts, `/__harness/requests?sess=ID`). Times are epoch ms
 * with sub-ms precision on this process's clock: `t_start` the request arrived, `t_first` the first body byte was
 * handed to the socket (with the headers: Node sends them with the first write), `t_end` the response finished;
 * `bytes` the body's bytes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestRecord {
  /** 'cdn' (the dev server) or the edge's id */
  server: string;
  /** the Host header: what the client's URL named */
  host: string;
  method: string;
  path: string;
  /** the shaped session the request belongs to (`sess` query parameter), null without one */
  sess: string | null;
  status: number;
  bytes: number;
  t_start: number;
  t_first: number | null;
  t_end: number | null;
  /** the whole response was sent (false: the client or the server cut it) */
  completed: boolean;
}

const now = () => performance.timeOrigin + performance.now();

export class RequestLog {
  private rows: RequestRecord[] = [];

  constructor(private readonly max = 20000) {}

  /** Start recording one response (call before anything is written). */
  track(server: string, req: IncomingMessage, res: ServerResponse, url: URL): void {
    const rec: RequestRecord = {
      server,
      host: req.headers.host ?? '',
      method: req.method ?? 'GET',
      path: url.pathname,
      sess: url.searchParams.get('sess'),
      status: 0,
      bytes: 0,
      t_start: now(),
      t_first: null,
      t_end: null,
      completed: false,
    };
    if (this.rows.length >= this.max) this.rows.splice(0, this.rows.length - this.max + 1);
    this.rows.push(rec);
    const note = (chunk: unknown) => {
      if (chunk == null || typeof chunk === 'function') return;
      const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
      if (n > 0 && rec.t_first === null) rec.t_first = now();
      rec.bytes += n;
    };
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (note(chunk), write(chunk, ...rest))) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => (note(chunk), end(chunk, ...rest))) as ServerResponse['end'];
    res.on('finish', () => {
      rec.status = res.statusCode;
      rec.t_end = now();
      rec.completed = true;
    });
    res.on('close', () => {
      rec.status = res.statusCode;
      rec.t_end ??= now();
    });
  }

  /** The records of one shaped session (all of them without `sess`), oldest first. */
  query(sess?: string | null): RequestRecord[] {
    return sess ? this.rows.filter((r) => r.sess === sess) : [...this.rows];
  }
}
