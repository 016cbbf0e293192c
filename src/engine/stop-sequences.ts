// `stop` is honoured by the gateway: Claude Code has no per-request stop sequences. Text is held
// back only as long as it could still be the start of a stop sequence, so streaming stays live.
import type { TurnEvent, Usage } from './types.js';

export class StopMatcher {
  private pending = '';
  private readonly longest: number;
  matched: string | null = null;

  constructor(private readonly stops: string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Feed text; returns what may be emitted now. After a match, `matched` is set and the rest is dropped. */
  push(text: string): string {
    if (this.matched !== null) return '';
    const buf = this.pending + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) {
        cut = i;
        this.matched = s;
      }
    }
    if (cut >= 0) {
      this.pending = '';
      return buf.slice(0, cut);
    }
    // Keep the longest suffix that is a prefix of some stop sequence.
    let keep = 0;
    for (let n = Math.min(this.longest - 1, buf.length); n > 0; n--) {
      const tail = buf.slice(buf.length - n);
      if (this.stops.some((s) => s.startsWith(tail))) {
        keep = n;
        break;
      }
    }
    this.pending = buf.slice(buf.length - keep);
    return buf.slice(0, buf.length - keep);
  }

  flush(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }
}

/**
 * Applies stop sequences to a turn's text. When one matches, the open text block is closed and the
 * turn ends with stop_reason "stop_sequence"; the caller stops the CLI (return() on this generator).
 */
export async function* applyStopSequences(
  events: AsyncIterable<TurnEvent>,
  stops: string[] | undefined,
  usageSoFar: () => Usage,
): AsyncGenerator<TurnEvent> {
  if (!stops?.length) {
    yield* events;
    return;
  }
  const matchers = new Map<number, StopMatcher>();
  for await (const ev of events) {
    if (ev.type === 'text_delta') {
      let m = matchers.get(ev.index);
      if (!m) matchers.set(ev.index, (m = new StopMatcher(stops)));
      const text = m.push(ev.text);
      if (text) yield { ...ev, text };
      if (m.matched !== null) {
        yield { type: 'block_stop', index: ev.index };
        yield { type: 'done', stopReason: 'stop_sequence', stopSequence: m.matched, usage: usageSoFar(), costUsd: 0 };
        return;
      }
    } else if (ev.type === 'block_stop' && matchers.has(ev.index)) {
      const rest = matchers.get(ev.index)!.flush();
      if (rest) yield { type: 'text_delta', index: ev.index, text: rest };
      yield ev;
    } else {
      yield ev;
    }
  }
}
