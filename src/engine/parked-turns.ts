// Turns suspended while the client runs its tools. A parked turn keeps its live CLI process (waiting
// inside the pending tool handlers) but no concurrency slot. The request that carries results for
// all its call ids claims it and drives it on. A turn nobody claims within the timeout is killed, as
// are the oldest ones beyond the bound (each process holds ~200 MB); a later request for such a turn
// is answered by rebuilding the conversation from the client's history instead.
import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Logger } from '../log.js';
import type { ClientToolServer } from './client-tools.js';
import type { CliProcess } from './cli-process.js';

export interface ParkedTurn {
  proc: CliProcess;
  server: ClientToolServer;
  frames: AsyncIterator<SDKMessage>;
  /** The calls the client was given and must answer. */
  callIds: string[];
  /** The turn shape (model, system prompt, tools ...): a request of another shape cannot continue it. */
  shapeKey: string;
  /** The resolved model id that answers. */
  model: string;
  parkedAt: number;
}

interface Entry extends ParkedTurn {
  timer: NodeJS.Timeout;
}

export class ParkedTurns {
  private readonly byCall = new Map<string, Entry>();
  private readonly entries = new Set<Entry>();
  timedOut = 0;

  constructor(
    private readonly max: number,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(callId: string): boolean {
    return this.byCall.has(callId);
  }

  park(turn: ParkedTurn): void {
    if (this.max === 0) {
      void turn.proc.kill();
      return;
    }
    while (this.entries.size >= this.max) {
      const oldest = [...this.entries].sort((a, b) => a.parkedAt - b.parkedAt)[0];
      this.log.info({ turn: oldest.proc.id }, 'parked turn evicted: too many suspended turns');
      this.drop(oldest);
    }
    turn.proc.state = 'parked';
    const entry: Entry = {
      ...turn,
      timer: setTimeout(() => {
        this.timedOut++;
        this.log.info({ turn: turn.proc.id, calls: turn.callIds }, 'parked turn timed out waiting for tool results');
        this.drop(entry);
      }, this.timeoutMs),
    };
    entry.timer.unref();
    this.entries.add(entry);
    for (const id of turn.callIds) this.byCall.set(id, entry);
    // A process that dies while parked (crash, OOM) cannot be resumed.
    void turn.proc.exited.then(() => this.remove(entry));
  }

  /**
   * The parked turn these results continue, taken out of the registry. It must be waiting on exactly
   * calls the results answer and have the same shape; a parked turn the request supersedes (another
   * shape, or results for only some of its calls) is killed, and the caller rebuilds instead.
   */
  claim(resultIds: string[], shapeKey: string): ParkedTurn | undefined {
    const entry = resultIds.map((id) => this.byCall.get(id)).find((e) => e !== undefined);
    if (!entry) return undefined;
    const answered = new Set(resultIds);
    const fits = entry.shapeKey === shapeKey && entry.callIds.every((id) => answered.has(id)) && entry.proc.alive;
    if (!fits) {
      this.drop(entry);
      return undefined;
    }
    this.remove(entry);
    entry.proc.state = 'busy';
    const { timer: _timer, ...turn } = entry;
    return turn;
  }

  private remove(entry: Entry): void {
    if (!this.entries.delete(entry)) return;
    clearTimeout(entry.timer);
    for (const id of entry.callIds) if (this.byCall.get(id) === entry) this.byCall.delete(id);
  }

  private drop(entry: Entry): void {
    this.remove(entry);
    void entry.proc.kill();
  }

  /** Kill every parked process (shutdown): their clients will be answered by a rebuild elsewhere. */
  async closeAll(): Promise<void> {
    const all = [...this.entries];
    for (const e of all) this.remove(e);
    await Promise.all(all.map((e) => e.proc.kill()));
  }
}
