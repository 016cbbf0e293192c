// Carries a data dir written by the FileStore (sessions/*.jsonl, records/*.json, tables/*.json under
// <data dir>/conversations) into the LMDB store, once, without holding up start-up: tables (a few
// files: app keys, usage days) are imported at open; transcripts and records move in the background,
// and any call on a key not moved yet moves that key's file first, so a conversation served before the
// upgrade goes on at once. A file is removed only after its content is committed, and an import never
// overwrites what the new store already holds, so a crash mid-way just resumes. Logged at start and end.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseTranscript } from './file-store.js';
import type { SessionStoreEntry } from './store.js';

type Dir = 'sessions' | 'records';

export interface LegacySinks {
  session(sh: string, entries: SessionStoreEntry[], expiresAt: number): Promise<unknown>;
  record(rh: string, json: string, expiresAt: number): Promise<unknown>;
  done(): void;
}

const EXT: Record<Dir, string> = { sessions: '.jsonl', records: '.json' };

export class LegacyFiles {
  private readonly chains = new Map<string, Promise<unknown>>();
  private sinks: LegacySinks | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  readonly moved = { sessions: 0, records: 0, tables: 0, expired: 0, unreadable: 0 };

  private constructor(
    private readonly root: string,
    private readonly retentionMs: number,
    private readonly log?: Logger,
  ) {}

  /** The FileStore's folders under root, or undefined when there are none (a new or migrated dir). */
  static find(root: string, retentionMs: number, log?: Logger): LegacyFiles | undefined {
    const any = ['sessions', 'records', 'tables'].some((d) => fs.existsSync(path.join(root, d)));
    return any ? new LegacyFiles(root, retentionMs, log) : undefined;
  }

  /** Synchronously: every table file, then the folder. */
  importTables(put: (th: string, rows: Record<string, unknown>, expiresAt: number) => void): void {
    const dir = path.join(this.root, 'tables');
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      if (name.endsWith('.json')) {
        try {
          const t = JSON.parse(fs.readFileSync(file, 'utf8')) as { expiresAt: number; rows: Record<string, unknown> };
          if (!t.expiresAt || t.expiresAt > Date.now()) {
            put(name.slice(0, -5), t.rows ?? {}, t.expiresAt || 0);
            this.moved.tables++;
          } else this.moved.expired++;
        } catch {
          this.moved.unreadable++;
        }
      }
      fs.rmSync(file, { force: true });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Start moving transcripts and records in the background. */
  migrate(sinks: LegacySinks): void {
    this.sinks = sinks;
    this.log?.info({ from: this.root }, 'conversation store: moving FileStore data into store.mdb (in the background; calls on a key move it first)');
    const started = Date.now();
    this.running = (async () => {
      for (const dir of ['sessions', 'records'] as Dir[]) {
        const full = path.join(this.root, dir);
        let d: fs.Dir;
        try {
          d = await fsp.opendir(full);
        } catch {
          continue;
        }
        for await (const ent of d) {
          if (this.stopped) return;
          const name = ent.name;
          if (name.endsWith(EXT[dir])) await this.withKey(dir, name.slice(0, -EXT[dir].length), async () => {});
          else await fsp.rm(path.join(full, name), { force: true }); // a temp file a crash left
        }
        await fsp.rm(full, { recursive: true, force: true });
      }
      if (this.stopped) return;
      this.sinks = undefined;
      sinks.done();
      this.log?.info({ ...this.moved, ms: Date.now() - started }, 'conversation store: FileStore data moved into store.mdb');
    })().catch((err) => {
      this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'conversation store: moving FileStore data stopped; the next start resumes it');
    });
  }

  /** Run fn on a key once its legacy file (if any) is moved; calls on one key run in order. */
  withKey<T>(dir: Dir, id: string, fn: () => Promise<T>): Promise<T> {
    const k = `${dir}/${id}`;
    const prev = this.chains.get(k) ?? Promise.resolve();
    const next = prev.then(() => this.adopt(dir, id)).then(fn);
    const settled = next.catch(() => {});
    this.chains.set(k, settled);
    void settled.then(() => {
      if (this.chains.get(k) === settled) this.chains.delete(k);
    });
    return next;
  }

  private async adopt(dir: Dir, id: string): Promise<void> {
    const sinks = this.sinks;
    if (!sinks) return;
    const file = path.join(this.root, dir, `${id}${EXT[dir]}`);
    let text: string;
    let mtimeMs: number;
    try {
      [text, { mtimeMs }] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    } catch {
      return; // no such file: nothing to move
    }
    if (dir === 'sessions') {
      const entries = parseTranscript(text); // a torn last line skipped, as the FileStore did
      const expiresAt = mtimeMs + this.retentionMs;
      if (expiresAt > Date.now()) {
        await sinks.session(id, entries, expiresAt);
        this.moved.sessions++;
      } else this.moved.expired++;
    } else {
      try {
        const r = JSON.parse(text) as { value: unknown; expiresAt: number };
        if (r.expiresAt > Date.now()) {
          await sinks.record(id, JSON.stringify(r.value ?? null), r.expiresAt);
          this.moved.records++;
        } else this.moved.expired++;
      } catch {
        this.moved.unreadable++;
      }
    }
    await fsp.rm(file, { force: true });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await Promise.all(this.chains.values());
  }
}
