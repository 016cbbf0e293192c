// The one owner of what becomes of a started CLI process between turns: kept as a spare for a new
// conversation (warm-pool.ts), kept live for its own conversation's next turn (live-sessions.ts), or
// stopped. A new conversation gets a started spare, else a finished one-shot conversation's process
// rewound to before its first message (forNew: no CLI start), else a new process. Idle processes
// share one memory budget, and this decides who goes first when it is exceeded:
//   1. spares beyond a shape's floor (grown for a burst when rewinding is off);
//   2. the floor spares (with rewinding on; else after the one-shots);
//   3. one-shot conversations (never had a second turn: title and tag requests, one-message calls),
//      least recently used first;
//   4. conversations with several turns, least recently used first.
// So one-shot traffic cannot push the long conversations out. While turns run, spares start at a
// lower CPU priority (os.setPriority), so replacing them never starves those turns; in an idle gap
// (no turn running) they get the normal one back and finish starting at full speed, as does a spare
// a turn takes. Stopping a process removes what the SDK wrote for it in the shared temp
// folder (cli-process.ts), also when the gateway stops while it is live.
import os from 'node:os';
import type { Logger } from '../../log.js';
import type { CliProcess } from '../cli-process.js';
import type { WarmTake } from '../events.js';
import { LiveSessions, rssOf } from './live-sessions.js';
import { ProcessPool } from './warm-pool.js';

/** What one CLI process is assumed to add when deciding whether another spare fits (measured ~230 MB). */
const SPARE_BYTES = 230 * 1024 * 1024;
/** A rewind is one control round trip (milliseconds); a CLI that takes longer is stopped instead. */
const REWIND_TIMEOUT_MS = 5000;

export interface LifecycleOptions {
  /** Spares per recently used shape, at least (GATEWAY_WARM_PER_PROFILE). */
  warmPerProfile: number;
  /** Spares per shape at most, when new conversations arrive in bursts (GATEWAY_WARM_MAX_PER_PROFILE). */
  warmMaxPerProfile: number;
  warmProfiles: number;
  warmIdleMs: number;
  /** Idle processes a shape may keep when reused processes come back (process reuse). */
  maxIdlePerProfile: number;
  /** How long a finished conversation's process waits for its next turn; 0: not kept. */
  conversationIdleMs: number;
  /** Memory all idle CLI processes together may hold. */
  budgetBytes: number;
  /** The niceness spares start with (0: as every other process). */
  spareNice: number;
  /** Give new conversations the processes of finished one-shot conversations, rewound (GATEWAY_REWIND_ONE_SHOTS). */
  rewindOneShots: boolean;
  /** A process is retired after this many turns (GATEWAY_MAX_TURNS_PER_PROCESS). */
  maxTurnsPerProcess: number;
  log: Logger;
  onTake?: (how: WarmTake) => void;
}

export class ProcessLifecycle {
  readonly warm: ProcessPool;
  readonly live: LiveSessions;
  /** Spares stopped for memory (the live conversations count their own evictions). */
  sparesEvicted = 0;
  /** Turns running now (told by the engine): spares start at a lower priority only beside them. */
  private running = 0;
  /** New conversations served by a rewound one-shot process. */
  rewound = 0;

  constructor(private readonly opts: LifecycleOptions) {
    this.warm = new ProcessPool({
      perProfile: opts.warmPerProfile,
      // Rewound one-shot processes carry bursts after the first one: spares need not grow for them.
      maxPerProfile: opts.rewindOneShots ? opts.warmPerProfile : Math.max(opts.warmPerProfile, opts.warmMaxPerProfile),
      maxProfiles: opts.warmProfiles,
      idleMs: opts.warmIdleMs,
      maxIdlePerProfile: opts.maxIdlePerProfile,
      onTake: opts.onTake,
      canGrow: () => this.idleBytes() + SPARE_BYTES <= opts.budgetBytes,
      onSpare: (proc) => this.nice(proc, this.running > 0 ? opts.spareNice : 0),
      onTaken: (proc) => this.nice(proc, 0),
    });
    this.live = new LiveSessions({ idleMs: opts.conversationIdleMs, onChange: () => this.enforceBudget() });
  }

  /**
   * A process for a new conversation of this profile, cheapest first: a spare that finished
   * starting; else the process of a finished one-shot conversation of the same shape, rewound to
   * before its first message (no CLI start, and the API gets the bytes a fresh process sends); else
   * the pool's (a spare still starting, or a new one). A spare taken while one-shot processes could
   * be rewound is not replaced: they serve the next new conversations, so steady one-message traffic
   * starts no CLI at all. `rewind` is false for shapes with client tools (their tool server is per
   * process and stays out of this).
   */
  async forNew(key: string, shape: string, account: string | undefined, make: () => CliProcess, rewind: boolean): Promise<CliProcess> {
    const canRewind = rewind && this.opts.rewindOneShots;
    if (this.warm.hasReady(key)) return this.warm.take(key, make, !(canRewind && this.live.hasOneShot(shape, account)));
    for (let c = canRewind ? this.live.takeOneShot(shape, account) : undefined; c; c = this.live.takeOneShot(shape, account)) {
      if (c.proc.turns < this.opts.maxTurnsPerProcess && (await c.proc.rewind(REWIND_TIMEOUT_MS))) {
        this.rewound++;
        this.opts.onTake?.('rewound');
        return c.proc;
      }
      void c.proc.kill();
    }
    return this.warm.take(key, make);
  }

  /** Memory held by idle processes now (live conversations and spares). */
  idleBytes(): number {
    let n = 0;
    for (const c of this.live.idle()) n += rssOf(c.proc.pid);
    for (const p of this.warm.idleProcesses()) n += rssOf(p.pid);
    return n;
  }

  /** Stop idle processes, in the order above, until the rest fits the budget. */
  enforceBudget(): void {
    let bytes = this.idleBytes();
    while (bytes > this.opts.budgetBytes) {
      const byAge = this.live.idle().sort((a, b) => a.idleSince - b.idleSince);
      const oneShot = byAge.find((c) => !c.continued);
      // A one-shot process that can be rewound serves a new conversation as well as a spare does (and
      // may still get its own second turn): with rewinding on, spares go before it.
      const spareFirst = this.opts.rewindOneShots && this.warm.idleCount() > 0;
      if (oneShot && !spareFirst) {
        bytes -= rssOf(oneShot.proc.pid);
        this.live.evict(oneShot);
        continue;
      }
      const spare = this.warm.evictSurplus() ?? this.warm.evictOne();
      if (spare) {
        this.sparesEvicted++;
        bytes -= rssOf(spare.pid);
        continue;
      }
      const oldest = byAge[0];
      if (!oldest) break;
      bytes -= rssOf(oldest.proc.pid);
      this.live.evict(oldest);
    }
  }

  /** Set a process's CPU priority (a spare's lower, a taken one's back); quietly not where not allowed. */
  private nice(proc: CliProcess, value: number): void {
    if (!this.opts.spareNice) return;
    proc.onSpawned((pid) => {
      try {
        os.setPriority(pid, value);
      } catch (err) {
        this.opts.log.debug({ pid, err: (err as Error).message }, 'could not set a CLI process priority');
      }
    });
  }

  /** A turn started or ended: spares still starting yield to running turns, and take the CPU in a gap. */
  turnStarted(): void {
    if (this.running++ === 0) this.reniceStarting(this.opts.spareNice);
  }

  turnEnded(): void {
    this.running = Math.max(0, this.running - 1);
    if (this.running === 0) this.reniceStarting(0);
  }

  private reniceStarting(value: number): void {
    for (const p of this.warm.idleProcesses()) if (p.state === 'spawning') this.nice(p, value);
  }

  /** Stop the idle processes of one credential (removed, disabled, logged in again). */
  async resetWhere(pred: (account: string | undefined) => boolean, accountOfKey: (key: string) => string | undefined): Promise<void> {
    await Promise.all([this.warm.resetWhere((key) => pred(accountOfKey(key))), this.live.resetWhere((c) => pred(c.account))]);
  }

  /** Stop every idle process (the gateway stops); running ones are the engine's drain's. */
  async close(): Promise<void> {
    await Promise.all([this.warm.close(), this.live.close()]);
  }
}
