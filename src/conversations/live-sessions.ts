// Live conversations: a CLI process whose turn ended cleanly stays idle, holding its session, so the
// request that extends that conversation writes its new turn straight into it (no start-up, nothing
// re-sent). Idle processes (these and the warm pool's) share one memory budget: past it the least
// recently used conversation is stopped first, then warm processes; a conversation idle longer than
// its TTL is stopped too. A stopped conversation is not lost: its transcript is in the store.
import fs from 'node:fs';
import type { CliProcess } from '../engine/cli-process.js';
import type { ProcessPool } from '../engine/pool.js';
import type { Logger } from '../log.js';

export interface LiveConversation {
  proc: CliProcess;
  sessionId: string;
  /** The conversation point (chain hash) the session is at. */
  point: string;
  idleSince: number;
  /** The Claude credential its process runs with (accounts/). */
  account?: string;
}

export interface LiveOptions {
  idleMs: number;
  /** Memory all idle CLI processes together may hold. */
  budgetBytes: number;
  pool: ProcessPool;
  log: Logger;
}

/** What one CLI process is assumed to hold when its RSS cannot be read (measured ~200-230 MB). */
const ASSUMED_RSS = 230 * 1024 * 1024;

export function rssOf(pid: number | undefined): number {
  if (!pid) return ASSUMED_RSS;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : ASSUMED_RSS;
  } catch {
    return ASSUMED_RSS;
  }
}

export class LiveSessions {
  private readonly byPoint = new Map<string, LiveConversation>();
  private readonly sweeper: NodeJS.Timeout;
  evicted = 0;
  expired = 0;
  superseded = 0;

  constructor(private readonly opts: LiveOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(opts.idleMs / 4, 10_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.byPoint.size;
  }

  /** Keep a finished conversation's process for its next turn. */
  put(c: LiveConversation): void {
    if (!c.proc.alive || this.opts.idleMs === 0) {
      void c.proc.kill();
      return;
    }
    // One live process per session: another one holds an older point of it (a regenerate, a double
    // submit, or a turn another replica served since), which only a branch could still use.
    for (const other of [...this.byPoint.values()]) {
      if (other.proc !== c.proc && (other.point === c.point || (c.sessionId && other.sessionId === c.sessionId))) {
        this.byPoint.delete(other.point);
        this.superseded++;
        void other.proc.kill();
      }
    }
    this.byPoint.set(c.point, c);
    void c.proc.exited.then(() => {
      if (this.byPoint.get(c.point) === c) this.byPoint.delete(c.point);
    });
    this.enforceBudget();
  }

  /** Whether an idle process holds this conversation point (without taking it). */
  has(point: string): boolean {
    const c = this.byPoint.get(point);
    return !!c && c.proc.alive && c.proc.state === 'ready';
  }

  /** The idle process holding exactly this conversation point, taken out of the set. */
  take(point: string): LiveConversation | undefined {
    const c = this.byPoint.get(point);
    if (!c) return undefined;
    this.byPoint.delete(point);
    return c.proc.alive && c.proc.state === 'ready' ? c : (void c.proc.kill(), undefined);
  }

  /** Memory held by idle processes now (live conversations and warm ones). */
  idleBytes(): number {
    let n = 0;
    for (const c of this.byPoint.values()) n += rssOf(c.proc.pid);
    for (const p of this.opts.pool.idleProcesses()) n += rssOf(p.pid);
    return n;
  }

  private enforceBudget(): void {
    let bytes = this.idleBytes();
    while (bytes > this.opts.budgetBytes) {
      const oldest = [...this.byPoint.values()].sort((a, b) => a.idleSince - b.idleSince)[0];
      if (oldest) {
        this.byPoint.delete(oldest.point);
        this.evicted++;
        bytes -= rssOf(oldest.proc.pid);
        void oldest.proc.kill();
        continue;
      }
      const warm = this.opts.pool.evictOne();
      if (!warm) break;
      bytes -= rssOf(warm.pid);
    }
  }

  sweep(): void {
    const now = Date.now();
    for (const c of [...this.byPoint.values()]) {
      if (now - c.idleSince > this.opts.idleMs || !c.proc.alive) {
        this.byPoint.delete(c.point);
        if (c.proc.alive) this.expired++;
        void c.proc.kill();
      }
    }
    this.enforceBudget();
  }

  /** Live conversations per credential. */
  countBy(account: string): number {
    let n = 0;
    for (const c of this.byPoint.values()) if ((c.account ?? 'default') === account) n++;
    return n;
  }

  /** Stop the live processes of one credential (it was removed or changed); their conversations resume from the store. */
  async resetWhere(pred: (c: LiveConversation) => boolean): Promise<void> {
    const gone = [...this.byPoint.values()].filter(pred);
    for (const c of gone) this.byPoint.delete(c.point);
    await Promise.all(gone.map((c) => c.proc.kill()));
  }

  /** Stop every live process (the credentials changed); the conversations resume from the store. */
  async reset(): Promise<void> {
    const all = [...this.byPoint.values()];
    this.byPoint.clear();
    await Promise.all(all.map((c) => c.proc.kill()));
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.byPoint.values()];
    this.byPoint.clear();
    await Promise.all(all.map((c) => c.proc.kill()));
  }
}
