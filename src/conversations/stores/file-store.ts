// The embedded store: nothing to install, survives restarts. Transcripts are JSONL files (one per
// session, appended to as the SDK mirrors them); records are small JSON files named by a hash of
// their key, each with its expiry. A sweep removes what the retention setting says is too old.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sessionKey, type ConversationStore, type CounterRows, type SessionKey, type SessionStoreEntry } from './store.js';

interface RecordFile {
  value: unknown;
  expiresAt: number;
}

/** A table (app keys, usage counters): one JSON file of rows; expiresAt 0 is never. */
interface TableFile {
  expiresAt: number;
  rows: Record<string, unknown>;
}

interface TableChange {
  change: (t: TableFile) => unknown;
  ttlMs?: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface CachedTable {
  mtimeMs: number;
  size: number;
  data: TableFile;
}

/** File names of the FileStore, and keys of the LMDB store (which migrates this layout by name). */
export const hashName = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 40);

/** A JSONL transcript's entries; a torn last line (a crash mid-append) is skipped, the entries before it still resume. */
export function parseTranscript(text: string): SessionStoreEntry[] {
  const out: SessionStoreEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* torn */
    }
  }
  return out;
}

export class FileStore implements ConversationStore {
  readonly kind = 'file';
  private readonly sessions: string;
  private readonly records: string;
  private readonly tables: string;
  /** Tables as last read or written, with the file's stamp: re-read when another process (the
   * `keys` command) changed the file, so a revocation made there counts at once here too. */
  private readonly tableCache = new Map<string, CachedTable>();
  /** Changes waiting for their table's next write, per table file. */
  private readonly tableBatches = new Map<string, TableChange[]>();
  private readonly sweeper: NodeJS.Timeout;
  /** Appends per session run one after another, so a transcript's lines stay in order. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    root: string,
    private readonly retentionMs: number,
  ) {
    this.sessions = path.join(root, 'sessions');
    this.records = path.join(root, 'records');
    this.tables = path.join(root, 'tables');
    fs.mkdirSync(this.tables, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.sessions, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.records, { recursive: true, mode: 0o700 });
    this.sweeper = setInterval(() => void this.sweep(), Math.min(retentionMs, 3_600_000));
    this.sweeper.unref();
    void this.sweep();
  }

  private sessionFile(key: SessionKey): string {
    return path.join(this.sessions, `${hashName(sessionKey(key))}.jsonl`);
  }

  private recordFile(ns: string, key: string): string {
    return path.join(this.records, `${hashName(`${ns}\0${key}`)}.json`);
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    if (!entries.length) return;
    const file = this.sessionFile(key);
    const text = entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const prev = this.writing.get(file) ?? Promise.resolve();
    const next = prev.then(() => fsp.appendFile(file, text, { mode: 0o600 }));
    this.writing.set(file, next.catch(() => {}));
    await next;
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    await this.writing.get(this.sessionFile(key));
    let text: string;
    try {
      text = await fsp.readFile(this.sessionFile(key), 'utf8');
    } catch {
      return null;
    }
    return parseTranscript(text);
  }

  async delete(key: SessionKey): Promise<void> {
    await fsp.rm(this.sessionFile(key), { force: true });
  }

  async getRecord<T>(ns: string, key: string): Promise<T | undefined> {
    try {
      const r = JSON.parse(await fsp.readFile(this.recordFile(ns, key), 'utf8')) as RecordFile;
      return r.expiresAt > Date.now() ? (r.value as T) : undefined;
    } catch {
      return undefined;
    }
  }

  async putRecord(ns: string, key: string, value: unknown, ttlMs = this.retentionMs): Promise<void> {
    const file = this.recordFile(ns, key);
    // Written whole, then renamed: a reader never sees half a record.
    const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify({ value, expiresAt: Date.now() + ttlMs } satisfies RecordFile), { mode: 0o600 });
    await fsp.rename(tmp, file);
  }

  async deleteRecord(ns: string, key: string): Promise<void> {
    await fsp.rm(this.recordFile(ns, key), { force: true });
  }

  private tableFile(table: string): string {
    return path.join(this.tables, `${hashName(`table\0${table}`)}.json`);
  }

  private async loadTable(table: string): Promise<TableFile> {
    const file = this.tableFile(table);
    let st: fs.Stats;
    try {
      st = await fsp.stat(file);
    } catch {
      this.tableCache.delete(file);
      return { expiresAt: 0, rows: {} };
    }
    let cached = this.tableCache.get(file);
    if (!cached || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
      try {
        cached = { mtimeMs: st.mtimeMs, size: st.size, data: JSON.parse(await fsp.readFile(file, 'utf8')) as TableFile };
      } catch {
        return { expiresAt: 0, rows: {} }; // replaced meanwhile: the next read sees the new file
      }
      this.tableCache.set(file, cached);
    }
    const t = cached.data;
    return t.expiresAt && t.expiresAt <= Date.now() ? { expiresAt: 0, rows: {} } : t;
  }

  /**
   * Read, change and write a table. Changes to one table are applied in order, and those that arrive
   * while a write is under way are applied together in the next one: the day's usage table takes a
   * change from every turn that ends, and must not cost a file write each when many end at once.
   */
  private updateTable<R>(table: string, change: (t: TableFile) => R, ttlMs?: number): Promise<R> {
    const file = this.tableFile(table);
    return new Promise<R>((resolve, reject) => {
      let batch = this.tableBatches.get(file);
      if (!batch) {
        const queued: TableChange[] = [];
        batch = queued;
        this.tableBatches.set(file, queued);
        const prev = this.writing.get(file) ?? Promise.resolve();
        const run = prev.then(() => this.writeBatch(table, file, queued));
        this.writing.set(file, run.then(() => {}, () => {}));
      }
      batch.push({ change: change as (t: TableFile) => unknown, ttlMs, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  private async writeBatch(table: string, file: string, batch: TableChange[]): Promise<void> {
    this.tableBatches.delete(file); // changes from here on go into the next write
    try {
      const cur = await this.loadTable(table);
      const t: TableFile = { expiresAt: cur.expiresAt, rows: { ...cur.rows } };
      const results = batch.map((b) => {
        const r = b.change(t);
        if (b.ttlMs !== undefined) t.expiresAt = Date.now() + b.ttlMs;
        return r;
      });
      const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
      await fsp.writeFile(tmp, JSON.stringify(t), { mode: 0o600 });
      await fsp.rename(tmp, file);
      const st = await fsp.stat(file).catch(() => undefined);
      if (st) this.tableCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, data: t });
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }

  async getRow<T>(table: string, row: string): Promise<T | undefined> {
    await this.writing.get(this.tableFile(table));
    return (await this.loadTable(table)).rows[row] as T | undefined;
  }

  async putRow(table: string, row: string, value: unknown): Promise<void> {
    await this.updateTable(table, (t) => void (t.rows[row] = value ?? null));
  }

  async readRows<T>(table: string): Promise<Record<string, T>> {
    await this.writing.get(this.tableFile(table));
    return { ...(await this.loadTable(table)).rows } as Record<string, T>;
  }

  addCounters(table: string, row: string, add: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    return this.updateTable(
      table,
      (t) => {
        const r = { ...((t.rows[row] as Record<string, number> | undefined) ?? {}) };
        for (const [field, n] of Object.entries(add)) r[field] = (r[field] ?? 0) + n;
        t.rows[row] = r;
        return { ...r };
      },
      ttlMs,
    );
  }

  async readCounters(table: string): Promise<CounterRows> {
    return this.readRows<Record<string, number>>(table);
  }

  /** Remove transcripts untouched for longer than the retention, and expired records. */
  async sweep(): Promise<void> {
    const now = Date.now();
    for (const dir of [this.sessions, this.records]) {
      let names: string[];
      try {
        names = await fsp.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(dir, name);
        try {
          const st = await fsp.stat(file);
          if (now - st.mtimeMs > this.retentionMs) await fsp.rm(file, { force: true });
          else if (dir === this.records && name.endsWith('.json')) {
            const r = JSON.parse(await fsp.readFile(file, 'utf8')) as RecordFile;
            if (r.expiresAt <= now) await fsp.rm(file, { force: true });
          }
        } catch {
          /* removed meanwhile, or unreadable: the next sweep tries again */
        }
      }
    }
    // Tables go by their own expiry alone (app keys never expire; counters do).
    for (const name of await fsp.readdir(this.tables).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(this.tables, name);
      try {
        const t = JSON.parse(await fsp.readFile(file, 'utf8')) as TableFile;
        if (t.expiresAt && t.expiresAt <= now) {
          await fsp.rm(file, { force: true });
          this.tableCache.delete(file);
        }
      } catch {
        /* being replaced: the next sweep looks again */
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all(this.writing.values());
  }
}
