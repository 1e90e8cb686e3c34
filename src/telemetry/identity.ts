/**
 * Identity of the viewer and the visit: a viewer id (the app's own, or a random one kept in localStorage
 * once consent is granted), a session id per visit (a new one after `sessionTimeoutMs` without activity)
 * and the visit's channel-switch count (ELCast's N). Nothing is read from or written to the device before
 * consent; storage that is full or blocked leaves the ids in memory.
 */
import { isId, randomId } from '../core/ids.js';

const LS_VIEWER = 'edgeplay:viewer';
const LS_SESSION = 'edgeplay:session';

/** localStorage when the page may use it, else null (sandboxed frames and some private modes throw). */
export function safeStorage(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

/**
 * The viewer id an earlier consented visit stored, when it is one the controller accepts (`ID_PATTERN`): another
 * script of the origin may have written anything under the key, and a bad id would get every batch refused.
 */
function storedId(st: Storage | null): string | null {
  try {
    const v = st?.getItem(LS_VIEWER);
    return isId(v) ? v : null;
  } catch {
    return null;
  }
}

export interface IdentityOptions {
  /** the app's own stable viewer id (never replaced by a stored one) */
  viewerId?: string;
  /** a visit ends after this much inactivity, ms */
  sessionTimeoutMs: number;
  /** consent already granted: ids may be read and written now */
  granted: boolean;
}

export class Identity {
  private viewer: string;
  private session = randomId();
  private switches = 0;
  private touched = 0;
  private persist: boolean;

  constructor(private o: IdentityOptions) {
    this.persist = o.granted;
    const st = o.granted ? safeStorage() : null;
    this.viewer = o.viewerId ?? storedId(st) ?? randomId();
    if (st) {
      try {
        st.setItem(LS_VIEWER, this.viewer);
        const prev = JSON.parse(st.getItem(LS_SESSION) ?? 'null') as { id: string; at: number; switches?: number } | null;
        if (prev && isId(prev.id) && Date.now() - prev.at < o.sessionTimeoutMs) {
          this.session = prev.id;
          this.switches = prev.switches ?? 0;
        }
      } catch {
        /* storage full or blocked: ids stay in memory */
      }
      this.touch();
    }
  }

  get viewerId(): string {
    return this.viewer;
  }

  get sessionId(): string {
    return this.session;
  }

  /** channel switches in this visit */
  get channelSwitches(): number {
    return this.switches;
  }

  /**
   * Consent was granted: adopt the viewer id of an earlier consented visit (continuity) unless the app
   * gave its own, else store ours; from now on the visit is kept in localStorage.
   */
  grant(): void {
    const st = safeStorage();
    if (st && !this.o.viewerId) {
      try {
        const stored = storedId(st);
        if (stored) this.viewer = stored;
        else st.setItem(LS_VIEWER, this.viewer);
      } catch {
        /* storage blocked: the id stays in memory */
      }
    }
    this.persist = true;
    this.touch();
  }

  /** Consent was withdrawn: nothing more is written. */
  revoke(): void {
    this.persist = false;
  }

  /**
   * Activity: starts a new visit after the inactivity timeout and records the visit (at most once a second
   * unless `force`).
   */
  touch(force = false): void {
    const now = Date.now();
    if (!force && now - this.touched < 1000) return;
    if (this.touched && now - this.touched > this.o.sessionTimeoutMs) {
      this.session = randomId();
      this.switches = 0;
    }
    this.touched = now;
    if (!this.persist) return;
    try {
      safeStorage()?.setItem(LS_SESSION, JSON.stringify({ id: this.session, at: now, switches: this.switches }));
    } catch {
      /* ignore: the visit stays in memory */
    }
  }

  /** Count a channel switch in this visit; returns the count so far. */
  countChannelSwitch(): number {
    this.touch(); // a visit that timed out ends first: the switch belongs to the new one
    this.switches++;
    this.touch(true);
    return this.switches;
  }
}
