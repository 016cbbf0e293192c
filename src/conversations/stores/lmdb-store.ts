// The embedded store (the default without Redis): one LMDB file, <data dir>/conversations/store.mdb.
// Why LMDB and not files: a team's 30 days are ~1 M conversation points and ~100 k transcripts; as
// files that is a million inodes, 4 KB blocks for 200-byte records and an hourly sweep that reads
// them all. In LMDB a turn costs one B-tree write (O(log n), a few pages), reads are memory-mapped,
// start-up opens one file, and expiry walks an index ordered by expiry time, so a sweep touches only
// what is due. Commits are atomic copy-on-write (a kill -9 leaves the last committed state; a torn
// write cannot be read back), and several processes may open the file at once (the `keys` command
// beside a running gateway). Chosen over LevelDB, SQLite in WebAssembly and files by measurement
// (README, Performance). Keys are the FileStore's own hashed names, so its data dir migrates by name.
import fs from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from 'pino';
import { hashName } from './file-store.js';
import { LegacyFiles } from './legacy-files.js';
import { sessionKey, type ConversationStore, type CounterRows, type SessionKey, type SessionStoreEntry } from './store.js';

/** Expiry index keys sort by time: a fixed-width decimal of the expiry in ms. */
const at = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(16, '0');
const SEQ = (n: number) => String(n).padStart(12, '0');
/** Removals per commit: a commit rewrites the pages it touched, so larger batches cost less per item. */
const SWEEP_BATCH = 2_000;

type Kind = 's' | 'r' | 't';

export interface LmdbStoreOptions {
  log?: Logger;
  /** Sweep period; default min(retention, 1 h). */
  sweepEveryMs?: number;
}

export class LmdbStore implements ConversationStore {
  readonly kind = 'lmdb';
  readonly file: string;
  private readonly root: RootDatabase<string, string>;
  /** Transcript chunks: `<session hash>:<seq>` -> the JSONL lines of one append. */
  private readonly chunks: Database<string, string>;
  /** Per transcript: `<next seq>\t<expires at>`. */
  private readonly heads: Database<string, string>;
  /** `<record hash>` -> `<expires at>\t<JSON>`. */
  private readonly records: Database<string, string>;
  /** Table rows (app keys, counters): `<table hash>:<row>` -> JSON (no NUL in keys: ordered-binary reads it as an array). */
  private readonly rows: Database<string, string>;
  /** Per table: its expiry (`0`: never). */
  private readonly tables: Database<string, string>;
  /** `<expires at>:<kind>:<hash>` -> '': what to remove when, in time order. */
  private readonly expiry: Database<string, string>;
  private readonly sweeper: NodeJS.Timeout;
  private sweeping: Promise<number> | undefined;
  private legacy: LegacyFiles | undefined;
  private closed = false;

  constructor(
    dir: string,
    private readonly retentionMs: number,
    opts: LmdbStoreOptions = {},
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'store.mdb');
    this.root = open<string, string>({ path: this.file, maxDbs: 8, encoding: 'string', noSubdir: true });
    // Transcript chunks are JSON of a few KB: LZ4 keeps them off whole overflow pages.
    this.chunks = this.root.openDB<string, string>({ name: 'chunks', encoding: 'string', compression: true });
    this.heads = this.root.openDB<string, string>({ name: 'heads', encoding: 'string' });
    this.records = this.root.openDB<string, string>({ name: 'records', encoding: 'string' });
    this.rows = this.root.openDB<string, string>({ name: 'rows', encoding: 'string' });
    this.tables = this.root.openDB<string, string>({ name: 'tables', encoding: 'string' });
    this.expiry = this.root.openDB<string, string>({ name: 'expiry', encoding: 'string' });
    for (const f of [this.file, `${this.file}-lock`]) fs.chmodSync(f, 0o600);
    this.legacy = LegacyFiles.find(dir, retentionMs, opts.log);
    if (this.legacy) {
      this.legacy.importTables((th, rows, expiresAt) => this.importTable(th, rows, expiresAt));
      this.legacy.migrate({
        session: (sh, entries, expiresAt) => this.importSession(sh, entries, expiresAt),
        record: (rh, json, expiresAt) => this.importRecord(rh, json, expiresAt),
        done: () => (this.legacy = undefined),
      });
    }
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepEveryMs ?? Math.min(retentionMs, 3_600_000));
    this.sweeper.unref();
  }

  // --- transcripts (the Agent SDK's SessionStore) ---

  /** While a FileStore layout is being migrated, every call on one key waits for that key's file. */
  private keyed<T>(kind: 'sessions' | 'records', id: string, fn: () => Promise<T>): Promise<T> {
    return this.legacy ? this.legacy.withKey(kind, id, fn) : fn();
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    if (!entries.length) return;
    const sh = hashName(sessionKey(key));
    const text = entries.map((e) => JSON.stringify(e)).join('\n');
    await this.keyed('sessions', sh, () => this.root.transaction(() => this.appendIn(sh, text, Date.now() + this.retentionMs)));
  }

  /** Inside a write transaction: one chunk more, the head and its expiry moved. */
  private appendIn(sh: string, text: string, expiresAt: number): void {
    const head = this.heads.get(sh);
    let seq = 0;
    if (head) {
      const [n, e] = head.split('\t');
      seq = Number(n);
      this.expiry.removeSync(`${at(Number(e))}:s:${sh}`);
    }
    this.chunks.putSync(`${sh}:${SEQ(seq)}`, text);
    this.heads.putSync(sh, `${seq + 1}\t${expiresAt}`);
    this.expiry.putSync(`${at(expiresAt)}:s:${sh}`, '');
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const sh = hashName(sessionKey(key));
    return this.keyed('sessions', sh, async () => {
      await this.root.committed; // an append still being committed is part of the transcript
      const head = this.heads.get(sh);
      if (!head || Number(head.split('\t')[1]) <= Date.now()) return null;
      const out: SessionStoreEntry[] = [];
      for (const { value } of this.chunks.getRange({ start: `${sh}:`, end: `${sh};` })) {
        for (const line of value.split('\n')) {
          try {
            out.push(JSON.parse(line));
          } catch {
            // Not ours to fail a resume over (LMDB commits are atomic: no torn chunk comes back).
          }
        }
      }
      return out;
    });
  }

  async delete(key: SessionKey): Promise<void> {
    const sh = hashName(sessionKey(key));
    await this.keyed('sessions', sh, () => this.root.transaction(() => this.dropSession(sh)));
  }

  private dropSession(sh: string): void {
    const head = this.heads.get(sh);
    if (head) this.expiry.removeSync(`${at(Number(head.split('\t')[1]))}:s:${sh}`);
    this.heads.removeSync(sh);
    for (const k of this.chunks.getKeys({ start: `${sh}:`, end: `${sh};` })) this.chunks.removeSync(k);
  }

  // --- records (conversation points, stored responses) ---

  async getRecord<T>(ns: string, key: string): Promise<T | undefined> {
    const rh = hashName(`${ns}\0${key}`);
    const read = (): T | undefined => {
      const r = this.records.get(rh);
      if (r === undefined) return undefined;
      const tab = r.indexOf('\t');
      return Number(r.slice(0, tab)) > Date.now() ? (JSON.parse(r.slice(tab + 1)) as T) : undefined;
    };
    // Fast path: no migration under way, or the record is already here.
    if (!this.legacy) return read();
    const got = read();
    return got !== undefined ? got : this.keyed('records', rh, async () => read());
  }

  async putRecord(ns: string, key: string, value: unknown, ttlMs = this.retentionMs): Promise<void> {
    const rh = hashName(`${ns}\0${key}`);
    const json = JSON.stringify(value ?? null);
    await this.keyed('records', rh, () => this.root.transaction(() => this.putRecordIn(rh, json, Date.now() + ttlMs)));
  }

  private putRecordIn(rh: string, json: string, expiresAt: number): void {
    this.dropRecordIn(rh);
    this.records.putSync(rh, `${expiresAt}\t${json}`);
    this.expiry.putSync(`${at(expiresAt)}:r:${rh}`, '');
  }

  private dropRecordIn(rh: string): void {
    const old = this.records.get(rh);
    if (old === undefined) return;
    this.expiry.removeSync(`${at(Number(old.slice(0, old.indexOf('\t'))))}:r:${rh}`);
    this.records.removeSync(rh);
  }

  async deleteRecord(ns: string, key: string): Promise<void> {
    const rh = hashName(`${ns}\0${key}`);
    await this.keyed('records', rh, () => this.root.transaction(() => this.dropRecordIn(rh)));
  }

  // --- tables: rows (app keys) and counters (usage, rate windows) ---

  private th(table: string): string {
    return hashName(`table\0${table}`);
  }

  /** Inside a write transaction: an expired table is emptied before it is written again. */
  private liveTableIn(th: string, now: number): number {
    const e = Number(this.tables.get(th) ?? 0);
    if (e && e <= now) {
      this.dropTableIn(th);
      return 0;
    }
    return e;
  }

  private dropTableIn(th: string): void {
    const e = Number(this.tables.get(th) ?? 0);
    if (e) this.expiry.removeSync(`${at(e)}:t:${th}`);
    this.tables.removeSync(th);
    for (const k of this.rows.getKeys({ start: `${th}:`, end: `${th};` })) this.rows.removeSync(k);
  }

  private setTableExpiryIn(th: string, old: number, expiresAt: number): void {
    if (old) this.expiry.removeSync(`${at(old)}:t:${th}`);
    this.tables.putSync(th, String(expiresAt));
    if (expiresAt) this.expiry.putSync(`${at(expiresAt)}:t:${th}`, '');
  }

  private readTable<T>(table: string): Record<string, T> {
    const th = this.th(table);
    const e = Number(this.tables.get(th) ?? 0);
    const out: Record<string, T> = {};
    if (e && e <= Date.now()) return out;
    for (const { key, value } of this.rows.getRange({ start: `${th}:`, end: `${th};` })) {
      out[key.slice(th.length + 1)] = JSON.parse(value) as T;
    }
    return out;
  }

  /** Rows are also written by other processes (the `keys` command): read the latest commit, not the
   * snapshot this process's read transaction may still hold. */
  private fresh(): void {
    this.root.resetReadTxn();
  }

  async getRow<T>(table: string, row: string): Promise<T | undefined> {
    await this.root.committed;
    this.fresh();
    const th = this.th(table);
    const e = Number(this.tables.get(th) ?? 0);
    if (e && e <= Date.now()) return undefined;
    const v = this.rows.get(`${th}:${row}`);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async putRow(table: string, row: string, value: unknown): Promise<void> {
    const th = this.th(table);
    const json = JSON.stringify(value ?? null);
    await this.root.transaction(() => {
      const e = this.liveTableIn(th, Date.now());
      if (!this.tables.get(th)) this.setTableExpiryIn(th, 0, e);
      this.rows.putSync(`${th}:${row}`, json);
    });
  }

  async readRows<T>(table: string): Promise<Record<string, T>> {
    await this.root.committed;
    this.fresh();
    return this.readTable<T>(table);
  }

  addCounters(table: string, row: string, add: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    const th = this.th(table);
    return this.root.transaction(() => {
      const now = Date.now();
      const e = this.liveTableIn(th, now);
      const k = `${th}:${row}`;
      const r = JSON.parse(this.rows.get(k) ?? '{}') as Record<string, number>;
      for (const [field, n] of Object.entries(add)) r[field] = (r[field] ?? 0) + n;
      this.rows.putSync(k, JSON.stringify(r));
      this.setTableExpiryIn(th, e, now + ttlMs);
      return r;
    });
  }

  async readCounters(table: string): Promise<CounterRows> {
    return this.readRows<Record<string, number>>(table);
  }

  // --- migration hooks (LegacyFiles calls them; each keeps what is already here) ---

  private importTable(th: string, rows: Record<string, unknown>, expiresAt: number): void {
    this.root.transactionSync(() => {
      if (this.tables.get(th) !== undefined) return;
      this.setTableExpiryIn(th, 0, expiresAt);
      for (const [row, value] of Object.entries(rows)) this.rows.putSync(`${th}:${row}`, JSON.stringify(value ?? null));
    });
  }

  private importSession(sh: string, entries: SessionStoreEntry[], expiresAt: number): Promise<unknown> {
    return this.root.transaction(() => {
      if (this.heads.get(sh) !== undefined || !entries.length) return;
      this.appendIn(sh, entries.map((e) => JSON.stringify(e)).join('\n'), expiresAt);
    });
  }

  private importRecord(rh: string, json: string, expiresAt: number): Promise<unknown> {
    return this.root.transaction(() => {
      if (this.records.get(rh) === undefined) this.putRecordIn(rh, json, expiresAt);
    });
  }

  // --- expiry ---

  /** Remove what is due, walking the expiry index from its start: work in proportion to what expires.
   * Returns how many items (transcripts, records, tables) it removed. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepNow().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepNow(): Promise<number> {
    let removed = 0;
    for (;;) {
      if (this.closed) return removed;
      const end = at(Date.now() + 1);
      const due = [...this.expiry.getKeys({ end, limit: SWEEP_BATCH })];
      if (!due.length) return removed;
      await this.root.transaction(() => {
        for (const k of due) {
          const [e, kind, id] = k.split(':') as [string, Kind, string];
          if (this.expiry.get(k) === undefined) continue; // moved meanwhile
          if (kind === 's') {
            const head = this.heads.get(id);
            if (head && at(Number(head.split('\t')[1])) === e) this.dropSession(id);
          } else if (kind === 'r') {
            const r = this.records.get(id);
            if (r && at(Number(r.slice(0, r.indexOf('\t')))) === e) this.dropRecordIn(id);
          } else if (at(Number(this.tables.get(id) ?? 0)) === e) this.dropTableIn(id);
          this.expiry.removeSync(k);
          removed++;
        }
      });
      await new Promise((r) => setImmediate(r)); // let requests in between batches
    }
  }

  /** Bytes on disk (the LMDB file; it grows and reuses freed pages, it does not shrink). */
  diskBytes(): number {
    return fs.statSync(this.file).blocks * 512;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    await this.sweeping;
    await this.legacy?.stop();
    await this.root.close();
  }
}
