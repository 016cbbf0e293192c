// Live conversations: a CLI process whose turn ended cleanly stays idle, holding its session, so the
// request that extends that conversation writes its new turn straight into it (no start-up, nothing
// re-sent). A conversation idle longer than its TTL is stopped. Which idle process goes when memory
// runs short is the lifecycle's call (lifecycle.ts), told after every change here. A stopped
// conversation is not lost: its transcript is in the store.
import fs from 'node:fs';
import type { CliProcess } from '../cli-process.js';

export interface LiveConversation {
  proc: CliProcess;
  sessionId: string;
  /** The conversation point (chain hash) the session is at. */
  point: string;
  idleSince: number;
  /** The Claude credential its process runs with (accounts/). */
  account?: string;
  /**
   * The conversation has had more than one turn (or came with a history). A one-shot conversation
   * (a title request, a one-message call) is the first to go when memory runs short.
   */
  continued?: boolean;
  /** The turn shape its process was started for (a rewound process serves only that shape). */
  shape?: string;
}

export interface LiveOptions {
  idleMs: number;
  /** Told whenever the set changed (the lifecycle enforces the idle memory budget). */
  onChange?: () => void;
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

/** A one-shot conversation of this shape and credential whose process can be rewound for a new one. */
const rewindableFor = (c: LiveConversation, shape: string, account: string | undefined): boolean =>
  !c.continued && c.shape === shape && (c.account ?? 'default') === (account ?? 'default') && c.proc.rewindable;

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
      // A process that was rewound shares its session with the conversations it served before: the
      // same session id there is another conversation, not an older point of this one.
      const sameSession = c.sessionId && other.sessionId === c.sessionId && !c.proc.rewinds && !other.proc.rewinds;
      if (other.proc !== c.proc && (other.point === c.point || sameSession)) {
        this.byPoint.delete(other.point);
        this.superseded++;
        void other.proc.kill();
      }
    }
    this.byPoint.set(c.point, c);
    void c.proc.exited.then(() => {
      if (this.byPoint.get(c.point) === c) this.byPoint.delete(c.point);
    });
    this.opts.onChange?.();
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

  /**
   * The least recently used one-shot conversation of this shape and credential whose process can be
   * rewound for a new conversation, taken out of the set. The one idle longest is the least likely to
   * get a second turn; conversations with several turns are never taken.
   */
  takeOneShot(shape: string, account: string | undefined): LiveConversation | undefined {
    let pick: LiveConversation | undefined;
    for (const c of this.byPoint.values()) if (rewindableFor(c, shape, account) && (!pick || c.idleSince < pick.idleSince)) pick = c;
    if (pick) this.byPoint.delete(pick.point);
    return pick;
  }

  /** Whether a one-shot conversation of this shape and credential could be rewound now. */
  hasOneShot(shape: string, account: string | undefined): boolean {
    for (const c of this.byPoint.values()) if (rewindableFor(c, shape, account)) return true;
    return false;
  }

  /** Every idle conversation, for the memory budget (lifecycle.ts). */
  idle(): LiveConversation[] {
    return [...this.byPoint.values()];
  }

  /** One-shot conversations idle now (never had a second turn). */
  get oneShot(): number {
    let n = 0;
    for (const c of this.byPoint.values()) if (!c.continued) n++;
    return n;
  }

  /** Stop one idle conversation to free its memory (the lifecycle chose it). */
  evict(c: LiveConversation): void {
    if (this.byPoint.get(c.point) !== c) return;
    this.byPoint.delete(c.point);
    this.evicted++;
    if (!c.continued) this.evictedOneShot++;
    void c.proc.kill();
  }

  /** Of the evictions, those of one-shot conversations. */
  evictedOneShot = 0;

  sweep(): void {
    const now = Date.now();
    for (const c of [...this.byPoint.values()]) {
      if (now - c.idleSince > this.opts.idleMs || !c.proc.alive) {
        this.byPoint.delete(c.point);
        if (c.proc.alive) this.expired++;
        void c.proc.kill();
      }
    }
    this.opts.onChange?.();
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
