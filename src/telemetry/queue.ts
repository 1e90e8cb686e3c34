/**
 * Durable outbox of sealed telemetry batches.
 *
 * - IndexedDB holds every sealed batch until the server acknowledges it (survives reloads, crashes
 *   after the write, offline periods, browser restarts).
 * - localStorage is the synchronous spill used during `pagehide`, when an IndexedDB write may not
 *   finish before the document goes away; the next page imports the spill into IndexedDB.
 * - If IndexedDB is unavailable (some private modes, sandboxed iframes) it degrades to memory and says so. The
 *   spill is then the only copy that outlives the page: a page takes over the spills of earlier pages (one key,
 *   its own, each batch once), takes a delivered batch out of it, and spills its undelivered batches into it again
 *   at unload — so spills neither multiply from page to page nor send a delivered batch again.
 *
 * A batch body is immutable once sealed, so re-sending it is always safe: the server deduplicates by id.
 */

export interface StoredBatch {
  id: string;
  /** the JSON body exactly as it will be sent */
  body: string;
  created: number;
  events: number;
}

const STORE = 'outbox';
const SPILL_PREFIX = 'edgeplay:spill:';
/** the database name whose outbox imports spills written before they carried one (the pipeline's default) */
const LEGACY_SPILL_DB = 'edgeplay';
/** the IndexedDB name the default outbox had before session 9 (String(undefined)); the default outbox imports it */
const MISNAMED_DB = 'undefined';

/**
 * The localStorage key of one tab's spill for the outbox `dbName`: `edgeplay:spill:<dbName, URI-encoded>:<tabId>`.
 * Only an outbox of the same `dbName` imports it — another SDK instance on the origin (another app, another
 * endpoint) never delivers these batches.
 */
export function spillKey(dbName: string, tabId: string): string {
  return `${SPILL_PREFIX}${encodeURIComponent(dbName)}:${tabId}`;
}

/** Whether the spill under localStorage key `k` belongs to the outbox `dbName` (keys without a name: the default's). */
function spillOf(k: string, dbName: string): boolean {
  if (!k.startsWith(SPILL_PREFIX)) return false;
  const rest = k.slice(SPILL_PREFIX.length);
  return rest.includes(':') ? rest.startsWith(`${encodeURIComponent(dbName)}:`) : dbName === LEGACY_SPILL_DB;
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((res, rej) => {
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

export class DurableQueue {
  readonly durable: boolean;
  private db: IDBDatabase | null;
  private mem = new Map<string, StoredBatch>();
  private spillKey: string;
  private dbName: string;

  private constructor(db: IDBDatabase | null, dbName: string, tabId: string) {
    this.db = db;
    this.durable = db !== null;
    this.dbName = dbName;
    this.spillKey = spillKey(dbName, tabId);
  }

  static async open(dbName: string, tabId: string): Promise<DurableQueue> {
    let db: IDBDatabase | null = null;
    try {
      if (typeof indexedDB !== 'undefined') {
        db = await new Promise<IDBDatabase>((res, rej) => {
          const r = indexedDB.open(dbName, 1);
          r.onupgradeneeded = () => {
            if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE, { keyPath: 'id' });
          };
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
          r.onblocked = () => rej(new Error('indexedDB open blocked'));
        });
      }
    } catch (e) {
      console.warn('[edgeplay] IndexedDB unavailable, telemetry is kept in memory only:', e);
      db = null;
    }
    const q = new DurableQueue(db, dbName, tabId);
    await q.importSpills();
    if (dbName === LEGACY_SPILL_DB) await q.importOutbox(MISNAMED_DB);
    return q;
  }

  /**
   * Move the batches of another IndexedDB outbox `name` into this one (deleting them there), if that database
   * exists (`indexedDB.databases()` says; where it is missing, nothing is done). Until session 9 the default outbox was
   * the database "undefined" (the pipeline's default dbName was overridden by Edgeplay's unset option): the default
   * outbox takes over what an older page left there. Never throws (a failure keeps that database as it is).
   */
  private async importOutbox(name: string): Promise<void> {
    if (!this.db || typeof indexedDB.databases !== 'function') return;
    try {
      if (!(await indexedDB.databases()).some((d) => d.name === name)) return;
      const old = await new Promise<IDBDatabase>((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
        r.onblocked = () => rej(new Error('indexedDB open blocked'));
      });
      try {
        if (!old.objectStoreNames.contains(STORE)) return;
        const all = (await req(old.transaction(STORE, 'readonly').objectStore(STORE).getAll())) as StoredBatch[];
        const moved: string[] = [];
        for (const b of all)
          if (b && typeof b.id === 'string' && typeof b.body === 'string') {
            await this.put(b);
            moved.push(b.id);
          }
        // only what was moved leaves it: an older page still writing there is imported by the next page
        const tx = old.transaction(STORE, 'readwrite');
        for (const id of moved) tx.objectStore(STORE).delete(id);
        await new Promise<void>((res) => {
          tx.oncomplete = tx.onerror = tx.onabort = () => res();
        });
      } finally {
        old.close();
      }
    } catch (e) {
      console.warn(`[edgeplay] could not import the telemetry outbox "${name}":`, e);
    }
  }

  async put(b: StoredBatch): Promise<void> {
    this.mem.set(b.id, b);
    if (!this.db) return;
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(b);
    await new Promise<void>((res, rej) => {
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
      tx.onabort = () => rej(tx.error ?? new Error('transaction aborted'));
    });
  }

  async remove(id: string): Promise<void> {
    this.mem.delete(id);
    if (!this.db) return this.unspill(id);
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(id);
    await new Promise<void>((res) => {
      tx.oncomplete = () => res();
      tx.onerror = () => res();
      tx.onabort = () => res();
    });
  }

  /** All batches waiting for an ack, oldest first. */
  async list(): Promise<StoredBatch[]> {
    if (this.db) {
      const all = (await req(this.db.transaction(STORE, 'readonly').objectStore(STORE).getAll())) as StoredBatch[];
      for (const b of all) this.mem.set(b.id, b);
    }
    return [...this.mem.values()].sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
  }

  /** Synchronous, for pagehide: keep these batches in localStorage until the next page imports them. */
  spillSync(batches: StoredBatch[]): void {
    if (batches.length === 0) return;
    try {
      const prev = localStorage.getItem(this.spillKey);
      const list: StoredBatch[] = prev ? JSON.parse(prev) : [];
      const ids = new Set(list.map((b) => b.id));
      for (const b of batches) if (!ids.has(b.id)) list.push(b);
      localStorage.setItem(this.spillKey, JSON.stringify(list));
    } catch (e) {
      console.warn('[edgeplay] could not spill telemetry to localStorage:', e);
    }
  }

  /** Memory-only: take a delivered batch out of this tab's spill (the earlier pages' spills were merged into it). */
  private unspill(id: string): void {
    try {
      const prev = localStorage.getItem(this.spillKey);
      if (!prev) return;
      const list = (JSON.parse(prev) as StoredBatch[]).filter((b) => b?.id !== id);
      if (list.length) localStorage.setItem(this.spillKey, JSON.stringify(list));
      else localStorage.removeItem(this.spillKey);
    } catch (e) {
      console.warn('[edgeplay] could not update the telemetry spill', e);
    }
  }

  /**
   * Move every tab's spill of this outbox (`spillKey`) into the store (idempotent: batch ids are keys). With
   * IndexedDB the spills are then removed; memory-only, they are merged into this tab's own spill key (each batch
   * once) and the other keys removed, so the spill stays the one copy that survives this page.
   */
  private async importSpills(): Promise<void> {
    let keys: string[] = [];
    try {
      if (typeof localStorage === 'undefined') return;
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (k && spillOf(k, this.dbName)) keys.push(k);
      }
    } catch {
      return;
    }
    const taken = new Map<string, StoredBatch[]>();
    for (const k of keys) {
      try {
        const list = (JSON.parse(localStorage.getItem(k) ?? '[]') as StoredBatch[]).filter(
          (b) => b && typeof b.id === 'string' && typeof b.body === 'string',
        );
        for (const b of list) await this.put(b);
        taken.set(k, list);
        if (this.db) localStorage.removeItem(k);
      } catch (e) {
        console.warn('[edgeplay] ignoring unreadable telemetry spill', k, e);
      }
    }
    if (this.db || !taken.size) return;
    // memory-only: the spill stays the one copy that outlives this page. Adopt an earlier page's spill as this
    // tab's (no copy made: within any storage quota), merge the others into it, then remove them.
    const adopt = [...taken.keys()].find((k) => k.startsWith(spillKey(this.dbName, '')));
    if (adopt) this.spillKey = adopt;
    const others = [...taken.keys()].filter((k) => k !== this.spillKey);
    if (!others.length) return;
    const moved = others.flatMap((k) => taken.get(k) ?? []);
    this.spillSync(moved);
    try {
      const mine = new Set((JSON.parse(localStorage.getItem(this.spillKey) ?? '[]') as StoredBatch[]).map((b) => b.id));
      if (moved.every((b) => mine.has(b.id))) for (const k of others) localStorage.removeItem(k);
    } catch {
      /* the other keys stay: imported again next time (ids deduplicate) */
    }
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}
