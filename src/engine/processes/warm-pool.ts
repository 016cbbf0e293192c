// Warm processes (spares): the CLI takes 0.5-1 s of CPU to start, most of a short answer's latency.
// For the turn shapes used most recently (same model, system prompt, effort, limits), the pool keeps
// started, initialised processes waiting, so a new conversation skips the start-up. How many: at
// least `perProfile`, and as many as new conversations of that shape arrived within the last start-up
// window (up to `maxPerProfile`, while the idle memory budget has room), so a burst of 8 finds 8 the
// next time. Spares are replaced after the take, outside the request's own tick, and the lifecycle
// starts them at a lower CPU priority (lifecycle.ts). A process taken from here
// serves one conversation (it stays live for that conversation's next turns, conversations/) and never
// another, unless process reuse clears it and gives it back. Warm processes do not count against the
// concurrency limit; they share the idle memory budget with live conversations.
import type { CliProcess } from '../cli-process.js';
import type { WarmTake } from '../events.js';

/** A warm profile is a turn shape under one Claude credential: a process runs with exactly one. */
export function profileKey(shapeKey: string, account: string | undefined): string {
  return account === undefined ? shapeKey : `${account}\0${shapeKey}`;
}

/** The credential part of a profile key. */
export const profileAccount = (key: string): string | undefined => (key.includes('\0') ? key.slice(0, key.indexOf('\0')) : undefined);

export interface PoolOptions {
  perProfile: number;
  maxProfiles: number;
  idleMs: number;
  /** Idle processes a shape may keep when finished processes come back for reuse (giveBack). */
  maxIdlePerProfile: number;
  /** Told how each take went (metrics). */
  onTake?: (how: WarmTake) => void;
  /** Spares a shape may hold when new conversations of it arrive faster (default: perProfile). */
  maxPerProfile?: number;
  /** The window arrivals are counted over to size the spares (about one CLI start under load). */
  rateWindowMs?: number;
  /** Whether the idle memory budget has room for one more spare beyond `perProfile`. */
  canGrow?: () => boolean;
  /** Told of each spare started and each taken (the lifecycle sets their CPU priority). */
  onSpare?: (proc: CliProcess) => void;
  onTaken?: (proc: CliProcess) => void;
}

interface Profile {
  key: string;
  make: () => CliProcess;
  idle: CliProcess[];
  lastUsed: number;
  /** When processes of this shape were taken recently (sizes the spares to the arrival rate). */
  takes: number[];
}

const RATE_WINDOW_MS = 10_000;

export class ProcessPool {
  private readonly profiles = new Map<string, Profile>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  /** Takes that found a process that had finished starting. */
  hits = 0;
  /** Takes that did not: one still starting (also counted in takenStarting) or none at all. */
  misses = 0;
  takenStarting = 0;

  constructor(private readonly opts: PoolOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(opts.idleMs, 30_000));
    this.sweeper.unref();
  }

  get enabled(): boolean {
    return this.opts.maxProfiles > 0 && this.opts.perProfile > 0;
  }

  /** Whether this profile has a spare that finished starting. */
  hasReady(key: string): boolean {
    return !!this.profiles.get(key)?.idle.some((x) => x.alive && x.state === 'ready');
  }

  /**
   * A process for this turn shape: a warm one when there is one, else a new one. Tops the pool up,
   * unless `topUp` is false (the lifecycle has finished processes to rewind for the next ones).
   */
  take(key: string, make: () => CliProcess, topUp = true): CliProcess {
    let proc: CliProcess | undefined;
    const p = this.profiles.get(key);
    if (p) {
      p.idle = p.idle.filter((x) => x.alive);
      // Prefer one that finished starting; a still-spawning one is still ahead of a new spawn.
      const i = p.idle.findIndex((x) => x.state === 'ready');
      proc = p.idle.splice(i >= 0 ? i : 0, 1)[0];
    }
    // A hit is a process that had finished starting; one still starting saves only part of the wait,
    // so it is a miss (a burst that outruns the pool must not look served warm).
    const how: WarmTake = proc?.state === 'ready' ? 'hit' : proc ? 'starting' : 'cold';
    if (how === 'hit') this.hits++;
    else this.misses++;
    if (how === 'starting') this.takenStarting++;
    this.opts.onTake?.(how);
    const taken = proc ?? make();
    this.opts.onTaken?.(taken);
    // The replacement starts after this request's own process (at a lower priority: lifecycle.ts).
    this.remember(key, make, true, topUp);
    return taken;
  }

  /** How many spares a shape should hold now: its floor, or the arrivals of the last window. */
  target(p: Profile): number {
    const window = this.opts.rateWindowMs ?? RATE_WINDOW_MS;
    const since = Date.now() - window;
    p.takes = p.takes.filter((t) => t > since);
    return Math.max(this.opts.perProfile, Math.min(this.opts.maxPerProfile ?? this.opts.perProfile, p.takes.length));
  }

  /** A process that finished a turn and was cleared: kept for the next turn of its shape, or stopped. */
  giveBack(key: string, proc: CliProcess): void {
    const p = this.profiles.get(key);
    if (!p || this.closed || !proc.alive || p.idle.length >= Math.max(this.opts.perProfile, this.opts.maxIdlePerProfile)) {
      void proc.kill();
      return;
    }
    p.idle.push(proc);
  }

  /** Start a warm process for a shape before any request needs it (the default shape, at start-up). */
  prewarm(key: string, make: () => CliProcess): void {
    this.remember(key, make);
  }

  private remember(key: string, make: () => CliProcess, took = false, topUp = true): void {
    if (!this.enabled || this.closed) return;
    let p = this.profiles.get(key);
    if (!p) {
      p = { key, make, idle: [], lastUsed: 0, takes: [] };
      this.profiles.set(key, p);
    }
    p.lastUsed = Date.now();
    if (took) p.takes.push(p.lastUsed);
    // Evict the least recently used shapes beyond the limit.
    if (this.profiles.size > this.opts.maxProfiles) {
      const oldest = [...this.profiles.values()].sort((a, b) => a.lastUsed - b.lastUsed);
      for (const o of oldest.slice(0, this.profiles.size - this.opts.maxProfiles)) this.drop(o);
    }
    p.idle = p.idle.filter((x) => x.alive);
    if (!topUp) return;
    const target = this.target(p);
    while (p.idle.length < target && (p.idle.length < this.opts.perProfile || (this.opts.canGrow?.() ?? true))) {
      const spare = p.make();
      p.idle.push(spare);
      this.opts.onSpare?.(spare);
    }
  }

  /** Stop one spare beyond its shape's floor (the least recently used shape's), to free memory. */
  evictSurplus(): CliProcess | undefined {
    const p = [...this.profiles.values()].filter((x) => x.idle.length > this.opts.perProfile).sort((a, b) => a.lastUsed - b.lastUsed)[0];
    const proc = p?.idle.pop();
    if (proc) void proc.kill();
    return proc;
  }

  private drop(p: Profile): void {
    this.profiles.delete(p.key);
    for (const proc of p.idle) void proc.kill();
  }

  private sweep(): void {
    const now = Date.now();
    for (const p of this.profiles.values()) {
      if (now - p.lastUsed > this.opts.idleMs) this.drop(p);
      else p.idle = p.idle.filter((x) => x.alive);
    }
  }

  /** Every idle process, for the memory budget (conversations/live-sessions.ts). */
  idleProcesses(): CliProcess[] {
    return [...this.profiles.values()].flatMap((p) => p.idle);
  }

  /** Stop the idle process of the least recently used shape (the budget is exceeded). */
  evictOne(): CliProcess | undefined {
    const p = [...this.profiles.values()].filter((x) => x.idle.length).sort((a, b) => a.lastUsed - b.lastUsed)[0];
    const proc = p?.idle.shift();
    if (proc) void proc.kill();
    return proc;
  }

  idleCount(): number {
    let n = 0;
    for (const p of this.profiles.values()) n += p.idle.length;
    return n;
  }

  /** Stop the warm processes of the profiles `pred` picks (a credential removed); warmed again on use. */
  async resetWhere(pred: (key: string) => boolean): Promise<void> {
    const gone = [...this.profiles.values()].filter((p) => pred(p.key));
    for (const p of gone) this.profiles.delete(p.key);
    await Promise.all(gone.flatMap((p) => p.idle.map((x) => x.kill())));
  }

  /** Stop every warm process (e.g. after the credentials changed); shapes are warmed again on use. */
  async reset(): Promise<void> {
    const all = [...this.profiles.values()];
    this.profiles.clear();
    await Promise.all(all.flatMap((p) => p.idle.map((x) => x.kill())));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.profiles.values()];
    this.profiles.clear();
    await Promise.all(all.flatMap((p) => p.idle.map((x) => x.kill())));
  }
}
