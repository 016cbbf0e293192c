// The embedded store: nothing to install, survives restarts. Transcripts are JSONL files (one per
// session, appended to as the SDK mirrors them); records are small JSON files named by a hash of
// their key, each with its expiry. A sweep removes what the retention setting says is too old.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sessionKey, type ConversationStore, type SessionKey, type SessionStoreEntry } from './store.js';

interface RecordFile {
  value: unknown;
  expiresAt: number;
}

const hashName = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 40);

export class FileStore implements ConversationStore {
  readonly kind = 'file';
  private readonly sessions: string;
  private readonly records: string;
  private readonly sweeper: NodeJS.Timeout;
  /** Appends per session run one after another, so a transcript's lines stay in order. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    root: string,
    private readonly retentionMs: number,
  ) {
    this.sessions = path.join(root, 'sessions');
    this.records = path.join(root, 'records');
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
    const out: SessionStoreEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // A torn last line (a crash mid-append) is skipped; the entries before it still resume.
      }
    }
    return out;
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
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all(this.writing.values());
  }
}
