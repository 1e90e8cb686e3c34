/**
 * The edgeplay ABR controller for hls.js: a subclass of the app's own hls.js AbrController (taken from
 * `Hls.DefaultConfig.abrController`, so hls.js stays a peer and is never bundled) that
 * - keeps every behaviour of the base, including its bandwidth estimator (so CMCD `mtp` stays right)
 *   and its emergency abort of a fragment that will not arrive in time;
 * - as soon as each main fragment has loaded, builds the policy's observation (level, buffer, throughput and
 *   download-time history, predicted next sizes, fragments left) and asks a policy through an async
 *   port (the comlink worker), with a deadline;
 * - answers `nextAutoLevel` with that decision when it arrived in time, and with the hls.js decision
 *   otherwise (no port yet, worker error, late answer, killed worker): a model never stalls playback;
 * - VOD, when the port builds decision tables (src/abr/decision-table.ts): once the loading fragment's size is
 *   known (its Content-Length, from the first progress event), asks the worker for the policy's answer at every
 *   download time, and when the fragment has loaded looks its answer up at once; the policy's own answer still
 *   comes, checks the table's (`onTableCheck`) and replaces it if hls.js has not used it yet;
 * - VOD, with `abandon`: its own emergency abort of a fragment that will not arrive before the buffer runs out
 *   (src/abr/abandon.ts), checked every 100 ms while a main fragment loads, next to hls.js' own.
 */
import type Hls from 'hls.js';
import type { FragLoadedData, HlsConfig } from 'hls.js';
import type { AbrObservation } from '../core/abr.js';
import { abandonLevel, checkAbandonRule, type AbandonRule } from './abandon.js';
import { RatioEwmaPredictor, type ChunkSizePredictor } from './chunk-size.js';
import { parseCodingMeta } from './coding-meta.js';
import { bufferAt, lookupDecision, TABLE_POLICIES, type AbrTable, type AbrTableRequest } from './decision-table.js';
import type { LiveDecision, LiveDecisionRequest } from './live.js';
import type { ChunkMeta } from './size-forecast.js';

export type AbrPolicyName = 'hls' | 'drl' | 'robustmpc' | 'bola' | 'bb';

/**
 * Where decisions come from (the worker's is `workerAbrPort(worker)`). `decide` resolves with a level of
 * `obs.ladderKbps`, or rejects; a rejection whose error has `permanent: true` means the policy cannot serve
 * this stream at all, and the controller hands over to hls.js until the ladder changes.
 */
export interface AbrPort {
  decide(policy: AbrPolicyName, obs: AbrObservation): AbrAnswer;
  /**
   * Live streams (optional): observe the finished chunks, forecast the next chunks' sizes at every rung
   * and decide with the live policy. Rejects like `decide`.
   */
  decideLive?(req: LiveDecisionRequest): Promise<LiveDecision>;
  /**
   * VOD (optional): the policy's decision table for the fragment still loading (`buildDecisionTableSliced` in the
   * worker: `sliceMs` of policy calls at a time, default 1 ms, decisions asked meanwhile answered between slices).
   * Rejects like `decide`, and when a newer table was asked for first on the same port (so give each player its
   * own port: two players sharing one would abandon each other's tables); a table that never comes only means the
   * controller asks `decide` as before.
   */
  table?(policy: AbrPolicyName, req: AbrTableRequest, opts?: { sliceMs?: number }): Promise<AbrTable>;
}

/**
 * A table answer checked against the policy's own answer for the same observation: `replaced` when they differ
 * and the policy's answer came before hls.js used the table's (the policy's answer then stands).
 */
export interface AbrTableCheck {
  sn: number;
  table: number;
  exact: number;
  replaced: boolean;
}

/**
 * A pending answer: the promise of a level, and optionally `peek`, a synchronous read of the answer once the
 * policy has it (the worker's SharedArrayBuffer slot): `at` is when it became readable, `performance.now()` ms.
 */
export type AbrAnswer = Promise<number> & { peek?: () => { level: number; at: number } | null };

export interface AbrDecisionRecord {
  /** sequence number of the fragment the decision is for */
  sn: number;
  level: number | null;
  source: 'policy' | 'fallback';
  /** time from the request to the answer being usable on the main thread (or to the deadline) */
  latencyMs: number;
  /**
   * how the answer reached the main thread: read from the shared slot, by the reply message, or looked up in the
   * decision table the worker built while the fragment loaded
   */
  via?: 'slot' | 'message' | 'table';
  /** performance.now() when the decision (or the fallback) took effect */
  at: number;
  reason?: string;
  /** live decisions: the forecast decided on (bytes[h][rung], next chunk first) and the latency then (s) */
  live?: { forecast: number[][] | null; latencyS: number; targetLatencyS: number; codingMeta: boolean };
}

/** A download the controller abandoned (`EdgeplayAbrOptions.abandon`): fragment `sn` at level `from`, fetched at `to` instead. */
export interface AbrAbandonRecord {
  sn: number;
  from: number;
  to: number;
  /** bytes in, of the fragment's size, when it was abandoned */
  loadedBytes: number;
  totalBytes: number;
  /** forward buffer then, s */
  bufferS: number;
  /** performance.now() */
  at: number;
}

export interface EdgeplayAbrOptions {
  policy: AbrPolicyName;
  /** the decision port, or null while it is not ready */
  port: () => AbrPort | null;
  /** answer deadline (default 20 ms: the next fragment request follows the buffered event closely) */
  budgetMs?: number;
  onDecision?: (r: AbrDecisionRecord) => void;
  /** each table answer once the policy's own answer has come (see `AbrTableCheck`) */
  onTableCheck?: (c: AbrTableCheck) => void;
  /** VOD: answer from decision tables when the port builds them (default true) */
  tables?: boolean;
  predictor?: (ladderKbps: readonly number[]) => ChunkSizePredictor;
  /** how many throughput samples to keep */
  history?: number;
  /** on live streams, ask the port's live policy (`decideLive`) when it has one (default true) */
  live?: boolean;
  /**
   * answer deadline of a live decision (default 80 ms: at the live edge the next segment is rarely published
   * yet, and the forecaster adapts to the stream before answering)
   */
  liveBudgetMs?: number;
  /**
   * VOD: abandon a fragment download that will not arrive before the buffer runs out, for a lower level
   * (src/abr/abandon.ts; e.g. `DEFAULT_ABANDON`). Default off: hls.js' own emergency abort only. Throws at
   * construction on a rule whose constants make no sense.
   */
  abandon?: AbandonRule | null;
  /** each download abandoned by `abandon` */
  onAbandon?: (r: AbrAbandonRecord) => void;
}

interface BaseAbr {
  hls: Hls;
  nextAutoLevel: number;
  deriveNextAutoLevel(level: number): number;
  onFragLoaded(event: string, data: FragLoadedData): void;
  onFragLoading(event: string, data: unknown): void;
  destroy(): void;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * The largest difference (s) between the buffer a table assumed for the download time that came and the buffer
 * the controller measures when the fragment has loaded (playback started or paused meanwhile, a seek): beyond it
 * the table's answer is not taken.
 */
export const TABLE_BUFFER_TOLERANCE_S = 0.25;

/** How often (ms) the controller looks at the loading fragment's progress for its size. */
const TABLE_POLL_MS = 20;

/** The levels' bitrates, b/s: AVERAGE-BANDWIDTH where the playlist gives it, else BANDWIDTH. */
function ladderBps(levels: Hls['levels']): number[] {
  return levels.map((l) => l.averageBitrate || l.bitrate);
}

/** The rate the buffer drains at: the playback rate while playing, 0 when paused or not started. */
function drainRate(media: HTMLMediaElement | null): number {
  return media && !media.paused && media.readyState >= 3 ? media.playbackRate : 0;
}

/** Buffer ahead of the playhead, s (0 when the playhead is outside every buffered range). */
function bufferAhead(media: HTMLMediaElement | null): number {
  if (!media) return 0;
  const b = media.buffered;
  for (let i = 0; i < b.length; i++)
    if (b.start(i) <= media.currentTime + 0.5 && b.end(i) > media.currentTime) return b.end(i) - media.currentTime;
  return 0;
}

/** Every `AbrPolicyName` (the worker answers for all but 'hls', which leaves the decisions to hls.js). */
export const ABR_POLICY_NAMES: readonly AbrPolicyName[] = ['hls', 'drl', 'robustmpc', 'bola', 'bb'];

/** `opts[key]` if it is a finite number > 0 (ms), `fallback` when undefined. @throws TypeError otherwise */
function budgetOption(opts: EdgeplayAbrOptions, key: 'budgetMs' | 'liveBudgetMs', fallback: number): number {
  const v = opts[key];
  if (v === undefined) return fallback;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
    throw new TypeError(`createAbrController: options.${key} must be a number of ms > 0, got ${String(v)}`);
  return v;
}

/**
 * Build the controller class to pass as `abrController` in the Hls config. It extends the given hls.js' own
 * `DefaultConfig.abrController`, so it is typed as hls.js' `HlsConfig['abrController']` (no cast needed).
 * @throws TypeError when `HlsCtor` has no `DefaultConfig.abrController`, `policy` is not an `AbrPolicyName`, `port` is
 *   not a function, or `budgetMs` / `liveBudgetMs` is not a number > 0 (such a budget made every answer late); an
 *   Error for an `abandon` rule whose constants make no sense
 */
export function createAbrController(HlsCtor: typeof Hls, opts: EdgeplayAbrOptions): HlsConfig['abrController'] {
  const Base = (HlsCtor as unknown as { DefaultConfig?: { abrController?: new (hls: Hls) => BaseAbr } } | undefined)?.DefaultConfig
    ?.abrController;
  if (typeof Base !== 'function')
    throw new TypeError('createAbrController: the first argument must be your hls.js constructor (it has no DefaultConfig.abrController)');
  if (!ABR_POLICY_NAMES.includes(opts?.policy))
    throw new TypeError(`createAbrController: options.policy ${JSON.stringify(opts?.policy)} is none of ${ABR_POLICY_NAMES.join(', ')}`);
  if (typeof opts.port !== 'function')
    throw new TypeError('createAbrController: options.port must be a function returning the decision port, or null while not ready');
  const budget = budgetOption(opts, 'budgetMs', 20);
  const liveBudget = budgetOption(opts, 'liveBudgetMs', 80);
  const keep = opts.history ?? 16;
  if (opts.abandon) checkAbandonRule(opts.abandon);

  class EdgeplayAbrController extends Base {
    private thr: number[] = [];
    private delays: number[] = [];
    private decided: { sn: number; level: number } | null = null;
    private predictor: ChunkSizePredictor | null = null;
    private ladderKey = '';
    private requestId = 0;
    /** reads the pending request's answer from the shared slot, when the port has one */
    private peek: (() => void) | null = null;
    private warmed = false;
    /** the ladder the policy said it cannot serve (hls.js decides until the ladder changes) */
    private handedOver: string | null = null;
    /** live: the next chunk (media sequence number) the worker's forecaster has not observed, and its ladder */
    private liveNext: number | null = null;
    private liveKey = '';
    /** LL-HLS: the parts of the segment being loaded, summed (level -1: they came from several rungs) */
    private partAgg: { sn: number; bytes: number; ms: number; level: number; coveredS: number } | null = null;
    /** the decision table asked for the fragment loading now (table: null until the worker has sent it) */
    private tableFor: { sn: number; req: AbrTableRequest; table: AbrTable | null } | null = null;
    private watch: ReturnType<typeof setInterval> | null = null;
    /** the sequence number of the main fragment hls.js started loading last (a decision for a later one is not used yet) */
    private loadingSn = -1;
    /** the `abandon` rule's 100 ms check of the loading fragment */
    private abandonTimer: ReturnType<typeof setInterval> | null = null;

    private stopAbandon(): void {
      if (this.abandonTimer !== null) clearInterval(this.abandonTimer);
      this.abandonTimer = null;
    }

    /** Check the loading VOD fragment every 100 ms with the `abandon` rule; abort and switch down when it says so. */
    private watchForAbandon(frag: FragLoadedData['frag']): void {
      this.stopAbandon();
      const rule = opts.abandon;
      if (!rule || this.hls.levels[frag.level]?.details?.live) return;
      const check = () => {
        const hls = this.hls;
        const st = frag.stats;
        if (!hls || st.aborted || st.loading.end > 0 || (st.total > 0 && st.loaded >= st.total)) return this.stopAbandon();
        // a level the app fixed: switching down would reload the same level (and abort it again)
        if (!hls.autoLevelEnabled) return;
        const media = (hls as unknown as { media: HTMLMediaElement | null }).media;
        const t = now();
        const ladder = ladderBps(hls.levels);
        const totalBytes = st.total > 0 ? st.total : Math.round((frag.duration * ladder[frag.level]) / 8);
        const bufferS = bufferAhead(media);
        const to = abandonLevel(
          {
            level: frag.level,
            fragS: frag.duration,
            loadedBytes: st.loaded,
            totalBytes,
            loadingS: (t - st.loading.start) / 1000,
            streamingS: st.loading.first > 0 ? (t - st.loading.first) / 1000 : 0,
            ttfbS: st.loading.first > 0 ? (st.loading.first - st.loading.start) / 1000 : 0.1,
            bufferS,
            playbackRate: drainRate(media),
            ladderBps: ladder,
            // below it hls.js clamps the level back up (deriveNextAutoLevel): the same level would load again
            minLevel: hls.minAutoLevel,
          },
          rule,
        );
        if (to === null) return;
        this.stopAbandon();
        // as hls.js' own emergency abort does: the level first, then the abort, then the event that sends the
        // stream controller back to idle (it then loads the same fragment at `to`)
        const base = this as unknown as { fragCurrent: unknown; partCurrent: unknown; clearTimer?: () => void };
        hls.nextLoadLevel = hls.nextAutoLevel = to;
        base.clearTimer?.();
        base.fragCurrent = base.partCurrent = null;
        frag.abortRequests();
        const Events = (HlsCtor as unknown as { Events: Record<string, string> }).Events;
        (hls as unknown as { trigger: (e: string, d: unknown) => void }).trigger(Events.FRAG_LOAD_EMERGENCY_ABORTED, {
          frag,
          part: null,
          stats: st,
        });
        opts.onAbandon?.({ sn: frag.sn as number, from: frag.level, to, loadedBytes: st.loaded, totalBytes, bufferS, at: t });
      };
      this.abandonTimer = setInterval(check, 100);
    }

    private stopWatch(): void {
      if (this.watch !== null) clearInterval(this.watch);
      this.watch = null;
    }

    /**
     * Watch the loading VOD fragment until its size is known, then ask the port for the decision table of the
     * observation that fragment will complete.
     */
    private watchForTable(frag: FragLoadedData['frag']): void {
      this.stopWatch();
      this.tableFor = null;
      const port = opts.port();
      if (opts.tables === false || !port?.table || !TABLE_POLICIES.includes(opts.policy)) return;
      if (this.hls.levels[frag.level]?.details?.live) return; // tables are for VOD
      let ticks = 0;
      const tick = () => {
        const st = frag.stats;
        // a load that never starts (or never reports its size) is not watched for more than the table's range
        if (++ticks * TABLE_POLL_MS > 60_000) return this.stopWatch();
        if (st.aborted || (st.total > 0 && st.loaded >= st.total) || st.loading.end > 0) return this.stopWatch();
        if (!(st.total > 0) || !(st.loading.start > 0)) return;
        this.stopWatch();
        const req = this.tableRequest(frag, st.total, now() - st.loading.start);
        if (!req) return;
        const entry: { sn: number; req: AbrTableRequest; table: AbrTable | null } = { sn: frag.sn as number, req, table: null };
        this.tableFor = entry;
        port.table!(opts.policy, req).then(
          (t) => {
            entry.table = t;
          },
          () => undefined, // no table: the fragment is decided the usual way
        );
      };
      this.watch = setInterval(tick, TABLE_POLL_MS);
    }

    /** What `onFragLoaded` will know about `frag` except its download time (null: no table for it). */
    private tableRequest(frag: FragLoadedData['frag'], bytes: number, elapsedMs: number): AbrTableRequest | null {
      const hls = this.hls;
      const levels = hls.levels;
      const details = levels[frag.level]?.details;
      if (!details || details.live || typeof frag.sn !== 'number') return null;
      const ladder = ladderBps(levels).map((b) => b / 1000);
      const key = ladder.join(',');
      if (this.handedOver === key) return null;
      if (key !== this.ladderKey || !this.predictor) {
        // the first fragment of a ladder: the predictor onFragLoaded would start with
        this.ladderKey = key;
        this.predictor = opts.predictor ? opts.predictor(ladder) : new RatioEwmaPredictor(ladder);
      }
      const pred = this.predictor.clone?.();
      if (!pred) return null;
      pred.observe(frag.level, bytes);
      const media = (hls as unknown as { media: HTMLMediaElement | null }).media;
      const total = details.fragments.length;
      const index = frag.sn - details.startSN;
      const remain = Math.max(0, total - 1 - index);
      const drain = drainRate(media);
      return {
        base: {
          lastQuality: frag.level,
          bufferS: bufferAhead(media),
          throughputs: this.thr.slice(),
          delaysMs: this.delays.slice(),
          nextSizes: remain > 0 ? pred.predict() : ladder.map(() => 0),
          remain,
          nextIndex: index + 1,
          totalChunks: total,
          ladderKbps: ladder,
          rebufS: 0,
        },
        bytes,
        elapsedMs,
        drainRate: drain,
        appendS: frag.duration,
        keep,
      };
    }

    override destroy(): void {
      this.stopWatch();
      this.stopAbandon();
      super.destroy();
    }

    // While the first fragment downloads, send the worker one throw-away decision so the message path
    // (structured clone, comlink, the policy's code) is compiled before the first real one.
    override onFragLoading(event: string, data: unknown): void {
      super.onFragLoading(event, data);
      if (opts.policy === 'hls') return;
      const f = (data as { frag?: FragLoadedData['frag']; part?: unknown }).frag;
      if (f && f.type === 'main' && typeof f.sn === 'number' && !f.bitrateTest) {
        this.loadingSn = f.sn;
        if (!(data as { part?: unknown }).part) {
          this.watchForTable(f);
          this.watchForAbandon(f);
        }
      }
      if (this.warmed) return;
      const port = opts.port();
      if (!port) return;
      this.warmed = true;
      const ladder = ladderBps(this.hls.levels).map((b) => b / 1000);
      if (!ladder.length) return;
      const warm: AbrObservation = {
        lastQuality: 0,
        bufferS: 0,
        throughputs: [1000],
        delaysMs: [1000],
        nextSizes: ladder.map((k) => k * 500),
        remain: 10,
        nextIndex: 1,
        totalChunks: 48,
        ladderKbps: ladder,
        rebufS: 0,
      };
      for (let i = 0; i < 3; i++) port.decide(opts.policy, warm).catch(() => undefined);
    }

    // Decide as soon as a fragment has arrived (FRAG_LOADED), not when it is buffered: hls.js requests
    // the next fragment right after FRAG_BUFFERED, leaving no time for an asynchronous answer, while
    // parsing and appending give the worker a few milliseconds here.
    override onFragLoaded(event: string, data: FragLoadedData): void {
      super.onFragLoaded(event, data);
      if (opts.policy === 'hls') return;
      const frag = data.frag;
      if (frag.type !== 'main' || typeof frag.sn !== 'number' || frag.bitrateTest) return;
      const hls = this.hls;
      const levels = hls.levels;
      // LL-HLS: hls.js loads the segment at the live edge part by part; decide once per segment, after its last
      // part, on the segment's bytes and transfer time summed over its parts
      const part = data.part;
      let stats: { loaded: number; aborted: boolean; loading: { start: number; end: number } } = frag.stats;
      let chunkBytes: number | null = null;
      let appendS = frag.duration;
      if (part) {
        const ps = part.stats;
        if (ps.aborted || !(ps.loaded > 0)) return;
        let a = this.partAgg;
        if (!a || a.sn !== frag.sn) a = this.partAgg = { sn: frag.sn, bytes: 0, ms: 0, level: frag.level, coveredS: 0 };
        a.bytes += ps.loaded;
        a.ms += Math.max(0, ps.loading.end - ps.loading.start);
        a.coveredS += part.duration;
        if (a.level !== frag.level) a.level = -1;
        const segS = levels[frag.level]?.details?.targetduration || frag.duration;
        if (part.start + part.duration < frag.start + segS - 0.01) return; // not the segment's last part
        stats = { loaded: a.bytes, aborted: false, loading: { start: 0, end: a.ms } };
        // the chunk's size at this rung is known when all its parts came from it
        chunkBytes = a.level === frag.level && a.coveredS >= segS - 0.01 ? a.bytes : null;
        appendS = part.duration;
      } else chunkBytes = frag.stats.loaded;
      const ms = stats.loading.end - stats.loading.start;
      if (stats.aborted || !(ms > 0) || !(stats.loaded > 0)) return;
      const ladder = ladderBps(levels).map((b) => b / 1000);
      const key = ladder.join(',');
      if (key !== this.ladderKey || !this.predictor) {
        this.ladderKey = key;
        this.predictor = opts.predictor ? opts.predictor(ladder) : new RatioEwmaPredictor(ladder);
      }
      this.thr.push(stats.loaded / ms);
      this.delays.push(ms);
      if (this.thr.length > keep) {
        this.thr.shift();
        this.delays.shift();
      }
      this.predictor.observe(frag.level, stats.loaded);
      const details = levels[frag.level]?.details;
      const media = (hls as unknown as { media: HTMLMediaElement | null }).media;
      // the buffer once this chunk is in: what is buffered now plus the chunk about to be appended (the player
      // simulator, src/sim/abr/hls-vod.ts, reads it the same way since session 12)
      const bufferS = bufferAhead(media) + appendS;
      const total = details && !details.live ? details.fragments.length : 48;
      const index = details ? frag.sn - details.startSN : 0;
      const remain = details && !details.live ? Math.max(0, total - 1 - index) : 24;
      const obs: AbrObservation = {
        lastQuality: frag.level,
        bufferS,
        throughputs: this.thr.slice(),
        delaysMs: this.delays.slice(),
        nextSizes: remain > 0 ? this.predictor.predict() : ladder.map(() => 0),
        remain,
        nextIndex: index + 1,
        totalChunks: total,
        ladderKbps: ladder,
        rebufS: 0,
      };
      const sn = frag.sn + 1;
      this.decided = null;
      this.peek = null;
      if (this.handedOver === key) return; // said once, visibly; not asked again for this ladder
      const id = ++this.requestId;
      const port = opts.port();
      const t0 = now();
      const tf = this.tableFor;
      this.tableFor = null;
      this.stopWatch();
      if (!port) return opts.onDecision?.({ sn, level: null, source: 'fallback', latencyMs: 0, at: t0, reason: 'worker not ready' });
      if (details?.live && opts.live !== false && port.decideLive)
        return this.askLive(port, id, frag, chunkBytes, bufferS, appendS, ladder, key);
      if (
        tf?.table &&
        tf.sn === frag.sn &&
        !part &&
        stats.loaded === tf.table.bytes &&
        tf.req.base.lastQuality === frag.level &&
        tf.req.base.ladderKbps.join(',') === key
      ) {
        const level = lookupDecision(tf.table, ms);
        if (level !== null && level < levels.length && Math.abs(bufferAt(tf.req, ms) - bufferS) <= TABLE_BUFFER_TOLERANCE_S)
          return this.fromTable(port, id, sn, level, obs, key, t0);
      }
      let settled = false;
      const fallback = (reason: string, at = now()) =>
        opts.onDecision?.({ sn, level: null, source: 'fallback', latencyMs: at - t0, at, reason });
      /** the answer is usable (from the slot or the message) at `at`: take it once */
      const settle = (level: number, at: number, via: 'slot' | 'message') => {
        if (settled || id !== this.requestId) return;
        settled = true;
        this.peek = null;
        clearTimeout(timer);
        if (!Number.isInteger(level) || level < 0 || level >= levels.length) return fallback(`invalid level ${level}`, at);
        this.decided = { sn, level };
        opts.onDecision?.({ sn, level, source: 'policy', latencyMs: at - t0, at, via });
      };
      const answer = port.decide(opts.policy, obs);
      const peek = answer.peek;
      this.peek = peek
        ? () => {
            const a = peek();
            if (a) settle(a.level, a.at, 'slot');
          }
        : null;
      const timer = setTimeout(() => {
        this.peek?.();
        if (settled) return;
        settled = true;
        this.peek = null;
        if (this.handedOver === key) return; // an earlier request already handed over: nothing more to say
        fallback(`no answer within ${budget} ms`);
      }, budget);
      answer.then(
        (level) => {
          // with a shared slot the answer was usable when the worker wrote it, before this message got through
          this.peek?.();
          settle(level, now(), 'message');
        },
        (err: unknown) => {
          if (settled || id !== this.requestId) return;
          settled = true;
          this.peek = null;
          clearTimeout(timer);
          // Requests overlap when the worker is slow (a busy phone): the first permanent rejection hands
          // over; the ones still in flight for the same ladder are the same news and stay silent.
          if (this.handedOver === key) return;
          if ((err as { permanent?: unknown })?.permanent === true) {
            this.handedOver = key;
            const why = err instanceof Error ? err.message : String(err);
            console.warn(`[edgeplay] ABR policy '${opts.policy}' cannot serve this stream (${why}): hls.js decides from now on`);
            return fallback(`handover to hls.js: ${why}`);
          }
          fallback(`policy error: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }

    /**
     * Take the table's answer now; ask the policy all the same, to check the table (`onTableCheck`) and to put
     * the policy's own answer in its place if it differs and hls.js has not yet used the table's.
     */
    private fromTable(port: AbrPort, id: number, sn: number, level: number, obs: AbrObservation, key: string, t0: number): void {
      const at = now();
      this.decided = { sn, level };
      opts.onDecision?.({ sn, level, source: 'policy', latencyMs: at - t0, at, via: 'table' });
      const levels = this.hls.levels.length;
      port.decide(opts.policy, obs).then(
        (exact) => {
          if (!this.hls) return; // destroyed meanwhile
          const valid = Number.isInteger(exact) && exact >= 0 && exact < levels;
          // hls.js has not started loading fragment sn, and no later fragment has been decided since
          const replaced = valid && exact !== level && this.loadingSn < sn && id === this.requestId;
          if (replaced) this.decided = { sn, level: exact };
          opts.onTableCheck?.({ sn, table: level, exact, replaced });
        },
        (err: unknown) => {
          if (!this.hls || (err as { permanent?: unknown })?.permanent !== true || this.handedOver === key) return;
          this.handedOver = key;
          if (this.loadingSn < sn && this.decided?.sn === sn) this.decided = null;
          const why = err instanceof Error ? err.message : String(err);
          console.warn(`[edgeplay] ABR policy '${opts.policy}' cannot serve this stream (${why}): hls.js decides from now on`);
        },
      );
    }

    /**
     * The live path: the chunks finished since the last request (bytes and coding meta at every rung from the
     * playlist's coding-meta DATERANGEs, else the fetched rung's bytes), the latency state, one request.
     */
    private askLive(
      port: AbrPort,
      id: number,
      frag: FragLoadedData['frag'],
      loaded: number | null,
      bufferS: number,
      appendS: number,
      ladder: number[],
      key: string,
    ): void {
      const hls = this.hls;
      const details = hls.levels[frag.level]?.details;
      const sn = frag.sn as number;
      const chunkS = details?.targetduration || frag.duration;
      const published = new Map<number, ChunkMeta[]>();
      for (const dr of Object.values(details?.dateRanges ?? {})) {
        const m = dr && parseCodingMeta(dr.attr as unknown as Record<string, unknown>, ladder.length);
        if (m) published.set(m.sn, m.meta);
      }
      const reset = key !== this.liveKey || this.liveNext === null || sn > this.liveNext + 20 || sn < this.liveNext - 20;
      if (reset) {
        this.liveKey = key;
        // start from the oldest published chunk of the window (at most 10 back): the forecaster's history
        let first = sn;
        while (first > sn - 10 && published.has(first - 1)) first--;
        this.liveNext = first;
      }
      const finished: LiveDecisionRequest['finished'] = [];
      for (let k = this.liveNext!; k <= sn; k++) {
        const meta = published.get(k) ?? null;
        const sizes: Array<number | null> = meta ? meta.map((m) => m.bytes) : ladder.map(() => null);
        if (k === sn && !meta && loaded !== null) sizes[frag.level] = loaded;
        finished.push({ sn: k, sizes, meta });
      }
      this.liveNext = Math.max(this.liveNext!, sn + 1);
      const media = (hls as unknown as { media: HTMLMediaElement | null }).media;
      const targetLatencyS = hls.targetLatency ?? 3 * chunkS;
      // before playback starts hls.js reports 0: the playhead will start at this chunk's first frame
      const latencyS =
        Number.isFinite(hls.latency) && hls.latency > 0
          ? hls.latency
          : frag.programDateTime
            ? Math.max(0, (Date.now() - frag.programDateTime) / 1000)
            : targetLatencyS;
      const last = details?.fragments[details.fragments.length - 1];
      // LL-HLS: the next chunk's parts already published
      const partS = details?.partTarget || chunkS;
      const producedS = (details?.partList ?? []).filter((p) => p.fragment.sn === sn + 1).reduce((t, p) => t + p.duration, 0);
      let waitS = 0;
      if (!producedS && details && details.endSN < sn + 1 && last?.programDateTime)
        waitS = Math.min(chunkS, Math.max(0, (last.programDateTime + (last.duration + chunkS) * 1000 - Date.now()) / 1000));
      const behind = bufferS - appendS; // buffer before this chunk (or part) is appended
      const req: LiveDecisionRequest = {
        reset,
        ladderKbps: ladder,
        chunkS,
        finished,
        obs: {
          ladderKbps: ladder,
          chunkS,
          partS, // LL-HLS part duration (a whole segment on a stream without parts)
          nextIndex: sn + 1,
          lastQuality: frag.level,
          bufferS,
          latencyS,
          targetLatencyS,
          playbackRate: media?.playbackRate ?? 1,
          stalled: !!media && media.currentTime > 0 && behind < 0.1,
          waitS,
          producedS,
          throughputs: this.thr.slice(),
          wallThroughputs: this.thr.slice(),
          delaysMs: this.delays.slice(),
        },
      };
      const next = sn + 1;
      const t0 = now();
      const liveRec = (forecast: number[][] | null) => ({ forecast, latencyS, targetLatencyS, codingMeta: published.size > 0 });
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        if (this.handedOver === key) return; // an earlier request already handed over: nothing more to say
        opts.onDecision?.({
          sn: next,
          level: null,
          source: 'fallback',
          latencyMs: now() - t0,
          at: now(),
          reason: `no answer within ${liveBudget} ms`,
          live: liveRec(null),
        });
      }, liveBudget);
      port.decideLive!(req).then(
        (d) => {
          if (settled || id !== this.requestId) return;
          settled = true;
          clearTimeout(timer);
          if (!Number.isInteger(d.level) || d.level < 0 || d.level >= hls.levels.length) {
            return opts.onDecision?.({
              sn: next,
              level: null,
              source: 'fallback',
              latencyMs: now() - t0,
              at: now(),
              reason: `invalid level ${d.level}`,
            });
          }
          this.decided = { sn: next, level: d.level };
          opts.onDecision?.({ sn: next, level: d.level, source: 'policy', latencyMs: now() - t0, at: now(), live: liveRec(d.forecast) });
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (this.handedOver === key) return; // overlapping requests: the first permanent rejection said it
          const why = err instanceof Error ? err.message : String(err);
          if ((err as { permanent?: unknown })?.permanent === true) {
            this.handedOver = key;
            console.warn(`[edgeplay] the live ABR policy cannot serve this stream (${why}): hls.js decides from now on`);
          }
          // the worker may have observed part of `finished` before failing: start over on the next chunk
          this.liveNext = null;
          opts.onDecision?.({
            sn: next,
            level: null,
            source: 'fallback',
            latencyMs: now() - t0,
            at: now(),
            reason: (err as { permanent?: unknown })?.permanent === true ? `handover to hls.js: ${why}` : `policy error: ${why}`,
            live: liveRec(null),
          });
        },
      );
    }

    override get nextAutoLevel(): number {
      // hls.js asks on every tick: an answer already in the shared slot is taken now
      if (!this.decided) this.peek?.();
      const d = this.decided;
      if (d && this.hls) return this.deriveNextAutoLevel(d.level);
      return super.nextAutoLevel;
    }

    override set nextAutoLevel(level: number) {
      // An explicit switch (hls.js' emergency abort of a fragment that cannot arrive in time, or the
      // app) overrides the policy until its next decision.
      this.decided = null;
      super.nextAutoLevel = level;
    }
  }
  return EdgeplayAbrController as unknown as HlsConfig['abrController'];
}
